using System.Diagnostics;
using System.Net;
using Branchgate.Appliance.Model;
using Branchgate.Interop.Tests.Harness;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Appliance;

/// <summary>
/// Two appliance runtimes in two namespaces joined by a veth "internet", each the other's site: a real tunnel between
/// their LANs, and a branch whose WAN address changes (dynamic IP) found again through DNS re-resolution.
/// </summary>
[Collection("appliance")]
public sealed class ApplianceTunnelTests(ITestOutputHelper output)
{
    private const string BranchName = "branch-b.test:51820";

    [Fact]
    public async Task Two_runtimes_carry_ping_between_their_lans_and_follow_a_changed_wan_address()
    {
        using var a = new NetNs("ta");
        using var b = new NetNs("tb");
        var veth = $"v{Environment.ProcessId % 100000}";
        Shell.Run("ip", ["link", "add", veth + "a", "netns", a.Name, "type", "veth", "peer", "name", veth + "b", "netns", b.Name]);
        a.Exec($"ip addr add 192.168.71.1/24 dev {veth}a && ip link set {veth}a up && " +
            "ip link add lan0 type bridge && ip link set lan0 up && ip addr add 10.1.0.1/24 dev lan0");
        b.Exec($"ip addr add 192.168.71.2/24 dev {veth}b && ip link set {veth}b up && " +
            "ip link add lan0 type bridge && ip link set lan0 up && ip addr add 10.2.0.1/24 dev lan0");

        var nameA = ApplianceTestKit.InterfaceName('h');
        var nameB = ApplianceTestKit.InterfaceName('b');
        var keyA = WireGuardSecret.GeneratePrivateKey();
        var keyB = WireGuardSecret.GeneratePrivateKey();
        var resolver = new FakeResolver();
        resolver.Set(BranchName, IPEndPoint.Parse("192.168.71.2:51820"));
        var logA = new ListLogger(output);
        var hq = ApplianceConfig.Empty
            .WithInterface(new InterfaceConfig { Name = nameA, PrivateKey = keyA, ListenPort = 51820, Addresses = [Platform.Linux.Netlink.Route.InterfaceAddress.Parse("10.99.0.1/24")] })
            .WithSite(ApplianceRuntimeTests.Site(nameA, "branch-b", "10.2.0.0/24", "10.99.0.2/32") with
            {
                PublicKey = keyB.DerivePublicKey(),
                Endpoint = BranchName,
            })
            .WithSite(ApplianceRuntimeTests.Site(nameA, "branch-x", "10.3.0.0/24") with { Endpoint = "nowhere.test:51820" });
        var branch = ApplianceConfig.Empty
            .WithInterface(new InterfaceConfig { Name = nameB, PrivateKey = keyB, ListenPort = 51820, Addresses = [Platform.Linux.Netlink.Route.InterfaceAddress.Parse("10.99.0.2/24")] })
            .WithSite(ApplianceRuntimeTests.Site(nameB, "hq", "10.1.0.0/24", "10.99.0.1/32") with
            {
                PublicKey = keyA.DerivePublicKey(),
                Endpoint = "192.168.71.1:51820",
            });

        await using var runtimeA = ApplianceTestKit.StartIn(a, new InMemoryStore(hq), ApplianceTestKit.Options(logA, resolver));
        await using var runtimeB = ApplianceTestKit.StartIn(b, new InMemoryStore(branch), ApplianceTestKit.Options(new ListLogger(output), resolver));

        Assert.True(Ping(a, TimeSpan.FromSeconds(15)), "no ping through the tunnel from LAN A to LAN B");
        var peerB = runtimeA.Status().Single().Peers.Single(p => p.Name == "branch-b");
        Assert.True(peerB.Online);
        Assert.True(peerB.ReceivedBytes > 0);
        Assert.Equal("192.168.71.2:51820", peerB.Endpoint);

        // The site whose name does not resolve stays configured (no endpoint) and does not disturb the other.
        var x = runtimeA.Status().Single().Peers.Single(p => p.Name == "branch-x");
        Assert.Null(x.Endpoint);
        Assert.Contains(a.Exec($"wg show {nameA} peers").Split('\n'), l => l.Trim() == x.PublicKey);
        Assert.Contains(logA.Lines, l => l.Contains("nowhere.test:51820 did not resolve", StringComparison.Ordinal));

        // The branch's ISP gives it a new address; DNS follows; the tunnel carries traffic again without a restart.
        b.Exec($"ip addr del 192.168.71.2/24 dev {veth}b && ip addr add 192.168.71.3/24 dev {veth}b");
        resolver.Set(BranchName, IPEndPoint.Parse("192.168.71.3:51820"));
        var clock = Stopwatch.StartNew();
        Assert.True(Ping(a, TimeSpan.FromSeconds(40)), "the tunnel did not come back after the WAN address change");
        output.WriteLine($"tunnel back after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Contains(logA.Lines, l => l.Contains(
            $"site {nameA}/branch-b endpoint {BranchName} now 192.168.71.3:51820 (was 192.168.71.2:51820)", StringComparison.Ordinal));
        Assert.Equal("192.168.71.3:51820", runtimeA.Status().Single().Peers.Single(p => p.Name == "branch-b").Endpoint);

        // Roaming: the branch moves again but DNS still says .3. Its own traffic moves A's endpoint to .4, and the
        // reconcile and re-resolve passes (every second here) must not put .3 back.
        b.Exec($"ip addr del 192.168.71.3/24 dev {veth}b && ip addr add 192.168.71.4/24 dev {veth}b");
        Assert.True(Ping(b, "10.2.0.1", "10.1.0.1", TimeSpan.FromSeconds(40)), "no ping from the roamed branch");
        Thread.Sleep(3000);
        Assert.Equal("192.168.71.4:51820", runtimeA.Status().Single().Peers.Single(p => p.Name == "branch-b").Endpoint);
        Assert.True(Ping(a, TimeSpan.FromSeconds(3)), "the roamed endpoint was reset by the runtime");
    }

    /// <summary>Pings (LAN B's address from LAN A's) until one answer comes or the time is up.</summary>
    private static bool Ping(NetNs a, TimeSpan timeout) => Ping(a, "10.1.0.1", "10.2.0.1", timeout);

    private static bool Ping(NetNs ns, string from, string to, TimeSpan timeout) => Shell.WaitFor(
        () => Shell.Run("ip", ["netns", "exec", ns.Name, "ping", "-c", "1", "-W", "1", "-I", from, to], check: false)
            .Contains("1 received", StringComparison.Ordinal),
        timeout, 200);
}
