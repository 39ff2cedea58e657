using Branchgate.Appliance.Config;
using Branchgate.Appliance.Model;
using static Branchgate.Tests.Appliance.Config.ConfigTestData;

namespace Branchgate.Tests.Appliance.Config;

/// <summary>Realistic wg-quick files (TestData/wg-quick, keys made with `wg genkey`): each reads without errors, says
/// what it should, and survives Write and Parse unchanged.</summary>
public sealed class WgQuickCorpusTests
{
    public static TheoryData<string> Files() => [.. CorpusFiles().Select(Path.GetFileName).OfType<string>()];

    internal static WgQuickParseResult ParseFile(string file) =>
        WgQuickFile.Parse(File.ReadAllText(Path.Combine(CorpusDirectory, file)), "wg0");

    [Fact]
    public void The_corpus_has_at_least_eight_files() => Assert.True(CorpusFiles().Count() >= 8);

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_file_reads_and_round_trips(string file)
    {
        var first = ParseFile(file);
        Assert.True(first.Errors.Count == 0, string.Join(" | ", first.Errors));
        var text = WgQuickFile.Write(first.Interface!, first.Sites);
        var second = WgQuickFile.Parse(text, "wg0");
        Assert.Empty(second.Errors);
        Assert.Empty(second.Warnings);
        AssertSameInterface(first.Interface!, second.Interface!);
        AssertSameSites(first.Sites, second.Sites);
        Assert.Equal(text, WgQuickFile.Write(second.Interface!, second.Sites));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_file_passes_validation(string file)
    {
        var result = ParseFile(file);
        Assert.Empty(ConfigValidator.Validate(ApplianceOf([result.Interface!], result.Sites)));
    }

    [Fact]
    public void Site_gateway()
    {
        var result = ParseFile("site-gateway.conf");
        Assert.Equal("off", result.Interface!.Table);
        Assert.Equal(0xca6cu, result.Interface.FwMark);
        Assert.Equal(1420, result.Interface.Mtu);
        Assert.Equal(["branch-b", "branch-c"], result.Sites.Select(s => s.Name));
        Assert.All(result.Sites, s => Assert.Equal(SiteKind.Site, s.Kind));
        Assert.NotNull(result.Sites[0].PresharedKey);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Road_warrior()
    {
        var result = ParseFile("road-warrior.conf");
        Assert.Equal(["10.7.0.1", "fd00:7::1", "corp.example.com", "branch.example.com"], result.Interface!.Dns);
        var office = Assert.Single(result.Sites);
        Assert.Equal("office", office.Name);
        Assert.Equal(new[] { "0.0.0.0/0", "::/0" }, office.AllowedIps.Select(p => p.ToString()));
        Assert.Equal(SiteKind.Site, office.Kind);
    }

    [Fact]
    public void Hub_with_many_peers()
    {
        var result = ParseFile("hub-many-peers.conf");
        Assert.Equal(2, result.Interface!.Addresses.Count);
        Assert.Equal(12, result.Sites.Count);
        Assert.Equal("branch-00", result.Sites[0].Name);
        Assert.Equal("laptop-01", result.Sites[1].Name);
        Assert.Equal("peer-3", result.Sites[2].Name);
        Assert.Equal([SiteKind.Site, SiteKind.RemoteWorker, SiteKind.RemoteWorker], result.Sites.Take(3).Select(s => s.Kind));
    }

    [Fact]
    public void Ipv6_only()
    {
        var result = ParseFile("ipv6-only.conf");
        Assert.Equal("[2001:db8:ffff::20]:51820", result.Sites[0].Endpoint);
        Assert.Equal([SiteKind.Site, SiteKind.RemoteWorker], result.Sites.Select(s => s.Kind));
    }

    [Fact]
    public void Crlf_with_bom()
    {
        var bytes = File.ReadAllBytes(Path.Combine(CorpusDirectory, "crlf-bom.conf"));
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        Assert.Contains("\r\n", File.ReadAllText(Path.Combine(CorpusDirectory, "crlf-bom.conf")), StringComparison.Ordinal);
        var result = ParseFile("crlf-bom.conf");
        Assert.Equal(51840, result.Interface!.ListenPort);
        Assert.Equal("windows-client", Assert.Single(result.Sites).Name);
    }

    [Fact]
    public void Comments_everywhere()
    {
        var result = ParseFile("comments-everywhere.conf");
        Assert.Equal(51850, result.Interface!.ListenPort);
        Assert.Equal(["lyon", "worker-anna"], result.Sites.Select(s => s.Name));
        Assert.Equal(new[] { "10.70.1.0/24", "10.70.2.0/24" }, result.Sites[0].AllowedIps.Select(p => p.ToString()));
        Assert.Equal("198.51.100.99:51820", result.Sites[0].Endpoint);
        Assert.Equal("Anna's laptop (finance)", result.Sites[1].Description);
        Assert.Equal(SiteKind.RemoteWorker, result.Sites[1].Kind);
    }

    [Fact]
    public void PostUp_iptables_lines_are_warnings()
    {
        var result = ParseFile("postup-iptables.conf");
        Assert.Equal(
        [
            "line 5: SaveConfig is not supported by the gateway; ignored",
            "line 6: PreUp is not supported by the gateway; ignored",
            "line 7: PostUp is not supported by the gateway; ignored",
            "line 8: PostDown is not supported by the gateway; ignored",
        ], result.Warnings);
    }

    [Fact]
    public void Keepalive_off_and_main_table()
    {
        var result = ParseFile("keepalive-off.conf");
        Assert.Equal("254", result.Interface!.Table);
        Assert.Equal(0u, result.Interface.FwMark);
        Assert.Equal(0, Assert.Single(result.Sites).PersistentKeepalive);
    }

    [Fact]
    public void Dns_name_endpoint()
    {
        var result = ParseFile("dns-endpoint.conf");
        Assert.Equal("vpn.head-office.example.net:51820", Assert.Single(result.Sites).Endpoint);
        Assert.Equal("1234", result.Interface!.Table);
        Assert.Equal(4660u, result.Interface.FwMark);
    }

    [Fact]
    public void Host_bits_are_masked_with_warnings()
    {
        var result = ParseFile("host-bits.conf");
        Assert.Equal(new[] { "10.30.0.0/24", "192.168.5.0/24" }, result.Sites[0].AllowedIps.Select(p => p.ToString()));
        Assert.Equal(2, result.Warnings.Count);
    }
}
