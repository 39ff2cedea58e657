using System.Diagnostics;
using System.Text.Json;
using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests.Coexistence;

/// <summary>The result of one `branchgate check --json` run.</summary>
public sealed record CheckResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The findings as (severity, code, message, objects joined by newlines).</summary>
    public IReadOnlyList<(string Severity, string Code, string Message, string Objects)> Findings
    {
        get
        {
            using var json = JsonDocument.Parse(Stdout);
            return [.. json.RootElement.GetProperty("findings").EnumerateArray().Select(f => (
                f.GetProperty("severity").GetString()!,
                f.GetProperty("code").GetString()!,
                f.GetProperty("message").GetString()!,
                string.Join('\n', f.GetProperty("objects").EnumerateArray().Select(o => o.GetString())))) ];
        }
    }

    public IReadOnlyList<string> Unreadable
    {
        get
        {
            using var json = JsonDocument.Parse(Stdout);
            return [.. json.RootElement.GetProperty("unreadable").EnumerateArray().Select(u => u.GetString()!)];
        }
    }

    public IEnumerable<string> Codes => Findings.Select(f => f.Code);

    public override string ToString() => $"exit {ExitCode}\n{Stdout}\n{Stderr}";
}

/// <summary>Runs the published `branchgate check` inside a namespace, bounded in time.</summary>
public static class CheckCli
{
    public static CheckResult Run(string ns, string args, string? asUser = null, int timeoutMs = 60_000)
    {
        var command = new List<string> { "netns", "exec", ns };
        if (asUser is not null)
        {
            command.AddRange(["setpriv", $"--reuid={asUser}", $"--regid={asUser}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all"]);
        }

        command.Add(asUser is null ? WireGuardSites.BranchgateBinary : WorldReadableBinary());
        command.Add("check");
        command.AddRange(args.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        using var p = Shell.Start("ip", command);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"branchgate check {args} did not finish in {timeoutMs / 1000} s");
        }

        p.WaitForExit();
        return new CheckResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static readonly Lock s_copyLock = new();
    private static string? s_copy;

    /// <summary>
    /// The binary (and the libsodium beside it) copied to a directory every user may enter, for runs as an
    /// unprivileged user: the build output may sit under a directory only root can traverse. Deleted at exit.
    /// </summary>
    private static string WorldReadableBinary()
    {
        lock (s_copyLock)
        {
            if (s_copy is null)
            {
                var directory = Directory.CreateTempSubdirectory($"bgcheckbin{Environment.ProcessId}-").FullName;
                File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
                var source = WireGuardSites.BranchgateBinary;
                foreach (var file in new[] { source, Path.Combine(Path.GetDirectoryName(source)!, "libsodium.so") })
                {
                    if (File.Exists(file))
                    {
                        var target = Path.Combine(directory, Path.GetFileName(file));
                        File.Copy(file, target);
                        File.SetUnixFileMode(target, (UnixFileMode)0b111_101_101);
                    }
                }

                AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(directory, recursive: true);
                s_copy = Path.Combine(directory, Path.GetFileName(source));
            }

            return s_copy;
        }
    }

    /// <summary>How long a run takes (for the bounded-time tests).</summary>
    public static (CheckResult Result, TimeSpan Elapsed) Timed(string ns, string args)
    {
        var clock = Stopwatch.StartNew();
        var result = Run(ns, args);
        return (result, clock.Elapsed);
    }
}
