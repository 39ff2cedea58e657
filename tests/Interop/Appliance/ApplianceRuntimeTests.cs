using System.Text.Json;
using Branchgate.Appliance;
using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Model;
using Branchgate.Interop.Tests.Harness;
using Branchgate.Platform.Linux.Netlink.Route;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Appliance;

/// <summary>
/// The appliance runtime against the real kernel, in namespaces these tests create: what it applies shows up in
/// `ip` and `wg` exactly; drift is repaired; only its own routes are ever touched; failed changes leave everything as
/// it was.
/// </summary>
[Collection("appliance")]
public sealed class ApplianceRuntimeTests(ITestOutputHelper output)
{
    private static readonly ChangeOptions Admin = new("admin");

    [Fact]
    public async Task Applies_two_sites_exactly_repairs_drift_and_removes_only_its_own_routes()
    {
        using var ns = new NetNs("rt");
        ns.Exec("ip link add lan0 type bridge && ip link set lan0 up && ip addr add 10.1.0.1/24 dev lan0");
        var logger = new ListLogger(output);
        var store = new InMemoryStore();
        var name = ApplianceTestKit.InterfaceName('a');
        await using var runtime = ApplianceTestKit.StartIn(ns, store, ApplianceTestKit.Options(logger, new FakeResolver()));

        var b = Site(name, "branch-b", "10.2.0.0/24", "fd02::/64") with { Endpoint = "192.0.2.2:51820" };
        var c = Site(name, "branch-c", "10.3.0.0/24") with { PersistentKeepalive = 25, PresharedKey = WireGuardSecret.GeneratePresharedKey() };
        var d = Site(name, "branch-d", "10.4.0.0/24") with { Enabled = false };
        var iface = Interface(name, "10.90.0.1/24", "fd90::1/64") with { ListenPort = 51999, FwMark = 0x1234 };
        var result = await runtime.ChangeAsync("interface.create", name,
            cfg => cfg.WithInterface(iface).WithSite(b).WithSite(c).WithSite(d), Admin);
        Assert.True(result.Applied, result.Failure);

        // Addresses and routes exactly as configured, with our protocol.
        Assert.Equal(["10.90.0.1/24", "fd90::1/64"], GlobalAddresses(ns, name));
        Assert.Equal([$"10.2.0.0/24 main {name} 98", $"10.3.0.0/24 main {name} 98", $"fd02::/64 main {name} 98"], OurRoutes(ns));
        var link = ns.IpJson($"link show dev {name}")[0];
        Assert.Equal(1420, link.GetProperty("mtu").GetInt32());
        Assert.Contains("UP", link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

        // wg show through the UAPI socket: port, fwmark, the two enabled sites, the endpoint, the keepalive.
        Assert.Equal("51999", ns.Exec($"wg show {name} listen-port").Trim());
        Assert.Equal("0x1234", ns.Exec($"wg show {name} fwmark").Trim());
        Assert.Equal(iface.PublicKey.ToBase64(), ns.Exec($"wg show {name} public-key").Trim());
        var peers = ns.Exec($"wg show {name} dump").Trim().Split('\n').Skip(1).Select(l => l.Split('\t')).ToList();
        Assert.Equal(2, peers.Count);
        var bLine = peers.Single(p => p[0] == b.PublicKey.ToBase64());
        Assert.Equal("192.0.2.2:51820", bLine[2]);
        Assert.Equal("10.2.0.0/24,fd02::/64", bLine[3]);
        var cLine = peers.Single(p => p[0] == c.PublicKey.ToBase64());
        Assert.Equal("25", cLine[7]);
        Assert.Equal(c.PresharedKey!.RevealBase64(), cLine[1]);

        // Idempotent: a second pass changes nothing.
        Assert.Equal(0, await runtime.ReconcileAsync());
        Assert.Equal(0, await runtime.ReconcileAsync());

        // Drift: a route deleted by hand, an address added by hand, the link set down: repaired by the loop.
        ns.Exec($"ip route del 10.2.0.0/24 dev {name} && ip addr add 10.91.0.1/24 dev {name}");
        Assert.True(ApplianceTestKit.WaitFor(() => OurRoutes(ns).Contains($"10.2.0.0/24 main {name} 98") &&
            GlobalAddresses(ns, name).SequenceEqual(["10.90.0.1/24", "fd90::1/64"]), TimeSpan.FromSeconds(8)),
            "the reconcile loop did not restore the deleted route / remove the foreign address");

        // The interface deleted by hand: recreated with its peers, addresses and routes.
        ns.Exec($"ip link del {name}");
        Assert.True(ApplianceTestKit.WaitFor(() => OurRoutes(ns).Count == 3 &&
            ns.Exec($"wg show {name} peers 2>/dev/null", check: false).Trim().Split('\n').Length == 2, TimeSpan.FromSeconds(10)),
            "the reconcile loop did not recreate the deleted interface");
        Assert.Equal(["10.90.0.1/24", "fd90::1/64"], GlobalAddresses(ns, name));

        // Foreign routes to the same prefix: another table, and another interface with another metric.
        ns.Exec("ip route add 10.3.0.0/24 dev lan0 table 100 && ip route add 10.3.0.0/24 dev lan0 metric 50 && " +
            "ip route add 10.3.0.0/24 dev lan0 table 101 proto 98");
        var foreignBefore = ForeignRoutes(ns, name);
        result = await runtime.ChangeAsync("site.delete", $"{name}/branch-c", cfg => cfg.WithoutSite(name, "branch-c"), Admin);
        Assert.True(result.Applied, result.Failure);
        Assert.Equal([$"10.2.0.0/24 main {name} 98", $"fd02::/64 main {name} 98"], OurRoutes(ns));
        Assert.Equal(foreignBefore, ForeignRoutes(ns, name));
        Assert.Single(ns.Exec($"wg show {name} peers").Trim().Split('\n'));

        // Disabling a site removes its peer and routes; enabling it again brings them back.
        result = await runtime.ChangeAsync("site.update", $"{name}/branch-b", cfg => cfg.WithSite(b with { Enabled = false }), Admin);
        Assert.True(result.Applied, result.Failure);
        Assert.Empty(OurRoutes(ns));
        Assert.Equal("", ns.Exec($"wg show {name} peers").Trim());
        result = await runtime.ChangeAsync("site.update", $"{name}/branch-b", cfg => cfg.WithSite(b), Admin);
        Assert.True(result.Applied, result.Failure);
        Assert.Equal([$"10.2.0.0/24 main {name} 98", $"fd02::/64 main {name} 98"], OurRoutes(ns));

        // The audit log: every change, no secret in it.
        var audit = store.Audit;
        Assert.Equal(4, audit.Count);
        Assert.All(audit, a => Assert.True(a.Succeeded));
        var secrets = new[] { iface.PrivateKey.RevealBase64(), c.PresharedKey.RevealBase64() };
        Assert.All(audit, a => Assert.DoesNotContain(secrets, s => (a.Before + a.After).Contains(s, StringComparison.Ordinal)));
        using (var after = JsonDocument.Parse(audit[0].After!))
        {
            Assert.Equal(iface.PublicKey.ToBase64(), after.RootElement.GetProperty("interfaces")[0].GetProperty("publicKey").GetString());
        }

        // Status from the device.
        var status = Assert.Single(runtime.Status());
        Assert.True(status.Up);
        Assert.Equal(2, status.Peers.Count); // branch-b and the disabled branch-d
        Assert.Equal("192.0.2.2:51820", status.Peers.Single(p => p.Name == "branch-b").Endpoint);
        Assert.Contains("DecryptionFailed", status.Drops.Keys);

        // Removing the interface removes the link and thereby its routes; the foreign ones stay.
        result = await runtime.ChangeAsync("interface.delete", name, cfg => cfg.WithoutInterface(name), Admin);
        Assert.True(result.Applied, result.Failure);
        Assert.Equal("", ns.Exec($"ip link show dev {name} 2>/dev/null || true").Trim());
        Assert.Empty(OurRoutes(ns));
        Assert.Equal(foreignBefore, ForeignRoutes(ns, name));
    }

    [Fact]
    public async Task Refused_and_failed_changes_leave_kernel_and_device_as_they_were()
    {
        using var ns = new NetNs("rf");
        ns.Exec("ip link add lan0 type bridge && ip link set lan0 up && ip route add 10.77.0.0/24 dev lan0 && " +
            "ip addr add 192.0.2.1/24 dev lan0");
        var logger = new ListLogger(output);
        var store = new InMemoryStore();
        var name = ApplianceTestKit.InterfaceName('f');
        var options = ApplianceTestKit.Options(logger, new FakeResolver(),
            validate: cfg => cfg.Sites.Any(s => s.Name == "invalid") ? ["site invalid: the name is reserved for this test"] : [],
            check: cfg => cfg.Sites.Any(s => s.Name == "conflict")
                ? new CoexistenceReport([new Finding(FindingSeverity.Error, "ipsec-policy-overlap", "10.8.0.0/24 overlaps an IPsec policy", ["xfrm policy out ..."])], [])
                : CoexistenceReport.Clean);
        await using var runtime = ApplianceTestKit.StartIn(ns, store, options);
        var result = await runtime.ChangeAsync("interface.create", name, cfg => cfg
            .WithInterface(Interface(name, "10.90.0.1/24"))
            .WithSite(Site(name, "branch-b", "10.2.0.0/24") with { Endpoint = "192.0.2.2:51820" }), Admin);
        Assert.True(result.Applied, result.Failure);
        var before = Kernel(ns, name);
        var config = runtime.Current;

        // Invalid: refused, nothing changed, audited as not succeeded.
        result = await runtime.ChangeAsync("site.create", $"{name}/invalid", cfg => cfg.WithSite(Site(name, "invalid", "10.5.0.0/24")), Admin);
        Assert.False(result.Applied);
        Assert.Single(result.ValidationErrors);
        Assert.Contains("not valid", result.Failure);
        Assert.Equal(before, Kernel(ns, name));

        // The kernel refuses a route midway (10.77.0.0/24 via lan0 already in main): the peer and the first route
        // that were added are taken back.
        result = await runtime.ChangeAsync("site.create", $"{name}/branch-e",
            cfg => cfg.WithSite(Site(name, "branch-e", "10.6.0.0/24", "10.77.0.0/24")), Admin);
        Assert.False(result.Applied);
        Assert.Contains("rolled back", result.Failure);
        Assert.Contains("File exists", result.Failure);
        Assert.Equal(before, Kernel(ns, name));
        Assert.Same(config, runtime.Current);

        // The store fails to commit: rolled back too.
        store.FailNextCommit = true;
        result = await runtime.ChangeAsync("site.create", $"{name}/branch-f", cfg => cfg.WithSite(Site(name, "branch-f", "10.7.0.0/24")), Admin);
        Assert.False(result.Applied);
        Assert.Contains("disk full", result.Failure);
        Assert.Equal(before, Kernel(ns, name));

        // Coexistence errors: refused without force; applied with force and audited as forced.
        var conflict = Site(name, "conflict", "10.8.0.0/24");
        result = await runtime.ChangeAsync("site.create", $"{name}/conflict", cfg => cfg.WithSite(conflict), Admin);
        Assert.False(result.Applied);
        Assert.True(result.Check.HasErrors);
        Assert.Equal(before, Kernel(ns, name));
        result = await runtime.ChangeAsync("site.create", $"{name}/conflict", cfg => cfg.WithSite(conflict), Admin with { Force = true });
        Assert.True(result.Applied, result.Failure);
        Assert.Contains($"10.8.0.0/24 main {name} 98", OurRoutes(ns));
        var last = store.Audit[^1];
        Assert.True(last.Forced);
        Assert.True(last.Succeeded);
        Assert.Contains("ipsec-policy-overlap", last.Detail);
        Assert.Equal(4, store.Audit.Count(a => !a.Succeeded));
        Assert.Equal(0, await runtime.ReconcileAsync());

        // The accepted error does not make the next, unrelated change need force.
        result = await runtime.ChangeAsync("site.create", $"{name}/branch-g", cfg => cfg.WithSite(Site(name, "branch-g", "10.9.0.0/24")), Admin);
        Assert.True(result.Applied, result.Failure);
        Assert.True(result.Check.HasErrors);
        Assert.False(store.Audit[^1].Forced);

        // Traffic for branch-b starts a handshake nobody answers (192.0.2.2 does not exist): counted as a failure
        // when the device retries after REKEY_TIMEOUT (5 s).
        ns.Exec("ping -c 1 -W 1 10.2.0.9", check: false);
        Assert.True(ApplianceTestKit.WaitFor(() => runtime.Status().Single().Peers.Single(p => p.Name == "branch-b").HandshakeFailures > 0,
            TimeSpan.FromSeconds(15)), "no handshake failure counted");
        Assert.False(runtime.Status().Single().Peers.Single(p => p.Name == "branch-b").Online);
    }

    [Fact]
    public async Task Reload_rereads_the_store_and_dispose_removes_the_interfaces()
    {
        using var ns = new NetNs("rl");
        var name = ApplianceTestKit.InterfaceName('r');
        var store = new InMemoryStore(ApplianceConfig.Empty
            .WithInterface(Interface(name, "10.90.0.1/24") with { Table = "100", Mtu = 1380 })
            .WithSite(Site(name, "branch-b", "10.2.0.0/24")));
        var runtime = ApplianceTestKit.StartIn(ns, store, ApplianceTestKit.Options(new ListLogger(output), new FakeResolver()));
        try
        {
            Assert.Equal([$"10.2.0.0/24 100 {name} 98"], OurRoutes(ns));
            Assert.True(runtime.IsHealthy);
            Assert.Equal(1380, ns.IpJson($"link show dev {name}")[0].GetProperty("mtu").GetInt32());
            store.Overwrite(store.LoadConfig().WithSite(Site(name, "branch-c", "10.3.0.0/24")));
            var result = await runtime.ReloadAsync();
            Assert.True(result.Applied, result.Failure);
            Assert.Equal([$"10.2.0.0/24 100 {name} 98", $"10.3.0.0/24 100 {name} 98"], OurRoutes(ns));

            // Another table moves the routes; "off" removes them.
            var iface = store.LoadConfig().FindInterface(name)!;
            store.Overwrite(store.LoadConfig().WithInterface(iface with { Table = "auto" }));
            Assert.True((await runtime.ReloadAsync()).Applied);
            Assert.Equal([$"10.2.0.0/24 main {name} 98", $"10.3.0.0/24 main {name} 98"], OurRoutes(ns));
            store.Overwrite(store.LoadConfig().WithInterface(iface with { Table = "off" }));
            Assert.True((await runtime.ReloadAsync()).Applied);
            Assert.Empty(OurRoutes(ns));
            Assert.Equal(2, ns.Exec($"wg show {name} peers").Trim().Split('\n').Length);
        }
        finally
        {
            await runtime.DisposeAsync();
        }

        Assert.Equal("", ns.Exec($"ip link show dev {name} 2>/dev/null || true").Trim());
        Assert.False(File.Exists($"/var/run/wireguard/{name}.sock"));
    }

    internal static InterfaceConfig Interface(string name, params string[] addresses) => new()
    {
        Name = name,
        PrivateKey = WireGuardSecret.GeneratePrivateKey(),
        Addresses = [.. addresses.Select(InterfaceAddress.Parse)],
    };

    internal static SiteConfig Site(string iface, string name, params string[] allowed) => new()
    {
        Name = name,
        Interface = iface,
        PublicKey = WireGuardSecret.GeneratePrivateKey().DerivePublicKey(),
        AllowedIps = [.. allowed.Select(IPPrefix.Parse)],
    };

    internal static List<string> GlobalAddresses(NetNs ns, string link) =>
        [.. ns.IpJson($"addr show dev {link}")[0].GetProperty("addr_info").EnumerateArray()
            .Where(a => a.GetProperty("scope").GetString() == "global")
            .Select(a => $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}")];

    private static IEnumerable<JsonElement> AllRoutes(NetNs ns) =>
        ns.IpJson("-4 route show table all").EnumerateArray().Concat(ns.IpJson("-6 route show table all").EnumerateArray());

    private static string Describe(JsonElement r) =>
        $"{r.GetProperty("dst").GetString()} {(r.TryGetProperty("table", out var t) ? t.GetString() : "main")} " +
        $"{(r.TryGetProperty("dev", out var d) ? d.GetString() : "-")} {Protocol(r)}";

    private static string? Protocol(JsonElement r) => r.TryGetProperty("protocol", out var p) ? p.GetString() : null;

    /// <summary>Routes with protocol 98 via any interface, sorted ("10.2.0.0/24 main wg0 98").</summary>
    internal static List<string> OurRoutes(NetNs ns) =>
        [.. AllRoutes(ns).Where(r => Protocol(r) == "98" &&
            r.TryGetProperty("dev", out var dev) && dev.GetString()!.StartsWith("ar", StringComparison.Ordinal))
            .Select(Describe).Order(StringComparer.Ordinal)];

    /// <summary>Every route not via <paramref name="link"/>, with its metric.</summary>
    private static List<string> ForeignRoutes(NetNs ns, string link) =>
        [.. AllRoutes(ns).Where(r => !(r.TryGetProperty("dev", out var dev) && dev.GetString() == link))
            .Select(r => Describe(r) + (r.TryGetProperty("metric", out var m) ? " metric " + m.GetInt32() : ""))
            .Order(StringComparer.Ordinal)];

    /// <summary>Everything the runtime could have touched: addresses, routes of every table, and the device as `wg show dump` prints it.</summary>
    private static string Kernel(NetNs ns, string link) =>
        string.Join('\n', GlobalAddresses(ns, link)) + "\n" +
        string.Join('\n', AllRoutes(ns).Select(r => r.GetRawText()).Order(StringComparer.Ordinal)) + "\n" +
        ns.Exec($"wg show {link} dump");
}
