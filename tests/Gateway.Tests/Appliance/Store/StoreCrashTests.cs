using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using Branchgate.Appliance.Store;

namespace Branchgate.Tests.Appliance.Store;

/// <summary>
/// kill -9 during a burst of writes leaves a store that opens with the last committed state. A real process
/// (tests/StoreCrash) commits configurations N, N+1 ... and prints each number after Commit returns; it is killed with
/// SIGKILL mid-burst, and the store must open with a whole configuration numbered at least the last one printed. The
/// same store goes through three crashes, so recovery of a crashed store is itself crashed.
/// </summary>
[UnsupportedOSPlatform("windows")]
public class StoreCrashTests
{
    private const int CommitsBeforeKill = 200;
    private static readonly TimeSpan BurstTimeout = TimeSpan.FromSeconds(120);
    private static readonly Lazy<string> Helper = new(LocateHelper);

    [Fact]
    public async Task Kill_9_during_a_burst_of_commits_leaves_the_last_committed_state_three_times_over()
    {
        using var dir = new TempDirectory();
        var path = dir.File("branchgate.db");
        for (var run = 1; run <= 3; run++)
        {
            var first = run * 1_000_000;
            var lastPrinted = await RunAndKill(path, first, first + CommitsBeforeKill);

            using var store = ApplianceStore.Open(path);
            var config = store.LoadConfig();
            var counter = int.Parse(Assert.Single(Assert.Single(config.Interfaces).Dns), CultureInfo.InvariantCulture);
            Assert.InRange(counter, lastPrinted, lastPrinted + 1);

            // The whole of configuration `counter` and its audit entry: nothing of an earlier or a later commit.
            Assert.Equal(1 + (counter % 7), config.Sites.Count);
            Assert.All(config.Sites, s => Assert.StartsWith(counter.ToString(CultureInfo.InvariantCulture) + "x", s.Description, StringComparison.Ordinal));
            Assert.Equal(counter.ToString(CultureInfo.InvariantCulture), store.ReadAudit(take: 1)[0].Target);
        }
    }

    /// <summary>Starts the helper, reads its lines until <paramref name="killAfter"/> is printed, kills it with SIGKILL
    /// and returns the last number it printed (read to the end after the kill).</summary>
    private static async Task<int> RunAndKill(string storePath, int first, int killAfter)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Helper.Value);
        start.ArgumentList.Add(storePath);
        start.ArgumentList.Add(first.ToString(CultureInfo.InvariantCulture));
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var errors = process.StandardError.ReadToEndAsync();
        var last = 0;
        try
        {
            using var timeout = new CancellationTokenSource(BurstTimeout);
            while (last < killAfter)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null)
                {
                    await process.WaitForExitAsync(timeout.Token);
                    Assert.Fail($"the helper exited ({process.ExitCode}) after {last}: {await errors}");
                }

                last = int.Parse(line, CultureInfo.InvariantCulture);
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(137, process.ExitCode);

        // Lines written before the kill are still in the pipe.
        using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(drain.Token) is { } line)
        {
            last = int.Parse(line, CultureInfo.InvariantCulture);
        }

        return last;
    }

    /// <summary>
    /// tests/StoreCrash/bin/CONFIGURATION/net10.0/StoreCrash.dll of this checkout, built now unless it exists and
    /// carries the same store code (branchgate.dll, byte for byte: builds are deterministic) as this test and is newer
    /// than the helper's sources.
    /// </summary>
    private static string LocateHelper()
    {
        var baseDirectory = Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory);
        var framework = Path.GetFileName(baseDirectory);
        var configuration = Path.GetFileName(Path.GetDirectoryName(baseDirectory)!);
        var root = new DirectoryInfo(baseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Gateway.sln")))
        {
            root = root.Parent;
        }

        Assert.True(root is not null, $"no Gateway.sln above {baseDirectory}");
        var project = Path.Combine(root.FullName, "tests", "StoreCrash");
        var output = Path.Combine(project, "bin", configuration, framework);
        var helper = Path.Combine(output, "StoreCrash.dll");
        if (!File.Exists(helper) || !SameBytes(Path.Combine(output, "branchgate.dll"), Path.Combine(baseDirectory, "branchgate.dll"))
            || Directory.EnumerateFiles(project, "*.cs*").Any(source => File.GetLastWriteTimeUtc(source) > File.GetLastWriteTimeUtc(helper)))
        {
            Build(project, configuration);
        }

        Assert.True(File.Exists(helper), $"{helper} was not built");
        return helper;
    }

    private static bool SameBytes(string a, string b) =>
        File.Exists(a) && File.Exists(b) && File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b));

    private static void Build(string project, string configuration)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "build", project, "-c", configuration, "--nologo", "-v", "q" })
        {
            start.ArgumentList.Add(argument);
        }

        using var build = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet build");
        var output = build.StandardOutput.ReadToEndAsync();
        if (!build.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            build.Kill(entireProcessTree: true);
            Assert.Fail("building tests/StoreCrash took more than 5 minutes");
        }

        Assert.True(build.ExitCode == 0, $"building tests/StoreCrash failed: {output.Result}");
    }
}
