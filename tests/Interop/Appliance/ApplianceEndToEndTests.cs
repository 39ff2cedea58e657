using System.Net;
using Branchgate.Appliance;
using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Config;
using Branchgate.Appliance.Runtime;
using Branchgate.Interop.Tests.Harness;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Appliance;

/// <summary>The runtime with the real validator and endpoint resolver (DNS answered by the test) in a namespace.</summary>
[Collection("appliance")]
public sealed class ApplianceEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Real_validator_and_resolver_apply_valid_changes_and_refuse_invalid_ones()
    {
        using var ns = new NetNs("e2e");
        var name = ApplianceTestKit.InterfaceName('e');
        var answers = new Dictionary<string, IPAddress> { ["branch-b.example.net"] = IPAddress.Parse("203.0.113.7") };
        var resolver = new EndpointResolver(TimeProvider.System, (host, _) =>
            Task.FromResult(answers.TryGetValue(host, out var a) ? new[] { a } : throw new System.Net.Sockets.SocketException(11001)));
        var store = new InMemoryStore();
        var options = new ApplianceRuntimeOptions
        {
            Validate = ConfigValidator.Validate,
            Check = _ => CoexistenceReport.Clean,
            ResolveEndpoint = ApplianceRuntimeOptions.ResolveWith(resolver),
            Logger = new ListLogger(output),
            ReconcileInterval = TimeSpan.FromSeconds(1),
        };
        await using var runtime = ApplianceTestKit.StartIn(ns, store, options);
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
    }
}
