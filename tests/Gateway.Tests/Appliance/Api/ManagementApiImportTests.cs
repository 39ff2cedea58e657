using System.Runtime.Versioning;
using Branchgate.Appliance.Config;
using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Netlink.Route;
using static Branchgate.Tests.Appliance.Api.ApiTestHost;

namespace Branchgate.Tests.Appliance.Api;

/// <summary>POST /v1/interfaces/{name}/import: a wg-quick file becomes the interface and exactly its peers, in one change.</summary>
[SupportedOSPlatform("linux")]
public sealed class ManagementApiImportTests
{
    private static (InterfaceConfig Interface, SiteConfig[] Sites) Office(string name)
    {
        var iface = new InterfaceConfig
        {
            Name = name,
            PrivateKey = WireGuardSecret.GeneratePrivateKey(),
            ListenPort = 51820,
            Addresses = [InterfaceAddress.Parse("10.99.0.1/24")],
            Mtu = 1400,
            Table = "off",
        };
        SiteConfig Site(string site, string subnet, string? endpoint) => new()
        {
            Name = site,
            Interface = name,
            PublicKey = WireGuardSecret.GeneratePrivateKey().DerivePublicKey(),
            PresharedKey = WireGuardSecret.GeneratePresharedKey(),
            Endpoint = endpoint,
            AllowedIps = [IPPrefix.Parse(subnet)],
            PersistentKeepalive = 25,
        };
        return (iface, [Site("branch-b", "10.2.0.0/24", "b.example.net:51820"), Site("branch-c", "10.3.0.0/24", "192.0.2.3:51820")]);
    }

    [Fact]
    public async Task A_wg_quick_file_becomes_the_interface_with_exactly_its_peers_and_unsupported_keys_are_reported()
    {
        await using var host = await StartAsync();
        var (iface, sites) = Office("wg5");
        host.AddSecret(iface.PrivateKey.RevealBase64());
        foreach (var site in sites)
        {
            host.AddSecret(site.PresharedKey!.RevealBase64());
        }

        var file = WgQuickFile.Write(iface, sites).Replace("[Interface]\n", "[Interface]\nPostUp = iptables -A FORWARD -i %i -j ACCEPT\n", StringComparison.Ordinal);
        var answer = await host.SendAsync(HttpMethod.Post, "/v1/interfaces/wg5/import", file);

        Assert.Equal(200, answer.Status);
        var warnings = Json(answer.Body).GetProperty("warnings").EnumerateArray().Select(w => w.GetString()).ToList();
        Assert.Contains(warnings, w => w!.Contains("PostUp", StringComparison.Ordinal));
        Assert.Equal("interface.import", host.Service.Changes[^1].Action);
        var imported = host.Service.Current.FindInterface("wg5");
        Assert.NotNull(imported);
        Assert.Equal(iface.PrivateKey, imported.PrivateKey);
        Assert.Equal(["10.99.0.1/24"], imported.Addresses.Select(a => a.ToString()));
        Assert.Equal("off", imported.Table);
        Assert.Equal(1400, imported.Mtu);
        var importedSites = host.Service.Current.SitesOf("wg5").OrderBy(s => s.Name).ToList();
        Assert.Equal(["branch-b", "branch-c"], importedSites.Select(s => s.Name));
        Assert.Equal(sites.Select(s => s.PublicKey), importedSites.Select(s => s.PublicKey));
        Assert.Equal(sites.Select(s => s.PresharedKey), importedSites.Select(s => s.PresharedKey));
        Assert.Equal("b.example.net:51820", importedSites[0].Endpoint);

        // A second import of the same name replaces the interface and leaves exactly the new file's peers.
        var (_, others) = Office("wg5");
        var smaller = WgQuickFile.Write(iface, [others[1] with { Name = "branch-d" }]);
        Assert.Equal(200, (await host.SendAsync(HttpMethod.Post, "/v1/interfaces/wg5/import", smaller)).Status);
        Assert.Equal(["branch-d"], host.Service.Current.SitesOf("wg5").Select(s => s.Name));
        Assert.NotNull(host.Service.Current.FindInterface("wg0"));
    }

    [Fact]
    public async Task A_file_that_cannot_be_read_is_400_with_its_lines_named_and_changes_nothing()
    {
        await using var host = await StartAsync();

        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/interfaces/wg5/import", "[Interface]\nPrivateKey = nope\nBogus = 1\n"),
            "not valid", "line");
        AssertError(400, await host.SendAsync(HttpMethod.Post, "/v1/interfaces/wg%2F5/import", "[Interface]\n"), "name");
        Assert.Empty(host.Service.Changes);
        Assert.Null(host.Service.Current.FindInterface("wg5"));
    }
}
