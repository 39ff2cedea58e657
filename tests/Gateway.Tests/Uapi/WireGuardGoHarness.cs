using System.Diagnostics;
using System.Text;
using Branchgate.Uapi;

namespace Branchgate.Tests.Uapi;

/// <summary>Runs a command with a time limit; the process is killed (by its own handle) if it overstays.</summary>
internal static class Command
{
    public static (int Code, string Output, string Error) Run(string file, IEnumerable<string> arguments, TimeSpan? limit = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + file);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit ?? TimeSpan.FromSeconds(20)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(5));
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} did not finish in time");
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Runs the command and returns its output; a non-zero exit is a test failure with its stderr.</summary>
    public static string Check(string file, params string[] arguments)
    {
        var (code, output, error) = Run(file, arguments);
        Assert.True(code == 0, $"{file} {string.Join(' ', arguments)} exited {code}: {error}");
        return output;
    }
}

/// <summary>
/// What the differential tests need from the machine: root (network namespaces, TUN, /var/run/wireguard) and the
/// Debian packages wireguard-go and wireguard-tools. A missing requirement fails the test with the reason; it is not
/// skipped.
/// </summary>
internal static class DifferentialRequirements
{
    public static void Check()
    {
        Assert.True(Environment.IsPrivilegedProcess,
            "the differential UAPI tests must run as root: they create network namespaces, a TUN device for wireguard-go " +
            "and sockets in /var/run/wireguard");
        foreach (var tool in new[] { "/usr/bin/wireguard-go", "/usr/bin/wg", "/usr/sbin/ip" })
        {
            Assert.True(File.Exists(tool), $"{tool} is missing (Debian packages wireguard-go, wireguard-tools, iproute2)");
        }
    }
}

/// <summary>
/// A network namespace for one test class (bgu&lt;PID&gt;n&lt;k&gt;), always deleted on Dispose and, failing that, when the
/// test process exits.
/// </summary>
public sealed class DifferentialNamespace : IDisposable
{
    private static int s_counter;

    public DifferentialNamespace()
    {
        DifferentialRequirements.Check();
        Name = $"bgu{Environment.ProcessId}n{Interlocked.Increment(ref s_counter)}";
        Command.Check("ip", "netns", "add", Name);
        AppDomain.CurrentDomain.ProcessExit += DeleteAtExit;
    }

    public string Name { get; }

    private void DeleteAtExit(object? sender, EventArgs e) => Command.Run("ip", ["netns", "del", Name]);

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= DeleteAtExit;
        Command.Run("ip", ["netns", "del", Name]);
    }
}

/// <summary>
/// The same interface twice: a real wireguard-go (0.0.20220316, in the namespace, socket
/// /var/run/wireguard/bgu&lt;PID&gt;g&lt;k&gt;.sock) and our <see cref="UapiServer"/> over an <see cref="InMemoryUapiTarget"/>
/// (/var/run/wireguard/bgu&lt;PID&gt;o&lt;k&gt;.sock). Both get the same explicit listen port at start (wireguard-go binds a
/// random one otherwise). Dispose stops wireguard-go (SIGTERM, then SIGKILL, by PID, bounded waits) and our server, and
/// removes any socket file left behind.
/// </summary>
internal sealed class UapiPair : IDisposable
{
    private const string SocketDirectory = "/var/run/wireguard";
    private static int s_counter;
    private readonly Process _wireGuardGo;
    private readonly StringBuilder _wireGuardGoLog = new();
    private readonly string _namespace;

