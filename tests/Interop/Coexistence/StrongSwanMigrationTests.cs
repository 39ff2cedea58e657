using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests.Coexistence;

/// <summary>
/// A real strongSwan site-to-site (charon with kernel-libipsec: userspace ESP through ipsec0, routes in table 220, no
/// XFRM policies) carries 10.1.0.0/24 &lt;-&gt; 10.2.0.0/24 while branchgate carries 10.1.1.0/24 &lt;-&gt; 10.2.1.0/24
/// between the same two sites. Moving 10.2.0.0/24 to WireGuard is refused while strongSwan routes it, allowed once
/// the child SA is gone, and then its traffic crosses the WireGuard interface.
/// </summary>
public class StrongSwanMigrationTests
{
    [Fact]
    public async Task Both_vpns_carry_traffic_then_a_subnet_moves_from_ipsec_to_wireguard()
    {
        using var sites = new WireGuardSites(Implementation.Branchgate, Implementation.Branchgate);
        sites.Configure();
        var (a, b) = (sites.A, sites.B);
        a.Exec("ip link add lan0 type bridge && ip addr add 10.1.0.1/24 dev lan0 && ip addr add 10.1.1.1/24 dev lan0 && ip link set lan0 up");
        b.Exec("ip link add lan0 type bridge && ip addr add 10.2.0.1/24 dev lan0 && ip addr add 10.2.1.1/24 dev lan0 && ip link set lan0 up");
        a.Wg($"set {a.Interface} peer {b.PublicKey} allowed-ips {b.TunnelV4}/32,10.2.1.0/24");
        b.Wg($"set {b.Interface} peer {a.PublicKey} allowed-ips {a.TunnelV4}/32,10.1.1.0/24");
        a.Exec($"ip route add 10.2.1.0/24 dev {a.Interface}");
        b.Exec($"ip route add 10.1.1.0/24 dev {b.Interface}");

        using var swanB = new StrongSwan(b.Namespace, libipsec: true,
            StrongSwan.SiteToSite(b.WanV4, a.WanV4, "b", "a", "10.2.0.0/24", "10.1.0.0/24", "none"));
        using var swanA = new StrongSwan(a.Namespace, libipsec: true,
            StrongSwan.SiteToSite(a.WanV4, b.WanV4, "a", "b", "10.1.0.0/24", "10.2.0.0/24", "start"));
        Assert.True(Shell.WaitFor(() => a.Exec("ip route show table 220", check: false).Contains("10.2.0.0/24 dev ipsec0", StringComparison.Ordinal) &&
            b.Exec("ip route show table 220", check: false).Contains("10.1.0.0/24 dev ipsec0", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), 200), "the IPsec tunnel did not come up: " + swanA.Log[^Math.Min(4000, swanA.Log.Length)..]);

        // Both VPNs at the same time; the IPsec ping crosses ipsec0 (userspace ESP).
        long ipsecBefore = TxPackets(a, "ipsec0");
        var overIpsec = Task.Run(() => a.Exec("ping -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1", check: false));
        var overWireGuard = Task.Run(() => a.Exec("ping -c 5 -i 0.2 -W 2 -I 10.1.1.1 10.2.1.1", check: false));
        Assert.Contains("5 received", await overIpsec, StringComparison.Ordinal);
        Assert.Contains("5 received", await overWireGuard, StringComparison.Ordinal);
        Assert.Contains("dev ipsec0", a.Exec("ip route get 10.2.0.1 from 10.1.0.1"), StringComparison.Ordinal);
        Assert.True(TxPackets(a, "ipsec0") - ipsecBefore >= 5, "the IPsec ping did not cross ipsec0");

        // The change that would move 10.2.0.0/24, as a wg-quick file checked before it is applied: refused.
        var conf = Path.Combine(swanA.Directory, $"{a.Interface}.conf");
        File.WriteAllText(conf, $"""
            [Interface]
            PrivateKey = {File.ReadAllText(a.PrivateKeyFile).Trim()}
            ListenPort = 51820
            Address = {a.TunnelV4}/24

            [Peer]
            PublicKey = {b.PublicKey}
            AllowedIPs = {b.TunnelV4}/32, 10.2.1.0/24, 10.2.0.0/24
            Endpoint = {b.WanV4}:51821
            """);
        var refused = CheckCli.Run(a.Namespace, $"--json --config {conf}");
        Assert.True(refused.ExitCode == 2, refused.ToString());
        var finding = Assert.Single(refused.Findings);
        Assert.Equal("table-220-route", finding.Code);
        Assert.Contains("route 10.2.0.0/24 table 220 dev ipsec0", finding.Objects, StringComparison.Ordinal);
        Assert.Contains("ipsec0", finding.Message, StringComparison.Ordinal);

        // The migration plan says what to do and that the check passes after the IPsec step.
        var plan = CheckCli.Run(a.Namespace, $"--migrate 10.2.0.0/24 --peer {b.PublicKey}");
        Assert.True(plan.ExitCode == 0, plan.ToString());
        Assert.Contains("Step 1: Stop IPsec from carrying 10.2.0.0/24", plan.Stdout, StringComparison.Ordinal);
        Assert.Contains($"$ wg set {a.Interface} peer {b.PublicKey} allowed-ips ", plan.Stdout, StringComparison.Ordinal);
        Assert.Contains("10.2.0.0/24 table 220 dev ipsec0", plan.Stdout, StringComparison.Ordinal);

        // Remove the child SA: strongSwan takes its table-220 routes away on both sides.
        swanA.Swanctl("--terminate --child net");
        Assert.True(Shell.WaitFor(() => !a.Exec("ip route show table 220", check: false).Contains("10.2.0.0/24", StringComparison.Ordinal) &&
            !b.Exec("ip route show table 220", check: false).Contains("10.1.0.0/24", StringComparison.Ordinal), TimeSpan.FromSeconds(15), 200),
            "the child SA's routes stayed");
        var allowed = CheckCli.Run(a.Namespace, $"--json --config {conf}");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());

        // Apply it on both sides and see 10.2.0.0/24 cross the WireGuard interface.
        a.Wg($"set {a.Interface} peer {b.PublicKey} allowed-ips {b.TunnelV4}/32,10.2.1.0/24,10.2.0.0/24");
        b.Wg($"set {b.Interface} peer {a.PublicKey} allowed-ips {a.TunnelV4}/32,10.1.1.0/24,10.1.0.0/24");
        a.Exec($"ip route add 10.2.0.0/24 dev {a.Interface}");
        b.Exec($"ip route add 10.1.0.0/24 dev {b.Interface}");
        long before = TxPackets(a, a.Interface);
        Assert.Contains($"dev {a.Interface}", a.Exec("ip route get 10.2.0.1 from 10.1.0.1"), StringComparison.Ordinal);
        Assert.True(WireGuardSites.Ping(a, "-I 10.1.0.1 10.2.0.1", count: 5), "10.2.0.0/24 over WireGuard");
        long sent = TxPackets(a, a.Interface) - before;
        Assert.True(sent >= 5, $"{a.Interface} sent {sent} packets");
        var live = CheckCli.Run(a.Namespace, $"--json --interface {a.Interface}");
        Assert.True(live.ExitCode == 0, live.ToString());
    }

    private static long TxPackets(Site site, string link) =>
        long.Parse(site.Exec($"cat /sys/class/net/{link}/statistics/tx_packets").Trim(), System.Globalization.CultureInfo.InvariantCulture);
}
