using System.Net;
using Branchgate.Appliance.Config;
using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Tests.Appliance.Config;

/// <summary>One rule of the wg-quick reader per test; keys are fresh, so no message may contain them.</summary>
public sealed class WgQuickParseTests
{
    private readonly string _private = WireGuardSecret.GeneratePrivateKey().RevealBase64();
    private readonly string _peer1 = ConfigTestData.NewPublicKey().ToBase64();
    private readonly string _peer2 = ConfigTestData.NewPublicKey().ToBase64();
    private readonly string _psk = WireGuardSecret.GeneratePresharedKey().RevealBase64();

    private string InterfaceSection(string extra = "") => $"[Interface]\nPrivateKey = {_private}\n{extra}\n";

    private WgQuickParseResult Parse(string text)
    {
        var result = WgQuickFile.Parse(text, "wg0");
        foreach (var message in result.Errors.Concat(result.Warnings))
        {
            Assert.DoesNotContain(_private, message, StringComparison.Ordinal);
            Assert.DoesNotContain(_psk, message, StringComparison.Ordinal);
            Assert.DoesNotContain(_private[..20], message, StringComparison.Ordinal);
        }

        return result;
    }

    private WgQuickParseResult ParseOk(string text)
    {
        var result = Parse(text);
        Assert.True(result.Errors.Count == 0, string.Join(" | ", result.Errors));
        Assert.NotNull(result.Interface);
        return result;
    }

    private static void AssertError(WgQuickParseResult result, string expected) =>
        Assert.Contains(result.Errors, e => e.Contains(expected, StringComparison.Ordinal));

    [Fact]
    public void Interface_fields_are_read()
    {
        var result = ParseOk(InterfaceSection("ListenPort = 51820\nAddress = 10.9.0.1/24\nMTU = 1380\nTable = 1234\nFwMark = 0x1f"));
        var iface = result.Interface!;
        Assert.Equal("wg0", iface.Name);
        Assert.Equal(_private, iface.PrivateKey.RevealBase64());
        Assert.Equal(51820, iface.ListenPort);
        Assert.Equal([InterfaceAddress.Parse("10.9.0.1/24")], iface.Addresses);
        Assert.Equal(1380, iface.Mtu);
        Assert.Equal("1234", iface.Table);
        Assert.Equal(0x1fu, iface.FwMark);
        Assert.Empty(result.Sites);
        Assert.Empty(result.Warnings);
        Assert.True(result.Succeeded);
    }

    [Fact]
    public void Defaults_when_keys_are_absent()
    {
        var iface = ParseOk(InterfaceSection()).Interface!;
        Assert.Equal(0, iface.ListenPort);
        Assert.Empty(iface.Addresses);
        Assert.Null(iface.Mtu);
        Assert.Equal("auto", iface.Table);
        Assert.Equal(0u, iface.FwMark);
        Assert.Empty(iface.Dns);
    }

    [Fact]
    public void Addresses_come_in_comma_lists_on_several_lines_and_bare_addresses_are_single_hosts()
    {
        var iface = ParseOk(InterfaceSection("Address = 10.9.0.1/24, fd09::1/64\nAddress=10.10.0.1/16 ,10.11.0.1\nAddress = fd0a::1")).Interface!;
        Assert.Equal(new[] { "10.9.0.1/24", "fd09::1/64", "10.10.0.1/16", "10.11.0.1/32", "fd0a::1/128" },
            iface.Addresses.Select(a => a.ToString()));
    }

    [Theory]
    [InlineData("auto", "auto")]
    [InlineData("off", "off")]
    [InlineData("OFF", "off")]
    [InlineData("main", "254")]
    [InlineData("Main", "254")]
    [InlineData("254", "254")]
    [InlineData("00100", "100")]
    [InlineData("4294967295", "4294967295")]
    public void Table_is_normalized(string written, string stored) =>
        Assert.Equal(stored, ParseOk(InterfaceSection($"Table = {written}")).Interface!.Table);

    [Theory]
    [InlineData("0")]
    [InlineData("vpn")]
    [InlineData("4294967296")]
    [InlineData("-1")]
    [InlineData("")]
    public void Other_tables_are_errors(string written) =>
        AssertError(Parse(InterfaceSection($"Table = {written}")), "line 3: Table");