    public UapiPair(DifferentialNamespace ns, bool setListenPort = true)
    {
        _namespace = ns.Name;
        var n = Interlocked.Increment(ref s_counter);
        GoName = $"bgu{Environment.ProcessId}g{n}";
        OurName = $"bgu{Environment.ProcessId}o{n}";
        ListenPort = (ushort)(40000 + n);
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "netns", "exec", _namespace, "wireguard-go", "-f", GoName })
        {
            start.ArgumentList.Add(argument);
        }

        _wireGuardGo = Process.Start(start) ?? throw new InvalidOperationException("could not start wireguard-go");
        AppDomain.CurrentDomain.ProcessExit += StopAtExit;
        _wireGuardGo.OutputDataReceived += (_, e) => Log(e.Data);
        _wireGuardGo.ErrorDataReceived += (_, e) => Log(e.Data);
        _wireGuardGo.BeginOutputReadLine();
        _wireGuardGo.BeginErrorReadLine();
        try
        {
            WaitForSocket(GoSocket);
            Ours = UapiServer.Start(OurName, Target, new UapiServerOptions { SocketCheckInterval = TimeSpan.FromMilliseconds(50) });
            if (setListenPort)
            {
                var reset = $"set=1\nlisten_port={ListenPort}\n\n";
                Assert.Equal(("errno=0\n\n", "errno=0\n\n"), Both(c => c.Send(reset).ReadAnswers(1)));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string GoName { get; }

    public string OurName { get; }

    public ushort ListenPort { get; }

    public string GoSocket => Path.Combine(SocketDirectory, GoName + ".sock");

    public string OurSocket => Path.Combine(SocketDirectory, OurName + ".sock");

    public InMemoryUapiTarget Target { get; } = new();

    public UapiServer? Ours { get; }

    public string WireGuardGoLog
    {
        get
        {
            lock (_wireGuardGoLog)
            {
                return _wireGuardGoLog.ToString();
            }
        }
    }

    private void Log(string? line)
    {
        if (line is not null)
        {
            lock (_wireGuardGoLog)
            {
                _wireGuardGoLog.AppendLine(line);
            }
        }
    }

    /// <summary>Runs the same exchange against wireguard-go and against our server, each on a new connection.</summary>
    public (T Go, T Ours) Both<T>(Func<UapiTestClient, T> exchange)
    {
        using var go = UapiTestClient.Connect(GoSocket);
        using var ours = UapiTestClient.Connect(OurSocket);
        var goResult = Task.Run(() => exchange(go));
        var ourResult = Task.Run(() => exchange(ours));
        Assert.True(Task.WaitAll([goResult, ourResult], TimeSpan.FromSeconds(60)), "an exchange did not finish in 60 s");
        return (goResult.Result, ourResult.Result);
    }

    /// <summary>Runs wg inside the namespace with IFACE replaced by each interface name in turn.</summary>
    public (string Go, string Ours) Wg(params string[] arguments) =>
        (RunWg(GoName, arguments), RunWg(OurName, arguments));

    private string RunWg(string name, string[] arguments) =>
        Command.Check("ip", ["netns", "exec", _namespace, "wg", .. arguments.Select(a => a.Replace("IFACE", name, StringComparison.Ordinal))]);

    private void WaitForSocket(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (_wireGuardGo.HasExited)
            {
                throw new InvalidOperationException($"wireguard-go exited ({_wireGuardGo.ExitCode}): {WireGuardGoLog}");
            }

            if (File.Exists(path))
            {
                try
                {
                    using var client = UapiTestClient.Connect(path);
                    return;
                }
                catch (System.Net.Sockets.SocketException)
                {
                }
            }

            Thread.Sleep(20);
        }

        throw new TimeoutException($"wireguard-go did not create {path} in 15 s: {WireGuardGoLog}");
    }

    /// <summary>Last resort if a test never disposed the pair: our own wireguard-go, by its handle.</summary>
    private void StopAtExit(object? sender, EventArgs e)
    {
        if (!_wireGuardGo.HasExited)
        {
            _wireGuardGo.Kill();
        }
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= StopAtExit;
        Ours?.Dispose();
        if (!_wireGuardGo.HasExited)
        {
            Command.Run("kill", ["-TERM", _wireGuardGo.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            if (!_wireGuardGo.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                _wireGuardGo.Kill();
                _wireGuardGo.WaitForExit(TimeSpan.FromSeconds(5));
            }
        }

        _wireGuardGo.Dispose();
        foreach (var path in new[] { GoSocket, OurSocket })
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
    }
}

/// <summary>Puts outputs whose peer order is arbitrary (wireguard-go lists peers in Go map order) in a fixed order.</summary>
internal static class PeerOrder
{
    /// <summary>
    /// UAPI answers (one or several in a row): in each, the device lines, then the peer blocks (from public_key= on)
    /// sorted, then its errno line.
    /// </summary>
    public static string Get(string text)
    {
        var output = new List<string>();
        var blocks = new List<List<string>>();
        void Flush()
        {
            output.AddRange(blocks.Select(b => string.Join('\n', b)).Order(StringComparer.Ordinal));
            blocks.Clear();
        }

        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("errno=", StringComparison.Ordinal))
            {
                Flush();
                output.Add(line);
            }
            else if (line.StartsWith("public_key=", StringComparison.Ordinal))
            {
                blocks.Add([line]);
            }
            else if (blocks.Count > 0)
            {
                blocks[^1].Add(line);
            }
            else
            {
                output.Add(line);
            }
        }

        Flush();
        return string.Join('\n', output);
    }

    /// <summary>`wg showconf IFACE`: the [Interface] section, then the [Peer] sections sorted.</summary>
    public static string Config(string text)
    {
        var sections = text.Trim('\n').Split("\n\n");
        return string.Join("\n\n", sections.Take(1).Concat(sections.Skip(1).Order(StringComparer.Ordinal))) + "\n";
    }

    /// <summary>`wg show IFACE dump`: the interface line, then the peer lines sorted.</summary>
    public static string Dump(string text)
    {
        var lines = text.TrimEnd('\n').Split('\n');
        return string.Join('\n', lines.Take(1).Concat(lines.Skip(1).Order(StringComparer.Ordinal))) + "\n";
    }
}
