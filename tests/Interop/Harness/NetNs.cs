using System.Runtime.InteropServices;
using System.Text.Json;

namespace Branchgate.Interop.Tests.Harness;

/// <summary>
/// A network namespace created by this test process (its name carries the PID), deleted on Dispose and, as a last
/// resort, when the process exits. <see cref="Run{T}"/> executes code on a fresh thread that has entered the
/// namespace: descriptors and threads that code creates (TUN, sockets, netlink, a runtime's control thread) belong to
/// the namespace.
/// </summary>
public sealed class NetNs : IDisposable
{
    private const int CloneNewNet = 0x40000000;
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
        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException("this test needs root (network namespaces); run it as CI does");
        }

        Name = $"bga{Environment.ProcessId}-{purpose}{Interlocked.Increment(ref s_counter)}";
        Shell.Run("ip", ["netns", "add", Name]);
        lock (s_live)
        {
            s_live.Add(Name);
        }

        Exec("ip link set lo up");
    }

    public string Name { get; }

    /// <summary>Runs a shell command inside the namespace; throws with its output when it fails (and check is set).</summary>
    public string Exec(string command, bool check = true) =>
        Shell.Run("ip", ["netns", "exec", Name, "sh", "-c", command], check);

    /// <summary>Runs `ip -j ARGS` inside the namespace and parses its JSON array.</summary>
    public JsonElement IpJson(string args)
    {
        var text = Exec("ip -j " + args);
        using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "[]" : text);
        return doc.RootElement.Clone();
    }

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

    private static void Enter(string name)
    {
        using var handle = File.OpenHandle("/var/run/netns/" + name);
        if (SetNs(handle.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
        {
            throw new InvalidOperationException($"setns {name} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetNs(int fd, int type);

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
