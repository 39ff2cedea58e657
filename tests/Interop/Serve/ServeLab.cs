using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Branchgate.Appliance.Api;
using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests.Serve;

/// <summary>
/// One branch office run by `branchgate serve` (the published NativeAOT binary) in a namespace of its own: a WAN veth
/// to the lab's "internet" bridge (192.0.2.{n}/24), a LAN bridge lan0 (10.20.{n}.1/24) and, once configured, one
/// WireGuard interface whose name carries the test process's PID (UAPI sockets in /var/run/wireguard are global).
/// Its store, API socket and wg-quick files live in the lab's temporary directory.
/// </summary>
public sealed class Office
{
    internal Office(ServeLab lab, string ns, int n, string iface)
    {
        Lab = lab;
        Namespace = ns;
        Number = n;
        Interface = iface;
        WanAddress = $"192.0.2.{n}";
        LanAddress = $"10.20.{n}.1";
        LanSubnet = $"10.20.{n}.0/24";
        Db = Path.Combine(lab.Directory, $"office{n}.db");
        ApiSocket = Path.Combine(lab.Directory, $"office{n}.sock");
        PrivateKey = Shell.Run("wg", ["genkey"]).Trim();
        PublicKey = Shell.Run("wg", ["pubkey"], stdin: PrivateKey + "\n").Trim();
    }

    public ServeLab Lab { get; }

    public string Namespace { get; }

    public int Number { get; }

    public string Interface { get; }

    public string WanAddress { get; internal set; }

    public string LanAddress { get; }

    public string LanSubnet { get; }

    public string Db { get; }

    public string ApiSocket { get; }

    public string PrivateKey { get; }

    public string PublicKey { get; }

    public int ListenPort { get; } = 51820;

    /// <summary>The serve process currently running for this office (the last one started).</summary>
    public ServeProcess? Serve { get; internal set; }

    /// <summary>Runs a shell command in this office's namespace.</summary>
    public string Exec(string command, bool check = true, int timeoutMs = 30_000) =>
        Shell.Run("ip", ["netns", "exec", Namespace, "bash", "-c", command], check, timeoutMs: timeoutMs);

    /// <summary>Pings a LAN address of another office from this office's LAN address; true when all replies came.</summary>
    public bool PingLan(Office to, int count = 2, int waitSeconds = 1) =>
        Exec($"ping -c {count} -i 0.2 -W {waitSeconds} -I {LanAddress} {to.LanAddress}", check: false)
            .Contains($"{count} received", StringComparison.Ordinal);

    /// <summary>Pings until one round succeeds or <paramref name="timeout"/> passes; the time it took, or null.</summary>
    public TimeSpan? PingUntil(Office to, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (Exec($"ping -c 1 -W 1 -I {LanAddress} {to.LanAddress}", check: false).Contains("1 received", StringComparison.Ordinal))
            {
                return clock.Elapsed;
            }
        }

