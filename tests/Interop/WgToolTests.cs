using System.Text.RegularExpressions;
using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests;

/// <summary>`wg` output from branchgate against wireguard-go's for the same configuration, and after traffic.</summary>
public partial class WgToolTests
{
    [Fact]
    public void Wg_show_dump_and_showconf_match_wireguard_go_for_the_same_configuration()
    {
        using var sites = new WireGuardSites(Implementation.Branchgate, Implementation.WireGuardGo);
        var conf = Path.Combine(Path.GetDirectoryName(sites.A.PrivateKeyFile)!, "same.conf");
        var psk = Shell.Run("wg", ["genpsk"]).Trim();
        var peers = Enumerable.Range(0, 3).Select(_ => Shell.Run("wg", ["pubkey"], stdin: Shell.Run("wg", ["genkey"])).Trim()).ToArray();
        var privateKey = File.ReadAllText(sites.A.PrivateKeyFile).Trim();
        File.WriteAllText(conf, Config(privateKey, psk, peers, keepalive: 25, third: true, sites));
        foreach (var (site, port) in new[] { (sites.A, 40001), (sites.B, 40002) })
        {
            site.Wg($"setconf {site.Interface} {conf}");
            site.Wg($"set {site.Interface} listen-port {port}");
        }

        Assert.Equal(Normalise(sites.B.Wg($"show {sites.B.Interface} dump"), sites.B, 40002),
            Normalise(sites.A.Wg($"show {sites.A.Interface} dump"), sites.A, 40001));
        Assert.Equal(Normalise(sites.B.Wg($"showconf {sites.B.Interface}"), sites.B, 40002),
            Normalise(sites.A.Wg($"showconf {sites.A.Interface}"), sites.A, 40001));

        // syncconf: drop a peer, change another; both end in the same state.
        File.WriteAllText(conf, Config(privateKey, psk, peers, keepalive: 7, third: false, sites));
        foreach (var site in new[] { sites.A, sites.B })
        {
            site.Wg($"syncconf {site.Interface} {conf}");
        }

        var after = Normalise(sites.A.Wg($"show {sites.A.Interface} dump"), sites.A, 40001);
        Assert.Equal(Normalise(sites.B.Wg($"show {sites.B.Interface} dump"), sites.B, 40002), after);
        Assert.DoesNotContain(peers[2], after, StringComparison.Ordinal);
        Assert.Contains("\t7", after, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Implementation.Branchgate, Implementation.WireGuardGo)]
    [InlineData(Implementation.Branchgate, Implementation.Branchgate)]
    public void After_traffic_the_dump_has_counters_and_a_fresh_handshake_time(Implementation a, Implementation b)
    {
        using var sites = new WireGuardSites(a, b);
        // Keepalive is set only once both sides know each other: turned on earlier, it would send an initiation that
        // the unconfigured side drops, and the next one may only follow REKEY_TIMEOUT (5 s) later.
        sites.Configure();
        sites.A.Wg($"set {sites.A.Interface} peer {sites.B.PublicKey} persistent-keepalive 25");
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4, count: 1));
        long now = long.Parse(sites.A.Exec("date +%s").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var line = sites.A.Wg($"show {sites.A.Interface} dump").Split('\n')[1].Split('\t');
        // public-key preshared-key endpoint allowed-ips latest-handshake transfer-rx transfer-tx persistent-keepalive
        Assert.Equal(sites.B.PublicKey, line[0]);
        Assert.Equal($"{sites.B.WanV4}:51821", line[2]);
        Assert.Equal($"{sites.B.TunnelV4}/32,{sites.B.TunnelV6}/128", line[3]);
        long handshake = long.Parse(line[4], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(now - handshake, 0, 2);
        Assert.True(long.Parse(line[5], System.Globalization.CultureInfo.InvariantCulture) > 0, "rx bytes");
        Assert.True(long.Parse(line[6], System.Globalization.CultureInfo.InvariantCulture) > 0, "tx bytes");
        Assert.Equal("25", line[7].Trim());
    }

    // Endpoints are addresses of the test's own namespaces (ports nobody listens on): keepalives go nowhere else.
    private static string Config(string privateKey, string psk, string[] peers, int keepalive, bool third, WireGuardSites sites) => $"""
        [Interface]
        PrivateKey = {privateKey}
        FwMark = 0x42

        [Peer]
        PublicKey = {peers[0]}
        PresharedKey = {psk}
        AllowedIPs = 10.9.0.0/24, fd09::/64, 10.8.1.7/32
        Endpoint = {sites.B.WanV4}:51999
        PersistentKeepalive = {keepalive}

        [Peer]
        PublicKey = {peers[1]}
        AllowedIPs = 0.0.0.0/0, ::/0
        Endpoint = [{sites.B.WanV6}]:4500

        """ + (third ? $"""
        [Peer]
        PublicKey = {peers[2]}
        AllowedIPs = 10.10.0.0/16

        """ : "");

    /// <summary>The same lines whatever the interface name and port; peers sorted (wireguard-go lists them in Go map order).</summary>
    private static string Normalise(string output, Site site, int port)
    {
        _ = port;
        var text = ListenPort().Replace(output.Replace(site.Interface, "IFACE", StringComparison.Ordinal), "${k}PORT");
        var blocks = PeerSplit().Split(text.Trim());
        if (blocks.Length > 1)
        {
            // showconf: [Interface] block, then [Peer] blocks.
            return blocks[0].Trim() + string.Concat(blocks.Skip(1).Select(b => b.Trim()).Order(StringComparer.Ordinal)
                .Select(b => "\n[Peer]\n" + b));
        }

        // Dump peer lines: latest-handshake and transfer (columns 5-7) depend on traffic, which differs: wireguard-go
        // 0.0.20220316 sends a keepalive to every peer that follows one whose keepalive was turned on in the same set.
        var lines = text.Trim().Split('\n');
        var peers = lines.Skip(1).Select(l => l.Split('\t')).Select(f => string.Join('\t', f[..4].Concat(f[7..])));
        return lines[0] + "\n" + string.Join('\n', peers.Order(StringComparer.Ordinal));
    }

    // The listen port: third field of a dump's first line, or showconf's ListenPort line.
    [GeneratedRegex(@"(?<k>\A[^\t\n]+\t[^\t\n]+\t|^ListenPort = )\d+", RegexOptions.Multiline)]
    private static partial Regex ListenPort();

    [GeneratedRegex(@"\[Peer\]")]
    private static partial Regex PeerSplit();
}
