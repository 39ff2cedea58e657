using System.Diagnostics;
using System.Runtime.Versioning;
using static Branchgate.Tests.Appliance.Api.ApiTestHost;

namespace Branchgate.Tests.Appliance.Api;

/// <summary>
/// Who may use the socket and who may read secrets, with real other users: curl run through setpriv(1) as uid 65534,
/// once in the socket's group (may use the API, may not export or back up) and once outside it (cannot connect).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ManagementApiAccessTests
{
    private const int Nobody = 65534;

    [Fact]
    public async Task The_socket_is_0660_in_a_0750_directory_both_of_the_api_group()
    {
        await using var host = await StartAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite,
            File.GetUnixFileMode(host.SocketPath));
        Assert.Equal($"660 {TestGroup}", Run("stat", "-c", "%a %G", host.SocketPath).Stdout.Trim());
        Assert.Equal($"750 {TestGroup}", Run("stat", "-c", "%a %G", Path.GetDirectoryName(host.SocketPath)!).Stdout.Trim());
    }

    [Fact]
    public async Task A_group_member_uses_the_api_but_gets_403_for_export_backup_and_restore()
    {
        await using var host = await StartAsync();

        Assert.Equal(200, CurlAs(Nobody, Nobody, host.SocketPath, "/v1/status").Status);

        foreach (var (method, path) in new[] { ("GET", "/v1/interfaces/wg0/export"), ("GET", "/v1/backup"), ("POST", "/v1/restore") })
        {
            var (status, body) = CurlAs(Nobody, Nobody, host.SocketPath, path, method);
            AssertError(403, (status, body), "only root", $"uid {Nobody}");
            Assert.DoesNotContain(host.GatewayKey.RevealBase64(), body, StringComparison.Ordinal);
            Assert.DoesNotContain("LiteDB", body, StringComparison.Ordinal);
        }

        Assert.Empty(host.Service.Changes);
        Assert.Contains(host.Log.Lines, l => l.Contains("is not root", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_group_member_gets_an_encrypted_backup_only_for_a_named_administrator()
    {
        await using var host = await StartAsync(h =>
            h.Store.SaveUser(new Branchgate.Appliance.Model.UserRecord { Name = "admin", PasswordHash = FakeUserDirectory.HashPrefix + "x" }, null));
        const string body = "{\"passphrase\":\"a long backup passphrase\"}";

        var anonymous = Run("setpriv", $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups",
            "curl", "-sS", "--max-time", "30", "-X", "POST", "-H", "Content-Type: application/json", "-d", body,
            "-w", "\n%{http_code}", "--unix-socket", host.SocketPath, "http://localhost/v1/backup/encrypted");
        Assert.EndsWith("\n403", anonymous.Stdout, StringComparison.Ordinal);

        var named = Run("setpriv", $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups",
            "curl", "-sS", "--max-time", "30", "-X", "POST", "-H", "Content-Type: application/json", "-H", "X-Branchgate-User: admin",
            "-d", body, "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", host.SocketPath, "http://localhost/v1/backup/encrypted");
        Assert.Equal("200", named.Stdout.Trim());
    }

    [Fact]
    public async Task Someone_outside_the_group_cannot_connect()
    {
        await using var host = await StartAsync();

        var result = Run("setpriv", $"--reuid={Nobody}", "--regid=4242", "--clear-groups",
            "curl", "-sS", "--max-time", "10", "--unix-socket", host.SocketPath, "http://localhost/v1/status");

        Assert.Equal(7, result.ExitCode); // curl: failed to connect
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task A_stale_socket_file_is_replaced()
    {
        await using var host = await StartAsync(h =>
        {
            // .NET removes the file of a socket it bound when the socket closes: move the file away first, and what
            // is left is a socket file nobody listens on, as after a crash.
            Directory.CreateDirectory(Path.GetDirectoryName(h.SocketPath)!);
            var bound = h.SocketPath + ".tmp";
            using var stale = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix,
                System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            stale.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(bound));
            File.Move(bound, h.SocketPath);
        });

        Assert.Equal(200, (await host.GetAsync("/v1/status")).Status);
        Assert.Contains(host.Log.Lines, l => l.Contains("stale", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_live_socket_refuses_a_second_server()
    {
        var first = await StartAsync();
        var socketPath = first.SocketPath;
        try
        {
            var second = ManagementApiTestsSupport.BuildOn(socketPath, first);
            var failure = await Assert.ThrowsAnyAsync<IOException>(() => second.StartAsync());
            Assert.Contains("another process", failure.Message, StringComparison.Ordinal);
            await second.DisposeAsync();
            Assert.Equal(200, (await first.GetAsync("/v1/status")).Status);
        }
        finally
        {
            await first.DisposeAsync();
        }
    }

    private static (int Status, string Body) CurlAs(int uid, int gid, string socketPath, string path, string method = "GET")
    {
        var result = Run("setpriv", $"--reuid={uid}", $"--regid={gid}", "--clear-groups",
            "curl", "-sS", "--max-time", "10", "-X", method, "-w", "\n%{http_code}", "--unix-socket", socketPath,
            "http://localhost" + path);
        Assert.True(result.ExitCode == 0, $"curl exit {result.ExitCode}: {result.Stderr}");
        var split = result.Stdout.LastIndexOf('\n');
        return (int.Parse(result.Stdout[(split + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture), result.Stdout[..split]);
    }

    internal static (int ExitCode, string Stdout, string Stderr) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill();
            throw new TimeoutException($"{file} did not finish in 30 s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
