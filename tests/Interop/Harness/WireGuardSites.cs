using System.Diagnostics;

namespace Branchgate.Interop.Tests.Harness;

/// <summary>Which WireGuard implementation runs a site.</summary>
public enum Implementation
{
    WireGuardGo,
    Branchgate,
}

/// <summary>
/// One branch office: a network namespace with a WAN veth and a WireGuard interface run by a userspace daemon
/// (wireguard-go or branchgate), configured with the real `wg` tool. Addresses: WAN 192.168.{net}.{n}/24 and
/// fd00:{net}::{n}/64; tunnel 10.{net}.0.{n}/24 and fd77:{net}::{n}/64.
/// </summary>
public sealed class Site
{
    internal Site(string ns, string iface, int net, int n, string directory)
    {
        Namespace = ns;
        Interface = iface;
        WanV4 = $"192.168.{net}.{n}";
        WanV6 = $"fd00:{net}::{n}";
        TunnelV4 = $"10.{net}.0.{n}";
        TunnelV6 = $"fd77:{net}::{n}";
        PrivateKeyFile = Path.Combine(directory, iface + ".key");
        var key = Shell.Run("wg", ["genkey"]).Trim();
        File.WriteAllText(PrivateKeyFile, key + "\n");
        File.SetUnixFileMode(PrivateKeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        PublicKey = Shell.Run("wg", ["pubkey"], stdin: key + "\n").Trim();
    }

    public string Namespace { get; }

    public string Interface { get; }

    public string WanV4 { get; }

    public string WanV6 { get; }

    public string TunnelV4 { get; }

    public string TunnelV6 { get; }

    public string PrivateKeyFile { get; }

    public string PublicKey { get; }

    public Implementation? Implementation { get; internal set; }

    public Process? Daemon { get; internal set; }

    public string SocketPath => $"/var/run/wireguard/{Interface}.sock";

    /// <summary>Runs a shell command in this site's namespace.</summary>
    public string Exec(string command, bool check = true, int timeoutMs = 60_000) =>
        Shell.Run("ip", ["netns", "exec", Namespace, "bash", "-c", command], check, timeoutMs: timeoutMs);

    private readonly System.Text.StringBuilder _log = new();

    /// <summary>What the daemon logged so far (LOG_LEVEL=verbose; the last megabyte).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    internal void AppendLog(string line)
    {
        lock (_log)
        {
            if (_log.Length > 1 << 20)
            {
                _log.Remove(0, _log.Length / 2);
            }

            _log.AppendLine(line);
        }
    }

    /// <summary>`wg ARGS` in this site's namespace.</summary>
    public string Wg(string args) => Exec("wg " + args);
}

/// <summary>
/// Two or three sites whose namespaces are joined by a bridge (the "internet") in a namespace of its own. Everything it creates carries the test
/// process's PID and is removed on Dispose: daemons it started (by PID), namespaces, socket files, key files.
/// </summary>
public sealed class WireGuardSites : IDisposable
{
    private static int s_counter;
    private readonly string _directory;
    private readonly List<Process> _processes = [];
    private readonly string _internet;

    public WireGuardSites(Implementation a, Implementation b, Implementation? c = null)
    {
        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException("interop tests need root (network namespaces, TUN); run them as CI does");
        }

