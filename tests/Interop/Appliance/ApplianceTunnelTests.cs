using System.Diagnostics;
using System.Net;
using Branchgate.Appliance.Model;
using Branchgate.Appliance.Runtime;
using Branchgate.Interop.Tests.Harness;
using Branchgate.Platform.Linux.Netlink.Route;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Appliance;

/// <summary>
/// Two appliance runtimes in two namespaces joined by a veth "internet", each the other's site: a real tunnel between
/// their LANs (10.1.0.0/24 at the head office A, 10.2.0.0/24 at branch B), and a branch whose WAN address changes
/// (dynamic IP) found again through DNS re-resolution.
/// </summary>
[Collection("appliance")]
public sealed class ApplianceTunnelTests(ITestOutputHelper output)
{
    private const string BranchName = "branch-b.test:51820";

    [Fact]
    public async Task Two_runtimes_carry_ping_between_their_lans_and_follow_a_changed_wan_address()
    {
        await using var t = new TwoSites(output, keepalive: 0, configure: o => o);
        var (a, b, runtimeA) = (t.A, t.B, t.RuntimeA);

        Assert.True(Ping(a, TimeSpan.FromSeconds(15)), "no ping through the tunnel from LAN A to LAN B");
        var peerB = runtimeA.Status().Single().Peers.Single(p => p.Name == "branch-b");
        Assert.True(peerB.Online);
        Assert.True(peerB.ReceivedBytes > 0);
        Assert.Equal("192.168.71.2:51820", peerB.Endpoint);

        // The site whose name does not resolve stays configured (no endpoint) and does not disturb the other.
        var x = runtimeA.Status().Single().Peers.Single(p => p.Name == "branch-x");
        Assert.Null(x.Endpoint);
        Assert.Contains(a.Exec($"wg show {t.NameA} peers").Split('\n'), l => l.Trim() == x.PublicKey);
        Assert.Contains(t.LogA.Lines, l => l.Contains("nowhere.test:51820 did not resolve", StringComparison.Ordinal));

        // The branch's ISP gives it a new address; DNS follows; the tunnel carries traffic again without a restart.
        t.MoveBranch(".2", ".3");
        var clock = Stopwatch.StartNew();
        Assert.True(Ping(a, TimeSpan.FromSeconds(40)), "the tunnel did not come back after the WAN address change");
        output.WriteLine($"tunnel back after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Contains(t.LogA.Lines, l => l.Contains(
            $"site {t.NameA}/branch-b endpoint {BranchName} now 192.168.71.3:51820 (was 192.168.71.2:51820)", StringComparison.Ordinal));
        Assert.Equal("192.168.71.3:51820", runtimeA.Status().Single().Peers.Single(p => p.Name == "branch-b").Endpoint);

