using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Benchmarks -- --filter '*Aead*'
BenchmarkSwitcher.FromAssembly(typeof(Branchgate.Benchmarks.AeadBenchmarks).Assembly).Run(args);