        int id = Interlocked.Increment(ref s_counter);
        int pid = Environment.ProcessId;
        _directory = Directory.CreateTempSubdirectory($"bginterop{pid}-").FullName;
        int net = 100 + (pid + id) % 100;
        // Interface names are global through their socket files, so they carry the PID (15 bytes at most).
        A = new Site($"bgi{pid}-{id}a", $"bg{pid % 1000000}{id}a", net, 1, _directory);
        B = new Site($"bgi{pid}-{id}b", $"bg{pid % 1000000}{id}b", net, 2, _directory);
        C = c is null ? null : new Site($"bgi{pid}-{id}c", $"bg{pid % 1000000}{id}c", net, 3, _directory);
        _internet = $"bgi{pid}-{id}i";
        try
        {
            // The "internet": a bridge in its own namespace, one veth to each site's wan0.
            Shell.Run("ip", ["netns", "add", _internet]);
            Shell.Run("ip", ["netns", "exec", _internet, "sh", "-c", "ip link add br0 type bridge && ip link set br0 up"]);
            int port = 0;
            foreach (var site in Sites)
            {
                Shell.Run("ip", ["netns", "add", site.Namespace]);
                Shell.Run("ip", ["link", "add", "wan0", "netns", site.Namespace, "type", "veth", "peer", "name",
                    $"port{port}", "netns", _internet]);
                Shell.Run("ip", ["netns", "exec", _internet, "ip", "link", "set", $"port{port++}", "master", "br0", "up"]);
                site.Exec($"ip link set lo up && ip addr add {site.WanV4}/24 dev wan0 && " +
                    $"ip addr add {site.WanV6}/64 dev wan0 nodad && ip link set wan0 up");
            }

            Start(A, a);
            Start(B, b);
            if (C is not null)
            {
                Start(C, c!.Value);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The sites in order (A, B and C when there is one).</summary>
    public IEnumerable<Site> Sites => C is null ? [A, B] : [A, B, C];

    /// <summary>A third site, when the test asked for one.</summary>
    public Site? C { get; }

    public Site A { get; }

    public Site B { get; }

    /// <summary>The branchgate binary under test: $BRANCHGATE_BIN, else the NativeAOT publish in artifacts/.</summary>
    public static string BranchgateBinary
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("BRANCHGATE_BIN");
            if (!string.IsNullOrEmpty(fromEnv))
            {
                return fromEnv;
            }

            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "artifacts", "linux-x64", "branchgate");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new InvalidOperationException(
                "branchgate binary not found: run scripts/publish-aot.sh linux-x64 (test.sh does) or set BRANCHGATE_BIN");
        }
    }

    /// <summary>
    /// Gives each site the other as its peer: keys, endpoint over the outer family, allowed IPs = the other's tunnel
    /// addresses; brings the interfaces up with their tunnel addresses.
    /// </summary>
    public void Configure(bool ipv6Outside = false, bool presharedKey = false, int keepalive = 0, int mtu = 1420)
    {
        string? psk = null;
        if (presharedKey)
        {
            psk = Path.Combine(_directory, "psk");
            File.WriteAllText(psk, Shell.Run("wg", ["genpsk"]));
        }

        ConfigureOne(A, B, 51820, 51821, ipv6Outside, psk, keepalive, mtu);
        ConfigureOne(B, A, 51821, 51820, ipv6Outside, psk, keepalive, mtu);
    }

    /// <summary>
    /// Configures A or B again as <see cref="Configure"/> did (IPv4 outside, no PSK, no keepalive), after
    /// <see cref="Restart"/>; <paramref name="privateKeyFile"/> replaces the site's own key (a peer restarting with a new
    /// key).
    /// </summary>
    public void Reconfigure(Site site, string? privateKeyFile = null)
    {
        if (site == A)
        {
            ConfigureOne(A, B, 51820, 51821, false, null, 0, 1420, privateKeyFile);
        }
        else if (site == B)
        {
            ConfigureOne(B, A, 51821, 51820, false, null, 0, 1420, privateKeyFile);
        }
        else
        {
            throw new ArgumentException("only A and B have a peer", nameof(site));
        }
    }

