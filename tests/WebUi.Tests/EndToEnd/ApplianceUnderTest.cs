using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Branchgate.Appliance.Api;
using Branchgate.WebUi.Api;

namespace Branchgate.WebUi.Tests.EndToEnd;

/// <summary>
/// A real `branchgate serve` (the published NativeAOT binary) in a network namespace of its own, with a LAN bridge
/// (10.1.0.1/24), an IPsec policy 10.1.0.0/24 -> 10.3.0.0/24 and an interface wg0 (10.9.0.1/24, port 51820); a real
/// peer, wireguard-go configured with `wg`, in a second namespace joined by a veth pair (gateway 192.168.77.1, peer
/// 192.168.77.2:51821, peer tunnel address 10.2.0.1/24); and the panel (the WebUi build output, run with `dotnet`) in
/// the root namespace on a free 127.0.0.1 port, reaching serve's API socket by path: unix sockets are not namespaced.
/// Everything lives in a temporary directory; Dispose stops the processes by PID and deletes the namespaces and the
/// directory.
/// </summary>
internal sealed class ApplianceUnderTest : IDisposable
{
    public const string PeerEndpoint = "192.168.77.2:51821";

    private Process? _serve;
    private Process? _panel;
    private Process? _peer;

    private ApplianceUnderTest(string directory, string ns, string unique)
    {
        Directory = directory;
        Namespace = ns;
        PeerNamespace = ns + "p";
        PeerInterface = "wgp" + unique.Replace("-", "", StringComparison.Ordinal)[..Math.Min(12, unique.Length - 1)];
    }

    public string PeerNamespace { get; }

    public string PeerInterface { get; }

    /// <summary>The real peer's public key: the site the test adds with it comes online.</summary>
    public string PeerPublicKey { get; private set; } = "";

    public string Directory { get; }

    public string Namespace { get; }

    public string SocketPath => Path.Combine(Directory, "api.sock");

    public string SetupToken { get; private set; } = "";

    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1/");

    public static async Task<ApplianceUnderTest> StartAsync()
    {
        var binary = GatewayBinary();
        var panelDll = PanelDll();
        var unique = $"{Environment.ProcessId}-{Random.Shared.Next(10000)}";
        var directory = System.IO.Directory.CreateTempSubdirectory($"bg-webui-{unique}-").FullName;
        var appliance = new ApplianceUnderTest(directory, $"bgwebui-{unique}", unique);
        try
        {
            await appliance.StartServeAsync(binary).ConfigureAwait(false);
            await appliance.StartPeerAsync().ConfigureAwait(false);
            await appliance.StartPanelAsync(panelDll).ConfigureAwait(false);
            return appliance;
        }
        catch
        {
            appliance.Dispose();
            throw;
        }
    }

    /// <summary>An HTTP client straight to the API socket (setting up what the panel has no page for yet).</summary>
    public HttpClient ApiClient() => new(UnixSocketHttp.CreateHandler(SocketPath)) { BaseAddress = UnixSocketHttp.BaseAddress };

    public string ServeLog => ReadShared(Path.Combine(Directory, "serve.log"));

    public string PanelLog => ReadShared(Path.Combine(Directory, "panel.log"));

    private async Task StartServeAsync(string binary)
    {
        Commands.Run("ip", "netns", "add", Namespace);
        Commands.Run("ip", "-n", Namespace, "link", "set", "lo", "up");
        Commands.Run("ip", "-n", Namespace, "link", "add", "lan0", "type", "bridge");
        Commands.Run("ip", "-n", Namespace, "addr", "add", "10.1.0.1/24", "dev", "lan0");
        Commands.Run("ip", "-n", Namespace, "link", "set", "lan0", "up");
        // An IPsec tunnel's policy from the office LAN to 10.3.0.0/24: a site claiming that range conflicts with it.
        Commands.Run("ip", "-n", Namespace, "xfrm", "policy", "add", "src", "10.1.0.0/24", "dst", "10.3.0.0/24", "dir", "out",
            "tmpl", "src", "192.168.77.1", "dst", "192.0.2.2", "proto", "esp", "mode", "tunnel");

        var tokenPath = Path.Combine(Directory, "setup-token");
        _serve = Commands.Start("ip",
            ["netns", "exec", Namespace, binary, "serve", "--db", Path.Combine(Directory, "branchgate.db"),
             "--api-socket", SocketPath, "--setup-token", tokenPath, "--resolve-interval", "3600"],
            Path.Combine(Directory, "serve.log"));
        await WaitAsync(() => File.Exists(SocketPath) && File.Exists(tokenPath), "serve's API socket and setup token",
            () => _serve.HasExited).ConfigureAwait(false);
        SetupToken = (await File.ReadAllTextAsync(tokenPath).ConfigureAwait(false)).Trim();

        using var api = ApiClient();
        using var created = await api.PostAsync("v1/interfaces", JsonContent.Create(new InterfaceRequest
        {
            Name = "wg0",
            ListenPort = 51820,
            Addresses = ["10.9.0.1/24"],
        }, ApiClientJsonContext.Default.InterfaceRequest)).ConfigureAwait(false);
        if (created.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException(
                $"creating wg0 answered {created.StatusCode}: {await created.Content.ReadAsStringAsync().ConfigureAwait(false)}");
        }
    }

