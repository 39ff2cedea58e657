using SharpFuzz;

namespace Branchgate.Fuzz;

/// <summary>
/// Entry point of the fuzzing harnesses. <c>Fuzz TARGET</c> runs one target under afl-fuzz (SharpFuzz's fork server
/// protocol; the product assemblies must have been instrumented with <c>dotnet sharpfuzz</c>, see scripts/fuzz.sh);
/// <c>Fuzz replay TARGET PATH...</c> runs each file (or each file of each directory) once without AFL and exits 1 on the
/// first input that escapes the harness with an exception (how the seed corpora and the crash regressions are checked).
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length >= 2 && args[0] == "replay")
        {
            return Replay(args[1], args[2..]);
        }

        if (args.Length != 1 || !Targets.All.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine($"usage: Fuzz TARGET | Fuzz replay TARGET PATH...   (targets: {string.Join(", ", Targets.All.Keys)})");
            return 2;
        }

        Fuzzer.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            target(copy.ToArray());
        });
        return 0;
    }

    private static int Replay(string name, string[] paths)
    {
        if (!Targets.All.TryGetValue(name, out var target))
        {
            Console.Error.WriteLine($"unknown target {name}");
            return 2;
        }

        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p) : [p]).Order(StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            try
            {
                target(File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"{name}: {file}: {e}");
                return 1;
            }
        }

        Console.WriteLine($"{name}: {files.Count} inputs replayed, no exception");
        return 0;
    }
}
