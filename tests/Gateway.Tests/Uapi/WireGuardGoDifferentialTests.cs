using System.Runtime.Versioning;
using Branchgate.Crypto;
using static Branchgate.Tests.Uapi.UapiTestText;

namespace Branchgate.Tests.Uapi;

/// <summary>
/// The strongest check of the UAPI: the same configuration steps and the same raw requests go to a real wireguard-go
/// 0.0.20220316 (Debian 12's package, in a network namespace) and to our server over <see cref="InMemoryUapiTarget"/>;
/// `wg show dump`, `wg showconf`, get answers, errno answers and whether the connection stays open must be identical.
/// Peer order is normalised (wireguard-go lists peers in random map order). Needs root; fails, not skips, without it.
/// The deliberate differences are pinned in WireGuardGoDivergenceTests.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class WireGuardGoDifferentialTests(DifferentialNamespace ns) : IClassFixture<DifferentialNamespace>, IDisposable
{
    private static readonly TimeSpan s_quiet = TimeSpan.FromMilliseconds(150);
    private readonly string _files = Directory.CreateTempSubdirectory("bgu-keys-").FullName;

    public void Dispose() => Directory.Delete(_files, recursive: true);

    private string KeyFile(string base64)
    {
        var path = Path.Combine(_files, Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, base64 + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static (string Private, string Public) KeyPair()
    {
        using var key = NoisePrivateKey.Generate();
        return (KeyEncoding.ToBase64(key.Span), key.PublicKey.ToBase64());
    }

    private static string GetOf(UapiTestClient client) => client.Send("get=1\n\n").ReadAnswers(1);

    /// <summary>wg show dump, wg showconf and a raw get agree.</summary>
    private static void AssertSameState(UapiPair pair, string because)
    {
        var (goDump, ourDump) = pair.Wg("show", "IFACE", "dump");
        Assert.Equal(PeerOrder.Dump(goDump), PeerOrder.Dump(ourDump));
        var (goConfig, ourConfig) = pair.Wg("showconf", "IFACE");
        Assert.Equal(PeerOrder.Config(goConfig), PeerOrder.Config(ourConfig));
        var (goGet, ourGet) = pair.Both(GetOf);
        Assert.True(PeerOrder.Get(goGet) == PeerOrder.Get(ourGet), $"{because}:\nwireguard-go:\n{goGet}\nours:\n{ourGet}");
    }

    [Fact]
    public void Wg_set_step_by_step()
    {
        using var pair = new UapiPair(ns);
        var device = KeyPair();
        var (p1, p2, p3) = (KeyPair(), KeyPair(), KeyPair());
        var psk = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        pair.Wg("set", "IFACE", "private-key", KeyFile(device.Private), "listen-port", $"{pair.ListenPort}", "fwmark", "0x20",
            "peer", p1.Public, "preshared-key", KeyFile(psk), "endpoint", "192.0.2.1:51820", "persistent-keepalive", "25",
            "allowed-ips", "10.1.0.0/16,fd00:1::/64,10.1.2.3/32");
        AssertSameState(pair, "first peer");

        pair.Wg("set", "IFACE", "peer", p2.Public, "endpoint", "[fe80::1%lo]:51821", "allowed-ips", "10.2.0.0/16,::ffff:10.3.0.0/112",
            "peer", p3.Public, "endpoint", "[2001:db8::1]:1", "allowed-ips", "0.0.0.0/0,::/0");
        AssertSameState(pair, "three peers");

        pair.Wg("set", "IFACE", "peer", p1.Public, "allowed-ips", "10.2.0.0/16,10.1.0.0/16", "persistent-keepalive", "off",
            "preshared-key", "/dev/null", "peer", p2.Public, "remove");
        AssertSameState(pair, "replaced allowed IPs, one taken from another peer, one peer removed");

        pair.Wg("set", "IFACE", "fwmark", "off", "listen-port", $"{pair.ListenPort}");
        pair.Wg("set", "IFACE", "peer", p3.Public, "endpoint", "[::ffff:198.51.100.7]:9", "allowed-ips", "");
        AssertSameState(pair, "fwmark off, IPv4-mapped endpoint, allowed IPs cleared");

        pair.Wg("set", "IFACE", "private-key", KeyFile(p3.Private));
        AssertSameState(pair, "the peer with the new private key's public key is gone");

        pair.Wg("set", "IFACE", "private-key", "/dev/null", "peer", p2.Public, "allowed-ips", "10.2.0.0/16");
        AssertSameState(pair, "private key removed");
    }

    [Fact]
    public void Wg_setconf_addconf_syncconf()
    {
        using var pair = new UapiPair(ns);
        var device = KeyPair();
        var (p1, p2, p3, p4) = (KeyPair(), KeyPair(), KeyPair(), KeyPair());
        var psk = Convert.ToBase64String(Enumerable.Repeat((byte)0x5a, 32).ToArray());
        string Config(string name, string text)
        {
            var path = Path.Combine(_files, name);
            File.WriteAllText(path, text);
            return path;
        }

        var first = Config("first.conf", $"""
            [Interface]
            PrivateKey = {device.Private}
            ListenPort = {pair.ListenPort}
            FwMark = 0x1234

            [Peer]
            PublicKey = {p1.Public}
            PresharedKey = {psk}
            AllowedIPs = 10.10.0.0/16, fd10::/64, 10.10.5.0/24
            Endpoint = 192.0.2.10:51820
            PersistentKeepalive = 15

            [Peer]
            PublicKey = {p2.Public}
            AllowedIPs = 10.20.0.0/16
            Endpoint = [2001:db8::20]:51820
            """);
        pair.Wg("setconf", "IFACE", first);
        AssertSameState(pair, "setconf");

        var more = Config("more.conf", $"""
            [Peer]
            PublicKey = {p3.Public}
            AllowedIPs = 10.30.0.0/16, 10.20.0.0/16
            Endpoint = [fe80::3%lo]:3

            [Peer]
            PublicKey = {p1.Public}
            AllowedIPs = 10.11.0.0/16
            """);
        pair.Wg("addconf", "IFACE", more);
        AssertSameState(pair, "addconf");

        var synced = Config("synced.conf", $"""
            [Interface]
            PrivateKey = {device.Private}
            ListenPort = {pair.ListenPort}

            [Peer]
            PublicKey = {p1.Public}
            AllowedIPs = 10.12.0.0/16
            Endpoint = 192.0.2.11:51820

            [Peer]
            PublicKey = {p4.Public}
            PresharedKey = {psk}
            AllowedIPs = 10.40.0.0/16, ::ffff:10.41.0.0/112
            PersistentKeepalive = 65535
            """);
        pair.Wg("syncconf", "IFACE", synced);
        AssertSameState(pair, "syncconf");
        Assert.Equal(2, PeerOrder.Dump(pair.Wg("show", "IFACE", "dump").Ours).Trim().Split('\n').Length - 1);
    }

    /// <summary>Valid raw requests whose semantics wireguard-go defines in detail.</summary>
    public static TheoryData<string> RawValidSequences() =>
    [
        // update_only: an absent peer is not created; a present one is updated.
        $"public_key={Hex(0xa1)}\nupdate_only=true\nendpoint=1.2.3.4:5\nallowed_ip=10.0.0.0/8\n" +
        $"|public_key={Hex(0xa2)}\n|public_key={Hex(0xa2)}\nupdate_only=true\nendpoint=1.2.3.4:5\n",

        // remove: of an absent peer, twice, and lines after it in the section.
        $"public_key={Hex(0xa1)}\nremove=true\nallowed_ip=10.0.0.0/8\n|public_key={Hex(0xa2)}\nallowed_ip=10.0.0.0/8\n" +
        $"|public_key={Hex(0xa2)}\nremove=true\nremove=true\nendpoint=1.2.3.4:5\n",

        // Allowed IPs: order, masking, re-adding moves last, moving between peers, replace in the middle.
        $"public_key={Hex(0xa1)}\nallowed_ip=10.1.2.3/8\nallowed_ip=fd00::1/64\nallowed_ip=0.0.0.0/0\nallowed_ip=10.0.0.0/8\n" +
        $"|public_key={Hex(0xa2)}\nallowed_ip=fd00::/64\nallowed_ip=10.1.2.3/+16\nallowed_ip=10.1.2.3/-0\nallowed_ip=10.1.2.3/08\n" +
        $"|public_key={Hex(0xa1)}\nallowed_ip=192.168.0.0/24\nreplace_allowed_ips=true\nallowed_ip=172.16.0.0/12\n" +
        $"allowed_ip=::ffff:1.2.3.4/128\nallowed_ip=::1.2.3.4/128\nallowed_ip=2001:DB8:0:0:1:0:0:1/128\n",

        // update_only after lines that took a range from another peer: the range is gone from both.
        $"public_key={Hex(0xa1)}\nallowed_ip=10.0.0.0/8\nallowed_ip=10.1.0.0/16\n" +
        $"|public_key={Hex(0xa2)}\nallowed_ip=10.0.0.0/8\nupdate_only=true\n",

        // Before any private key the device's own public key is all zeros: that peer is ignored.
        $"public_key={Hex(0)}\nendpoint=1.2.3.4:5\n|private_key={Hex(0)}\n|public_key={Hex(0)}\nendpoint=1.2.3.4:5\n",

        // Endpoints: forms, zones (by name, by number), port 0 and leading zeros, IPv4-mapped.
        $"public_key={Hex(0xa1)}\nendpoint=[fe80::1%lo]:5\npublic_key={Hex(0xa2)}\nendpoint=[fe80::2%7]:00006\n" +
        $"public_key={Hex(0xa3)}\nendpoint=[::ffff:10.0.0.1]:0\npublic_key={Hex(0xa4)}\nendpoint=[2001:DB8:0:0:1:0:0:1]:65535\n" +
        $"public_key={Hex(0xa5)}\nendpoint=[::]:1\n|public_key={Hex(0xa1)}\nendpoint=10.0.0.1:1\n",

        // Keys: upper case hex, clamping of the private key, zero preshared key, keepalive limits, CRLF lines.
        $"private_key={Hex(0xff).ToUpperInvariant()}\r\npublic_key={Hex(0xa1).ToUpperInvariant()}\r\n" +
        $"preshared_key={Hex(0xcd)}\r\npersistent_keepalive_interval=65535\r\n\r\n" +
        $"|public_key={Hex(0xa1)}\npreshared_key={Hex(0)}\npersistent_keepalive_interval=0\nprotocol_version=1\n",

        // Device: fwmark range and removal, replace_peers.
        $"fwmark=4294967295\npublic_key={Hex(0xa1)}\n|fwmark=0\nreplace_peers=true\npublic_key={Hex(0xa2)}\n" +
        "|replace_peers=true\n",
    ];

    [Theory]
    [MemberData(nameof(RawValidSequences))]
    public void Raw_valid_requests_leave_both_in_the_same_state(string sequence)
    {
        using var pair = new UapiPair(ns);
        foreach (var body in sequence.Split('|'))
        {
            var request = "set=1\n" + body + (body.EndsWith("\r\n\r\n", StringComparison.Ordinal) ? "" : "\n");
            var (go, ours) = pair.Both(c => c.Send(request).ReadAnswers(1) + GetOf(c));
            Assert.True(PeerOrder.Get(go) == PeerOrder.Get(ours), $"after {body}:\nwireguard-go:\n{go}\nours:\n{ours}");
            Assert.StartsWith("errno=0\n\n", ours, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_set_ended_by_end_of_stream_applies_on_both()
    {
        using var pair = new UapiPair(ns);
        var request = $"set=1\npublic_key={Hex(0xa1)}\nallowed_ip=10.0.0.0/8";
        var (go, ours) = pair.Both(c => c.Send(request).EndSending().ReadUntilClosed());
        Assert.Equal(("errno=0\n\n", "errno=0\n\n"), (go, ours));
        AssertSameState(pair, "after the set ended by end of stream");
    }

    /// <summary>A raw exchange: what comes back, and whether the connection is still served afterwards.</summary>
    private static (string Answer, bool Open) Exchange(UapiTestClient client, string request, bool endSending)
    {
        client.Send(request);
        if (endSending)
        {
            client.EndSending();
            return (client.ReadUntilClosed(TimeSpan.FromSeconds(5)), !client.Closed);
        }

        var answer = client.ReadAnswers(1, TimeSpan.FromSeconds(3)) + client.ReadUntilQuiet(s_quiet);
        return (answer, client.ProbeOpen());
    }

    public static TheoryData<string, bool> RawRequests()
    {
        var data = new TheoryData<string, bool>();
        foreach (var row in UapiSetParserTests.BadRequests())
        {
            var body = (string)row[0];
            if (!body.Contains("nosuchif", StringComparison.Ordinal))
            {
                data.Add("set=1\n" + body + "\n", false);
            }
        }

        var key = Hex(0xa1);
        foreach (var request in new[]
        {
            "set=1\nbogus\nlisten_port=5\n\n", // the rest of a rejected request already read is dropped
            "set=1\nbogus\nlisten_port=5\n",
            $"set=1\npublic_key={key}\nendpoint=[fe80::1%nosuchif0]:5\n\n",
            $"set=1\npublic_key={key}\nallowed_ip=10.0.0.0/8\nlisten_port=1\n\n",
            "set=1\nprivate_key=" + key + "\nlisten_port=65536\n\n",
            "get=1\nx",
            "get=1\nx\n",
            "get=1\n\r\n",
            "get=1\r\n\n",
            "get=1\n",
            "hello\n",
            "\n",
            "set=1\r\n\n",
            "set=2\n\n",
            " set=1\n\n",
            "SET=1\n\n",
            "set=1\n" + new string('a', 65536) + "get=1\n\n",
            "set=1\n" + new string('a', 65536) + "\n\n",
            "set=1\n" + new string('a', 65535) + "\n\n",
            "set=1\n" + new string('a', 65534) + "\r\n\n",
            "set=1\nlisten_port=" + new string('0', 65535 - 14) + "12\n\n",
            "set=1\n" + new string('a', 200000) + "\n\n",
            "set=1\n" + string.Concat(Enumerable.Repeat("listen_port=1\n", 2000)) + "bogus\n" + string.Concat(Enumerable.Repeat("fwmark=1\n", 2000)) + "\n",
            new string('x', 10000) + "\n",
        })
        {
            data.Add(request, false);
        }

        foreach (var request in new[] { "get=1\n", "get=1", "set=1", "set=1\n", "set=1\nlisten_port=x\n", "hello", "" })
        {
            data.Add(request, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RawRequests))]
    public void Raw_requests_get_the_same_answer_and_the_same_connection_fate(string request, bool endSending)
    {
        using var pair = new UapiPair(ns);
        var baseline = $"set=1\nprivate_key={Hex(0x48)}\npublic_key={Hex(0xb1)}\nendpoint=192.0.2.1:1\nallowed_ip=10.0.0.0/8\n\n";
        Assert.Equal(("errno=0\n\n", "errno=0\n\n"), pair.Both(c => c.Send(baseline).ReadAnswers(1)));
        var before = UapiTestText.Get(pair.Target);

        var (go, ours) = pair.Both(c => Exchange(c, request, endSending));
        Assert.Equal(PeerOrder.Get(go.Answer), PeerOrder.Get(ours.Answer));
        Assert.True(go.Open == ours.Open, $"wireguard-go {(go.Open ? "kept" : "closed")} the connection, ours {(ours.Open ? "kept" : "closed")} it");

        // Our device is unchanged by every rejected request (wireguard-go keeps the lines before the bad one).
        if (!ours.Answer.StartsWith("errno=0\n\n", StringComparison.Ordinal) && !ours.Answer.Contains("listen_port=", StringComparison.Ordinal))
        {
            Assert.Equal(before, UapiTestText.Get(pair.Target));
        }
    }

    [Fact]
    public void Several_operations_one_after_the_other_on_one_connection()
    {
        using var pair = new UapiPair(ns);
        var steps = new[]
        {
            $"set=1\nlisten_port={pair.ListenPort}\nprivate_key={Hex(0x48)}\n\n",
            "get=1\n\n",
            "set=1\nbogus\n\n",
            "get=1\n\n",
            "set=1\nprivate_key=zz\n\n",
            "get=1\nX",
            $"set=1\npublic_key={Hex(0xa1)}\nallowed_ip=10.0.0.0/8\nendpoint=[::1]:1\n\n",
            "get=1\n\n",
            "set=1\nlisten_port=65536\n\n",
            $"set=1\npublic_key={Hex(0xa1)}\nremove=true\n\n",
            "get=1\n\n",
            "get=1\n\n",
        };
        var (go, ours) = pair.Both(client => string.Join("|", steps.Select(step => client.Send(step).ReadAnswers(1))));
        Assert.Equal(go, ours);
        Assert.Equal(12, ours.Split('|').Length);
    }

    [Fact]
    public void The_socket_files_have_the_same_mode()
    {
        using var pair = new UapiPair(ns);
        Assert.Equal(File.GetUnixFileMode(pair.GoSocket), File.GetUnixFileMode(pair.OurSocket));
        var (go, ours) = pair.Wg("show", "interfaces");
        Assert.Contains(pair.GoName, go, StringComparison.Ordinal);
        Assert.Contains(pair.OurName, ours, StringComparison.Ordinal);
    }
}