    /// <summary>
    /// Kills a site's daemon (SIGKILL, by its PID), waits until its interface is gone, and starts the same
    /// implementation again: a new interface with no configuration (<see cref="Reconfigure"/> gives it one).
    /// </summary>
    public void Restart(Site site)
    {
        var old = site.Daemon!;
        if (!old.HasExited)
        {
            old.Kill();
        }

        if (!old.WaitForExit(10_000))
        {
            throw new TimeoutException($"the daemon of {site.Interface} did not die");
        }

        if (!Shell.WaitFor(() => !site.Exec($"ip link show dev {site.Interface}", check: false).Contains(site.Interface, StringComparison.Ordinal),
            TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException($"{site.Interface} outlived its daemon");
        }

        // A killed daemon leaves its UAPI socket file behind; Start waits for the new one to appear.
        File.Delete(site.SocketPath);
        Start(site, site.Implementation!.Value);
    }

    private static void ConfigureOne(Site local, Site remote, int port, int remotePort, bool v6, string? psk,
        int keepalive, int mtu, string? privateKeyFile = null)
    {
        var endpoint = v6 ? $"[{remote.WanV6}]:{remotePort}" : $"{remote.WanV4}:{remotePort}";
        var pskArg = psk is null ? "" : $" preshared-key {psk}";
        var ka = keepalive > 0 ? $" persistent-keepalive {keepalive}" : "";
        local.Wg($"set {local.Interface} listen-port {port} private-key {privateKeyFile ?? local.PrivateKeyFile} peer {remote.PublicKey}" +
            $"{pskArg} allowed-ips {remote.TunnelV4}/32,{remote.TunnelV6}/128 endpoint {endpoint}{ka}");
        local.Exec($"ip addr add {local.TunnelV4}/24 dev {local.Interface} && " +
            $"ip addr add {local.TunnelV6}/64 dev {local.Interface} nodad && " +
            $"ip link set {local.Interface} mtu {mtu} up");
    }

    /// <summary>Pings from one site to an address; true when all replies came.</summary>
    public static bool Ping(Site from, string address, int count = 3, int size = 56) =>
        from.Exec($"ping -c {count} -i 0.2 -W 2 -s {size} {address}", check: false, timeoutMs: 30_000)
            .Contains($"{count} received", StringComparison.Ordinal);

    /// <summary>Starts `iperf3 -s` in a site (bound to its tunnel address) and waits until it listens.</summary>
    public static StartedProcess StartIperfServer(Site site)
    {
        var process = Shell.Start("ip", ["netns", "exec", site.Namespace, "iperf3", "-s", "-B", site.TunnelV4]);
        var started = new StartedProcess(process);
        if (!Shell.WaitFor(() => site.Exec("ss -ltn", check: false).Contains($"{site.TunnelV4}:5201", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10)))
        {
            started.Dispose();
            throw new InvalidOperationException("iperf3 server did not start");
        }

        return started;
    }

    private void Start(Site site, Implementation implementation)
    {
        site.Implementation = implementation;
        var env = new Dictionary<string, string> { ["LOG_LEVEL"] = "verbose" };
        Process process;
        if (implementation == Implementation.WireGuardGo)
        {
            env["WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"] = "1";
            process = Shell.Start("ip", ["netns", "exec", site.Namespace, "wireguard-go", "-f", site.Interface], env: env);
        }
        else
        {
            process = Shell.Start("ip", ["netns", "exec", site.Namespace, BranchgateBinary, "-f", site.Interface], env: env);
        }

        _processes.Add(process);
        site.Daemon = process;
        // BRANCHGATE_TEST_LOGDIR=dir keeps each daemon's verbose log there, for debugging a failing test.
        var logDir = Environment.GetEnvironmentVariable("BRANCHGATE_TEST_LOGDIR");
        TextWriter? log = null;
        if (!string.IsNullOrEmpty(logDir))
        {
            var file = File.CreateText(Path.Combine(logDir, site.Interface + ".log"));
            file.AutoFlush = true;
            log = TextWriter.Synchronized(file);
        }

        process.OutputDataReceived += (_, e) => Record(site, log, e.Data);
        process.ErrorDataReceived += (_, e) => Record(site, log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!Shell.WaitFor(() => File.Exists(site.SocketPath) || process.HasExited, TimeSpan.FromSeconds(15)) ||
            process.HasExited)
        {
            throw new InvalidOperationException(
                $"{implementation} for {site.Interface} did not come up (exited: {process.HasExited})");
        }
    }

    private static void Record(Site site, TextWriter? log, string? line)
    {
        if (line is null)
        {
            return;
        }

        log?.WriteLine(line);
        site.AppendLog(line);
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            Shell.Kill(p, entireProcessTree: true);
            p.Dispose();
        }

        foreach (var site in new[] { A, B, C })
        {
            if (site is null)
            {
                continue;
            }

            Shell.Run("ip", ["netns", "del", site.Namespace], check: false);
            try
            {
                File.Delete(site.SocketPath);
            }
            catch (IOException)
            {
            }
        }

        Shell.Run("ip", ["netns", "del", _internet], check: false);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