    [Theory]
    [InlineData("1234", 1234u)]
    [InlineData("0x4d2", 1234u)]
    [InlineData("0XFFFFFFFF", uint.MaxValue)]
    [InlineData("4294967295", uint.MaxValue)]
    [InlineData("off", 0u)]
    [InlineData("0", 0u)]
    public void FwMark_is_decimal_hex_or_off(string written, uint mark) =>
        Assert.Equal(mark, ParseOk(InterfaceSection($"FwMark = {written}")).Interface!.FwMark);

    [Theory]
    [InlineData("0x")]
    [InlineData("0x100000000")]
    [InlineData("4294967296")]
    [InlineData("12ab")]
    [InlineData("on")]
    public void Bad_fwmarks_are_errors(string written) =>
        AssertError(Parse(InterfaceSection($"FwMark = {written}")), "line 3: FwMark");

    [Theory]
    [InlineData("ListenPort = 65536", "line 3: ListenPort")]
    [InlineData("ListenPort = http", "line 3: ListenPort")]
    [InlineData("MTU = 0", "line 3: MTU")]
    [InlineData("MTU = big", "line 3: MTU")]
    [InlineData("Address = 10.9.0.1/33", "line 3: Address")]
    [InlineData("Address = 10.9.0/24", "line 3: Address")]
    [InlineData("DNS = 10.0.0.999", "line 3: DNS")]
    [InlineData("DNS = bad/domain", "line 3: DNS")]
    public void Bad_interface_values_are_errors_with_the_line(string line, string expected) =>
        AssertError(Parse(InterfaceSection(line)), expected);

    [Fact]
    public void Dns_keeps_servers_and_search_domains_in_order()
    {
        var iface = ParseOk(InterfaceSection("DNS = 10.0.0.53, fd00::53 corp.example.com\nDNS = branch.example")).Interface!;
        Assert.Equal(["10.0.0.53", "fd00::53", "corp.example.com", "branch.example"], iface.Dns);
    }

    [Theory]
    [InlineData("SaveConfig = true", "SaveConfig")]
    [InlineData("PreUp = echo hi", "PreUp")]
    [InlineData("PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE", "PostUp")]
    [InlineData("predown = true", "PreDown")]
    [InlineData("PostDown = iptables -D FORWARD -i %i -j ACCEPT", "PostDown")]
    public void Scripts_and_SaveConfig_are_warnings_naming_key_and_line_without_the_value(string line, string key)
    {
        var result = ParseOk(InterfaceSection(line));
        var warning = Assert.Single(result.Warnings);
        Assert.Equal($"line 3: {key} is not supported by the gateway; ignored", warning);
    }

    [Fact]
    public void Peer_fields_are_read()
    {
        var result = ParseOk(InterfaceSection() +
            $"[Peer]\nPublicKey = {_peer1}\nPresharedKey = {_psk}\nEndpoint = 198.51.100.7:51820\n" +
            "AllowedIPs = 10.1.0.0/24, fd01::/64\nAllowedIPs = 10.2.0.0/24\nPersistentKeepalive = 25\n");
        var site = Assert.Single(result.Sites);
        Assert.Equal("peer-1", site.Name);
        Assert.Equal("wg0", site.Interface);
        Assert.Equal(_peer1, site.PublicKey.ToBase64());
        Assert.Equal(_psk, site.PresharedKey!.RevealBase64());
        Assert.Equal("198.51.100.7:51820", site.Endpoint);
        Assert.Equal(new[] { "10.1.0.0/24", "fd01::/64", "10.2.0.0/24" }, site.AllowedIps.Select(p => p.ToString()));
        Assert.Equal(25, site.PersistentKeepalive);
        Assert.Equal(SiteKind.Site, site.Kind);
        Assert.True(site.Enabled);
    }

