using System.Net;
using Branchgate.Appliance;
using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Config;
using Branchgate.Appliance.Runtime;
using Branchgate.Appliance.Store;
using Branchgate.Interop.Tests.Harness;
using Branchgate.Platform.Linux.Netlink.Route;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Appliance;

/// <summary>
/// The runtime with the real store (LiteDB file), validator and endpoint resolver (DNS answered by the test) in a
/// namespace; a restart from the same store file brings back the same state.
/// </summary>
[Collection("appliance")]
public sealed class ApplianceEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Real_store_validator_and_resolver_apply_valid_changes_refuse_invalid_ones_and_survive_a_restart()
    {
        using var ns = new NetNs("e2e");
        ns.Exec("ip link add lan0 type bridge && ip link set lan0 up && ip addr add 10.1.0.1/24 dev lan0 && " +
            "ip route add 10.5.0.0/24 dev lan0 metric 100");
        var directory = Directory.CreateTempSubdirectory($"bgapp{Environment.ProcessId}-");
        try
        {
            await Run(ns, Path.Combine(directory.FullName, "branchgate.db"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private async Task Run(NetNs ns, string path)
    {
        var name = ApplianceTestKit.InterfaceName('e');
        var answers = new Dictionary<string, IPAddress> { ["branch-b.example.net"] = IPAddress.Parse("203.0.113.7") };
        var resolver = new EndpointResolver(TimeProvider.System, (host, _) =>
            Task.FromResult(answers.TryGetValue(host, out var a) ? new[] { a } : throw new System.Net.Sockets.SocketException(11001)));
        using var store = ApplianceStore.Open(path);
        var options = new ApplianceRuntimeOptions
        {
            Validate = ConfigValidator.Validate,
            Check = CoexistenceChecker.CheckLive,
            ResolveEndpoint = ApplianceRuntimeOptions.ResolveWith(resolver),
            Logger = new ListLogger(output),
            ReconcileInterval = TimeSpan.FromSeconds(1),
        };
        var runtime = ApplianceTestKit.StartIn(ns, store, options);
        try
        {
            await Exercise(ns, name, store, runtime, options);
        }
        finally
        {
            await runtime.DisposeAsync(); // idempotent: also after the restart step disposed it
        }
    }

    private static async Task Exercise(NetNs ns, string name, ApplianceStore store, ApplianceRuntime runtime, ApplianceRuntimeOptions options)
    {
        var admin = new ChangeOptions("admin");

        var iface = ApplianceRuntimeTests.Interface(name, "10.90.0.1/24") with { ListenPort = 51820 };
        var b = ApplianceRuntimeTests.Site(name, "branch-b", "10.2.0.0/24") with { Endpoint = "branch-b.example.net:51820" };
        var result = await runtime.ChangeAsync("interface.create", name, cfg => cfg.WithInterface(iface).WithSite(b), admin);
        Assert.True(result.Applied, result.Failure);
        Assert.Equal([$"10.2.0.0/24 main {name} 98"], ApplianceRuntimeTests.OurRoutes(ns));
        Assert.Contains("203.0.113.7:51820", ns.Exec($"wg show {name} endpoints"), StringComparison.Ordinal);

        // Two sites claiming overlapping subnets: the real validator refuses, nothing changes.
        var before = ns.Exec($"wg show {name} dump") + string.Join(",", ApplianceRuntimeTests.OurRoutes(ns));
        var overlap = ApplianceRuntimeTests.Site(name, "branch-c", "10.2.0.128/25");
        result = await runtime.ChangeAsync("site.create", $"{name}/branch-c", cfg => cfg.WithSite(overlap), admin);
        Assert.False(result.Applied);
        Assert.NotEmpty(result.ValidationErrors);
        Assert.All(result.ValidationErrors, e => Assert.StartsWith("site ", e, StringComparison.Ordinal));
        Assert.Equal(before, ns.Exec($"wg show {name} dump") + string.Join(",", ApplianceRuntimeTests.OurRoutes(ns)));

        // An MTU the validator refuses.
        result = await runtime.ChangeAsync("interface.update", name, cfg => cfg.WithInterface(iface with { Mtu = 100 }), admin);
        Assert.False(result.Applied);
        Assert.Contains(result.ValidationErrors, e => e.Contains("mtu", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(1420, ns.IpJson($"link show dev {name}")[0].GetProperty("mtu").GetInt32());

        // A valid MTU change is applied; the stored config is what runs.
        result = await runtime.ChangeAsync("interface.update", name, cfg => cfg.WithInterface(iface with { Mtu = 1380 }), admin);
        Assert.True(result.Applied, result.Failure);
        Assert.Equal(1380, ns.IpJson($"link show dev {name}")[0].GetProperty("mtu").GetInt32());
        Assert.Equal(1380, store.LoadConfig().FindInterface(name)!.Mtu);
        Assert.Equal(0, await runtime.ReconcileAsync());

        // The store's audit log, newest first: two applied changes, two refused ones, no secret anywhere.
        var audit = store.ReadAudit();
        Assert.Equal(["interface.update", "interface.update", "site.create", "interface.create"], audit.Take(4).Select(a => a.Action));
        Assert.Equal(2, audit.Count(a => a.Succeeded));
        Assert.Equal(2, audit.Count(a => !a.Succeeded));
        Assert.All(audit, a => Assert.DoesNotContain(iface.PrivateKey.RevealBase64(), a.Before + a.After + a.Detail, StringComparison.Ordinal));

        // The real coexistence check, in the runtime's namespace: a site over the LAN subnet is an error (refused,
        // then forced and audited so); a site over a route via another interface is a warning (applied, noted).
        var overLan = ApplianceRuntimeTests.Site(name, "lan-site", "10.1.0.0/24");
        result = await runtime.ChangeAsync("site.create", $"{name}/lan-site", cfg => cfg.WithSite(overLan), admin);
        Assert.False(result.Applied);
        Assert.Contains(result.Check.Errors, f => f.Code == "lan-overlap");
        // Forcing the LAN's very prefix still fails: the kernel refuses a second route with the same prefix and metric
        // (the connected route of lan0), and the change is rolled back.
        result = await runtime.ChangeAsync("site.create", $"{name}/lan-site", cfg => cfg.WithSite(overLan), admin with { Force = true });
        Assert.False(result.Applied);
        Assert.Contains("File exists", result.Failure, StringComparison.Ordinal);
        overLan = overLan with { AllowedIps = [IPPrefix.Parse("10.1.0.0/25")] };
        result = await runtime.ChangeAsync("site.create", $"{name}/lan-site", cfg => cfg.WithSite(overLan), admin with { Force = true });
        Assert.True(result.Applied, result.Failure);
        Assert.Contains(result.Check.Errors, f => f.Code == "lan-overlap");
        var forced = store.ReadAudit(take: 1).Single();
        Assert.True(forced.Forced);
        Assert.Contains("lan-overlap", forced.Detail, StringComparison.Ordinal);
        var shadowed = ApplianceRuntimeTests.Site(name, "shadowed", "10.5.0.0/24");
        result = await runtime.ChangeAsync("site.create", $"{name}/shadowed", cfg => cfg.WithSite(shadowed), admin);
        Assert.True(result.Applied, result.Failure);
        Assert.Contains(result.Check.Warnings, f => f.Code == "route-via-other-interface");
        Assert.Contains("route-via-other-interface", store.ReadAudit(take: 1).Single().Detail, StringComparison.Ordinal);
        Assert.Equal(100, Assert.Single(ns.IpJson("route show 10.5.0.0/24 dev lan0").EnumerateArray()).GetProperty("metric").GetInt32());
        Assert.Equal([$"10.1.0.0/25 main {name} 98", $"10.2.0.0/24 main {name} 98", $"10.5.0.0/24 main {name} 98"],
            ApplianceRuntimeTests.OurRoutes(ns));

        // Stop (the interface goes) and start again from the same file: the same device and kernel state.
        var state = ns.Exec($"wg show {name} dump") + string.Join(",", ApplianceRuntimeTests.OurRoutes(ns)) +
            string.Join(",", ApplianceRuntimeTests.GlobalAddresses(ns, name));
        await runtime.DisposeAsync();
        Assert.Empty(ApplianceRuntimeTests.OurRoutes(ns));
        await using var again = ApplianceTestKit.StartIn(ns, store, options);
        Assert.Equal(state, ns.Exec($"wg show {name} dump") + string.Join(",", ApplianceRuntimeTests.OurRoutes(ns)) +
            string.Join(",", ApplianceRuntimeTests.GlobalAddresses(ns, name)));
    }
}
