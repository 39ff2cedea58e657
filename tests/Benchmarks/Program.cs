using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Benchmarks -- --filter '*Aead*'
// dotnet run -c Release --project tests/Benchmarks -- quick [size] [seconds]: a stopwatch loop (seal and its two halves
// per path), seconds instead of minutes, to compare back to back with `openssl speed` on a loaded machine.
if (args.Length > 0 && args[0] == "quick")
{
    int size = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1420;
    double seconds = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1;
    Branchgate.Benchmarks.QuickAead.Run(size, seconds, Console.Out);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Branchgate.Benchmarks.AeadBenchmarks).Assembly).Run(args);
