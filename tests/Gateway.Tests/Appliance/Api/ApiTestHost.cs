using System.Collections.Concurrent;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using Branchgate.Appliance.Api;
using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Netlink.Route;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Branchgate.Tests.Appliance.Api;

/// <summary>
/// The real management API (Kestrel on a unix socket in a private temp directory) over the test doubles, and an
/// HttpClient that connects to that socket. Every answer is kept; <see cref="DisposeAsync"/> fails the test if any
/// answer not marked as allowed to hold secrets contains one of the test's secrets.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ApiTestHost : IAsyncDisposable
{
    public const string TestGroup = "nogroup";

    private static int s_counter;

    private readonly ConcurrentBag<(string What, string Body)> _answers = [];
    private readonly List<string> _secrets = [];

    private ApiTestHost(string root)
    {
        Root = root;
        SocketPath = Path.Combine(root, "run", "api.sock");
        SetupTokenPath = Path.Combine(root, "run", "setup-token");
        Store = new FakeStore { Path = Path.Combine(root, "state", "branchgate.db") };
        Service = new FakeApplianceService(Store);
        Users = new FakeUserDirectory(Store);
        GatewayKey = WireGuardSecret.GeneratePrivateKey();
        SitePresharedKey = WireGuardSecret.GeneratePresharedKey();
        AddSecret(GatewayKey.RevealBase64());
        AddSecret(SitePresharedKey.RevealBase64());
        AddSecret(FakeUserDirectory.HashPrefix);
        AddSecret(FakeUserDirectory.TotpSecret);
        Service.Current = new ApplianceConfig
        {
            Interfaces = [new InterfaceConfig
            {
                Name = "wg0",
                PrivateKey = GatewayKey,
                ListenPort = 51820,
                Addresses = [InterfaceAddress.Parse("10.9.0.1/24")],
                Dns = ["10.1.0.53"],
            }],
            Sites = [new SiteConfig
            {
                Name = "branch-b",
                Interface = "wg0",
                PublicKey = WireGuardSecret.GeneratePrivateKey().DerivePublicKey(),
                PresharedKey = SitePresharedKey,
                Endpoint = "b.example.net:51820",
                AllowedIps = [IPPrefix.Parse("10.2.0.0/24")],
                PersistentKeepalive = 25,
            }],
        };
    }

    public string Root { get; }

    public string SocketPath { get; }

    public string SetupTokenPath { get; }

    public FakeStore Store { get; }

    public FakeApplianceService Service { get; }

    public FakeUserDirectory Users { get; }

    public WireGuardSecret GatewayKey { get; }

    public WireGuardSecret SitePresharedKey { get; }

    public WebApplication App { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public CapturingLoggerProvider Log { get; } = new();

    /// <summary>Gives the test's stores a config of their own before the API starts.</summary>
    public static async Task<ApiTestHost> StartAsync(Action<ApiTestHost>? arrange = null,
        Func<ManagementApiOptions, ManagementApiOptions>? options = null)
    {
        var root = Path.Combine(Path.GetTempPath(), $"bgapi{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        var host = new ApiTestHost(root);
        try
        {
            arrange?.Invoke(host);
            var apiOptions = new ManagementApiOptions
            {
                SocketPath = host.SocketPath,
                SocketGroup = TestGroup,
                SetupTokenPath = host.SetupTokenPath,
                ExportWgQuick = ExportForTests,
                OpenStore = path => new FakeStore { Path = path, Config = ParseBackup(File.ReadAllText(path)) },
            };
            host.App = ManagementApi.Build(options?.Invoke(apiOptions) ?? apiOptions, host.Service, host.Users, builder =>
            {
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(host.Log);
            });
            await host.App.StartAsync();
            host.Client = CreateClient(host.SocketPath);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>The test double for WgQuickFile.Write: enough of a wg-quick file to find the keys in it.</summary>
    public static string ExportForTests(InterfaceConfig config, IEnumerable<SiteConfig> sites)
    {
        var text = new StringBuilder();
        text.Append("[Interface]\nPrivateKey = ").Append(config.PrivateKey.RevealBase64()).Append('\n');
        text.Append("Address = ").Append(string.Join(", ", config.Addresses)).Append('\n');
        foreach (var site in sites)
        {
            text.Append("\n[Peer]\nPublicKey = ").Append(site.PublicKey.ToBase64()).Append('\n');
            if (site.PresharedKey is not null)
            {
                text.Append("PresharedKey = ").Append(site.PresharedKey.RevealBase64()).Append('\n');
            }

            text.Append("AllowedIPs = ").Append(string.Join(", ", site.AllowedIps)).Append('\n');
            if (site.Endpoint is not null)
            {
                text.Append("Endpoint = ").Append(site.Endpoint).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>Restore's test double reads "backups" that are a list of interface names.</summary>
    private static ApplianceConfig ParseBackup(string text)
    {
        if (!text.StartsWith("BACKUP:", StringComparison.Ordinal))
        {
            throw new InvalidDataException("not a backup");
        }

        return new ApplianceConfig
        {
            Interfaces = [.. text["BACKUP:".Length..].Split(',').Select(name => new InterfaceConfig
            {
                Name = name,
                PrivateKey = WireGuardSecret.GeneratePrivateKey(),
            })],
        };
    }

    public static HttpClient CreateClient(string socketPath) => new(UnixSocketHttp.CreateHandler(socketPath))
    {
        BaseAddress = new Uri("http://localhost"),
        Timeout = TimeSpan.FromSeconds(20),
    };

    public void AddSecret(string secret) => _secrets.Add(secret);

    /// <summary>Sends and returns status and body; the body joins the secret scan unless <paramref name="mayHoldSecrets"/>.</summary>
    public async Task<(int Status, string Body)> SendAsync(HttpMethod method, string path, string? json = null,
        string? user = null, bool mayHoldSecrets = false)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (user is not null)
        {
            request.Headers.Add(ManagementApi.UserHeader, user);
        }

        using var response = await Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!mayHoldSecrets)
        {
            _answers.Add(($"{method} {path}", body));
        }

        return ((int)response.StatusCode, body);
    }

    public Task<(int Status, string Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<(int Status, string Body)> PostAsync(string path, string json, string? user = null) =>
        SendAsync(HttpMethod.Post, path, json, user);

    public Task<(int Status, string Body)> PutAsync(string path, string json) => SendAsync(HttpMethod.Put, path, json);

    public Task<(int Status, string Body)> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path);

    public static JsonElement Json(string body) => JsonDocument.Parse(body).RootElement.Clone();

    /// <summary>Asserts an error answer of the documented shape whose text (error and details) mentions every word.</summary>
    public static JsonElement AssertError(int expectedStatus, (int Status, string Body) answer, params string[] mentions)
    {
        Assert.True(expectedStatus == answer.Status, $"expected {expectedStatus}, got {answer.Status}: {answer.Body}");
        var json = Json(answer.Body);
        Assert.Equal(JsonValueKind.String, json.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Array, json.GetProperty("details").ValueKind);
        var text = json.GetProperty("error").GetString() + "\n"
            + string.Join("\n", json.GetProperty("details").EnumerateArray().Select(d => d.GetString()));
        foreach (var mention in mentions)
        {
            Assert.Contains(mention, text, StringComparison.Ordinal);
        }

        return json;
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }

        try
        {
            foreach (var (what, body) in _answers)
            {
                foreach (var secret in _secrets)
                {
                    Assert.False(body.Contains(secret, StringComparison.Ordinal), $"{what} answered with a secret: {body}");
                }
            }
        }
        finally
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}

internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) => owner.Lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
    }
}
