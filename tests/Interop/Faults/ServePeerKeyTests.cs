using System.Diagnostics;
using System.Text.Json;
using Branchgate.Interop.Tests.Harness;
using Branchgate.Interop.Tests.Serve;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Faults;

/// <summary>
/// A `branchgate serve` gateway (office 1) whose site "office2" is a wireguard-go peer. The peer is killed and comes
/// back with a new private key: serve refuses it (no reply, /v1/status shows the same last handshake, /metrics'
/// UnknownPeer drop counter rises), until the admin puts the new public key on the site through the API
/// (PUT /v1/interfaces/IF/sites/office2); then its traffic flows within seconds and the site is online.
/// </summary>
public sealed class ServePeerKeyTests(ITestOutputHelper output)
{
    [Fact]
    public void Serve_refuses_a_peer_back_with_a_new_key_until_the_site_key_is_changed_through_the_api()
    {
        using var lab = new ServeLab();
        var a = lab.AddOffice(1);
        var b = lab.AddOffice(2); // no serve here: wireguard-go with office 2's keys
        a.Import(a.WgQuick((b, $"{b.WanAddress}:{b.ListenPort}", 0)), intoStore: true);
        a.StartServe();
        var iface = $"wgo{Environment.ProcessId % 100000}k";
        StartedProcess? peer = null;
        try
        {
            peer = StartPeer(lab, b, iface, b.PrivateKey, a);
            Assert.NotNull(PingUntil(b, a, TimeSpan.FromSeconds(10)));
            using var api = new ServeApi(a.ApiSocket);
            var handshake = api.StatusPeer(a.Interface, "office2").GetProperty("lastHandshake").GetString();
            Assert.NotNull(handshake);
            double unknownBefore = UnknownPeerDrops(api, a);

            // The peer comes back with a new key.
            peer.Dispose();
            File.Delete($"/var/run/wireguard/{iface}.sock");
            var newKey = Shell.Run("wg", ["genkey"]).Trim();
            var newPublic = Shell.Run("wg", ["pubkey"], stdin: newKey + "\n").Trim();
            peer = StartPeer(lab, b, iface, newKey, a);
            var refused = b.Exec($"ping -c 7 -i 1 -W 1 -I {b.LanAddress} {a.LanAddress}", check: false);
            Assert.Contains(" 0 received", refused, StringComparison.Ordinal);
            double unknownAfter = UnknownPeerDrops(api, a);
            Assert.True(unknownAfter > unknownBefore, $"UnknownPeer drops {unknownBefore} -> {unknownAfter}");
            Assert.Equal(handshake, api.StatusPeer(a.Interface, "office2").GetProperty("lastHandshake").GetString());
            Assert.DoesNotContain(newPublic, a.Exec($"wg show {a.Interface} peers"), StringComparison.Ordinal);

            // The admin puts the new key on the site.
            var site = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["name"] = "office2",
                ["kind"] = "site",
                ["publicKey"] = newPublic,
                ["endpoint"] = $"{b.WanAddress}:{b.ListenPort}",
                ["allowedIps"] = new[] { b.LanSubnet },
                ["enabled"] = true,
            });
            var answer = Shell.Run("curl", ["-s", "-w", "\n%{http_code}", "--unix-socket", a.ApiSocket, "-X", "PUT",
                "-H", "Content-Type: application/json", "--data-binary", "@-",
                $"http://localhost/v1/interfaces/{a.Interface}/sites/office2"], stdin: site);
            Assert.EndsWith("200", answer.Trim(), StringComparison.Ordinal);
            var back = PingUntil(b, a, TimeSpan.FromSeconds(10));
            output.WriteLine($"serve: new-key peer refused for 7 s (UnknownPeer drops {unknownBefore} -> {unknownAfter}); " +
                $"traffic back {(back is null ? "never" : $"{back.Value.TotalSeconds:0.0} s")} after the API change");
            Assert.NotNull(back);
            Assert.True(Shell.WaitFor(() => api.StatusPeer(a.Interface, "office2").GetProperty("online").GetBoolean(),
                TimeSpan.FromSeconds(5)), "office2 not online after the key change");
            Assert.False(a.Serve!.HasExited);
        }
        finally
        {
            peer?.Dispose();
            File.Delete($"/var/run/wireguard/{iface}.sock");
        }
    }

    private static double UnknownPeerDrops(ServeApi api, Office office) =>
        api.Metric("branchgate_interface_dropped_packets_total", $"interface=\"{office.Interface}\"", "reason=\"UnknownPeer\"");

    /// <summary>wireguard-go in the office's namespace with the given key, office <paramref name="gateway"/> as its
    /// peer (its LAN routed through the tunnel).</summary>
    private static StartedProcess StartPeer(ServeLab lab, Office office, string iface, string privateKey, Office gateway)
    {
        var env = new Dictionary<string, string> { ["WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"] = "1" };
        var process = new StartedProcess(Shell.Start("ip", ["netns", "exec", office.Namespace, "wireguard-go", "-f", iface], env: env));
        _ = process.Process.StandardOutput.ReadToEndAsync();
        _ = process.Process.StandardError.ReadToEndAsync();
        if (!Shell.WaitFor(() => File.Exists($"/var/run/wireguard/{iface}.sock") || process.Process.HasExited, TimeSpan.FromSeconds(15)) ||
            process.Process.HasExited)
        {
            process.Dispose();
            throw new InvalidOperationException("wireguard-go did not come up");
        }

        var keyFile = Path.Combine(lab.Directory, iface + ".key");
        File.WriteAllText(keyFile, privateKey + "\n");
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        office.Exec($"wg set {iface} listen-port {office.ListenPort} private-key {keyFile} peer {gateway.PublicKey} " +
            $"allowed-ips {gateway.LanSubnet} endpoint {gateway.WanAddress}:{gateway.ListenPort} && " +
            $"ip link set {iface} up && ip route add {gateway.LanSubnet} dev {iface}");
        File.Delete(keyFile);
        return process;
    }

    private static TimeSpan? PingUntil(Office from, Office to, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < bound)
        {
            if (from.Exec($"ping -c 1 -W 1 -I {from.LanAddress} {to.LanAddress}", check: false).Contains("1 received", StringComparison.Ordinal))
            {
                return clock.Elapsed;
            }
        }

        return null;
    }
}