    [Theory]
    [InlineData("[2001:db8::7]:51820", "[2001:db8::7]:51820")]
    [InlineData("[2001:DB8:0::7]:51820", "[2001:db8::7]:51820")]
    [InlineData("branch-b.example.net:51820", "branch-b.example.net:51820")]
    public void Endpoints_of_every_form_are_read(string written, string stored) =>
        Assert.Equal(stored, ParseOk(InterfaceSection() + $"[Peer]\nPublicKey = {_peer1}\nEndpoint = {written}\n").Sites[0].Endpoint);

    [Fact]
    public void Allowed_ips_with_host_bits_are_masked_with_a_warning_saying_what_they_became()
    {
        var result = ParseOk(InterfaceSection() + $"[Peer]\nPublicKey = {_peer1}\nAllowedIPs = 10.1.0.1/24, 10.2.0.0/24, fd00::1/64\n");
        Assert.Equal(new[] { "10.1.0.0/24", "10.2.0.0/24", "fd00::/64" }, result.Sites[0].AllowedIps.Select(p => p.ToString()));
        Assert.Equal(
        [
            "line 6: AllowedIPs 10.1.0.1/24 has host bits set; it is read as 10.1.0.0/24 (as wg does)",
            "line 6: AllowedIPs fd00::1/64 has host bits set; it is read as fd00::/64 (as wg does)",
        ], result.Warnings);
    }

    [Fact]
    public void Bare_allowed_addresses_are_single_hosts_and_an_empty_value_is_none()
    {
        var result = ParseOk(InterfaceSection() + $"[Peer]\nPublicKey = {_peer1}\nAllowedIPs = 10.1.0.7, fd00::7\nAllowedIPs =\n");
        Assert.Equal(new[] { "10.1.0.7/32", "fd00::7/128" }, result.Sites[0].AllowedIps.Select(p => p.ToString()));
    }

    [Theory]
    [InlineData("25", 25)]
    [InlineData("0", 0)]
    [InlineData("off", 0)]
    [InlineData("OFF", 0)]
    [InlineData("65535", 65535)]
    public void Keepalive_is_seconds_or_off(string written, int seconds) =>
        Assert.Equal(seconds, ParseOk(InterfaceSection() + $"[Peer]\nPublicKey = {_peer1}\nPersistentKeepalive = {written}\n")
            .Sites[0].PersistentKeepalive);

    [Theory]
    [InlineData("PersistentKeepalive = 65536", "line 6: PersistentKeepalive")]
    [InlineData("PersistentKeepalive = on", "line 6: PersistentKeepalive")]
    [InlineData("Endpoint = 2001:db8::1:51820", "line 6: Endpoint")]
    [InlineData("Endpoint = 198.51.100.7", "line 6: Endpoint")]
    [InlineData("Endpoint =", "line 6: Endpoint")]
    [InlineData("AllowedIPs = 10.1.0.0/24,,10.2.0.0/24", "line 6: AllowedIPs has an empty entry")]
    [InlineData("AllowedIPs = 10.1.0.0/40", "line 6: AllowedIPs")]
    [InlineData("AllowedIPs = 10.1.0.0/24 10.2.0.0/24", "line 6: AllowedIPs")]
    [InlineData("PresharedKey = short", "line 6: PresharedKey is not a WireGuard key")]
    [InlineData("ListenPort = 51820", "line 6: 'ListenPort' is not a [Peer] key")]
    public void Bad_peer_values_are_errors_with_the_line(string line, string expected) =>
        AssertError(Parse(InterfaceSection() + $"[Peer]\nPublicKey = {_peer1}\n{line}\n"), expected);

    [Fact]
    public void A_bad_public_key_and_a_missing_one_are_errors()
    {
        var bad = Parse(InterfaceSection() + "[Peer]\nPublicKey = AAAA\n");
        AssertError(bad, "line 5: PublicKey is not a WireGuard key");
        AssertError(bad, "line 4: [Peer] has no valid PublicKey");
        Assert.Empty(bad.Sites);
        AssertError(Parse(InterfaceSection() + "[Peer]\nAllowedIPs = 10.0.0.0/8\n"), "line 4: [Peer] has no valid PublicKey");
    }

