using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests.Coexistence;

/// <summary>
/// strongSwan in its default kernel-netlink mode with start_action = trap installs real XFRM policies (out, in, fwd)
/// and a route in table 220 (via the WAN) for its child SA (the SA itself cannot be added here: this kernel has no ESP). A
/// WireGuard peer given the same remote subnet is reported: the policies and the table-220 route, each named.
/// </summary>
public class StrongSwanTrapTests
{
    [Fact]
    public void Trap_policies_and_table_220_routes_are_reported()
    {
        using var sites = new WireGuardSites(Implementation.Branchgate, Implementation.Branchgate);
        sites.Configure();
        var a = sites.A;
        a.Exec("ip link add lan0 type bridge && ip addr add 10.1.0.1/24 dev lan0 && ip link set lan0 up");
        using var charon = new StrongSwan(a.Namespace, libipsec: false,
            StrongSwan.SiteToSite(a.WanV4, sites.B.WanV4, "a", "b", "10.1.0.0/24", "10.2.0.0/24", "trap"));
        Assert.True(Shell.WaitFor(() => a.Exec("ip xfrm policy").Contains("10.2.0.0/24", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10)), "strongSwan installed no trap policies: " + charon.Log);

        // Before WireGuard takes the subnet, nothing conflicts.
        var before = CheckCli.Run(a.Namespace, $"--json --interface {a.Interface}");
        Assert.True(before.ExitCode == 0, before.ToString());

        a.Wg($"set {a.Interface} peer {sites.B.PublicKey} allowed-ips {sites.B.TunnelV4}/32,10.2.0.0/24");
        var after = CheckCli.Run(a.Namespace, $"--json --interface {a.Interface}");
        Assert.True(after.ExitCode == 2, after.ToString());
        var policies = after.Findings.Where(f => f.Code == "ipsec-policy-overlap").ToList();
        foreach (var dir in new[] { "out", "in", "fwd" })
        {
            Assert.True(policies.Any(f => f.Objects.Contains($" dir {dir} ", StringComparison.Ordinal) &&
                f.Objects.Contains($"tmpl src ", StringComparison.Ordinal)), $"no {dir} policy reported: {after}");
        }

        // kernel-netlink routes the child's remote subnet in table 220 through the WAN towards the IPsec peer.
        Assert.True(after.Findings.Any(f => f.Code == "table-220-route" &&
            f.Objects.Contains($"route 10.2.0.0/24 table 220 via {sites.B.WanV4} dev wan0", StringComparison.Ordinal)),
            $"the table-220 route was not reported: {after}");
    }
}
