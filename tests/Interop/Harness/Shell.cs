using System.Diagnostics;

namespace Branchgate.Interop.Tests.Harness;

/// <summary>Runs programs with bounded waits; failures carry the command and its output.</summary>
public static class Shell
{
    public static string Run(string file, IEnumerable<string> args, bool check = true, string? stdin = null,
        int timeoutMs = 60_000, IDictionary<string, string>? env = null)
    {
        var list = args.ToList();
        using var p = Start(file, list, stdin is not null, env);
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }

        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', list)} did not finish in {timeoutMs / 1000} s");
        }

        p.WaitForExit();
        if (check && p.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{file} {string.Join(' ', list)} exited {p.ExitCode}: {stderr.Result.Trim()} {stdout.Result.Trim()}");
        }

        return stdout.Result;
    }

    public static Process Start(string file, IEnumerable<string> args, bool redirectInput = false,
        IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        return Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the timeout passes.</summary>
    public static bool WaitFor(Func<bool> condition, TimeSpan timeout, int intervalMs = 50)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(intervalMs);
        }

        return condition();
    }

    /// <summary>
    /// SIGKILL to a process this test started (and with <paramref name="entireProcessTree"/> its children), waiting up
    /// to 5 s for it to go; one that has already exited, or exits meanwhile, is left alone. Does not dispose it.
    /// </summary>
    public static void Kill(Process process, bool entireProcessTree)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree);
                process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }
}
