using Branchgate.Appliance.Coexistence;
using Branchgate.Platform.Linux.Netlink.Route;
using Branchgate.Platform.Linux.Netlink.Xfrm;
using static Branchgate.Tests.Appliance.Coexistence.KernelBuilder;

namespace Branchgate.Tests.Appliance.Coexistence;

public class MigrationPlannerTests
{
    [Fact]
    public void A_libipsec_child_of_exactly_the_subnet_is_narrowed_away_then_the_check_is_clean()
    {
        var kernel = new KernelView { Rules = StandardRules(), Routes = [Route("10.2.0.0/24", "ipsec0", 220)] };
        var config = OnePeer("10.2.1.0/24");
        var site = config.Sites[0];
        var plan = MigrationPlanner.Plan(kernel, config, null, "branch2", IPPrefix.Parse("10.2.0.0/24"), out var error);
        Assert.Null(error);
        Assert.NotNull(plan);
        Assert.Equal(2, plan.CheckNow.ExitStatus);
        Assert.Equal("table-220-route", Assert.Single(plan.CheckNow.Findings).Code);
        Assert.Contains(plan.IpsecObjects, o => o.StartsWith("route 10.2.0.0/24 table 220 dev ipsec0", StringComparison.Ordinal));
        Assert.Equal(3, plan.Steps.Count);
        Assert.Contains("remote_ts", plan.Steps[0].Explanation, StringComparison.Ordinal);
        Assert.Empty(plan.Steps[0].Commands); // nothing wider stays: only the swanctl edit
        Assert.Equal(0, plan.Steps[0].CheckAfter.ExitStatus);
        Assert.Equal(
            [$"wg set wg0 peer {site.PublicKey.ToBase64()} allowed-ips 10.2.1.0/24,10.2.0.0/24", "ip route add 10.2.0.0/24 dev wg0"],
            plan.Steps[1].Commands);
        Assert.Equal(0, plan.Steps[2].CheckAfter.ExitStatus);

        // The peer may be named by its public key too.
        Assert.NotNull(MigrationPlanner.Plan(kernel, config, "wg0", site.PublicKey.ToBase64(), IPPrefix.Parse("10.2.0.0/24"), out _));
    }

    [Fact]
    public void Wider_selectors_get_pass_policies_and_a_throw_route_that_the_check_accepts()
    {
        var kernel = new KernelView
        {
            Rules = StandardRules(),
            Routes = [Route("10.2.0.0/16", "eth0", 220)],
            Policies =
            [
                Policy(XfrmDirection.Out, "10.1.0.0/24", "10.2.0.0/16", priority: 1000),
                Policy(XfrmDirection.In, "10.2.0.0/16", "10.1.0.0/24", priority: 1000),
                Policy(XfrmDirection.Forward, "10.2.0.0/16", "10.1.0.0/24", priority: 1000),
            ],
        };
        var plan = MigrationPlanner.Plan(kernel, OnePeer("10.5.0.0/24"), null, "branch2", IPPrefix.Parse("10.2.0.0/24"), out _)!;
        Assert.Equal(4, plan.CheckNow.Findings.Count); // out, in, fwd, table 220
        Assert.Equal(
            [
                "ip xfrm policy add src 0.0.0.0/0 dst 10.2.0.0/24 dir out priority 999",
                "ip xfrm policy add src 10.2.0.0/24 dst 0.0.0.0/0 dir in priority 999",
                "ip xfrm policy add src 10.2.0.0/24 dst 0.0.0.0/0 dir fwd priority 999",
                "ip route add throw 10.2.0.0/24 table 220",
            ],
            plan.Steps[0].Commands);
        Assert.Equal(0, plan.Steps[0].CheckAfter.ExitStatus);
        Assert.Equal(0, plan.Steps[^1].CheckAfter.ExitStatus);
    }

    [Fact]
    public void Unknown_or_ambiguous_peers_are_refused_with_the_reason()
    {
        Assert.Null(MigrationPlanner.Plan(KernelView.Empty, OnePeer("10.2.1.0/24"), null, "nosuch", IPPrefix.Parse("10.2.0.0/24"), out var error));
        Assert.Contains("no peer 'nosuch'", error, StringComparison.Ordinal);
        Assert.Contains("wg0/branch2", error, StringComparison.Ordinal);
        var two = ConfigOf(Interface(), Site("x")) with { Interfaces = [Interface(), Interface("wg1")], Sites = [Site("x"), Site("x", iface: "wg1")] };
        Assert.Null(MigrationPlanner.Plan(KernelView.Empty, two, null, "x", IPPrefix.Parse("10.2.0.0/24"), out error));
        Assert.Contains("several interfaces", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_has_the_documented_shape()
    {
        var kernel = new KernelView { Rules = StandardRules(), Routes = [Route("10.2.0.0/24", "ipsec0", 220)], Unreadable = ["x: y"] };
        var config = OnePeer("10.2.0.0/24");
        var report = CoexistenceChecker.Check(kernel, config);
        using var json = System.Text.Json.JsonDocument.Parse(CoexistenceJson.Serialize(report));
        var root = json.RootElement;
        Assert.Equal(2, root.GetProperty("exitStatus").GetInt32());
        Assert.Equal(1, root.GetProperty("errors").GetInt32());
        var finding = root.GetProperty("findings")[0];
        Assert.Equal("error", finding.GetProperty("severity").GetString());
        Assert.Equal("table-220-route", finding.GetProperty("code").GetString());
        Assert.Equal("wg0", finding.GetProperty("interface").GetString());
        Assert.Equal(3, finding.GetProperty("objects").GetArrayLength());
        Assert.Equal("x: y", root.GetProperty("unreadable")[0].GetString());
        Assert.False(root.TryGetProperty("migration", out _));
    }
}
