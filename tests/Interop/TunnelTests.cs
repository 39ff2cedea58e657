using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests;

/// <summary>
/// branchgate against the real wireguard-go and against itself, configured with the real `wg`: traffic both ways,
/// either side initiating, IPv4 and IPv6 inside and outside, preshared keys, iperf3.
/// </summary>
public class TunnelTests
{
    public static TheoryData<Implementation, Implementation, bool> Pairs => new()
    {
        { Implementation.Branchgate, Implementation.WireGuardGo, false },
        { Implementation.WireGuardGo, Implementation.Branchgate, false },
        { Implementation.Branchgate, Implementation.WireGuardGo, true },
        { Implementation.Branchgate, Implementation.Branchgate, false },
        { Implementation.Branchgate, Implementation.Branchgate, true },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void A_initiates_and_both_directions_pass_v4_and_v6_inside(Implementation a, Implementation b, bool ipv6Outside)
    {
        using var sites = new WireGuardSites(a, b);
        sites.Configure(ipv6Outside, presharedKey: true);
        // A speaks first, so A is the initiator; then traffic in the other direction rides the same session.
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4), "A -> B v4");
        Assert.True(WireGuardSites.Ping(sites.B, sites.A.TunnelV4), "B -> A v4");
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV6), "A -> B v6");
        Assert.True(WireGuardSites.Ping(sites.B, sites.A.TunnelV6), "B -> A v6");
        var endpoint = ipv6Outside ? $"[{sites.A.WanV6}]:51820" : $"{sites.A.WanV4}:51820";
        Assert.Contains(endpoint, sites.B.Wg($"show {sites.B.Interface} endpoints"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Implementation.Branchgate, Implementation.WireGuardGo)]
    [InlineData(Implementation.WireGuardGo, Implementation.Branchgate)]
    [InlineData(Implementation.Branchgate, Implementation.Branchgate)]
    public void Iperf3_tcp_and_udp_both_ways(Implementation a, Implementation b)
    {
        using var sites = new WireGuardSites(a, b);
        sites.Configure(presharedKey: true);
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4));
        using var server = WireGuardSites.StartIperfServer(sites.B);
        foreach (var args in new[] { "", "-R", "-u -b 200M", "-u -b 200M -R" })
        {
            var json = sites.A.Exec($"iperf3 -J -c {sites.B.TunnelV4} -t 3 {args}", timeoutMs: 60_000);
            var bits = Iperf.ReceivedBitsPerSecond(json);
            Assert.True(bits > 1_000_000, $"iperf3 {args}: {bits / 1e6:0.0} Mbit/s");
        }
    }
}
