using Branchgate.Appliance.Config;
using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Netlink.Route;
using static Branchgate.Tests.Appliance.Config.ConfigTestData;

namespace Branchgate.Tests.Appliance.Config;

public sealed class WgQuickWriteTests
{
    internal static (InterfaceConfig Interface, List<SiteConfig> Sites) FullExample()
    {
        var iface = Interface("wg7", 51820, "10.99.0.1/24", "fd99::1/64") with
        {
            Mtu = 1400,
            FwMark = 0xca6c,
            Table = "1234",
            Dns = ["10.99.0.53", "fd99::53", "corp.example.com"],
        };
        List<SiteConfig> sites =
        [
            Site("branch-b", "wg7", "192.168.20.0/24", "10.99.0.2/32") with
            {
                Endpoint = "198.51.100.20:51820",
                PersistentKeepalive = 25,
                PresharedKey = WireGuardSecret.GeneratePresharedKey(),
                Description = "Lyon office, fibre",
            },
            Site("branch-v6", "wg7", "2001:db8:20::/48") with { Endpoint = "[2001:db8::20]:51821" },
            Site("branch-dns", "wg7", "192.168.30.0/24") with { Endpoint = "vpn.branch-c.example.net:443", PersistentKeepalive = 65535 },
            Site("anna.laptop", "wg7", "10.99.0.50/32", "fd99::50/128") with { Kind = SiteKind.RemoteWorker },
            Site("odd-worker", "wg7", "10.99.1.0/24") with { Kind = SiteKind.RemoteWorker },
            Site("odd-site", "wg7", "10.99.0.60/32") with { Kind = SiteKind.Site },
            Site("no-ips", "wg7"),
        ];
        return (iface, sites);
    }

    [Fact]
    public void A_round_trip_keeps_every_supported_field()
    {
        var (iface, sites) = FullExample();
        var text = WgQuickFile.Write(iface, sites);
        var parsed = WgQuickFile.Parse(text, "wg7");
        Assert.Empty(parsed.Errors);
        Assert.Empty(parsed.Warnings);
        AssertSameInterface(iface, parsed.Interface!);
        AssertSameSites(sites, parsed.Sites);
    }

    [Fact]
    public void A_minimal_interface_round_trips_with_defaults_left_out()
    {
        var iface = Interface("wg0", 0);
        var text = WgQuickFile.Write(iface, []);
        Assert.DoesNotContain("ListenPort", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Table", text, StringComparison.Ordinal);
        Assert.DoesNotContain("FwMark", text, StringComparison.Ordinal);
        Assert.DoesNotContain("MTU", text, StringComparison.Ordinal);
        AssertSameInterface(iface, WgQuickFile.Parse(text, "wg0").Interface!);
    }

    [Fact]
    public void Names_kinds_and_descriptions_are_comments_before_the_peer()
    {
        var (iface, sites) = FullExample();
        var text = WgQuickFile.Write(iface, sites.Take(1));
        Assert.Contains("# Name = branch-b\n# Kind = site\n# Description = Lyon office, fibre\n[Peer]\n", text, StringComparison.Ordinal);
        Assert.Contains("FwMark = 0xca6c\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_disabled_site_is_left_out()
    {
        var iface = Interface("wg0");
        var text = WgQuickFile.Write(iface, [Site("on"), Site("off") with { Enabled = false }]);
        Assert.Equal(["on"], WgQuickFile.Parse(text, "wg0").Sites.Select(s => s.Name));
    }

    [Fact]
    public void A_description_cannot_inject_lines()
    {
        var iface = Interface("wg0");
        var evil = Site("b") with { Description = "x\n[Peer]\nPublicKey = " + NewPublicKey() };
        var parsed = WgQuickFile.Parse(WgQuickFile.Write(iface, [evil]), "wg0");
        Assert.Empty(parsed.Errors);
        Assert.Single(parsed.Sites);
        Assert.StartsWith("x [Peer] PublicKey", parsed.Sites[0].Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Values_that_cannot_be_written_safely_throw()
    {
        var iface = Interface("wg0");
        Assert.Throws<ArgumentException>(() => WgQuickFile.Write(iface, [Site("b", "wg1")]));
        Assert.Throws<ArgumentException>(() => WgQuickFile.Write(iface, [Site("b\n[Peer]")]));
        Assert.Throws<ArgumentException>(() => WgQuickFile.Write(iface, [Site("b") with { Endpoint = "x\nPostUp = rm -rf /:1" }]));
        Assert.Throws<ArgumentException>(() => WgQuickFile.Write(iface with { Dns = ["1.1.1.1\nPostUp = x"] }, []));
        Assert.Throws<ArgumentException>(() => WgQuickFile.Write(iface with { Table = "1\nPostUp=x" }, []));
    }

    [Fact]
    public void Endpoints_are_written_canonically()
    {
        var iface = Interface("wg0");
        var text = WgQuickFile.Write(iface, [Site("b") with { Endpoint = "[2001:DB8:0::1]:051820" }]);
        Assert.Contains("Endpoint = [2001:db8::1]:51820\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_interface_name_in_the_header_is_written_and_the_key_only_once()
    {
        var iface = Interface("wg0");
        var text = WgQuickFile.Write(iface, []);
        Assert.StartsWith("# wg0, written by Branchgate.", text, StringComparison.Ordinal);
        string key = iface.PrivateKey.RevealBase64();
        Assert.Equal(text.IndexOf(key, StringComparison.Ordinal), text.LastIndexOf(key, StringComparison.Ordinal));
    }

    [Fact]
    public void Allowed_ips_survive_as_strict_prefixes()
    {
        var site = Site("b", "wg0", "10.0.0.0/8", "0.0.0.0/0", "::/0");
        var parsed = WgQuickFile.Parse(WgQuickFile.Write(Interface("wg0"), [site]), "wg0");
        Assert.Equal([IPPrefix.Parse("10.0.0.0/8"), IPPrefix.Parse("0.0.0.0/0"), IPPrefix.Parse("::/0")], parsed.Sites[0].AllowedIps);
    }
}