        // Roaming: the branch moves again but DNS still says .3. Its own traffic moves A's endpoint to .4, and the
        // reconcile and re-resolve passes (every second here) must not put .3 back.
        b.Exec($"ip addr del 192.168.71.3/24 dev {t.Veth}b && ip addr add 192.168.71.4/24 dev {t.Veth}b");
        Assert.True(Ping(b, "10.2.0.1", "10.1.0.1", TimeSpan.FromSeconds(40)), "no ping from the roamed branch");
        Thread.Sleep(3000);
        Assert.Equal("192.168.71.4:51820", runtimeA.Status().Single().Peers.Single(p => p.Name == "branch-b").Endpoint);
        Assert.True(Ping(a, TimeSpan.FromSeconds(3)), "the roamed endpoint was reset by the runtime");
    }

    [Fact]
    public async Task A_peer_without_handshakes_has_its_name_resolved_early()
    {
        // Periodic re-resolution is an hour away; a peer with keepalive that has had no handshake for 4 s is due early.
        await using var t = new TwoSites(output, keepalive: 1, configure: o => o with
        {
            ReResolveInterval = TimeSpan.FromHours(1),
            EarlyResolveAfter = TimeSpan.FromSeconds(4),
        });
        Assert.True(Ping(t.A, TimeSpan.FromSeconds(15)), "no ping through the tunnel");
        t.MoveBranch(".2", ".3");
        Assert.True(Ping(t.A, TimeSpan.FromSeconds(30)), "the tunnel did not come back by early re-resolution");
        Assert.Contains(t.LogA.Lines, l => l.Contains($"endpoint {BranchName} of site {t.NameA}/branch-b is due early", StringComparison.Ordinal));
        Assert.Contains(t.LogA.Lines, l => l.Contains("now 192.168.71.3:51820 (was 192.168.71.2:51820)", StringComparison.Ordinal));
    }

    private static bool Ping(NetNs a, TimeSpan timeout) => Ping(a, "10.1.0.1", "10.2.0.1", timeout);

    /// <summary>Pings until one answer comes or the time is up.</summary>
    private static bool Ping(NetNs ns, string from, string to, TimeSpan timeout) => Shell.WaitFor(
        () => Shell.Run("ip", ["netns", "exec", ns.Name, "ping", "-c", "1", "-W", "1", "-I", from, to], check: false)
            .Contains("1 received", StringComparison.Ordinal),
        timeout, 200);

    /// <summary>
    /// Namespaces A and B joined by a veth (192.168.71.1 and .2), a LAN bridge in each, and a runtime in each with
    /// the other as its site. A knows B by the name branch-b.test (answered by <see cref="Resolver"/>), and has a
    /// second site whose name never resolves; B knows A by its address.
    /// </summary>
    private sealed class TwoSites : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _runtimes = [];

        public TwoSites(ITestOutputHelper output, ushort keepalive, Func<ApplianceRuntimeOptions, ApplianceRuntimeOptions> configure)
        {
            A = new NetNs("ta");
            B = new NetNs("tb");
            try
            {
                Veth = $"v{Environment.ProcessId % 100000}";
                Shell.Run("ip", ["link", "add", Veth + "a", "netns", A.Name, "type", "veth", "peer", "name", Veth + "b", "netns", B.Name]);
                A.Exec($"ip addr add 192.168.71.1/24 dev {Veth}a && ip link set {Veth}a up && " +
                    "ip link add lan0 type bridge && ip link set lan0 up && ip addr add 10.1.0.1/24 dev lan0");
                B.Exec($"ip addr add 192.168.71.2/24 dev {Veth}b && ip link set {Veth}b up && " +
                    "ip link add lan0 type bridge && ip link set lan0 up && ip addr add 10.2.0.1/24 dev lan0");

                NameA = ApplianceTestKit.InterfaceName('h');
                var nameB = ApplianceTestKit.InterfaceName('b');
                var keyA = WireGuardSecret.GeneratePrivateKey();
                var keyB = WireGuardSecret.GeneratePrivateKey();
                Resolver.Set(BranchName, IPEndPoint.Parse("192.168.71.2:51820"));
                LogA = new ListLogger(output);
                var hq = ApplianceConfig.Empty
                    .WithInterface(new InterfaceConfig { Name = NameA, PrivateKey = keyA, ListenPort = 51820, Addresses = [InterfaceAddress.Parse("10.99.0.1/24")] })
                    .WithSite(ApplianceRuntimeTests.Site(NameA, "branch-b", "10.2.0.0/24", "10.99.0.2/32") with
                    {
                        PublicKey = keyB.DerivePublicKey(),
                        Endpoint = BranchName,
                        PersistentKeepalive = keepalive,
                    })
                    .WithSite(ApplianceRuntimeTests.Site(NameA, "branch-x", "10.3.0.0/24") with { Endpoint = "nowhere.test:51820" });
                var branch = ApplianceConfig.Empty
                    .WithInterface(new InterfaceConfig { Name = nameB, PrivateKey = keyB, ListenPort = 51820, Addresses = [InterfaceAddress.Parse("10.99.0.2/24")] })
                    .WithSite(ApplianceRuntimeTests.Site(nameB, "hq", "10.1.0.0/24", "10.99.0.1/32") with
                    {
                        PublicKey = keyA.DerivePublicKey(),
                        Endpoint = "192.168.71.1:51820",
                    });

                RuntimeA = ApplianceTestKit.StartIn(A, new InMemoryStore(hq), configure(ApplianceTestKit.Options(LogA, Resolver)));
                _runtimes.Add(RuntimeA);
                _runtimes.Add(ApplianceTestKit.StartIn(B, new InMemoryStore(branch), ApplianceTestKit.Options(new ListLogger(output), Resolver)));
            }
            catch
            {
                DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
        }

        public NetNs A { get; }

        public NetNs B { get; }

        public string Veth { get; } = "";

        public string NameA { get; } = "";

        public FakeResolver Resolver { get; } = new();

        public ListLogger LogA { get; } = new();

        public ApplianceRuntime RuntimeA { get; } = null!;

        /// <summary>Moves B's WAN address (192.168.71{from} to 192.168.71{to}) and makes DNS answer the new one.</summary>
        public void MoveBranch(string from, string to)
        {
            B.Exec($"ip addr del 192.168.71{from}/24 dev {Veth}b && ip addr add 192.168.71{to}/24 dev {Veth}b");
            Resolver.Set(BranchName, IPEndPoint.Parse($"192.168.71{to}:51820"));
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var runtime in _runtimes)
            {
                await runtime.DisposeAsync();
            }

            B.Dispose();
            A.Dispose();
        }
    }
}
