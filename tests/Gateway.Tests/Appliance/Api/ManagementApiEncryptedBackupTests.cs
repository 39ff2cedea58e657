using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using Branchgate.Appliance.Api;
using Branchgate.Appliance.Model;
using static Branchgate.Tests.Appliance.Api.ApiTestHost;

namespace Branchgate.Tests.Appliance.Api;

/// <summary>
/// POST /v1/backup/encrypted and /v1/restore/encrypted over the real API: only ciphertext comes out, only a named
/// administrator (or root) gets it, a restore goes through the change path and says what it changed, and a wrong
/// passphrase or a damaged file changes nothing.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ManagementApiEncryptedBackupTests
{
    private const string Passphrase = "a long backup passphrase";

    private static async Task<ApiTestHost> StartWithAdminAsync()
    {
        var host = await StartAsync(h =>
        {
            h.Store.SaveUser(new UserRecord { Name = "admin", PasswordHash = FakeUserDirectory.HashPrefix + "x" }, null);
            // The fake restore reads "backups" listing interface names; the plaintext is what the file must hide.
            h.Store.BackupBytes = Encoding.ASCII.GetBytes("BACKUP:wg0,wg7");
        });
        host.AddSecret("BACKUP:wg0");
        host.AddSecret(Passphrase);
        return host;
    }

    private static async Task<(int Status, byte[] Body)> PostBytesAsync(ApiTestHost host, string path, string json, string? user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (user is not null)
        {
            request.Headers.Add(ManagementApi.UserHeader, user);
        }

        using var response = await host.Client.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync());
    }

    private static string BackupRequest(string passphrase) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["passphrase"] = passphrase });

    private static string RestoreRequest(string passphrase, byte[] file) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["passphrase"] = passphrase, ["backup"] = Convert.ToBase64String(file) });

    [Fact]
    public async Task A_backup_round_trip_restores_the_configuration_and_lists_what_changed()
    {
        await using var host = await StartWithAdminAsync();

        var (status, file) = await PostBytesAsync(host, "/v1/backup/encrypted", BackupRequest(Passphrase), "admin");
        Assert.Equal(200, status);
        Assert.Equal("BGBACKUP", Encoding.ASCII.GetString(file, 0, 8));
        var text = Encoding.ASCII.GetString(file);
        Assert.DoesNotContain("BACKUP:wg0", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Passphrase, text, StringComparison.Ordinal);

        var restored = await host.SendAsync(HttpMethod.Post, "/v1/restore/encrypted", RestoreRequest(Passphrase, file), "admin");
        Assert.Equal(200, restored.Status);
        Assert.Equal(["wg0", "wg7"], host.Service.Current.Interfaces.Select(i => i.Name));
        var changes = Json(restored.Body).GetProperty("changes").EnumerateArray().Select(c => c.GetString()).ToList();
        Assert.Contains("interface wg7 added", changes);
        Assert.Contains("interface wg0 changed: privateKey, listenPort, addresses, dns", changes);
        Assert.Contains("site wg0/branch-b removed", changes);
        Assert.Equal(("restore", "admin"), (host.Service.Changes[^1].Action, host.Service.Changes[^1].Options.Actor));

        var audit = host.Store.ReadAudit(null, 100);
        var backup = Assert.Single(audit, a => a.Action == "backup.encrypted");
        Assert.Equal("admin", backup.Actor);
        Assert.All(audit, a => Assert.DoesNotContain(Passphrase, $"{a.Detail}{a.Before}{a.After}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_passphrase_a_damaged_or_cut_file_changes_nothing()
    {
        await using var host = await StartWithAdminAsync();
        var (_, file) = await PostBytesAsync(host, "/v1/backup/encrypted", BackupRequest(Passphrase), "admin");
        var before = host.Service.Current;

        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/restore/encrypted",
            RestoreRequest("another long passphrase", file), "admin"), "wrong passphrase");
        var tampered = (byte[])file.Clone();
        tampered[^20] ^= 0x40;
        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/restore/encrypted",
            RestoreRequest(Passphrase, tampered), "admin"), "changed or cut short");
        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/restore/encrypted",
            RestoreRequest(Passphrase, file[..(file.Length / 2)]), "admin"), "changed or cut short");
        var newer = (byte[])file.Clone();
        newer[8] = 9;
        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/restore/encrypted",
            RestoreRequest(Passphrase, newer), "admin"), "format version");
        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/restore/encrypted",
            RestoreRequest(Passphrase, Encoding.ASCII.GetBytes("BACKUP:wg9")), "admin"), "not an encrypted Branchgate backup");

        Assert.Same(before, host.Service.Current);
        Assert.Empty(host.Service.Changes);
        Assert.Equal(5, host.Store.ReadAudit(null, 100).Count(a => a is { Action: "restore", Succeeded: false }));
    }

    [Fact]
    public async Task Bad_requests_short_passphrases_and_callers_that_are_no_administrator_are_refused()
    {
        await using var host = await StartWithAdminAsync();

        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/backup/encrypted", BackupRequest("short"), "admin"),
            "at least 12 characters");
        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/backup/encrypted",
            "{\"passphrase\":\"a long backup passphrase\",\"extra\":1}", "admin"), "extra: unknown field");
        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/backup/encrypted", "{}", "admin"), "required field missing: passphrase");
        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/backup/encrypted", "[1,2", "admin"), "JSON object");
        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/backup/encrypted", "{\"passphrase\":", "admin"), "not valid JSON");
        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/restore/encrypted", BackupRequest(Passphrase), "admin"),
            "required field missing: backup");
        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/restore/encrypted",
            "{\"passphrase\":\"a long backup passphrase\",\"backup\":\"not base64!\"}", "admin"), "backup: base64");

        // The panel must name a signed-in administrator that exists.
        AssertError(403, await host.SendAsync(HttpMethod.Post, "/v1/backup/encrypted", BackupRequest(Passphrase), "mallory"),
            "administrator");
        AssertError(403, await host.SendAsync(HttpMethod.Post, "/v1/restore/encrypted",
            RestoreRequest(Passphrase, [1, 2, 3]), "mallory"), "administrator");
        Assert.Empty(host.Service.Changes);
        Assert.DoesNotContain(host.Store.ReadAudit(null, 100), a => a.Action == "backup.encrypted");
    }
}