    [Fact]
    public void A_missing_or_bad_private_key_leaves_no_interface()
    {
        var none = Parse("[Interface]\nListenPort = 1\n");
        Assert.Null(none.Interface);
        AssertError(none, "line 1: [Interface] has no valid PrivateKey");
        var bad = Parse("[Interface]\nPrivateKey = " + _private[..43] + "\n");
        AssertError(bad, "line 2: PrivateKey is not a WireGuard key");
        Assert.False(bad.Succeeded);
    }

    [Fact]
    public void A_file_without_an_interface_section_is_an_error() =>
        AssertError(Parse($"[Peer]\nPublicKey = {_peer1}\n"), "no [Interface] section");

    [Fact]
    public void Names_come_from_comments_before_or_inside_the_peer_section_and_default_to_a_number()
    {
        var result = ParseOk(InterfaceSection() +
            $"# Name = branch-b\n[Peer]\nPublicKey = {_peer1}\n\n" +
            $"[Peer]\n# friendly_name = branch-c\nPublicKey = {_peer2}\n\n" +
            $"[Peer]\nPublicKey = {ConfigTestData.NewPublicKey()}\n" +
            $"# name: trailing-comment-belongs-to-the-next\n\n[Peer]\nPublicKey = {ConfigTestData.NewPublicKey()}\n" +
            $"[Peer]\nPublicKey = {ConfigTestData.NewPublicKey()}\n# NAME = last-inside\n");
        Assert.Equal(["branch-b", "branch-c", "peer-3", "trailing-comment-belongs-to-the-next", "last-inside"],
            result.Sites.Select(s => s.Name));
    }

    [Fact]
    public void A_numbered_name_never_collides_with_a_written_one()
    {
        var result = ParseOk(InterfaceSection() + $"[Peer]\n# Name = peer-2\nPublicKey = {_peer1}\n[Peer]\nPublicKey = {_peer2}\n" +
            $"[Peer]\nPublicKey = {ConfigTestData.NewPublicKey()}\n");
        Assert.Equal(["peer-2", "peer-2-2", "peer-3"], result.Sites.Select(s => s.Name));
        var collide = ParseOk(InterfaceSection() + $"[Peer]\nPublicKey = {_peer1}\n[Peer]\n# Name = peer-1\nPublicKey = {_peer2}\n");
        Assert.Equal(["peer-1-2", "peer-1"], collide.Sites.Select(s => s.Name));
    }

    [Fact]
    public void Two_peers_with_the_same_written_name_are_an_error() =>
        AssertError(Parse(InterfaceSection() + $"# Name = b\n[Peer]\nPublicKey = {_peer1}\n# Name = b\n[Peer]\nPublicKey = {_peer2}\n"),
            "line 7: peer name 'b' is already used at line 4");

