using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Branchgate.Interop.Tests.Harness;
using Branchgate.Interop.Tests.Security;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Faults;

/// <summary>
/// The peer of a branchgate gateway (A, `branchgate -f` configured with wg) dies (SIGKILL) and comes back:
/// <list type="bullet">
/// <item>with the same keys: the gateway still holds the old session, which the new peer cannot read. Traffic from
/// the gateway alone comes back when the gateway, having had no answer for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (15 s),
/// starts a new handshake; traffic from the peer comes back at once (its first packet starts one). Both directions
/// are asserted within <see cref="GatewayOnlyBound"/> and <see cref="PeerFirstBound"/>.</item>
/// <item>with a new private key: the gateway refuses its handshakes (no new handshake, UnknownPeer drops counted, the
/// new key is no peer), and its old session reaches nobody (the peer's receive counter stays 0). Datagrams sealed
/// with the old session's keys, captured before the restart and never delivered, are accepted before the admin acts
/// (the control: they are genuine) and dropped once the admin replaced the peer's public key (the old session died
/// with the old peer); then the new key's traffic flows.</item>
/// </list>
/// </summary>
public sealed partial class PeerRestartTests(ITestOutputHelper output)
{
    /// <summary>15 s of the gateway's new-handshake timer, its jitter, a 5 s handshake retry and scheduling slack.</summary>
    private static readonly TimeSpan GatewayOnlyBound = TimeSpan.FromSeconds(25);

    /// <summary>One handshake round trip, plus one 5 s retry in case the first initiation is lost.</summary>
    private static readonly TimeSpan PeerFirstBound = TimeSpan.FromSeconds(8);

    [Theory]
    [InlineData(Implementation.WireGuardGo)]
    [InlineData(Implementation.Branchgate)]
    public void A_peer_restarting_with_the_same_keys_gets_its_traffic_back(Implementation peer)
    {
        using var sites = new WireGuardSites(Implementation.Branchgate, peer);
        sites.Configure();
        Site a = sites.A, b = sites.B;
        Assert.True(WireGuardSites.Ping(a, b.TunnelV4), "tunnel before the restart");
        int pid = a.Daemon!.Id, fds = ProcessUsage.Descriptors(pid);
        long before = Handshake(a, b.PublicKey);

        sites.Restart(b);
        sites.Reconfigure(b);

        // The gateway sends first, into a session the new peer does not have.
        var aToB = PingUntil(a, b.TunnelV4, GatewayOnlyBound);
        // Then the peer sends first after a second restart: its packet starts the handshake.
        sites.Restart(b);
        sites.Reconfigure(b);
        var bToA = PingUntil(b, a.TunnelV4, PeerFirstBound);
        output.WriteLine($"{peer} peer restarted with the same keys: gateway-first traffic back after {Seconds(aToB)}, " +
            $"peer-first after {Seconds(bToA)}");
        Assert.True(aToB is not null, $"gateway -> peer: no reply within {GatewayOnlyBound.TotalSeconds} s");
        Assert.True(bToA is not null, $"peer -> gateway: no reply within {PeerFirstBound.TotalSeconds} s");
        Assert.True(WireGuardSites.Ping(a, b.TunnelV4) && WireGuardSites.Ping(b, a.TunnelV4), "both directions");
        Assert.True(Handshake(a, b.PublicKey) > before, "the gateway shows no new handshake");
        Assert.False(a.Daemon.HasExited);
        Assert.True(ProcessUsage.Descriptors(pid) <= fds + 1, $"gateway descriptors {fds} -> {ProcessUsage.Descriptors(pid)}");
    }

