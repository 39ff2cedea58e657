using Branchgate.Appliance.Config;
using Branchgate.Appliance.Model;
using Branchgate.Crypto;
using static Branchgate.Tests.Appliance.Config.ConfigTestData;

namespace Branchgate.Tests.Appliance.Config;

public sealed class ConfigValidatorTests
{
    private static IReadOnlyList<string> Validate(InterfaceConfig iface, params SiteConfig[] sites) =>
        ConfigValidator.Validate(ApplianceOf([iface], sites));

    private static void AssertOnly(IReadOnlyList<string> messages, string expectedStart)
    {
        Assert.True(messages.Count == 1, "expected one message, got: " + string.Join(" | ", messages));
        Assert.StartsWith(expectedStart, messages[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_typical_config_is_valid_and_an_interface_without_addresses_is_fine()
    {
        var wg0 = Interface("wg0", 51820, "10.99.0.1/24", "fd99::1/64");
        var wg1 = Interface("wg1", 51821) with { Mtu = 1420, Table = "off", FwMark = 0xca6c };
        var sites = new[]
        {
            Site("branch-b", "wg0", "192.168.20.0/24", "10.99.0.2/32") with { Endpoint = "198.51.100.20:51820", PersistentKeepalive = 65535 },
            Site("branch-c", "wg0", "192.168.30.0/24") with { Endpoint = "vpn.branch-c.example.net:51820" },
            Site("worker.anna_1", "wg0", "10.99.0.50/32", "fd99::50/128") with { Kind = SiteKind.RemoteWorker },
            Site("branch-b", "wg1", "192.168.20.0/24"),
        };
        Assert.Empty(ConfigValidator.Validate(ApplianceOf([wg0, wg1], sites)));
        Assert.Empty(ConfigValidator.Validate(ApplianceConfig.Empty));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sixteen-letters!")]
    [InlineData("wg/0")]
    [InlineData("wg 0")]
    [InlineData("wg\t0")]
    [InlineData("wg:0")]
    [InlineData("wg%0")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("wgé1234567890ab")]
    public void Interface_names_follow_the_kernel_rules(string name) =>
        AssertOnly(Validate(Interface(name)), $"interface ");

    [Theory]
    [InlineData("a")]
    [InlineData("wg0")]
    [InlineData("fifteen-letters")]
    [InlineData("wg-office.1")]
    public void Valid_interface_names_pass(string name) => Assert.Empty(Validate(Interface(name)));

    [Fact]
    public void Interface_names_are_unique()
    {
        var messages = ConfigValidator.Validate(ApplianceOf([Interface("wg0", 1), Interface("wg0", 2)], []));
        AssertOnly(messages, "interface wg0: the name is used by 2 interfaces");
    }

    [Fact]
    public void Two_interfaces_may_not_listen_on_the_same_port_but_may_both_use_any_port()
    {
        var messages = ConfigValidator.Validate(ApplianceOf([Interface("wg0", 51820), Interface("wg1", 51820)], []));
        Assert.Equal(["interface wg0: listen port 51820 is also used by wg1", "interface wg1: listen port 51820 is also used by wg0"],
            messages);
        Assert.Empty(ConfigValidator.Validate(ApplianceOf([Interface("wg0", 0), Interface("wg1", 0)], [])));
    }

    [Theory]
    [InlineData(1279, false)]
    [InlineData(1280, true)]
    [InlineData(1420, true)]
    [InlineData(9000, true)]
    [InlineData(9001, false)]
    [InlineData(0, false)]
    [InlineData(-1, false)]
    public void Mtu_is_1280_to_9000_when_set(int mtu, bool valid)
    {
        var messages = Validate(Interface() with { Mtu = mtu });
        if (valid)
        {
            Assert.Empty(messages);
        }
        else
        {
            AssertOnly(messages, $"interface wg0: MTU {mtu} is outside 1280..9000");
        }
    }

    [Theory]
    [InlineData("auto", true)]
    [InlineData("off", true)]
    [InlineData("254", true)]
    [InlineData("1", true)]
    [InlineData("4294967295", true)]
    [InlineData("main", false)]
    [InlineData("0", false)]
    [InlineData("0254", false)]
    [InlineData("4294967296", false)]
    [InlineData("Auto", false)]
    [InlineData("", false)]
    [InlineData("-1", false)]
    [InlineData("vpn", false)]
    public void Table_is_auto_off_or_a_plain_table_number(string table, bool valid)
    {
        var messages = Validate(Interface() with { Table = table });
        if (valid)
        {
            Assert.Empty(messages);
            _ = (Interface() with { Table = table }).RouteTableId; // the model can read every valid table
        }
        else
        {
            AssertOnly(messages, "interface wg0: table ");
        }
    }

    [Theory]
    [InlineData("10.0.0.53", true)]
    [InlineData("fd00::53", true)]
    [InlineData("corp.example.com", true)]
    [InlineData("lan", true)]
    [InlineData("10.0.0.999", false)]
    [InlineData("fe80::1%eth0", false)]
    [InlineData("a b", false)]
    [InlineData("x,y", false)]
    [InlineData("1.1.1.1\nPostUp = x", false)]
    [InlineData("", false)]
    public void Dns_entries_are_server_addresses_or_search_domains(string entry, bool valid)
    {
        var messages = Validate(Interface() with { Dns = [entry] });
        if (valid)
        {
            Assert.Empty(messages);
        }
        else
        {
            AssertOnly(messages, "interface wg0: DNS entry ");
        }
    }

    [Fact]
    public void An_all_zero_private_key_is_refused()
    {
        var iface = Interface() with { PrivateKey = new WireGuardSecret(new byte[32]) };
        AssertOnly(Validate(iface), "interface wg0: the private key is all zeros");
    }

    [Theory]
    [InlineData("")]
    [InlineData("branch b")]
    [InlineData("branch/b")]
    [InlineData("bränch")]
    [InlineData("branch:b")]
    public void Site_names_are_letters_digits_dot_underscore_dash(string name) =>
        AssertOnly(Validate(Interface(), Site(name, "wg0", "10.1.0.0/24")), $"site wg0/");

    [Fact]
    public void Site_names_are_at_most_64_characters()
    {
        Assert.Empty(Validate(Interface(), Site(new string('a', 64))));
        AssertOnly(Validate(Interface(), Site(new string('a', 65))), "site wg0/aaaa");
    }

    [Fact]
    public void Site_names_are_unique_per_interface_only()
    {
        var messages = ConfigValidator.Validate(ApplianceOf([Interface("wg0", 1), Interface("wg1", 2)],
            [Site("branch-b", "wg0"), Site("branch-b", "wg0"), Site("branch-b", "wg1")]));
        AssertOnly(messages, "site wg0/branch-b: the name is used by 2 sites of interface wg0");
    }

    [Fact]
    public void A_site_of_a_missing_interface_is_refused() =>
        AssertOnly(Validate(Interface(), Site("branch-b", "wg9")), "site wg9/branch-b: interface wg9 does not exist");

    [Fact]
    public void A_site_may_not_have_the_interfaces_own_public_key()
    {
        var iface = Interface();
        var site = Site("branch-b") with { PublicKey = iface.PublicKey };
        AssertOnly(Validate(iface, site), "site wg0/branch-b: the public key is the interface's own public key");
    }

    [Fact]
    public void Public_keys_are_unique_per_interface_only()
    {
        var key = NewPublicKey();
        var messages = ConfigValidator.Validate(ApplianceOf([Interface("wg0", 1), Interface("wg1", 2)],
        [
            Site("branch-c", "wg0") with { PublicKey = key },
            Site("branch-b", "wg0") with { PublicKey = key },
            Site("branch-b", "wg1") with { PublicKey = key },
        ]));
        AssertOnly(messages, "site wg0/branch-b: the same public key is used by sites branch-b, branch-c");
    }

    [Fact]
    public void An_all_zero_public_key_is_refused() =>
        AssertOnly(Validate(Interface(), Site("branch-b") with { PublicKey = new NoisePublicKey(new byte[32]) }),
            "site wg0/branch-b: the public key is all zeros");

    [Theory]
    [InlineData("198.51.100.7")]
    [InlineData("2001:db8::1:51820")]
    [InlineData("bad_host:51820")]
    [InlineData("198.51.100.7:0")]
    [InlineData("")]
    public void Endpoints_must_parse(string endpoint) =>
        AssertOnly(Validate(Interface(), Site("branch-b") with { Endpoint = endpoint }), "site wg0/branch-b: ");

    [Fact]
    public void Overlapping_allowed_ips_of_two_sites_name_both_sites_and_ranges()
    {
        var messages = Validate(Interface(),
            Site("branch-c", "wg0", "10.1.0.0/16", "192.168.0.0/24"),
            Site("branch-b", "wg0", "10.1.2.0/24", "fd00::/64"),
            Site("branch-d", "wg0", "10.2.0.0/16", "fd00::5/128"));
        Assert.Equal(
        [
            "site wg0/branch-b: allowed IPs overlap those of site wg0/branch-c (10.1.2.0/24 ~ 10.1.0.0/16); a range can belong to one site only",
            "site wg0/branch-b: allowed IPs overlap those of site wg0/branch-d (fd00::/64 ~ fd00::5/128); a range can belong to one site only",
        ], messages);
    }

    [Fact]
    public void Identical_ranges_and_default_routes_overlap_too_but_not_across_interfaces_or_families()
    {
        AssertOnly(Validate(Interface(), Site("a", "wg0", "0.0.0.0/0"), Site("b", "wg0", "0.0.0.0/0")),
            "site wg0/a: allowed IPs overlap those of site wg0/b (0.0.0.0/0 ~ 0.0.0.0/0)");
        Assert.Empty(Validate(Interface(), Site("a", "wg0", "0.0.0.0/0"), Site("b", "wg0", "::/0")));
        Assert.Empty(ConfigValidator.Validate(ApplianceOf([Interface("wg0", 1), Interface("wg1", 2)],
            [Site("a", "wg0", "10.0.0.0/8"), Site("b", "wg1", "10.0.0.0/8")])));
        Assert.Empty(Validate(Interface(), Site("a", "wg0", "10.0.0.0/8", "10.1.0.0/16")));
        Assert.Empty(Validate(Interface(), Site("a", "wg0", "10.0.0.0/25"), Site("b", "wg0", "10.0.0.128/25")));
    }

    [Fact]
    public void Overlap_detection_agrees_with_the_pairwise_definition_on_random_sites()
    {
        var random = new Random(6);
        for (int round = 0; round < 200; round++)
        {
            var sites = Enumerable.Range(0, random.Next(2, 6)).Select(i => Site($"s{i}", "wg0",
                [.. Enumerable.Range(0, random.Next(0, 4)).Select(_ => RandomPrefix(random)).Distinct()])).ToList();
            var expected = new HashSet<(string, string)>();
            for (int a = 0; a < sites.Count; a++)
            {
                for (int b = a + 1; b < sites.Count; b++)
                {
                    if (sites[a].AllowedIps.Any(x => sites[b].AllowedIps.Any(x.Overlaps)))
                    {
                        expected.Add((sites[a].Name, sites[b].Name));
                    }
                }
            }

            var reported = Validate(Interface(), [.. sites])
                .Select(m => m.Split(' ', ':', '/')).Select(p => (p[2], p[11])).ToHashSet();
            Assert.Equal(expected.Order(), reported.Order());
        }
    }

    private static string RandomPrefix(Random random)
    {
        int length = random.Next(0, 33);
        uint address = (uint)random.Next(0, 4) << 30 | (uint)random.Next(0, 4) << 8;
        address &= length == 0 ? 0 : uint.MaxValue << (32 - length);
        return $"{address >> 24}.{(address >> 16) & 255}.{(address >> 8) & 255}.{address & 255}/{length}";
    }

    [Fact]
    public void Keepalive_up_to_65535_is_valid_and_its_type_allows_no_more()
    {
        Assert.Empty(Validate(Interface(), Site("a") with { PersistentKeepalive = ushort.MaxValue }));
        Assert.Equal(typeof(ushort), typeof(SiteConfig).GetProperty(nameof(SiteConfig.PersistentKeepalive))!.PropertyType);
    }

    [Fact]
    public void Messages_are_sorted_and_independent_of_list_order()
    {
        var key = NewPublicKey();
        var interfaces = new[] { Interface("wg1", 5) with { Mtu = 100 }, Interface("wg0", 5) with { Table = "x" } };
        var sites = new[]
        {
            Site("z", "wg0", "10.0.0.0/8") with { PublicKey = key },
            Site("a b", "wg0", "10.1.0.0/16") with { PublicKey = key, Endpoint = "nope" },
            Site("m", "wg7"),
        };
        var forward = ConfigValidator.Validate(ApplianceOf(interfaces, sites));
        var backward = ConfigValidator.Validate(ApplianceOf(interfaces.Reverse(), sites.Reverse()));
        Assert.Equal(forward, backward);
        Assert.Equal(forward.Order(StringComparer.Ordinal), forward);
        Assert.Equal(9, forward.Count);
    }
}