    [Fact]
    public void A_name_that_is_no_site_name_is_cleaned_and_kept_as_the_description()
    {
        var result = ParseOk(InterfaceSection() + $"# Name = Alice's laptop (new)\n[Peer]\nPublicKey = {_peer1}\n");
        Assert.Equal("Alice-s-laptop-new", result.Sites[0].Name);
        Assert.Equal("Alice's laptop (new)", result.Sites[0].Description);
        Assert.Contains("using 'Alice-s-laptop-new'", Assert.Single(result.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void Kind_is_guessed_from_allowed_ips_and_endpoint_and_a_comment_wins()
    {
        var result = ParseOk(InterfaceSection() +
            $"[Peer]\nPublicKey = {_peer1}\nAllowedIPs = 10.0.0.5/32, fd00::5/128\n" +
            $"[Peer]\nPublicKey = {_peer2}\nAllowedIPs = 10.0.0.6/32\nEndpoint = 198.51.100.6:51820\n" +
            $"[Peer]\nPublicKey = {ConfigTestData.NewPublicKey()}\nAllowedIPs = 10.1.0.0/24\n" +
            $"[Peer]\nPublicKey = {ConfigTestData.NewPublicKey()}\n" +
            $"# Kind = remote-worker\n[Peer]\nPublicKey = {ConfigTestData.NewPublicKey()}\nAllowedIPs = 10.2.0.0/24\n" +
            $"[Peer]\n# kind = Site\nPublicKey = {ConfigTestData.NewPublicKey()}\nAllowedIPs = 10.0.0.9/32\n");
        Assert.Equal(
            [SiteKind.RemoteWorker, SiteKind.Site, SiteKind.Site, SiteKind.Site, SiteKind.RemoteWorker, SiteKind.Site],
            result.Sites.Select(s => s.Kind));
    }

    [Fact]
    public void Keys_and_sections_are_case_insensitive_with_comments_blank_lines_and_spacing()
    {
        var result = ParseOk($"\n# top\n  [INTERFACE]  # here\nprivatekey={_private}#trailing\n   listenport   =   7  \n\n" +
            $"[peer]\npublickey\t=\t{_peer1}\nALLOWEDIPS = 10.0.0.0/8 # lan\n");
        Assert.Equal(7, result.Interface!.ListenPort);
        Assert.Equal(_peer1, result.Sites[0].PublicKey.ToBase64());
        Assert.Equal("10.0.0.0/8", result.Sites[0].AllowedIps[0].ToString());
    }

    [Fact]
    public void Crlf_a_bom_and_a_missing_final_newline_are_read()
    {
        var text = "\uFEFF" + (InterfaceSection("ListenPort = 9") + $"[Peer]\nPublicKey = {_peer1}").Replace("\n", "\r\n", StringComparison.Ordinal);
        var result = ParseOk(text);
        Assert.Equal(9, result.Interface!.ListenPort);
        Assert.Equal(_peer1, result.Sites[0].PublicKey.ToBase64());
    }

    [Theory]
    [InlineData("Foo = bar", "line 3: 'Foo' is not an [Interface] key")]
    [InlineData("PublicKey = x", "line 3: 'PublicKey' is not an [Interface] key")]
    [InlineData("just words", "line 3: expected Key = Value")]
    public void Unknown_keys_and_lines_are_errors(string line, string expected) =>
        AssertError(Parse(InterfaceSection(line)), expected);

    [Fact]
    public void Unknown_sections_and_keys_before_a_section_are_errors()
    {
        AssertError(Parse(InterfaceSection() + "[Wireguard]\nFoo = 1\n"), "line 4: unknown section");
        AssertError(Parse("ListenPort = 1\n" + InterfaceSection()), "line 1: 'ListenPort' comes before any section");
    }

    [Fact]
    public void A_pasted_key_as_a_key_name_is_not_echoed()
    {
        var result = Parse(InterfaceSection(_psk));
        Assert.Equal("line 3: this key is not an [Interface] key", Assert.Single(result.Errors));
        var asValue = Parse(InterfaceSection("Address = " + _psk));
        Assert.Single(asValue.Errors);
    }

    [Fact]
    public void A_repeated_single_value_key_uses_the_last_value_with_a_warning()
    {
        var result = ParseOk(InterfaceSection("ListenPort = 1\nlistenport = 2"));
        Assert.Equal(2, result.Interface!.ListenPort);
        Assert.Equal("line 4: ListenPort is given again; the last value is used (as wg-quick does)", Assert.Single(result.Warnings));
    }

    [Fact]
    public void An_invalid_interface_name_is_an_error()
    {
        var result = WgQuickFile.Parse(InterfaceSection(), "bad/name");
        Assert.Contains(result.Errors, e => e.StartsWith("interface name 'bad/name'", StringComparison.Ordinal));
    }

    [Fact]
    public void Null_and_huge_input_are_errors_not_exceptions()
    {
        Assert.NotEmpty(WgQuickFile.Parse(null!, "wg0").Errors);
        Assert.NotEmpty(WgQuickFile.Parse(new string('#', WgQuickFile.MaxFileChars + 1), "wg0").Errors);
    }

    [Fact]
    public void The_parsed_example_uses_real_addresses()
    {
        var result = ParseOk(InterfaceSection() + $"[Peer]\nPublicKey = {_peer1}\nEndpoint = 198.51.100.7:51820\n");
        Assert.True(SiteEndpoint.TryParse(result.Sites[0].Endpoint, out var endpoint, out _));
        Assert.Equal(IPAddress.Parse("198.51.100.7"), endpoint.Literal);
    }
}
