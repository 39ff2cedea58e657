using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Branchgate.Appliance.Api;
using Branchgate.Interop.Tests.Harness;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Security;

/// <summary>
/// Every secret the test creates (interface private keys, preshared keys, the remote worker's keys the API hands out
/// once, user passwords) is looked for, in base64 and in hex of both cases, in everything `branchgate serve` logs at
/// debug level, in every API answer except the root-only export and backup, in `branchgate check --json` and in
/// `wg show`. Also: the store, its journal and the setup token file are 0600; a caller outside the socket's group is
/// refused.
/// </summary>
public sealed class SecretsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task No_secret_leaks_into_logs_answers_or_diagnostics_and_the_socket_refuses_outsiders()
    {
        using var ns = new NetNs("sec");
        var dir = Directory.CreateTempSubdirectory("bgsecrets").FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101); // 0755: the outsider can reach the socket itself
        var socket = Path.Combine(dir, "api.sock");
        var db = Path.Combine(dir, "store.db");
        var tokenFile = Path.Combine(dir, "setup-token");
        var iface = $"bgs{Environment.ProcessId % 100000}";
        var log = new StringBuilder();
        var secrets = new List<string>();
        var answers = new List<(string What, string Body)>();

        string Key(string verb)
        {
            var key = Shell.Run("wg", [verb]).Trim();
            secrets.Add(key);
            return key;
        }

        string PublicOf(string key) => Shell.Run("wg", ["pubkey"], stdin: key + "\n").Trim();

        var ifaceKey = Key("genkey");
        var ifaceKey2 = Key("genkey");
        var siteKey = Key("genkey"); // the site's private key: only its public half is ever given to the gateway
        var psk = Key("genpsk");
        var psk2 = Key("genpsk");
        const string Password = "Correct-Horse-Battery-Staple-42";
        const string Password2 = "Another-Long-Passphrase-Here-77";

        var serve = Shell.Start("ip", ["netns", "exec", ns.Name, WireGuardSites.BranchgateBinary, "serve", "--db", db,
            "--api-socket", socket, "--socket-group", "users", "--setup-token", tokenFile, "--log-level", "debug"]);
        serve.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        serve.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        serve.BeginOutputReadLine();
        serve.BeginErrorReadLine();
        try
        {
            Assert.True(Shell.WaitFor(() => File.Exists(socket) || serve.HasExited, TimeSpan.FromSeconds(30)), "serve did not listen");
            Assert.False(serve.HasExited, "serve exited: " + log);
            using var http = UnixClient(socket);

            async Task<string> Call(HttpMethod method, string path, object? body = null, int expect = 0, bool secret = false)
            {
                using var request = new HttpRequestMessage(method, "http://localhost" + path);
                if (body is string text)
                {
                    request.Content = new StringContent(text, Encoding.UTF8, "text/plain");
                }
                else if (body is not null)
                {
                    request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
                }

                using var response = await http.SendAsync(request);
                var answer = await response.Content.ReadAsStringAsync();
                if (expect != 0)
                {
                    Assert.True((int)response.StatusCode == expect, $"{method} {path}: {(int)response.StatusCode} {answer}");
                }

                if (!secret)
                {
                    answers.Add(($"{method} {path}", answer));
                }

                return answer;
            }

            // Setup, users, login.
            var token = File.ReadAllText(tokenFile).Trim();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
            await Call(HttpMethod.Post, "/v1/setup", new { token, name = "admin", password = Password }, 201);
            await Call(HttpMethod.Post, "/v1/users", new { name = "bob", password = Password }, 201);
            await Call(HttpMethod.Post, "/v1/users/bob/password", new { password = Password2 }, 200);
            await Call(HttpMethod.Post, "/v1/login", new { name = "bob", password = Password2 }, 200);
            await Call(HttpMethod.Post, "/v1/login", new { name = "bob", password = Password }, 200);
            await Call(HttpMethod.Get, "/v1/users", expect: 200);

            // Interface and sites with the test's keys.
            await Call(HttpMethod.Post, "/v1/interfaces", new
            {
                name = iface,
                privateKey = ifaceKey,
                listenPort = 51900,
                addresses = new[] { "10.77.0.1/24" },
            }, 201);
            await Call(HttpMethod.Get, "/v1/interfaces", expect: 200);
            await Call(HttpMethod.Get, $"/v1/interfaces/{iface}", expect: 200);
            await Call(HttpMethod.Put, $"/v1/interfaces/{iface}", new
            {
                name = iface,
                privateKey = ifaceKey2,
                listenPort = 51900,
                addresses = new[] { "10.77.0.1/24" },
            }, 200);
            await Call(HttpMethod.Post, $"/v1/interfaces/{iface}/sites", new
            {
                name = "branch",
                publicKey = PublicOf(siteKey),
                presharedKey = psk,
                endpoint = "192.0.2.7:51820",
                allowedIps = new[] { "10.78.0.0/24" },
                persistentKeepalive = 25,
            }, 201);
            await Call(HttpMethod.Get, $"/v1/interfaces/{iface}/sites", expect: 200);
            await Call(HttpMethod.Get, $"/v1/interfaces/{iface}/sites/branch", expect: 200);
            await Call(HttpMethod.Put, $"/v1/interfaces/{iface}/sites/branch", new
            {
                name = "branch",
                publicKey = PublicOf(siteKey),
                presharedKey = psk2,
                endpoint = "192.0.2.7:51820",
                allowedIps = new[] { "10.78.0.0/24" },
            }, 200);

            // The remote worker's file is the one answer meant to hold a (new) private key: take its keys as secrets
            // too, and check the answer for the test's own keys only.
            var worker = await Call(HttpMethod.Post, $"/v1/interfaces/{iface}/remote-workers", new
            {
                name = "laptop",
                addresses = new[] { "10.77.0.5/32" },
                gatewayEndpoint = "192.0.2.1:51900",
            }, 201, secret: true);
            var wgQuick = JsonDocument.Parse(worker).RootElement.GetProperty("wgQuick").GetString()!;
            var workerSecrets = wgQuick.Split('\n')
                .Where(l => l.StartsWith("PrivateKey", StringComparison.Ordinal) || l.StartsWith("PresharedKey", StringComparison.Ordinal))
                .Select(l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim()).ToList();
            Assert.Equal(2, workerSecrets.Count);
            AssertNoSecret(secrets, "POST remote-workers", worker);

            await Call(HttpMethod.Get, "/v1/status", expect: 200);
            await Call(HttpMethod.Get, "/v1/coexistence");
            await Call(HttpMethod.Get, "/metrics", expect: 200);
            await Call(HttpMethod.Get, "/v1/audit?take=1000", expect: 200);

            // Root only: the export and the backup hold keys by design; their answers are not checked, the import
            // and restore answers are.
            var exported = await Call(HttpMethod.Get, $"/v1/interfaces/{iface}/export", expect: 200, secret: true);
            Assert.Contains(ifaceKey2, exported, StringComparison.Ordinal);
            using (var backupRequest = new HttpRequestMessage(HttpMethod.Get, "http://localhost/v1/backup"))
            using (var backup = await http.SendAsync(backupRequest))
            {
                Assert.Equal(200, (int)backup.StatusCode);
                var bytes = await backup.Content.ReadAsByteArrayAsync();
                using var restore = new HttpRequestMessage(HttpMethod.Post, "http://localhost/v1/restore")
                {
                    Content = new ByteArrayContent(bytes),
                };
                restore.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                using var restored = await http.SendAsync(restore);
                answers.Add(("POST /v1/restore", await restored.Content.ReadAsStringAsync()));
            }

            await Call(HttpMethod.Post, $"/v1/interfaces/{iface}/import", exported, 200);

            // The CLI: export to a file (deleted), check --json, wg show.
            var exportFile = Path.Combine(dir, "export.conf");
            File.WriteAllText(exportFile, Shell.Run(WireGuardSites.BranchgateBinary, ["export", iface, "--api-socket", socket]));
            Assert.Contains(ifaceKey2, File.ReadAllText(exportFile), StringComparison.Ordinal);
            File.Delete(exportFile);
            answers.Add(("branchgate check --json", ns.Exec($"{WireGuardSites.BranchgateBinary} check --json", check: false)));
            answers.Add(("wg show", ns.Exec("wg show all")));

            // The outsider: not root, not in the socket's group (users) -> refused by the socket's mode; a member of
            // the group (same uid) gets in, but not to the root-only export.
            string AsNobody(string groups, string path) => Shell.Run("setpriv", ["--reuid=65534", "--regid=65534",
                .. groups.Length == 0 ? new[] { "--clear-groups" } : ["--groups=" + groups], "curl", "-sS", "-o", "/dev/null",
                "-w", "%{http_code}", "--unix-socket", socket, "http://localhost" + path], check: false).Trim();
            var outsider = AsNobody("", "/v1/status");
            var member = AsNobody("100", "/v1/status");
            var memberExport = AsNobody("100", $"/v1/interfaces/{iface}/export");
            output.WriteLine($"outsider: {outsider}; group member: {member}; group member export: {memberExport}");
            Assert.Equal("000", outsider); // curl could not connect (EACCES on the 0660 socket)
            Assert.Equal("200", member);
            Assert.Equal("403", memberExport);

            // Clean up through the API (those answers are checked too).
            await Call(HttpMethod.Delete, $"/v1/interfaces/{iface}/sites/laptop", expect: 200);
            await Call(HttpMethod.Delete, $"/v1/interfaces/{iface}/sites/branch", expect: 200);
            await Call(HttpMethod.Delete, "/v1/users/bob", expect: 204);
            await Call(HttpMethod.Delete, $"/v1/interfaces/{iface}", expect: 200);

            foreach (var file in Directory.GetFiles(dir).Where(f => Path.GetFileName(f).StartsWith("store", StringComparison.Ordinal)))
            {
                Assert.True(File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite),
                    $"{file} is {File.GetUnixFileMode(file)}");
            }

            secrets.AddRange(workerSecrets);
            secrets.Add(Password);
            secrets.Add(Password2);
            foreach (var (what, body) in answers)
            {
                AssertNoSecret(secrets, what, body);
            }

            serve.Kill();
            serve.WaitForExit(10_000);
            string all;
            lock (log)
            {
                all = log.ToString();
            }

            var levels = all.Split('\n').Where(l => l.Length > 14 && l[8] == ' ' && l[13] == ':').GroupBy(l => l[9..13])
                .Select(g => $"{g.Key} {g.Count()}");
            output.WriteLine("serve log lines by level: " + string.Join(", ", levels));
            // debug is serve's most verbose level; it has no Debug messages of its own today (Microsoft.* is filtered at
            // Warning), so the log holds the info lines of every change the test made.
            Assert.Contains(" info: ", all, StringComparison.Ordinal);
            AssertNoSecret(secrets, "the serve log", all);
            output.WriteLine($"{secrets.Count} secrets, {answers.Count} answers and {all.Length} characters of debug log checked");
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill();
                serve.WaitForExit(10_000);
            }

            serve.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Fails when any secret appears in <paramref name="text"/> as base64 or as hex of either case.</summary>
    private static void AssertNoSecret(IEnumerable<string> secrets, string where, string text)
    {
        foreach (var secret in secrets)
        {
            var forms = new List<string> { secret };
            if (secret.Length == 44 && secret.EndsWith('='))
            {
                var bytes = Convert.FromBase64String(secret);
                forms.Add(Convert.ToHexStringLower(bytes));
                forms.Add(Convert.ToHexString(bytes));
                forms.Add(secret.TrimEnd('=')); // unpadded base64
            }

            foreach (var form in forms)
            {
                Assert.False(text.Contains(form, StringComparison.Ordinal), $"{where} contains a secret ({form[..6]}…)");
            }
        }
    }

    private static HttpClient UnixClient(string socket) => new(UnixSocketHttp.CreateHandler(socket))
    { Timeout = TimeSpan.FromSeconds(60) };
}
