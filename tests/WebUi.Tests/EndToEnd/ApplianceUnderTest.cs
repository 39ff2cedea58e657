using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Branchgate.Appliance.Api;
using Branchgate.WebUi.Api;

namespace Branchgate.WebUi.Tests.EndToEnd;

/// <summary>
/// A real `branchgate serve` (the published NativeAOT binary) in a network namespace of its own, with a LAN bridge
/// (10.1.0.1/24) and an interface wg0 (10.9.0.1/24), and the panel (the WebUi build output, run with `dotnet`) in the
/// root namespace on a free 127.0.0.1 port, reaching serve's API socket by path: unix sockets are not namespaced.
/// Everything lives in a temporary directory; Dispose stops both processes by PID and deletes the namespace and the
/// directory.
/// </summary>
internal sealed class ApplianceUnderTest : IDisposable
{
    private Process? _serve;
    private Process? _panel;

    private ApplianceUnderTest(string directory, string ns)
    {
        Directory = directory;
        Namespace = ns;
    }

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
        var appliance = new ApplianceUnderTest(directory, $"bgwebui-{unique}");
        try
        {
            await appliance.StartServeAsync(binary).ConfigureAwait(false);
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
        Commands.Stop(_serve);
        try
        {
            Commands.Run("ip", "netns", "delete", Namespace);
        }
        catch (InvalidOperationException)
        {
            // Not created (an early failure).
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
