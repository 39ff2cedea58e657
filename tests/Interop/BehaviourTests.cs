using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests;

/// <summary>wireguard-go's observable behaviour, checked on branchgate: roaming, removal, MTU, moves, exits.</summary>
public class BehaviourTests
{
    [Theory]
    [InlineData(Implementation.Branchgate, Implementation.WireGuardGo)]
    [InlineData(Implementation.WireGuardGo, Implementation.Branchgate)]
    [InlineData(Implementation.Branchgate, Implementation.Branchgate)]
    public void Roaming_the_endpoint_follows_the_latest_authenticated_packet(Implementation a, Implementation b)
    {
        using var sites = new WireGuardSites(a, b);
        sites.Configure();
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4));
        Assert.Contains($"{sites.B.WanV4}:51821", sites.A.Wg($"show {sites.A.Interface} endpoints"), StringComparison.Ordinal);

        // B moves: a new WAN address (the old one goes) and a new listen port; B speaks first.
        var moved = sites.B.WanV4[..sites.B.WanV4.LastIndexOf('.')] + ".3";
        // (Delete first: deleting a primary address takes its secondaries with it.)
        sites.B.Exec($"ip addr del {sites.B.WanV4}/24 dev wan0 && ip addr add {moved}/24 dev wan0");
        sites.B.Wg($"set {sites.B.Interface} listen-port 51999");
        Assert.True(WireGuardSites.Ping(sites.B, sites.A.TunnelV4), "B -> A after the move");
        Assert.Contains($"{moved}:51999", sites.A.Wg($"show {sites.A.Interface} endpoints"), StringComparison.Ordinal);
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4), "A -> B at the new endpoint");
    }

    [Theory]
    [InlineData(Implementation.Branchgate, Implementation.WireGuardGo)]
    [InlineData(Implementation.Branchgate, Implementation.Branchgate)]
    public void A_removed_peer_stops_passing_traffic_at_once(Implementation a, Implementation b)
    {
        using var sites = new WireGuardSites(a, b);
        sites.Configure();
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4));
        sites.A.Wg($"set {sites.A.Interface} peer {sites.B.PublicKey} remove");
        Assert.DoesNotContain(sites.B.PublicKey, sites.A.Wg($"show {sites.A.Interface} peers"), StringComparison.Ordinal);
        var output = sites.A.Exec($"ping -c 3 -i 0.2 -W 1 {sites.B.TunnelV4}", check: false);
        Assert.Contains(" 0 received", output, StringComparison.Ordinal);
        // Nor does B get through to A: A no longer knows B's key.
        output = sites.B.Exec($"ping -c 3 -i 0.2 -W 1 {sites.A.TunnelV4}", check: false);
        Assert.Contains(" 0 received", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Implementation.Branchgate, Implementation.WireGuardGo)]
    [InlineData(Implementation.Branchgate, Implementation.Branchgate)]
    public void A_34_KiB_tunnel_MTU_passes_large_pings(Implementation a, Implementation b)
    {
        using var sites = new WireGuardSites(a, b);
        sites.Configure(mtu: 34816);
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4, count: 3, size: 34000), "A -> B 34000-byte pings");
        Assert.True(WireGuardSites.Ping(sites.B, sites.A.TunnelV6, count: 3, size: 33000), "B -> A 33000-byte v6 pings");
    }

    [Fact]
    public void An_interface_moved_to_another_namespace_keeps_passing_traffic_and_deleting_it_ends_the_process()
    {
        using var sites = new WireGuardSites(Implementation.Branchgate, Implementation.WireGuardGo);
        sites.Configure();
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4));
        using var lan = new ExtraNamespace("lan");
        sites.A.Exec($"ip link set {sites.A.Interface} netns {lan.Name}");
        lan.Exec($"ip addr add {sites.A.TunnelV4}/24 dev {sites.A.Interface} && ip link set {sites.A.Interface} up");
        // The UDP socket stayed in A's namespace; the TUN now lives in "lan".
        Assert.Contains(" 3 received", lan.Exec($"ping -c 3 -i 0.2 -W 2 {sites.B.TunnelV4}", check: false), StringComparison.Ordinal);
        Assert.True(WireGuardSites.Ping(sites.B, sites.A.TunnelV4));

        lan.Exec($"ip link del {sites.A.Interface}");
        Assert.True(sites.A.Daemon!.WaitForExit(10_000), "branchgate did not exit after its interface was deleted");
    }

    [Theory]
    [InlineData(Implementation.Branchgate, Implementation.WireGuardGo)]
    [InlineData(Implementation.Branchgate, Implementation.Branchgate)]
    public void Persistent_keepalive_starts_the_tunnel_and_keeps_sending_without_traffic(Implementation a, Implementation b)
    {
        using var sites = new WireGuardSites(a, b);
        sites.Configure();
        // Turning keepalive on sends one at once: the handshake happens with no traffic at all.
        sites.A.Wg($"set {sites.A.Interface} peer {sites.B.PublicKey} persistent-keepalive 1");
        Assert.True(Shell.WaitFor(() => Transfer(sites.B, sites.A).Rx > 0, TimeSpan.FromSeconds(5)), "no keepalive arrived");
        var before = Transfer(sites.B, sites.A).Rx;
        Thread.Sleep(3500);
        // One 32-byte keepalive a second (plus counting overhead): at least two more arrived, and nothing else.
        var after = Transfer(sites.B, sites.A).Rx;
        Assert.InRange(after - before, 64, 400);
    }

    private static (long Rx, long Tx) Transfer(Site site, Site peer)
    {
        var line = site.Wg($"show {site.Interface} transfer").Split('\n').First(l => l.StartsWith(peer.PublicKey, StringComparison.Ordinal));
        var f = line.Split('\t');
        return (long.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Garbage_datagrams_on_the_listen_port_leave_the_tunnel_working()
    {
        using var sites = new WireGuardSites(Implementation.Branchgate, Implementation.WireGuardGo);
        sites.Configure();
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4));
        // Every size around the message sizes: random bytes, a type byte then random bytes, and a type with zero
        // reserved bytes then random bytes. Each datagram is built in a file first: a shell writes a { printf; head; }
        // group to /dev/udp as several datagrams, one per write.
        var sizes = "1 2 3 4 5 15 16 28 31 32 33 47 48 60 63 64 65 88 91 92 93 144 147 148 149 200 1000 1500 9000 60000";
        var to = $"/dev/udp/{sites.A.WanV4}/51820";
        sites.B.Exec("f=$(mktemp); for n in " + sizes + "; do for t in 1 2 3 4 5 7; do " +
            $"{{ printf \"\\\\00$t\"; head -c $n /dev/urandom; }} > $f; cat $f > {to}; " +
            $"{{ printf \"\\\\00$t\\\\0\\\\0\\\\0\"; head -c $n /dev/urandom; }} > $f; cat $f > {to}; " +
            $"head -c $n /dev/urandom > $f; cat $f > {to}; done; done; rm -f $f", check: false);
        Assert.False(sites.A.Daemon!.HasExited);
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4));
        Assert.True(WireGuardSites.Ping(sites.B, sites.A.TunnelV4));
        // Dropped and counted: the device reports its drops by reason every 10 s at verbose level.
        Assert.True(Shell.WaitFor(() => sites.A.Log.Contains("Dropped: ", StringComparison.Ordinal), TimeSpan.FromSeconds(15)),
            "no drop report in the log:\n" + sites.A.Log);
        var report = sites.A.Log[sites.A.Log.IndexOf("Dropped: ", StringComparison.Ordinal)..].Split('\n')[0];
        foreach (var reason in new[] { "TooShort", "ReservedBytesNotZero", "UnknownType", "WrongSize", "InvalidMac1", "UnknownReceiverIndex" })
        {
            Assert.Contains(reason, report, StringComparison.Ordinal);
        }
    }
}

/// <summary>A namespace beside a test's sites; deleted on Dispose.</summary>
public sealed class ExtraNamespace : IDisposable
{
    private static int s_counter;

    public ExtraNamespace(string purpose)
    {
        Name = $"bgi{Environment.ProcessId}-{purpose}{Interlocked.Increment(ref s_counter)}";
        Shell.Run("ip", ["netns", "add", Name]);
    }

    public string Name { get; }

    public string Exec(string command, bool check = true) =>
        Shell.Run("ip", ["netns", "exec", Name, "bash", "-c", command], check);

    public void Dispose() => Shell.Run("ip", ["netns", "del", Name], check: false);
}
