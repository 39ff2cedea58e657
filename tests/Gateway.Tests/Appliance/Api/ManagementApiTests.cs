using System.Runtime.Versioning;
using System.Text.Json;
using Branchgate.Appliance;
using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Model;
using static Branchgate.Tests.Appliance.Api.ApiTestHost;

namespace Branchgate.Tests.Appliance.Api;

/// <summary>
/// The management API's endpoints through a real Kestrel on a unix socket: what each answers, how bad input is
/// refused (field named, nothing changed), how refusals of the appliance service map to 400/409/500, and that no answer
/// carries a secret (checked on every answer when each host is disposed).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ManagementApiTests
{
    private static string NewPublicKey() => WireGuardSecret.GeneratePrivateKey().DerivePublicKey().ToBase64();

    [Fact]
    public async Task Status_lists_interfaces_and_peers_with_handshake_endpoint_and_counters()
    {
        var handshake = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
        await using var host = await StartAsync(h => h.Service.StatusToReport =
        [
            new InterfaceStatus
            {
                Name = "wg0",
                PublicKey = h.GatewayKey.DerivePublicKey().ToBase64(),
                ListenPort = 51820,
                Up = true,
                Addresses = ["10.9.0.1/24"],
                Drops = new Dictionary<string, long> { ["NoRoute"] = 3 },
                Peers =
                [
                    new PeerStatus
                    {
                        Interface = "wg0", Name = "branch-b", PublicKey = "cGVlcg==", Enabled = true, Endpoint = "192.0.2.7:51820",
                        LastHandshake = handshake, ReceivedBytes = 1234, TransmittedBytes = 5678, Online = true,
                        HandshakeFailures = 2, AllowedIps = ["10.2.0.0/24"],
                    },
                ],
            },
        ]);

        var (status, body) = await host.GetAsync("/v1/status");

        Assert.Equal(200, status);
        var wg0 = Json(body).GetProperty("interfaces")[0];
        Assert.Equal("wg0", wg0.GetProperty("name").GetString());
        Assert.Equal(3, wg0.GetProperty("drops").GetProperty("NoRoute").GetInt64());
        var peer = wg0.GetProperty("peers")[0];
        Assert.Equal("192.0.2.7:51820", peer.GetProperty("endpoint").GetString());
        Assert.Equal(handshake, peer.GetProperty("lastHandshake").GetDateTimeOffset());
        Assert.Equal(1234UL, peer.GetProperty("receivedBytes").GetUInt64());
        Assert.Equal(5678UL, peer.GetProperty("transmittedBytes").GetUInt64());
        Assert.True(peer.GetProperty("online").GetBoolean());
    }

    [Fact]
    public async Task Interfaces_are_listed_shown_created_updated_and_deleted_without_their_private_keys()
    {
        await using var host = await StartAsync();

        var list = await host.GetAsync("/v1/interfaces");
        Assert.Equal(200, list.Status);
        var wg0 = Json(list.Body).GetProperty("interfaces")[0];
        Assert.Equal(host.GatewayKey.DerivePublicKey().ToBase64(), wg0.GetProperty("publicKey").GetString());
        Assert.True(wg0.GetProperty("hasPrivateKey").GetBoolean());
        Assert.False(wg0.TryGetProperty("privateKey", out _));
        Assert.Equal(1, wg0.GetProperty("siteCount").GetInt32());

        Assert.Equal(200, (await host.GetAsync("/v1/interfaces/wg0")).Status);

        var created = await host.PostAsync("/v1/interfaces", """{"name":"wg1","listenPort":51821,"addresses":["10.10.0.1/24"],"table":"main"}""");
        Assert.Equal(201, created.Status);
        var wg1 = Json(created.Body).GetProperty("interface");
        Assert.Equal("254", wg1.GetProperty("table").GetString());
        var wg1Key = host.Service.Current.FindInterface("wg1")!.PrivateKey;
        host.AddSecret(wg1Key.RevealBase64());
        Assert.Equal(wg1Key.DerivePublicKey().ToBase64(), wg1.GetProperty("publicKey").GetString());

        var updated = await host.PutAsync("/v1/interfaces/wg1", """{"listenPort":51999,"addresses":["10.10.0.1/24"]}""");
        Assert.Equal(200, updated.Status);
        Assert.Equal(51999, host.Service.Current.FindInterface("wg1")!.ListenPort);
        Assert.Equal(wg1Key, host.Service.Current.FindInterface("wg1")!.PrivateKey);

        Assert.Equal(200, (await host.DeleteAsync("/v1/interfaces/wg1")).Status);
        Assert.Null(host.Service.Current.FindInterface("wg1"));
        Assert.Equal(["interface.create", "interface.update", "interface.delete"], host.Service.Changes.Select(c => c.Action));
    }

    [Fact]
    public async Task A_given_interface_private_key_is_used_and_never_echoed()
    {
        await using var host = await StartAsync();
        var key = WireGuardSecret.GeneratePrivateKey();
        host.AddSecret(key.RevealBase64());

        var created = await host.PostAsync("/v1/interfaces", $$"""{"name":"wg2","privateKey":"{{key.RevealBase64()}}"}""");

        Assert.Equal(201, created.Status);
        Assert.Equal(key, host.Service.Current.FindInterface("wg2")!.PrivateKey);
    }

    [Theory]
    [InlineData("""{"name":"wg1","listenport":1}""", "listenport")]
    [InlineData("""{"name":"wg1","privateKey":"not-a-key"}""", "privateKey")]
    [InlineData("""{"name":"wg1","addresses":["10.0.0.1/24","10.0.0.300/24"]}""", "addresses[1]")]
    [InlineData("""{"name":"wg1","table":"sideways"}""", "table")]
    [InlineData("""{"name":"bad/name"}""", "name")]
    [InlineData("""{"name":"wg1","listenPort":70000}""", "listenPort")]
    [InlineData("""{"name":"wg1","mtu":100}""", "mtu")]
    [InlineData("""not json""", "")]
    [InlineData("""[]""", "")]
    public async Task A_bad_interface_is_refused_with_400_naming_the_field_and_nothing_changes(string json, string field)
    {
        await using var host = await StartAsync();

        AssertError(400, await host.PostAsync("/v1/interfaces", json), field);
        Assert.Empty(host.Service.Changes);
    }

    [Fact]
    public async Task Sites_are_created_shown_updated_and_deleted_with_psk_presence_only()
    {
        await using var host = await StartAsync();

        var one = await host.GetAsync("/v1/interfaces/wg0/sites/branch-b");
        Assert.Equal(200, one.Status);
        Assert.True(Json(one.Body).GetProperty("hasPresharedKey").GetBoolean());
        Assert.Equal("site", Json(one.Body).GetProperty("kind").GetString());
        Assert.Single(Json((await host.GetAsync("/v1/interfaces/wg0/sites")).Body).GetProperty("sites").EnumerateArray());

        var publicKey = NewPublicKey();
        var created = await host.PostAsync("/v1/interfaces/wg0/sites",
            $$"""{"name":"branch-c","publicKey":"{{publicKey}}","endpoint":"[2001:db8::7]:51820","allowedIps":["10.3.0.0/24","fd00:3::/64"],"persistentKeepalive":25,"description":"Lyon"}""",
            user: "alice");
        Assert.Equal(201, created.Status);
        var site = Json(created.Body).GetProperty("site");
        Assert.Equal(publicKey, site.GetProperty("publicKey").GetString());
        Assert.False(site.GetProperty("hasPresharedKey").GetBoolean());
        Assert.Equal(["10.3.0.0/24", "fd00:3::/64"], site.GetProperty("allowedIps").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(new RecordedChange("site.create", "wg0/branch-c", new ChangeOptions("alice")), host.Service.Changes[^1]);

        // PUT without a preshared key keeps the one there is.
        var updated = await host.PutAsync("/v1/interfaces/wg0/sites/branch-b",
            $$"""{"publicKey":"{{host.Service.Current.FindSite("wg0", "branch-b")!.PublicKey}}","allowedIps":["10.2.0.0/23"],"enabled":false}""");
        Assert.Equal(200, updated.Status);
        var branchB = host.Service.Current.FindSite("wg0", "branch-b")!;
        Assert.Equal(host.SitePresharedKey, branchB.PresharedKey);
        Assert.False(branchB.Enabled);
        Assert.Equal("site.update", host.Service.Changes[^1].Action);

        var cleared = await host.PutAsync("/v1/interfaces/wg0/sites/branch-b",
            $$"""{"publicKey":"{{branchB.PublicKey}}","clearPresharedKey":true}""");
        Assert.Equal(200, cleared.Status);
        Assert.Null(host.Service.Current.FindSite("wg0", "branch-b")!.PresharedKey);

        Assert.Equal(200, (await host.DeleteAsync("/v1/interfaces/wg0/sites/branch-c")).Status);
        Assert.Null(host.Service.Current.FindSite("wg0", "branch-c"));
        Assert.Equal(new RecordedChange("site.delete", "wg0/branch-c", new ChangeOptions("root")), host.Service.Changes[^1]);
    }

    [Theory]
    [InlineData("""{"name":"c","publicKey":"AAAA","allowedIps":[]}""", "publicKey")]
    [InlineData("""{"name":"c","publicKey":"KEY","allowedIps":["10.3.0.0/24","10.3.0.1/24"]}""", "allowedIps[1]")]
    [InlineData("""{"name":"c","publicKey":"KEY","allowedIps":["10.3.0.0/33"]}""", "allowedIps[0]")]
    [InlineData("""{"name":"c","publicKey":"KEY","allowedIPs":["10.3.0.0/24"]}""", "allowedIPs")]
    [InlineData("""{"name":"c","publicKey":"KEY","presharedKey":"short"}""", "presharedKey")]
    [InlineData("""{"name":"c","publicKey":"KEY","endpoint":"nowhere"}""", "endpoint")]
    [InlineData("""{"name":"c","publicKey":"KEY","endpoint":"[10.0.0.1]:5"}""", "endpoint")]
    [InlineData("""{"name":"c","publicKey":"KEY","kind":"laptop"}""", "kind")]
    [InlineData("""{"name":"c d","publicKey":"KEY"}""", "name")]
    [InlineData("""{"name":"c"}""", "publicKey")]
    [InlineData("""{"name":"c","publicKey":"KEY","persistentKeepalive":-1}""", "persistentKeepalive")]
    public async Task A_bad_site_is_refused_with_400_naming_the_field_and_nothing_changes(string json, string field)
    {
        await using var host = await StartAsync();

        AssertError(400, await host.PostAsync("/v1/interfaces/wg0/sites", json.Replace("KEY", NewPublicKey(), StringComparison.Ordinal)), field);
        Assert.Empty(host.Service.Changes);
    }

    [Fact]
    public async Task Unknown_interfaces_sites_users_and_endpoints_are_404()
    {
        await using var host = await StartAsync();

        AssertError(404, await host.GetAsync("/v1/interfaces/wg9"), "interface");
        AssertError(404, await host.PutAsync("/v1/interfaces/wg9", "{}"), "interface");
        AssertError(404, await host.DeleteAsync("/v1/interfaces/wg9"), "interface");
        AssertError(404, await host.GetAsync("/v1/interfaces/wg9/sites"), "interface");
        AssertError(404, await host.GetAsync("/v1/interfaces/wg9/export"), "interface");
        AssertError(404, await host.PostAsync("/v1/interfaces/wg9/sites", "{}"), "interface");
        AssertError(404, await host.GetAsync("/v1/interfaces/wg0/sites/nobody"), "site");
        AssertError(404, await host.PutAsync("/v1/interfaces/wg0/sites/nobody", "{}"), "site");
        AssertError(404, await host.DeleteAsync("/v1/interfaces/wg0/sites/nobody"), "site");
        AssertError(404, await host.DeleteAsync("/v1/users/nobody"), "user");
        AssertError(404, await host.PostAsync("/v1/users/nobody/password", """{"password":"x"}"""), "user");
        AssertError(404, await host.GetAsync("/v2/anything"), "no such endpoint");
        Assert.Empty(host.Service.Changes);
    }

    [Fact]
    public async Task Creating_what_exists_is_409()
    {
        await using var host = await StartAsync();

        AssertError(409, await host.PostAsync("/v1/interfaces", """{"name":"wg0"}"""), "exists");
        AssertError(409, await host.PostAsync("/v1/interfaces/wg0/sites", $$"""{"name":"branch-b","publicKey":"{{NewPublicKey()}}"}"""), "exists");
        Assert.Empty(host.Service.Changes);
    }

    [Fact]
    public async Task Coexistence_errors_refuse_with_409_and_the_findings_and_force_applies_it_marked_forced()
    {
        var finding = new Finding(FindingSeverity.Error, "ipsec-policy-overlap", "10.3.0.0/24 is captured by an IPsec policy",
            ["xfrm policy out src 10.1.0.0/24 dst 10.3.0.0/24"])
        { Interface = "wg0", Site = "branch-c" };
        await using var host = await StartAsync(h => h.Service.NextCheck = new CoexistenceReport([finding], []));
        var json = $$"""{"name":"branch-c","publicKey":"{{NewPublicKey()}}","allowedIps":["10.3.0.0/24"]}""";

        var refused = AssertError(409, await host.PostAsync("/v1/interfaces/wg0/sites", json), "force", finding.Message);
        var reported = refused.GetProperty("findings")[0];
        Assert.Equal("ipsec-policy-overlap", reported.GetProperty("code").GetString());
        Assert.Equal("error", reported.GetProperty("severity").GetString());
        Assert.Equal(finding.Objects[0], reported.GetProperty("objects")[0].GetString());
        Assert.Null(host.Service.Current.FindSite("wg0", "branch-c"));

        var forced = await host.PostAsync("/v1/interfaces/wg0/sites?force=true", json);

        Assert.Equal(201, forced.Status);
        Assert.True(Json(forced.Body).GetProperty("forced").GetBoolean());
        Assert.Equal("ipsec-policy-overlap", Json(forced.Body).GetProperty("findings")[0].GetProperty("code").GetString());
        Assert.True(host.Service.Changes[^1].Options.Force);
        Assert.True(host.Store.ReadAudit(take: 1)[0].Forced);
        Assert.NotNull(host.Service.Current.FindSite("wg0", "branch-c"));
    }

    [Fact]
    public async Task Validation_refusals_are_400_with_the_validation_errors_and_apply_failures_500_with_the_sentence()
    {
        await using var host = await StartAsync(h => h.Service.NextValidationErrors = ["sites wg0/a and wg0/b overlap: 10.2.0.0/24"]);
        var json = $$"""{"name":"branch-c","publicKey":"{{NewPublicKey()}}","allowedIps":["10.2.0.0/24"]}""";

        AssertError(400, await host.PostAsync("/v1/interfaces/wg0/sites", json), "sites wg0/a and wg0/b overlap");

        host.Service.NextValidationErrors = [];
        host.Service.NextFailure = "adding route 10.2.0.0/24 to wg0 failed: File exists (rolled back)";
        AssertError(500, await host.DeleteAsync("/v1/interfaces/wg0/sites/branch-b"), "File exists (rolled back)");
        Assert.NotNull(host.Service.Current.FindSite("wg0", "branch-b"));
    }

    [Fact]
    public async Task A_remote_worker_gets_a_new_key_pair_whose_private_half_is_only_in_the_one_time_file()
    {
        await using var host = await StartAsync();

        var (status, body) = await host.SendAsync(HttpMethod.Post, "/v1/interfaces/wg0/remote-workers",
            """{"name":"laptop-anna","addresses":["10.9.0.5/32"],"gatewayEndpoint":"vpn.example.com:51820","clientAllowedIps":["10.9.0.0/24","10.1.0.0/16"]}""",
            user: "alice", mayHoldSecrets: true);

        Assert.Equal(201, status);
        var answer = Json(body);
        var wgQuick = answer.GetProperty("wgQuick").GetString()!;
        var workerKeyText = wgQuick.Split('\n').First(l => l.StartsWith("PrivateKey = ", StringComparison.Ordinal))["PrivateKey = ".Length..];
        Assert.True(WireGuardSecret.TryParseBase64(workerKeyText, out var workerKey));
        var site = host.Service.Current.FindSite("wg0", "laptop-anna")!;
        Assert.Equal(SiteKind.RemoteWorker, site.Kind);
        Assert.Equal(workerKey!.DerivePublicKey(), site.PublicKey);
        Assert.Equal(site.PublicKey.ToBase64(), answer.GetProperty("site").GetProperty("publicKey").GetString());
        Assert.Equal(["10.9.0.5/32"], site.AllowedIps.Select(p => p.ToString()));
        Assert.Contains("PublicKey = " + host.GatewayKey.DerivePublicKey().ToBase64(), wgQuick, StringComparison.Ordinal);
        Assert.Contains("PresharedKey = " + site.PresharedKey!.RevealBase64(), wgQuick, StringComparison.Ordinal);
        Assert.Contains("Endpoint = vpn.example.com:51820", wgQuick, StringComparison.Ordinal);
        Assert.Contains("AllowedIPs = 10.9.0.0/24, 10.1.0.0/16", wgQuick, StringComparison.Ordinal);
        Assert.DoesNotContain(host.GatewayKey.RevealBase64(), body, StringComparison.Ordinal);

        // Afterwards the worker is an ordinary peer: no key of it is shown again.
        host.AddSecret(workerKey.RevealBase64());
        host.AddSecret(site.PresharedKey.RevealBase64());
        var shown = await host.GetAsync("/v1/interfaces/wg0/sites/laptop-anna");
        Assert.Equal("remoteWorker", Json(shown.Body).GetProperty("kind").GetString());
        Assert.True(Json(shown.Body).GetProperty("hasPresharedKey").GetBoolean());
    }

    [Theory]
    [InlineData("""{"name":"w","addresses":["10.9.0.5/33"],"gatewayEndpoint":"vpn.example.com:51820"}""", "addresses[0]")]
    [InlineData("""{"name":"w","addresses":[],"gatewayEndpoint":"vpn.example.com:51820"}""", "addresses")]
    [InlineData("""{"name":"w","addresses":["10.9.0.5/32"],"gatewayEndpoint":"vpn.example.com"}""", "gatewayEndpoint")]
    [InlineData("""{"name":"w","addresses":["10.9.0.5/32"]}""", "gatewayEndpoint")]
    [InlineData("""{"name":"w","addresses":["10.9.0.5/32"],"gatewayEndpoint":"a:1","clientAllowedIps":["x"]}""", "clientAllowedIps[0]")]
    [InlineData("""{"name":"w","addresses":["10.9.0.5/32"],"gatewayEndpoint":"a:1","privateKey":"x"}""", "privateKey")]
    public async Task A_bad_remote_worker_is_refused_with_400_naming_the_field(string json, string field)
    {
        await using var host = await StartAsync();

        AssertError(400, await host.PostAsync("/v1/interfaces/wg0/remote-workers", json), field);
        Assert.Empty(host.Service.Changes);
    }

    [Fact]
    public async Task Root_gets_the_export_and_the_backup()
    {
        await using var host = await StartAsync();

        var export = await host.SendAsync(HttpMethod.Get, "/v1/interfaces/wg0/export", mayHoldSecrets: true);
        Assert.Equal(200, export.Status);
        Assert.Contains("PrivateKey = " + host.GatewayKey.RevealBase64(), export.Body, StringComparison.Ordinal);
        Assert.Contains("PresharedKey = " + host.SitePresharedKey.RevealBase64(), export.Body, StringComparison.Ordinal);

        var backup = await host.SendAsync(HttpMethod.Get, "/v1/backup", mayHoldSecrets: true);
        Assert.Equal(200, backup.Status);
        Assert.Equal("LiteDB backup bytes", backup.Body);
    }

    [Fact]
    public async Task Restore_replaces_the_configuration_through_a_change_and_refuses_what_is_not_a_backup()
    {
        await using var host = await StartAsync();

        using (var content = new ByteArrayContent("BACKUP:wg7,wg8"u8.ToArray()))
        {
            using var response = await host.Client.PostAsync("/v1/restore", content);
            Assert.Equal(200, (int)response.StatusCode);
        }

        Assert.Equal(["wg7", "wg8"], host.Service.Current.Interfaces.Select(i => i.Name));
        Assert.Equal("restore", host.Service.Changes[^1].Action);

        using (var garbage = new ByteArrayContent("garbage"u8.ToArray()))
        {
            using var response = await host.Client.PostAsync("/v1/restore", garbage);
            AssertError(400, ((int)response.StatusCode, await response.Content.ReadAsStringAsync()), "not a Branchgate backup");
        }

        using (var empty = new ByteArrayContent([]))
        {
            using var response = await host.Client.PostAsync("/v1/restore", empty);
            Assert.Equal(400, (int)response.StatusCode);
        }

        Assert.Single(host.Service.Changes);
    }

    [Fact]
    public async Task Coexistence_report_is_served()
    {
        var warning = new Finding(FindingSeverity.Warning, "table-220-route", "strongSwan's table 220 routes 10.5.0.0/24", ["10.5.0.0/24 dev ipsec0 table 220"]);
        await using var host = await StartAsync(h => h.Service.NextCheck = new CoexistenceReport([warning], ["xfrm: EPERM"]));

        var (status, body) = await host.GetAsync("/v1/coexistence");

        Assert.Equal(200, status);
        var report = Json(body);
        Assert.Equal(1, report.GetProperty("exitStatus").GetInt32());
        Assert.False(report.GetProperty("hasErrors").GetBoolean());
        Assert.Equal("warning", report.GetProperty("findings")[0].GetProperty("severity").GetString());
        Assert.Equal("xfrm: EPERM", report.GetProperty("unreadable")[0].GetString());
    }

    [Fact]
    public async Task Users_are_managed_without_ever_showing_a_hash_or_totp_secret()
    {
        await using var host = await StartAsync(h =>
        {
            h.Users.Create("admin", "correct horse battery", "setup");
            h.Users.EnrollTotp("admin", "setup");
        });

        var list = await host.GetAsync("/v1/users");
        Assert.Equal(200, list.Status);
        var admin = Json(list.Body).GetProperty("users")[0];
        Assert.Equal("admin", admin.GetProperty("name").GetString());
        Assert.True(admin.GetProperty("hasTotp").GetBoolean());

        Assert.Equal(201, (await host.PostAsync("/v1/users", """{"name":"bob","password":"a long enough secret"}""", user: "admin")).Status);
        Assert.Equal("admin", host.Store.ReadAudit(take: 1)[0].Actor);
        AssertError(409, await host.PostAsync("/v1/users", """{"name":"bob","password":"a long enough secret"}"""), "exists");
        AssertError(400, await host.PostAsync("/v1/users", """{"name":"carol","password":"short"}"""), "12 characters");
        AssertError(400, await host.PostAsync("/v1/users", """{"name":"carol"}"""), "password");
        Assert.Equal(200, (await host.PostAsync("/v1/users/bob/password", """{"password":"another long secret"}""")).Status);
        AssertError(400, await host.PostAsync("/v1/users/bob/password", """{"password":"tiny"}"""), "12 characters");

        var login = await host.PostAsync("/v1/login", """{"name":"bob","password":"another long secret"}""");
        Assert.Equal("succeeded", Json(login.Body).GetProperty("outcome").GetString());
        var wrong = await host.PostAsync("/v1/login", """{"name":"bob","password":"a long enough secret"}""");
        Assert.Equal("refused", Json(wrong.Body).GetProperty("outcome").GetString());
        var second = await host.PostAsync("/v1/login", """{"name":"admin","password":"correct horse battery"}""");
        Assert.Equal("totpRequired", Json(second.Body).GetProperty("outcome").GetString());
        Assert.False(Json(login.Body).TryGetProperty("token", out _));

        Assert.Equal(204, (await host.DeleteAsync("/v1/users/bob")).Status);
        Assert.Null(host.Store.FindUser("bob"));
    }

    [Fact]
    public async Task The_audit_log_pages_newest_first_and_bad_queries_are_400()
    {
        await using var host = await StartAsync(h =>
        {
            for (var i = 0; i < 5; i++)
            {
                h.Store.AppendAudit(new AuditEntry { Time = DateTimeOffset.UnixEpoch, Actor = "alice", Action = "site.update", Target = $"wg0/s{i}" });
            }
        });

        var first = Json((await host.GetAsync("/v1/audit?take=2")).Body);
        Assert.Equal([5L, 4L], first.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
        Assert.Equal(4, first.GetProperty("nextBefore").GetInt64());
        var next = Json((await host.GetAsync("/v1/audit?before=4&take=10")).Body);
        Assert.Equal([3L, 2L, 1L], next.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
        Assert.False(next.TryGetProperty("nextBefore", out _));

        AssertError(400, await host.GetAsync("/v1/audit?take=0"), "take");
        AssertError(400, await host.GetAsync("/v1/audit?take=abc"), "take");
        AssertError(400, await host.GetAsync("/v1/audit?before=-1"), "before");
    }

    [Fact]
    public async Task The_panel_user_header_is_the_audit_actor_and_a_malformed_one_is_refused()
    {
        await using var host = await StartAsync();

        await host.DeleteAsync("/v1/interfaces/wg0/sites/branch-b");
        Assert.Equal("root", host.Service.Changes[^1].Options.Actor);

        AssertError(400, await host.SendAsync(HttpMethod.Delete, "/v1/interfaces/wg0", user: "eve smith"), "X-Branchgate-User");
        Assert.Single(host.Service.Changes);

        await host.SendAsync(HttpMethod.Delete, "/v1/interfaces/wg0", user: "eve@example.com");
        Assert.Equal("eve@example.com", host.Service.Changes[^1].Options.Actor);
    }

    [Fact]
    public async Task A_request_body_over_the_limit_is_refused()
    {
        await using var host = await StartAsync(options: o => o with { MaxRequestBytes = 1024 });

        var big = $$"""{"name":"wg1","dns":["{{new string('a', 4000)}}"]}""";
        var (status, _) = await host.PostAsync("/v1/interfaces", big);

        Assert.Equal(413, status);
        Assert.Empty(host.Service.Changes);
    }

    [Fact]
    public async Task Errors_have_the_documented_json_shape_and_content_type()
    {
        await using var host = await StartAsync();

        using var response = await host.Client.GetAsync("/v1/interfaces/none");

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(["error", "details"], document.RootElement.EnumerateObject().Select(p => p.Name));
    }
}