    /// <summary>wireguard-go in its own namespace, already pointing at the gateway; the gateway learns it when the
    /// test adds the site.</summary>
    private async Task StartPeerAsync()
    {
        Commands.Run("ip", "netns", "add", PeerNamespace);
        Commands.Run("ip", "-n", PeerNamespace, "link", "set", "lo", "up");
        Commands.Run("ip", "link", "add", "bgv" + PeerInterface[3..], "netns", Namespace, "type", "veth",
            "peer", "name", "bgp" + PeerInterface[3..], "netns", PeerNamespace);
        Commands.Run("ip", "-n", Namespace, "addr", "add", "192.168.77.1/24", "dev", "bgv" + PeerInterface[3..]);
        Commands.Run("ip", "-n", Namespace, "link", "set", "bgv" + PeerInterface[3..], "up");
        Commands.Run("ip", "-n", PeerNamespace, "addr", "add", "192.168.77.2/24", "dev", "bgp" + PeerInterface[3..]);
        Commands.Run("ip", "-n", PeerNamespace, "link", "set", "bgp" + PeerInterface[3..], "up");

        var keyPath = Path.Combine(Directory, "peer.key");
        Commands.Run("sh", "-c", $"umask 077 && wg genkey > '{keyPath}'");
        PeerPublicKey = Commands.Run("sh", "-c", $"wg pubkey < '{keyPath}'").Trim();

        using var api = ApiClient();
        var wg0 = await api.GetFromJsonAsync("v1/interfaces/wg0", ApiClientJsonContext.Default.InterfaceDto).ConfigureAwait(false)
            ?? throw new InvalidOperationException("GET /v1/interfaces/wg0 answered nothing");

        var socket = $"/var/run/wireguard/{PeerInterface}.sock";
        _peer = Commands.Start("ip", ["netns", "exec", PeerNamespace, "wireguard-go", "-f", PeerInterface],
            Path.Combine(Directory, "peer.log"), new Dictionary<string, string> { ["WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"] = "1" });
        await WaitAsync(() => File.Exists(socket), "wireguard-go's UAPI socket", () => _peer.HasExited).ConfigureAwait(false);
        Commands.Run("ip", "netns", "exec", PeerNamespace, "wg", "set", PeerInterface, "private-key", keyPath,
            "listen-port", "51821", "peer", wg0.PublicKey, "endpoint", "192.168.77.1:51820", "allowed-ips", "10.9.0.0/24",
            "persistent-keepalive", "2");
        Commands.Run("ip", "-n", PeerNamespace, "addr", "add", "10.2.0.1/24", "dev", PeerInterface);
        Commands.Run("ip", "-n", PeerNamespace, "link", "set", PeerInterface, "up");
        Commands.Run("ip", "-n", PeerNamespace, "route", "add", "10.9.0.0/24", "dev", PeerInterface);
    }

    /// <summary>Traffic from the peer's side through the tunnel to the gateway's tunnel address, for up to 20 s:
    /// wireguard-go retries a handshake the gateway ignored (it did not know the peer yet) only every 5 s.</summary>
    public bool PingGatewayFromPeer()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (Commands.TryRun("ip", "netns", "exec", PeerNamespace, "ping", "-c", "1", "-W", "1", "10.9.0.1"))
            {
                return true;
            }
        }

        return false;
    }

    private async Task StartPanelAsync(string dll)
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        BaseUrl = new Uri($"http://127.0.0.1:{port}/");
        _panel = Commands.Start("dotnet", [dll], Path.Combine(Directory, "panel.log"), new Dictionary<string, string>
        {
            ["Urls"] = $"http://127.0.0.1:{port}",
            ["Branchgate__ApiSocket"] = SocketPath,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_NOLOGO"] = "1",
        }, Path.GetDirectoryName(dll));
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(5) };
        await WaitAsync(() =>
        {
            try
            {
                using var answer = http.GetAsync(new Uri(BaseUrl, "login")).GetAwaiter().GetResult();
                return true;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the panel to listen", () => _panel.HasExited).ConfigureAwait(false);
    }

    private static async Task WaitAsync(Func<bool> done, string what, Func<bool> failed)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(40);
        while (!done())
        {
            if (failed())
            {
                throw new InvalidOperationException($"gave up waiting for {what}: the process ended");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"gave up waiting for {what} after 40 s");
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>BRANCHGATE_BIN, else the repository's artifacts/linux-x64/branchgate (scripts/publish-aot.sh).</summary>
    private static string GatewayBinary()
    {
        var path = Environment.GetEnvironmentVariable("BRANCHGATE_BIN") is { Length: > 0 } bin ? bin
            : Path.Combine(RepositoryRoot(), "artifacts", "linux-x64", "branchgate");
        return File.Exists(path) ? path
            : throw new FileNotFoundException(
                $"no branchgate binary at {path}: run scripts/publish-aot.sh linux-x64 or set BRANCHGATE_BIN");
    }

    /// <summary>The panel's own build output (same configuration as this test), where its static web asset manifest is.</summary>
    private static string PanelDll()
    {
        if (Environment.GetEnvironmentVariable("BRANCHGATE_WEBUI_DLL") is { Length: > 0 } configured)
        {
            return configured;
        }

#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var path = Path.Combine(RepositoryRoot(), "src", "WebUi", "bin", configuration, "net10.0", "branchgate-webui.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"the panel is not built: {path}");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }

    private static string ReadShared(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    public void Dispose()
    {
        Commands.Stop(_panel);
        Commands.Stop(_peer);
        Commands.Stop(_serve);
        File.Delete($"/var/run/wireguard/{PeerInterface}.sock");
        foreach (var ns in new[] { PeerNamespace, Namespace })
        {
            // False when it was not created (an early failure).
            Commands.TryRun("ip", "netns", "delete", ns);
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the system's tmp cleaner; nothing secret is in it beyond a test database.
        }
    }
}
