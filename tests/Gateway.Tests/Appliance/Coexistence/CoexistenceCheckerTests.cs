using System.Net;
using Branchgate.Appliance.Coexistence;
using Branchgate.Platform.Linux.Netlink.Route;
using Branchgate.Platform.Linux.Netlink.Xfrm;
using static Branchgate.Tests.Appliance.Coexistence.KernelBuilder;
using Codes = Branchgate.Appliance.Coexistence.CoexistenceChecker.Codes;

namespace Branchgate.Tests.Appliance.Coexistence;

public class CoexistenceCheckerTests
{
    private static CoexistenceReport CheckPolicies(string allowedIp, params XfrmPolicy[] policies) =>
        CoexistenceChecker.Check(new KernelView { Policies = policies }, OnePeer(allowedIp));

    private static Finding Single(CoexistenceReport report, string code)
    {
        var finding = Assert.Single(report.Findings);
        Assert.Equal(code, finding.Code);
        return finding;
    }

    [Theory]
    [InlineData(XfrmDirection.Out, "10.1.0.0/24", "10.2.0.0/24")] // ours to the peer would be encrypted
    [InlineData(XfrmDirection.Out, "0.0.0.0/0", "10.2.0.0/16")] // a wider selector
    [InlineData(XfrmDirection.Out, "10.1.0.0/24", "10.2.0.128/25")] // a narrower one
    [InlineData(XfrmDirection.In, "10.2.0.0/24", "10.1.0.0/24")] // decrypted from the peer is dropped
    [InlineData(XfrmDirection.Forward, "10.2.0.0/24", "10.1.0.0/24")] // forwarded from the peer is dropped
    [InlineData(XfrmDirection.Forward, "10.1.0.0/24", "10.2.0.0/24")] // forwarded to the peer is dropped
    public void Policy_overlapping_allowed_ips_is_an_error_naming_it(XfrmDirection direction, string src, string dst)
    {
        var report = CheckPolicies("10.2.0.0/24", Policy(direction, src, dst, priority: 383615));
        var finding = Single(report, Codes.IpsecPolicyOverlap);
        Assert.Equal(FindingSeverity.Error, finding.Severity);
        Assert.Equal(2, report.ExitStatus);
        Assert.Equal("wg0", finding.Interface);
        Assert.Equal("branch2", finding.Site);
        string dir = direction switch { XfrmDirection.Out => "out", XfrmDirection.In => "in", _ => "fwd" };
        Assert.Contains($"IPsec {dir} policy {src} -> {dst}", finding.Message, StringComparison.Ordinal);
        Assert.Contains("priority 383615", finding.Message, StringComparison.Ordinal);
        Assert.Contains($"ESP tunnel", finding.Message, StringComparison.Ordinal);
        Assert.Contains("wg0 peer branch2 allowed-ips 10.2.0.0/24", finding.Objects);
        Assert.Contains(finding.Objects, o => o.StartsWith($"xfrm policy src {src} dst {dst} dir {dir} priority 383615 tmpl src ",
            StringComparison.Ordinal) && o.Contains("proto esp mode tunnel", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(XfrmDirection.Out, "10.2.0.0/24", "10.1.0.0/24")] // out only matters by destination
    [InlineData(XfrmDirection.In, "10.1.0.0/24", "10.2.0.0/24")] // in only by source
    [InlineData(XfrmDirection.Out, "10.1.0.0/24", "10.2.1.0/24")] // adjacent
    [InlineData(XfrmDirection.Out, "10.1.0.0/24", "10.1.255.0/24")] // adjacent below
    [InlineData(XfrmDirection.In, "10.2.1.0/24", "10.1.0.0/24")]
    [InlineData(XfrmDirection.Forward, "10.3.0.0/24", "10.1.0.0/24")] // disjoint
    [InlineData(XfrmDirection.Out, "fd00:1::/64", "fd00:2::/64")] // another family
    public void Policy_not_overlapping_in_its_direction_is_not_reported(XfrmDirection direction, string src, string dst)
    {
        var report = CheckPolicies("10.2.0.0/24", Policy(direction, src, dst));
        Assert.Empty(report.Findings);
        Assert.Equal(0, report.ExitStatus);
    }

    [Fact]
    public void Marked_policies_and_xfrm_interface_policies_do_not_take_unmarked_traffic()
    {
        Assert.Empty(CheckPolicies("10.2.0.0/24", Policy(XfrmDirection.Out, "0.0.0.0/0", "10.2.0.0/24", mark: new XfrmMark(0x10, 0xff))).Findings);
        Assert.Empty(CheckPolicies("10.2.0.0/24", Policy(XfrmDirection.In, "10.2.0.0/24", "0.0.0.0/0", interfaceId: 7)).Findings);
        // mark 0/0xff matches packets without a mark: it restricts nothing.
        Single(CheckPolicies("10.2.0.0/24", Policy(XfrmDirection.Out, "0.0.0.0/0", "10.2.0.0/24", mark: new XfrmMark(0, 0xff))),
            Codes.IpsecPolicyOverlap);
    }

    [Fact]
    public void Bypass_block_and_optional_inbound_policies_are_not_ipsec_captures()
    {
        Assert.Empty(CheckPolicies("10.2.0.0/24", Policy(XfrmDirection.Out, "0.0.0.0/0", "10.2.0.0/24", templates: false)).Findings);
        Assert.Empty(CheckPolicies("10.2.0.0/24",
            Policy(XfrmDirection.Out, "0.0.0.0/0", "10.2.0.0/24", action: XfrmPolicyAction.Block, templates: false)).Findings);
        // "level use" templates: traffic without IPsec still passes the inbound check.
        Assert.Empty(CheckPolicies("10.2.0.0/24", Policy(XfrmDirection.Forward, "10.2.0.0/24", "10.1.0.0/24", optional: true)).Findings);
    }

    [Fact]
    public void A_pass_policy_with_precedence_shadows_the_ipsec_policy()
    {
        var ipsec = Policy(XfrmDirection.Out, "10.1.0.0/24", "10.2.0.0/16", priority: 1000);
        Assert.Empty(CheckPolicies("10.2.0.0/24", ipsec,
            Policy(XfrmDirection.Out, "0.0.0.0/0", "10.2.0.0/24", priority: 999, templates: false)).Findings);
        // A pass policy that loses (higher number) or covers only part of the range does not help.
        Single(CheckPolicies("10.2.0.0/24", ipsec,
            Policy(XfrmDirection.Out, "0.0.0.0/0", "10.2.0.0/24", priority: 1001, templates: false)), Codes.IpsecPolicyOverlap);
        Single(CheckPolicies("10.2.0.0/24", ipsec,
            Policy(XfrmDirection.Out, "0.0.0.0/0", "10.2.0.0/25", priority: 999, templates: false)), Codes.IpsecPolicyOverlap);
    }

    [Fact]
    public void Ipv6_selectors_use_exact_prefix_arithmetic()
    {
        Single(CheckPolicies("fd00:2::/64", Policy(XfrmDirection.Out, "fd00:1::/64", "fd00:2::/48")), Codes.IpsecPolicyOverlap);
        Single(CheckPolicies("fd00:2::8000:0:0:0/65", Policy(XfrmDirection.In, "fd00:2::/64", "::/0")), Codes.IpsecPolicyOverlap);
        Assert.Empty(CheckPolicies("fd00:2:0:1::/64", Policy(XfrmDirection.Out, "fd00:1::/64", "fd00:2::/64")).Findings);
        Single(CheckPolicies("fd00:2::/64", Policy(XfrmDirection.Out, "fd00:1::/64", "fd00:2:0:0:8000::/65")), Codes.IpsecPolicyOverlap);
        Assert.Empty(CheckPolicies("fd00:2::/64", Policy(XfrmDirection.Out, "fd00:1::/64", "fd00:3::/64")).Findings);
    }

    [Fact]
    public void Endpoint_inside_an_out_selector_is_an_error()
    {
        var iface = Interface(addresses: "10.9.0.1/24");
        var site = Site("branch2", endpoint: "203.0.113.7:51820", allowedIps: "10.2.1.0/24");
        var kernel = new KernelView
        {
            Policies = [Policy(XfrmDirection.Out, "0.0.0.0/0", "203.0.113.0/24")],
            Addresses = [Address("eth0", "192.0.2.1/24")],
        };
        var finding = Single(CoexistenceChecker.Check(kernel, ConfigOf(iface, site)), Codes.EndpointInIpsecSelector);
        Assert.Contains("203.0.113.7", finding.Message, StringComparison.Ordinal);
        Assert.Contains("wg0 peer branch2 endpoint 203.0.113.7:51820 (203.0.113.7)", finding.Objects);

        // Outside the selector, another protocol or port, or a selector whose source no local address has: fine.
        foreach (var policy in new[]
        {
            Policy(XfrmDirection.Out, "0.0.0.0/0", "203.0.114.0/24"),
            Policy(XfrmDirection.Out, "0.0.0.0/0", "203.0.113.0/24", protocol: 6),
            Policy(XfrmDirection.Out, "0.0.0.0/0", "203.0.113.0/24", protocol: 17, destinationPort: 4500, destinationPortMask: 0xffff),
            Policy(XfrmDirection.Out, "10.1.0.0/24", "203.0.113.0/24"),
            Policy(XfrmDirection.In, "203.0.113.0/24", "0.0.0.0/0"),
        })
        {
            Assert.Empty(CoexistenceChecker.Check(kernel with { Policies = [policy] }, ConfigOf(iface, site)).Findings);
        }

        // The same port matches.
        Single(CoexistenceChecker.Check(kernel with
        {
            Policies = [Policy(XfrmDirection.Out, "0.0.0.0/0", "203.0.113.0/24", protocol: 17, destinationPort: 51820, destinationPortMask: 0xffff)],
        }, ConfigOf(iface, site)), Codes.EndpointInIpsecSelector);
    }

    [Fact]
    public void Endpoint_names_are_checked_only_when_resolved_and_marks_follow_the_interface_fwmark()
    {
        var site = Site("branch2", endpoint: "branch2.example.net:51820", allowedIps: "10.2.1.0/24");
        var kernel = new KernelView { Policies = [Policy(XfrmDirection.Out, "0.0.0.0/0", "203.0.113.0/24")] };
        var config = ConfigOf(Interface(), site);
        Assert.Empty(CoexistenceChecker.Check(kernel, config).Findings);
        var resolved = new Dictionary<string, IPAddress> { ["branch2.example.net"] = IPAddress.Parse("203.0.113.9") };
        Single(CoexistenceChecker.Check(kernel, config, resolved), Codes.EndpointInIpsecSelector);

        // The tunnel's UDP carries the interface's fwmark: a policy for that mark takes it, another does not.
        var marked = kernel with { Policies = [Policy(XfrmDirection.Out, "0.0.0.0/0", "203.0.113.0/24", mark: new XfrmMark(0x51, 0xff))] };
        Single(CoexistenceChecker.Check(marked, ConfigOf(Interface(fwMark: 0x51), site), resolved), Codes.EndpointInIpsecSelector);
        Assert.Empty(CoexistenceChecker.Check(marked, ConfigOf(Interface(fwMark: 0x52), site), resolved).Findings);
    }

    [Fact]
    public void Table_220_route_is_an_error_whatever_the_prefix_length()
    {
        var kernel = new KernelView
        {
            Rules = StandardRules(),
            Routes = [Route("10.2.0.0/16", "ipsec0", RouteTable.StrongSwan)],
        };
        var finding = Single(CoexistenceChecker.Check(kernel, OnePeer("10.2.0.0/24")), Codes.Table220Route);
        Assert.Equal(FindingSeverity.Error, finding.Severity);
        Assert.Contains("policy rule 220", finding.Message, StringComparison.Ordinal);
        Assert.Contains("ipsec0", finding.Message, StringComparison.Ordinal);
        Assert.Contains(finding.Objects, o => o.StartsWith("route 10.2.0.0/16 table 220 dev ipsec0", StringComparison.Ordinal));
        Assert.Contains("rule 220: from all lookup 220", finding.Objects);

        // A more specific route in table 220 takes part of the range: still an error.
        Single(CoexistenceChecker.Check(kernel with { Routes = [Route("10.2.0.128/25", "ipsec0", RouteTable.StrongSwan)] },
            OnePeer("10.2.0.0/24")), Codes.Table220Route);

        // Adjacent and disjoint routes in 220 are fine; so are marked-only rules.
        Assert.Empty(CoexistenceChecker.Check(kernel with { Routes = [Route("10.2.1.0/24", "ipsec0", RouteTable.StrongSwan)] },
            OnePeer("10.2.0.0/24")).Findings);
    }

    [Fact]
    public void Rule_list_is_evaluated_in_priority_order_with_its_selectors()
    {
        var routes = new[] { Route("10.2.0.0/24", "ipsec0", RouteTable.StrongSwan) };
        var custom = ConfigOf(Interface(table: "1234"), Site("branch2", allowedIps: "10.2.0.0/24"));

        // Table 1234 consulted at priority 100, before 220: WireGuard wins.
        var early = new KernelView
        {
            Routes = routes,
            Rules = [.. StandardRules(), new RoutingRule { Family = System.Net.Sockets.AddressFamily.InterNetwork, Priority = 100, Table = 1234 }],
        };
        Assert.Empty(CoexistenceChecker.Check(early, custom).Findings);

        // Table 1234 after 220: error; Table = off is checked against main.
        var late = early with
        {
            Rules = [.. StandardRules(), new RoutingRule { Family = System.Net.Sockets.AddressFamily.InterNetwork, Priority = 1000, Table = 1234 }],
        };
        Single(CoexistenceChecker.Check(late, custom), Codes.Table220Route);
        Single(CoexistenceChecker.Check(late, ConfigOf(Interface(table: "off"), Site("branch2", allowedIps: "10.2.0.0/24"))),
            Codes.Table220Route);

        // A rule that only marked packets match, or one for other destinations, is not taken.
        var v4 = System.Net.Sockets.AddressFamily.InterNetwork;
        var marked = new KernelView
        {
            Routes = routes,
            Rules = [.. StandardRules(strongSwan: false),
                new RoutingRule { Family = v4, Priority = 220, Table = 220, FirewallMark = 0x10, FirewallMask = 0xff },
                new RoutingRule { Family = v4, Priority = 221, Table = 220, To = IPPrefix.Parse("10.3.0.0/16") }],
        };
        Assert.Empty(CoexistenceChecker.Check(marked, OnePeer("10.2.0.0/24")).Findings);

        // wg-quick's "not fwmark" rule matches unmarked packets; a rule from one source matches some of them.
        var inverted = marked with
        {
            Rules = [.. StandardRules(strongSwan: false),
                new RoutingRule { Family = v4, Priority = 220, Table = 220, FirewallMark = 0x10, Invert = true }],
        };
        Single(CoexistenceChecker.Check(inverted, OnePeer("10.2.0.0/24")), Codes.Table220Route);
        var fromLan = marked with
        {
            Rules = [.. StandardRules(strongSwan: false),
                new RoutingRule { Family = v4, Priority = 220, Table = 220, From = IPPrefix.Parse("10.1.0.0/24") }],
        };
        Assert.Contains("for the traffic the rule's selectors match",
            Single(CoexistenceChecker.Check(fromLan, OnePeer("10.2.0.0/24")), Codes.Table220Route).Message, StringComparison.Ordinal);

        // suppress_prefixlength 0 ignores a default route found there; throw routes hand the lookup on.
        var suppressing = marked with
        {
            Routes = [Route("0.0.0.0/0", "ipsec0", 220)],
            Rules = [.. StandardRules(strongSwan: false),
                new RoutingRule { Family = v4, Priority = 220, Table = 220, SuppressPrefixLength = 0 }],
        };
        Assert.Empty(CoexistenceChecker.Check(suppressing, OnePeer("10.2.0.0/24")).Findings);
        var thrown = new KernelView
        {
            Rules = StandardRules(),
            Routes = [Route("10.2.0.0/16", "ipsec0", 220), Route("10.2.0.0/24", null, 220, RouteType.Throw)],
        };
        Assert.Empty(CoexistenceChecker.Check(thrown, OnePeer("10.2.0.0/24")).Findings);
        Single(CoexistenceChecker.Check(thrown, OnePeer("10.2.1.0/24")), Codes.Table220Route);
    }

    [Fact]
    public void Other_tables_before_the_wireguard_table_are_errors_too_and_blackhole_rules_drop()
    {
        var v4 = System.Net.Sockets.AddressFamily.InterNetwork;
        var kernel = new KernelView
        {
            Rules = [.. StandardRules(strongSwan: false), new RoutingRule { Family = v4, Priority = 500, Table = 300 }],
            Routes = [Route("10.0.0.0/8", "eth1", 300)],
        };
        var finding = Single(CoexistenceChecker.Check(kernel, OnePeer("10.2.0.0/24")), Codes.EarlierTableRoute);
        Assert.Contains("table 300", finding.Message, StringComparison.Ordinal);
        var dropping = kernel with
        {
            Routes = [],
            Rules = [.. StandardRules(strongSwan: false), new RoutingRule { Family = v4, Priority = 500, Action = RuleAction.Prohibit, To = IPPrefix.Parse("10.2.0.0/16") }],
        };
        Single(CoexistenceChecker.Check(dropping, OnePeer("10.2.0.0/24")), Codes.EarlierTableRoute);
    }

    [Fact]
    public void Routes_through_the_wireguard_interface_itself_are_its_own()
    {
        var kernel = new KernelView { Rules = StandardRules(), Routes = [Route("10.2.0.0/24", "wg0", 220), Route("10.2.0.0/24", "wg0")] };
        Assert.Empty(CoexistenceChecker.Check(kernel, OnePeer("10.2.0.0/24")).Findings);
        var other = kernel with { Routes = [Route("10.2.0.0/24", "wg1", 220)] };
        var config = OnePeer("10.2.0.0/24");
        Assert.Single(CoexistenceChecker.Check(other, config with { Interfaces = [.. config.Interfaces, Interface("wg1")] }).Findings);
        Assert.Empty(CoexistenceChecker.WithoutOwnRoutes(other, config with { Interfaces = [.. config.Interfaces, Interface("wg1")] }).Routes);
    }

    [Fact]
    public void Route_via_another_interface_in_the_same_table_is_a_warning_saying_which_wins()
    {
        var kernel = new KernelView { Rules = StandardRules(), Routes = [Route("10.2.0.0/25", "eth1"), Route("0.0.0.0/0", "eth0")] };
        var finding = Single(CoexistenceChecker.Check(kernel, OnePeer("10.2.0.0/24")), Codes.RouteViaOtherInterface);
        Assert.Equal(FindingSeverity.Warning, finding.Severity);
        Assert.Equal(1, CoexistenceChecker.Check(kernel, OnePeer("10.2.0.0/24")).ExitStatus);
        Assert.Contains("more specific and wins: traffic to 10.2.0.0/25 goes dev eth1", finding.Message, StringComparison.Ordinal);
        Assert.Contains("WireGuard route 10.2.0.0/24 is more specific",
            Single(CoexistenceChecker.Check(kernel with { Routes = [Route("10.0.0.0/8", "eth1")] }, OnePeer("10.2.0.0/24")),
                Codes.RouteViaOtherInterface).Message, StringComparison.Ordinal);
        Assert.Contains("same prefix",
            Single(CoexistenceChecker.Check(kernel with { Routes = [Route("10.2.0.0/24", "eth1")] }, OnePeer("10.2.0.0/24")),
                Codes.RouteViaOtherInterface).Message, StringComparison.Ordinal);
        // A route in another table than the WireGuard one is not in competition.
        Assert.Empty(CoexistenceChecker.Check(kernel with { Routes = [Route("10.2.0.0/24", "eth1", 300)] }, OnePeer("10.2.0.0/24")).Findings);
    }

    [Fact]
    public void Allowed_ips_overlapping_a_connected_subnet_are_an_error()
    {
        var kernel = new KernelView
        {
            Addresses = [Address("br0", "10.1.0.1/24"), Address("lo", "127.0.0.1/8", RouteScope.Host),
                Address("br0", "fe80::1/64", RouteScope.Link), Address("wg0", "10.9.0.1/24"), Address("br0", "fd10::1/64")],
        };
        var finding = Single(CoexistenceChecker.Check(kernel, OnePeer("10.1.0.128/25")), Codes.LanOverlap);
        Assert.Contains("address 10.1.0.1/24 dev br0", finding.Objects);
        Assert.Contains("LAN hosts in it become unreachable", finding.Message, StringComparison.Ordinal);
        Single(CoexistenceChecker.Check(kernel, OnePeer("10.0.0.0/8")), Codes.LanOverlap);
        Single(CoexistenceChecker.Check(kernel, OnePeer("fd10::/48")), Codes.LanOverlap);
        Assert.Empty(CoexistenceChecker.Check(kernel, OnePeer("10.1.1.0/24")).Findings); // adjacent
        Assert.Empty(CoexistenceChecker.Check(kernel, OnePeer("0.0.0.0/0")).Findings); // a default never beats a connected route
        Assert.Empty(CoexistenceChecker.Check(kernel, OnePeer("10.9.0.2/32")).Findings); // the tunnel's own subnet
        Assert.Empty(CoexistenceChecker.Check(kernel, OnePeer("fd10:0:0:1::/64")).Findings);
    }

    [Fact]
    public void Interface_subnet_overlapping_a_lan_is_an_error()
    {
        var kernel = new KernelView { Addresses = [Address("br0", "10.9.0.254/16")] };
        var config = KernelBuilder.ConfigOf(Interface(addresses: "10.9.0.1/24"));
        Single(CoexistenceChecker.Check(kernel, config), Codes.LanOverlap);
    }

    [Fact]
    public void Overlapping_peers_are_warnings_on_one_interface_and_across_interfaces()
    {
        var config = KernelBuilder.ConfigOf(Interface(),
            Site("a", allowedIps: "10.2.0.0/16"), Site("b", allowedIps: "10.2.1.0/24"), Site("c", allowedIps: "10.3.0.0/24"));
        var finding = Single(CoexistenceChecker.Check(KernelView.Empty, config), Codes.PeerOverlap);
        Assert.Contains("10.2.1.0/24 goes to b", finding.Message, StringComparison.Ordinal);

        var twoInterfaces = config with
        {
            Interfaces = [Interface(), Interface("wg1")],
            Sites = [Site("a", allowedIps: "fd00:2::/64"), Site("x", iface: "wg1", allowedIps: "fd00:2::/64"), Site("y", iface: "wg1", allowedIps: "fd00:2:0:1::/64")],
        };
        var across = Single(CoexistenceChecker.Check(KernelView.Empty, twoInterfaces), Codes.PeerOverlap);
        Assert.Contains("Both interfaces route fd00:2::/64", across.Message, StringComparison.Ordinal);

        // Disabled sites do not count.
        var disabled = config with { Sites = [Site("a", allowedIps: "10.2.0.0/16"), Site("b", allowedIps: "10.2.1.0/24") with { Enabled = false }] };
        Assert.Empty(CoexistenceChecker.Check(KernelView.Empty, disabled).Findings);
    }

    [Fact]
    public void Ipsec_policy_covering_the_whole_interface_subnet_is_a_warning()
    {
        var kernel = new KernelView { Policies = [Policy(XfrmDirection.Out, "10.1.0.0/24", "10.0.0.0/8")] };
        var finding = Single(CoexistenceChecker.Check(kernel, KernelBuilder.ConfigOf(Interface(addresses: "10.9.0.1/24"))),
            Codes.IpsecCoversInterface);
        Assert.Contains("10.9.0.0/24", finding.Message, StringComparison.Ordinal);
        Assert.Empty(CoexistenceChecker.Check(kernel with { Policies = [Policy(XfrmDirection.Out, "10.1.0.0/24", "10.9.0.0/25")] },
            KernelBuilder.ConfigOf(Interface(addresses: "10.9.0.1/24"))).Findings);
    }

    [Fact]
    public void Unreadable_parts_make_the_report_not_clean()
    {
        var view = new KernelView { Unreadable = ["XFRM policies (IPsec SPD): Permission denied"] };
        var report = CoexistenceChecker.Check(view, OnePeer("10.2.0.0/24"));
        Assert.Empty(report.Findings);
        Assert.Equal(1, report.ExitStatus);
        Assert.Single(report.Unreadable);
        var withError = CoexistenceChecker.Check(view with { Policies = [Policy(XfrmDirection.Out, "0.0.0.0/0", "10.2.0.0/24")] }, OnePeer("10.2.0.0/24"));
        Assert.Equal(2, withError.ExitStatus);
    }

    [Theory]
    [InlineData("192.0.2.1:51820", "192.0.2.1", 51820)]
    [InlineData("[2001:db8::1]:51820", "2001:db8::1", 51820)]
    [InlineData("vpn.example.net:51820", "198.51.100.9", 51820)]
    [InlineData("other.example.net:51820", null, 0)]
    [InlineData("192.0.2.1", null, 0)]
    [InlineData("192.0.2.1:99999", null, 0)]
    [InlineData("10.1:51820", null, 0)]
    [InlineData(null, null, 0)]
    public void Endpoint_addresses_are_literals_or_resolved_names(string? endpoint, string? address, int port)
    {
        var resolved = new Dictionary<string, IPAddress> { ["vpn.example.net"] = IPAddress.Parse("198.51.100.9") };
        var result = CoexistenceChecker.EndpointAddress(endpoint, resolved);
        Assert.Equal(address, result?.Address.ToString());
        Assert.Equal(port, result?.Port ?? 0);
    }
}

public class CoexistenceCheckerScaleTests
{
    [Fact]
    public void Ten_thousand_overlapping_policies_are_checked_quickly()
    {
        var policies = Enumerable.Range(0, 10_000)
            .Select(i => KernelBuilder.Policy(XfrmDirection.Out, "10.1.0.0/24", $"172.16.{i / 256}.{i % 256}/32", priority: (uint)i + 1))
            .Append(KernelBuilder.Policy(XfrmDirection.Out, "0.0.0.0/0", "172.16.0.0/24", priority: 0, templates: false))
            .ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = CoexistenceChecker.Check(new KernelView { Policies = policies, Rules = KernelBuilder.StandardRules() },
            KernelBuilder.OnePeer("172.16.0.0/12"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        Assert.Equal(10_000 - 256, report.Findings.Count); // the first 256 are shadowed by the pass policy
    }
}
