using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests;

/// <summary>
/// The harness itself against the reference: two wireguard-go sites configured by `wg` must pass traffic. If this
/// fails, the environment (TUN, veth, wireguard-go) is broken, not branchgate.
/// </summary>
public class WireGuardGoBaselineTests
{
    [Fact]
    public void Two_wireguard_go_sites_ping_each_other_v4_and_v6_inside()
    {
        using var sites = new WireGuardSites(Implementation.WireGuardGo, Implementation.WireGuardGo);
        sites.Configure();
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4));
        Assert.True(WireGuardSites.Ping(sites.B, sites.A.TunnelV6));
        var dump = sites.A.Wg($"show {sites.A.Interface} dump");
        Assert.Contains(sites.B.PublicKey, dump, StringComparison.Ordinal);
    }
}