    [Fact]
    public void A_peer_restarting_with_a_new_key_is_refused_until_the_admin_changes_its_key()
    {
        // C is only a namespace on the internet: the capture point and the injector.
        using var sites = new WireGuardSites(Implementation.Branchgate, Implementation.WireGuardGo, Implementation.WireGuardGo);
        sites.Configure();
        Site a = sites.A, b = sites.B, c = sites.C!;
        Assert.True(WireGuardSites.Ping(a, b.TunnelV4), "tunnel before the restart");
        var gateway = new IPEndPoint(IPAddress.Parse(a.WanV4), 51820);

        // Datagrams sealed with B's current session, sent to a socket in C instead of A: never delivered to A.
        var capturePoint = new IPEndPoint(IPAddress.Parse(c.WanV4), 40000);
        List<byte[]> sealedOld;
        using (var capture = NamespaceUdp.Bind(c.Namespace, capturePoint))
        {
            b.Wg($"set {b.Interface} peer {a.PublicKey} endpoint {capturePoint}");
            b.Exec($"ping -c 12 -i 0.05 -W 1 {a.TunnelV4}", check: false);
            sealedOld = [.. NamespaceUdp.ReceiveAll(capture, TimeSpan.FromSeconds(1)).Where(d => d.Length >= 32 && d[0] == 4)];
        }

        b.Wg($"set {b.Interface} peer {a.PublicKey} endpoint {a.WanV4}:51820");
        Assert.True(sealedOld.Count >= 10, $"captured {sealedOld.Count} transport datagrams");

        // The control: three of them, injected from C now, are accepted (they are genuine and their counters unseen).
        long rxBefore = Received(a, b.PublicKey);
        Flooder.Run(c.Namespace, gateway, [.. sealedOld.Take(3)], 1000, TimeSpan.Zero);
        Assert.True(Shell.WaitFor(() => Received(a, b.PublicKey) >= rxBefore + 3 * 32, TimeSpan.FromSeconds(3)),
            "the gateway did not accept the captured old-session datagrams while the old peer was configured");
        a.Wg($"set {a.Interface} peer {b.PublicKey} endpoint {b.WanV4}:51821"); // it roamed to the injector
        long handshakeOld = Handshake(a, b.PublicKey);

        // B comes back with a new private key.
        var newKeyFile = Path.Combine(Path.GetTempPath(), $"bgi{Environment.ProcessId}-newkey");
        try
        {
            var newKey = Shell.Run("wg", ["genkey"]).Trim();
            File.WriteAllText(newKeyFile, newKey + "\n");
            File.SetUnixFileMode(newKeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var newPublic = Shell.Run("wg", ["pubkey"], stdin: newKey + "\n").Trim();
            int logMark = a.Log.Length;
            sites.Restart(b);
            sites.Reconfigure(b, newKeyFile);

            // Its handshakes are refused: no reply for 7 s (an initiation and one retry), the gateway counts
            // UnknownPeer drops, shows no new handshake and no peer with that key.
            var refused = b.Exec($"ping -c 7 -i 1 -W 1 {a.TunnelV4}", check: false, timeoutMs: 30_000);
            Assert.Contains(" 0 received", refused, StringComparison.Ordinal);
            Assert.True(Shell.WaitFor(() => a.Log[logMark..].Contains("UnknownPeer", StringComparison.Ordinal), DropReport),
                "the gateway did not count UnknownPeer drops:\n" + a.Log[logMark..]);
            Assert.DoesNotContain(newPublic, a.Wg($"show {a.Interface} peers"), StringComparison.Ordinal);
            Assert.Equal(handshakeOld, Handshake(a, b.PublicKey));

            // The gateway's old session reaches nobody: what it seals with it, the new B cannot open.
            var oldSession = a.Exec($"ping -c 5 -i 0.2 -W 1 {b.TunnelV4}", check: false);
            Assert.Contains(" 0 received", oldSession, StringComparison.Ordinal);
            Assert.Equal(0, Received(b, a.PublicKey));

            // The admin replaces the peer's key (wg set: remove the old, add the new with the same allowed IPs).
            a.Wg($"set {a.Interface} peer {b.PublicKey} remove peer {newPublic} allowed-ips {b.TunnelV4}/32,{b.TunnelV6}/128 " +
                $"endpoint {b.WanV4}:51821");
            int logMark2 = a.Log.Length;
            // The rest of the old session's datagrams: dropped (their receiver index died with the old peer).
            Flooder.Run(c.Namespace, gateway, [.. sealedOld.Skip(3)], 1000, TimeSpan.Zero);
            // (The new B keeps retrying its handshake meanwhile, so its counters are no witness; the drop reason is.)
            int rejected = sealedOld.Count - 3;
            Assert.True(Shell.WaitFor(() => UnknownIndexDrops(a.Log[logMark2..]) >= rejected, DropReport),
                $"not all {rejected} old-session datagrams were dropped as UnknownReceiverIndex:\n" + a.Log[logMark2..]);

            // And the new key's traffic flows, both ways.
            var back = PingUntil(b, a.TunnelV4, PeerFirstBound);
            output.WriteLine($"new key: refused for 7 s; after the admin's change traffic back in {Seconds(back)}; " +
                $"{sealedOld.Count} captured old-session datagrams: 3 accepted before the change, {sealedOld.Count - 3} dropped after");
            Assert.True(back is not null, "no traffic with the new key after the admin's change");
            Assert.True(WireGuardSites.Ping(a, b.TunnelV4), "gateway -> peer with the new key");
        }
        finally
        {
            File.Delete(newKeyFile);
        }
    }

    /// <summary>The -f daemon logs its drop counters (LOG_LEVEL=verbose) every 10 s.</summary>
    private static readonly TimeSpan DropReport = TimeSpan.FromSeconds(12);

    private static TimeSpan? PingUntil(Site from, string to, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < bound)
        {
            if (from.Exec($"ping -c 1 -W 1 {to}", check: false).Contains("1 received", StringComparison.Ordinal))
            {
                return clock.Elapsed;
            }
        }

        return null;
    }

    /// <summary>The UnknownReceiverIndex drops in the daemon's "Dropped: REASON N, ..." lines.</summary>
    private static long UnknownIndexDrops(string log) =>
        UnknownIndexPattern().Matches(log).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"UnknownReceiverIndex (\d+)")]
    private static partial Regex UnknownIndexPattern();

    private static string Seconds(TimeSpan? t) => t is null ? "never" : $"{t.Value.TotalSeconds:0.0} s";

    private static long Handshake(Site site, string peer) => Column(site.Wg($"show {site.Interface} latest-handshakes"), peer, 1);

    private static long Received(Site site, string peer) => Column(site.Wg($"show {site.Interface} transfer"), peer, 1);

    private static long Column(string text, string peer, int column)
    {
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(peer, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split('\t')[column], CultureInfo.InvariantCulture);
    }
}