        return null;
    }

    /// <summary>A wg-quick file for this office with one [Peer] per (office, endpoint, keepalive): the peer's LAN
    /// subnet as AllowedIPs, named after the peer office ("office2"), endpoint given literally or as a name.</summary>
    public string WgQuick(params (Office Peer, string? Endpoint, int Keepalive)[] peers)
    {
        var text = new StringBuilder();
        text.Append("[Interface]\n")
            .Append("PrivateKey = ").Append(PrivateKey).Append('\n')
            .Append("ListenPort = ").Append(ListenPort).Append('\n');
        foreach (var (peer, endpoint, keepalive) in peers)
        {
            text.Append("\n[Peer]\n# Name = office").Append(peer.Number).Append('\n')
                .Append("PublicKey = ").Append(peer.PublicKey).Append('\n')
                .Append("AllowedIPs = ").Append(peer.LanSubnet).Append('\n');
            if (endpoint is not null)
            {
                text.Append("Endpoint = ").Append(endpoint).Append('\n');
            }

            if (keepalive > 0)
            {
                text.Append("PersistentKeepalive = ").Append(keepalive).Append('\n');
            }
        }

        var file = Path.Combine(Lab.Directory, $"{Interface}.conf");
        File.WriteAllText(file, text.ToString());
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return file;
    }

    /// <summary>`branchgate import FILE --name IFACE` inside the namespace: through the running serve's API, or
    /// (<paramref name="intoStore"/>) straight into the store file while serve is stopped.</summary>
    public string Import(string file, bool intoStore = false)
    {
        var target = intoStore ? $"--db {Db}" : $"--api-socket {ApiSocket}";
        return Exec($"{ServeLab.Binary} import {file} --name {Interface} {target} 2>&1");
    }

    /// <summary>Starts `branchgate serve` for this office and waits until its API answers.</summary>
    public ServeProcess StartServe(string extraArgs = "--resolve-interval 10", IDictionary<string, string>? env = null,
        bool waitForApi = true)
    {
        var serve = ServeProcess.Start(this, extraArgs, env);
        Lab.Track(serve);
        Serve = serve;
        if (waitForApi && !serve.WaitForApi(TimeSpan.FromSeconds(20)))
        {
            throw new InvalidOperationException(
                $"serve for office {Number} did not answer on its API (exited: {serve.HasExited}); log:\n{serve.Log}");
        }

        return serve;
    }

    /// <summary>`wg show IFACE dump` inside the namespace.</summary>
    public string WgDump() => Exec($"wg show {Interface} dump");

    /// <summary>Seconds since the latest handshake with <paramref name="peer"/> as `wg show` reports it (null: never).</summary>
    public long? HandshakeAge(Office peer)
    {
        var line = Exec($"wg show {Interface} latest-handshakes").Split('\n')
            .FirstOrDefault(l => l.StartsWith(peer.PublicKey, StringComparison.Ordinal));
        if (line is null || !long.TryParse(line.Split('\t')[1], out var epoch) || epoch == 0)
        {
            return null;
        }

        return DateTimeOffset.UtcNow.ToUnixTimeSeconds() - epoch;
    }

    /// <summary>Bytes received from <paramref name="peer"/> as `wg show IFACE transfer` reports them.</summary>
    public long ReceivedFrom(Office peer)
    {
        var line = Exec($"wg show {Interface} transfer").Split('\n')
            .FirstOrDefault(l => l.StartsWith(peer.PublicKey, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split('\t')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    public bool LinkExists() => Exec($"ip link show dev {Interface}", check: false).Contains(Interface, StringComparison.Ordinal);
}

/// <summary>A `branchgate serve` the test started (its PID is serve's: `ip netns exec` execs it), with its output.</summary>
public sealed class ServeProcess : IDisposable
{
    private readonly StringBuilder _log = new();

    private ServeProcess(Office office, Process process)
    {
        Office = office;
        Process = process;
    }

    public Office Office { get; }

    public Process Process { get; }

    public int Pid => Process.Id;

    public bool HasExited => Process.HasExited;

    /// <summary>Everything serve wrote to stdout and stderr so far.</summary>
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

    internal static ServeProcess Start(Office office, string extraArgs, IDictionary<string, string>? env,
        string? wrapper = null)
    {
        var args = new List<string> { "netns", "exec", office.Namespace };
        if (wrapper is not null)
        {
            args.Add(wrapper);
        }

        args.AddRange([ServeLab.Binary, "serve", "--db", office.Db, "--api-socket", office.ApiSocket, "--no-setup-token",
            "--log-level", "debug"]);
        args.AddRange(extraArgs.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var process = Shell.Start("ip", args, env: env);
        var serve = new ServeProcess(office, process);
        process.OutputDataReceived += (_, e) => serve.Append(e.Data);
        process.ErrorDataReceived += (_, e) => serve.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return serve;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    /// <summary>Waits until GET /v1/status answers 200 (false when serve exited or the time passed).</summary>
    public bool WaitForApi(TimeSpan timeout) => Shell.WaitFor(() =>
    {
        if (Process.HasExited)
        {
            return true;
        }

        try
        {
            using var api = new ServeApi(Office.ApiSocket);
            return api.Get("/v1/status").Length > 0;
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException or TaskCanceledException)
        {
            return false;
        }
    }, timeout, 100) && !Process.HasExited;

    /// <summary>Sends a signal to serve (by its PID).</summary>
    public void Signal(int signal)
    {
        if (Kill(Pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({Pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public bool WaitForExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout))
        {
            return false;
        }

        Process.WaitForExit(); // drains the output readers
        return true;
    }

    public void Dispose()
    {
        Shell.Kill(Process, entireProcessTree: false);
        Process.Dispose();
    }

    public const int SigHup = 1;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}

/// <summary>HTTP over serve's unix socket (as root, so the root-only answers are allowed too).</summary>
public sealed class ServeApi : IDisposable
{
    private readonly HttpClient _client;

    public ServeApi(string socketPath)
    {
        _client = new HttpClient(UnixSocketHttp.CreateHandler(socketPath)) { BaseAddress = new Uri("http://localhost"), Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>GET PATH; the body (throws unless 2xx).</summary>
    public string Get(string path)
    {
        using var response = _client.GetAsync(path).GetAwaiter().GetResult();
        var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {path}: {(int)response.StatusCode} {body}");
        }

        return body;
    }

    public JsonElement GetJson(string path)
    {
        using var doc = JsonDocument.Parse(Get(path));
        return doc.RootElement.Clone();
    }

    /// <summary>The peer named <paramref name="site"/> of interface <paramref name="iface"/> in GET /v1/status.</summary>
    public JsonElement StatusPeer(string iface, string site)
    {
        var status = GetJson("/v1/status");
        var ifaceJson = status.GetProperty("interfaces").EnumerateArray().Single(i => i.GetProperty("name").GetString() == iface);
        return ifaceJson.GetProperty("peers").EnumerateArray().Single(p => p.GetProperty("name").GetString() == site);
    }

    /// <summary>The value of a /metrics sample whose name and labels contain the given texts.</summary>
    public double Metric(string name, params string[] labels)
    {
        foreach (var line in Get("/metrics").Split('\n'))
        {
            if (line.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(l => line.Contains(l, StringComparison.Ordinal)))
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"metric {name} {string.Join(',', labels)} not found");
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>
/// Offices joined by a bridge (the "internet", 192.0.2.0/24, in a namespace of its own), each running `branchgate
/// serve`. Optionally a real DNS server (dnsmasq) on the internet at 192.0.2.53 answering from a hosts file the test
/// rewrites, and offices whose /etc/resolv.conf (through /etc/netns/NS/resolv.conf) points at it. Dispose kills
/// every process it started (by PID), deletes its namespaces, /etc/netns directories, socket files and the temporary
/// directory.
/// </summary>
public sealed class ServeLab : IDisposable
{
    private static int s_counter;
    private readonly List<ServeProcess> _serves = [];
    private readonly List<Office> _offices = [];
    private readonly List<string> _netnsEtc = [];
    private readonly string _prefix;
    private readonly int _id;
    private Process? _dnsmasq;
    private int _port;

    public ServeLab()
    {
        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException("these tests need root (network namespaces, TUN); run them as CI does");
        }

        int id = _id = Interlocked.Increment(ref s_counter);
        int pid = Environment.ProcessId;
        _prefix = $"bgs{pid}-{id}";
        Directory = System.IO.Directory.CreateTempSubdirectory($"bgserve{pid}-").FullName;
        Internet = _prefix + "i";
        try
        {
            Shell.Run("ip", ["netns", "add", Internet]);
            Shell.Run("ip", ["netns", "exec", Internet, "sh", "-c",
                "ip link set lo up && ip link add br0 type bridge && ip addr add 192.0.2.53/24 dev br0 && ip link set br0 up"]);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The temporary directory holding the stores, sockets and files of this lab.</summary>
    public string Directory { get; }

    public string Internet { get; }

    public const string DnsServer = "192.0.2.53";

    /// <summary>The branchgate binary under test ($BRANCHGATE_BIN, else artifacts/linux-x64/branchgate).</summary>
    public static string Binary => WireGuardSites.BranchgateBinary;

    /// <summary>Adds office number <paramref name="n"/> (1 to 50): namespace, WAN veth, LAN bridge.</summary>
    public Office AddOffice(int n, bool useLabDns = false)
    {
        var ns = $"{_prefix}o{n}";
        var office = new Office(this, ns, n, $"sv{Environment.ProcessId % 100000}{_id}o{n}");
        Shell.Run("ip", ["netns", "add", ns]);
        _offices.Add(office);
        var port = $"port{_port++}";
        Shell.Run("ip", ["link", "add", "wan0", "netns", ns, "type", "veth", "peer", "name", port, "netns", Internet]);
        Shell.Run("ip", ["netns", "exec", Internet, "ip", "link", "set", port, "master", "br0", "up"]);
        office.Exec($"ip link set lo up && ip addr add {office.WanAddress}/24 dev wan0 && ip link set wan0 up && " +
            $"ip link add lan0 type bridge && ip addr add {office.LanAddress}/24 dev lan0 && ip link set lan0 up");
        if (useLabDns)
        {
            var etc = $"/etc/netns/{ns}";
            System.IO.Directory.CreateDirectory(etc);
            _netnsEtc.Add(etc);
            File.WriteAllText(Path.Combine(etc, "resolv.conf"), $"nameserver {DnsServer}\noptions timeout:1 attempts:2\n");
        }

        return office;
    }

    internal void Track(ServeProcess serve)
    {
        lock (_serves)
        {
            _serves.Add(serve);
        }
    }

    private string HostsFile => Path.Combine(Directory, "dns-hosts");

    /// <summary>Starts dnsmasq on 192.0.2.53 (only there), answering only from a hosts file: name -> address.</summary>
    public void StartDns(string name, string address)
    {
        File.WriteAllText(HostsFile, $"{address} {name}\n");
        _dnsmasq = Shell.Start("ip", ["netns", "exec", Internet, "/usr/sbin/dnsmasq", "--keep-in-foreground",
            "--conf-file=/dev/null", "--no-resolv", "--no-hosts", $"--addn-hosts={HostsFile}", "--no-negcache",
            "--local-ttl=0", $"--listen-address={DnsServer}", "--bind-interfaces", "--except-interface=lo",
            "--user=root", "--group=root", "--pid-file=", "--log-queries", "--log-facility=-"]);
        _dnsmasq.OutputDataReceived += (_, _) => { };
        _dnsmasq.ErrorDataReceived += (_, _) => { };
        _dnsmasq.BeginOutputReadLine();
        _dnsmasq.BeginErrorReadLine();
        if (!Shell.WaitFor(() => _dnsmasq.HasExited || Shell.Run("ip", ["netns", "exec", Internet, "ss", "-lun"])
                .Contains(DnsServer + ":53", StringComparison.Ordinal), TimeSpan.FromSeconds(10)) || _dnsmasq.HasExited)
        {
            throw new InvalidOperationException("dnsmasq did not start");
        }
    }

    /// <summary>Rewrites the hosts file and makes dnsmasq re-read it (SIGHUP to the dnsmasq this lab started).</summary>
    public void UpdateDns(string name, string address)
    {
        File.WriteAllText(HostsFile, $"{address} {name}\n");
        Shell.Run("kill", ["-HUP", _dnsmasq!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
    }

    public void Dispose()
    {
        List<ServeProcess> serves;
        lock (_serves)
        {
            serves = [.. _serves];
        }

        foreach (var serve in serves)
        {
            serve.Dispose();
        }

        if (_dnsmasq is not null)
        {
            Shell.Kill(_dnsmasq, entireProcessTree: false);
            _dnsmasq.Dispose();
        }

        foreach (var office in _offices)
        {
            Shell.Run("ip", ["netns", "del", office.Namespace], check: false);
            try
            {
                File.Delete($"/var/run/wireguard/{office.Interface}.sock");
            }
            catch (IOException)
            {
            }
        }

        Shell.Run("ip", ["netns", "del", Internet], check: false);
        foreach (var etc in _netnsEtc)
        {
            try
            {
                System.IO.Directory.Delete(etc, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
