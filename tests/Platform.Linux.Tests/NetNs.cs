using System.Diagnostics;
using System.Text.Json;
using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Tests;

/// <summary>
/// A network namespace this test created (name carries the test process's PID), always deleted on Dispose and, as a
/// last resort, when the process exits. <see cref="Run{T}"/> executes code on a dedicated thread that has entered the
/// namespace, so descriptors it creates (TUN, sockets, netlink) belong to the namespace.
/// </summary>
public sealed class NetNs : IDisposable
{
    private static int s_counter;
    private static readonly HashSet<string> s_live = [];
    private bool _disposed;

    static NetNs()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            string[] left;
            lock (s_live)
            {
                left = [.. s_live];
            }

            foreach (var name in left)
            {
                Shell.Run("ip", ["netns", "del", name], check: false);
            }
        };
    }

    public NetNs(string purpose = "t")
    {
        Root.Require("creating a network namespace");
        Name = $"bg{Environment.ProcessId}-{purpose}{Interlocked.Increment(ref s_counter)}";
        Shell.Run("ip", ["netns", "add", Name]);
        lock (s_live)
        {
            s_live.Add(Name);
        }

        Exec("ip link set lo up");
    }

    public string Name { get; }

    /// <summary>Runs a shell command inside the namespace; throws with its output when it fails.</summary>
    public string Exec(string command, bool check = true) =>
        Shell.Run("ip", ["netns", "exec", Name, "sh", "-c", command], check);

    /// <summary>Runs `ip -j ARGS` inside the namespace and parses its JSON array.</summary>
    public JsonElement IpJson(string args)
    {
        var text = Exec("ip -j " + args);
        using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "[]" : text);
        return doc.RootElement.Clone();
    }

    /// <summary>Starts a long-running process inside the namespace (caller kills it, by this Process).</summary>
    public Process Start(string command) => Shell.Start("ip", ["netns", "exec", Name, "sh", "-c", "exec " + command]);

    public void Run(Action action) => Run<object?>(() =>
    {
        action();
        return null;
    });

    /// <summary>Runs <paramref name="action"/> on a fresh thread inside this namespace and returns its result.</summary>
    public T Run<T>(Func<T> action)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter(Name);
                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(120)))
        {
            throw new TimeoutException($"code in namespace {Name} did not finish in 120 s");
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        return result;
    }

    /// <summary>Moves the calling thread into the named namespace (for threads the test owns and then ends).</summary>
    public static void Enter(string name)
    {
        using var ns = FileDescriptor.FromResult(
            Libc.Open("/var/run/netns/" + name, Libc.O_RDONLY | Libc.O_CLOEXEC), "open netns " + name);
        if (Libc.SetNs(ns.Value, Libc.CLONE_NEWNET) != 0)
        {
            throw LinuxException.FromLastError("setns " + name);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Shell.Run("ip", ["netns", "del", Name], check: false);
        lock (s_live)
        {
            s_live.Remove(Name);
        }
    }
}

public static class Root
{
    /// <summary>Fails (not skips) the test when not root: CI runs as root and must run every test.</summary>
    public static void Require(string why)
    {
        if (Libc.GetEuid() != 0)
        {
            throw new InvalidOperationException(
                $"this test needs root ({why}); run the suite as root, as CI does (./test.sh)");
        }
    }
}

public static class Shell
{
    /// <summary>Runs a program (bounded to 60 s) and returns stdout; throws with stderr when it fails and check is set.</summary>
    public static string Run(string file, IEnumerable<string> args, bool check = true, string? stdin = null)
    {
        using var p = Start(file, args, stdin is not null);
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }

        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 60 s");
        }

        p.WaitForExit();
        if (check && p.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result.Trim()} {stdout.Result.Trim()}");
        }

        return stdout.Result;
    }

    public static Process Start(string file, IEnumerable<string> args, bool redirectInput = false)
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

        return Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
    }
}
