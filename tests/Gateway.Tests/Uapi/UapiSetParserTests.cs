using System.Net;
using Branchgate.Uapi;
using static Branchgate.Tests.Uapi.UapiTestText;

namespace Branchgate.Tests.Uapi;

/// <summary>Every key of a set request, and every kind of bad input with the errno wireguard-go answers.</summary>
public class UapiSetParserTests
{
    [Fact]
    public void Every_key_is_read_into_an_operation_in_order()
    {
        var body =
            $"private_key={Hex(0xff)}\nlisten_port=51820\nfwmark=4294967295\nreplace_peers=true\n" +
            $"public_key={Hex(0x11)}\nupdate_only=true\nremove=true\npreshared_key={Hex(0xab).ToUpperInvariant()}\n" +
            "endpoint=[fe80::1%lo]:5\npersistent_keepalive_interval=65535\nreplace_allowed_ips=true\n" +
            "allowed_ip=10.1.2.3/8\nallowed_ip=-fd00::/64\nprotocol_version=1\n\n";
        using var parsed = UapiParser.ParseSet(body, name => name == "lo" ? 1u : null);
        Assert.Equal(UapiErrno.None, parsed.Error);
        var ops = parsed.Request!.Operations;
        Assert.Equal(
            [
                UapiOperationKind.SetPrivateKey, UapiOperationKind.SetListenPort, UapiOperationKind.SetFwmark,
                UapiOperationKind.ReplacePeers, UapiOperationKind.Peer, UapiOperationKind.UpdateOnly,
                UapiOperationKind.RemovePeer, UapiOperationKind.SetPresharedKey, UapiOperationKind.SetEndpoint,
                UapiOperationKind.SetPersistentKeepalive, UapiOperationKind.ReplaceAllowedIps,
                UapiOperationKind.AddAllowedIp, UapiOperationKind.RemoveAllowedIp, UapiOperationKind.ProtocolVersion,
            ],
            ops.Select(o => o.Kind));

        // private keys are clamped as NoisePrivateKey.FromMaybeZeroHex does; preshared keys are not.
        Assert.Equal("f8" + new string('f', 60) + "7f", Convert.ToHexStringLower(ops[0].Key));
        Assert.Equal(51820ul, ops[1].Number);
        Assert.Equal(4294967295ul, ops[2].Number);
        Assert.Equal(Hex(0x11), Convert.ToHexStringLower(ops[4].PublicKey!.Span));
        Assert.Equal(Hex(0xab), Convert.ToHexStringLower(ops[7].Key));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("fe80::1%1"), 5), ops[8].Endpoint);
        Assert.Equal(65535ul, ops[9].Number);
        Assert.Equal(IPNetwork.Parse("10.0.0.0/8"), ops[11].Prefix);
        Assert.Equal(IPNetwork.Parse("fd00::/64"), ops[12].Prefix);
        Assert.Equal(Enumerable.Range(1, 14), ops.Select(o => o.Line));
    }

    [Fact]
    public void All_zero_keys_mean_none()
    {
        using var parsed = UapiParser.ParseSet($"private_key={Hex(0)}\npublic_key={Hex(0)}\npreshared_key={Hex(0)}\n");
        var ops = parsed.Request!.Operations;
        Assert.True(ops[0].Key.IsEmpty);
        Assert.True(ops[1].PublicKey!.IsZero);
        Assert.True(ops[2].Key.IsEmpty);
    }

    [Fact]
    public void Lines_may_end_in_CRLF_and_the_request_ends_at_the_first_empty_line()
    {
        using var parsed = UapiParser.ParseSet("listen_port=1\r\nfwmark=2\r\n\r\nbogus\n");
        Assert.Equal(UapiErrno.None, parsed.Error);
        Assert.Equal(2, parsed.Request!.Operations.Count);
    }

    [Fact]
    public void End_of_input_ends_the_request_and_a_last_line_without_newline_counts()
    {
        using var parsed = UapiParser.ParseSet("listen_port=1\nfwmark=2");
        Assert.Equal([1ul, 2ul], parsed.Request!.Operations.Select(o => o.Number));
        using var empty = UapiParser.ParseSet("");
        Assert.Empty(empty.Request!.Operations);
    }

    public static TheoryData<string, UapiErrno, int> BadRequests()
    {
        var key = Hex(0x11);
        var peer = $"public_key={key}\n";
        return new()
        {
            // No '=': EPROTO (-71).
            { "bogus\n", UapiErrno.Protocol, 1 },
            { "listen_port=1\nlisten_port 2\n", UapiErrno.Protocol, 2 },
            { peer + "endpoint\n", UapiErrno.Protocol, 2 },
            { "\u0000\n", UapiErrno.Protocol, 1 },
            { " \n", UapiErrno.Protocol, 1 },

            // Unknown keys, keys in the wrong section: EINVAL (-22).
            { "=\n", UapiErrno.Invalid, 1 },
            { "bogus=1\n", UapiErrno.Invalid, 1 },
            { "LISTEN_PORT=1\n", UapiErrno.Invalid, 1 },
            { " listen_port=1\n", UapiErrno.Invalid, 1 },
            { "listen_port =1\n", UapiErrno.Invalid, 1 },
            { "protocol_version=1\n", UapiErrno.Invalid, 1 },
            { "endpoint=1.2.3.4:5\n", UapiErrno.Invalid, 1 },
            { "allowed_ip=10.0.0.0/8\n", UapiErrno.Invalid, 1 },
            { "remove=true\n", UapiErrno.Invalid, 1 },
            { peer + "listen_port=1\n", UapiErrno.Invalid, 2 },
            { peer + "private_key=" + key + "\n", UapiErrno.Invalid, 2 },
            { peer + "replace_peers=true\n", UapiErrno.Invalid, 2 },
            { peer + "bogus=\n", UapiErrno.Invalid, 2 },

            // Keys: exactly 64 hex digits.
            { "private_key=\n", UapiErrno.Invalid, 1 },
            { "private_key=" + key[..62] + "\n", UapiErrno.Invalid, 1 },
            { "private_key=" + key + "1\n", UapiErrno.Invalid, 1 },
            { "private_key=" + key + "11\n", UapiErrno.Invalid, 1 },
            { "private_key=" + key[..63] + "g\n", UapiErrno.Invalid, 1 },
            { "private_key=" + key + " \n", UapiErrno.Invalid, 1 },
            { "private_key=EBERHARDtAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", UapiErrno.Invalid, 1 },
            { "public_key=\n", UapiErrno.Invalid, 1 },
            { "public_key=" + key[..63] + "\n", UapiErrno.Invalid, 1 },
            { peer + "preshared_key=" + key[..62] + "zz\n", UapiErrno.Invalid, 2 },

            // Numbers.
            { "listen_port=65536\n", UapiErrno.Invalid, 1 },
            { "listen_port=-1\n", UapiErrno.Invalid, 1 },
            { "listen_port=+5\n", UapiErrno.Invalid, 1 },
            { "listen_port=\n", UapiErrno.Invalid, 1 },
            { "listen_port=5x\n", UapiErrno.Invalid, 1 },
            { "fwmark=4294967296\n", UapiErrno.Invalid, 1 },
            { "fwmark=0x10\n", UapiErrno.Invalid, 1 },
            { peer + "persistent_keepalive_interval=65536\n", UapiErrno.Invalid, 2 },
            { peer + "persistent_keepalive_interval=-1\n", UapiErrno.Invalid, 2 },

            // Booleans are exactly "true"; protocol_version exactly "1".
            { "replace_peers=false\n", UapiErrno.Invalid, 1 },
            { "replace_peers=True\n", UapiErrno.Invalid, 1 },
            { "replace_peers=\n", UapiErrno.Invalid, 1 },
            { peer + "update_only=false\n", UapiErrno.Invalid, 2 },
            { peer + "remove=1\n", UapiErrno.Invalid, 2 },
            { peer + "replace_allowed_ips=yes\n", UapiErrno.Invalid, 2 },
            { peer + "protocol_version=2\n", UapiErrno.Invalid, 2 },
            { peer + "protocol_version=01\n", UapiErrno.Invalid, 2 },
            { peer + "protocol_version=\n", UapiErrno.Invalid, 2 },

            // Endpoints and allowed IPs.
            { peer + "endpoint=localhost:51820\n", UapiErrno.Invalid, 2 },
            { peer + "endpoint=1.2.3.4\n", UapiErrno.Invalid, 2 },
            { peer + "endpoint=1.2.3.4:5=\n", UapiErrno.Invalid, 2 },
            { peer + "endpoint=[fe80::1%nosuchif]:5\n", UapiErrno.Invalid, 2 },
            { peer + "allowed_ip=10.0.0.0\n", UapiErrno.Invalid, 2 },
            { peer + "allowed_ip=10.0.0.0/33\n", UapiErrno.Invalid, 2 },
            { peer + "allowed_ip=fe80::1%lo/64\n", UapiErrno.Invalid, 2 },
            { peer + "allowed_ip=--10.0.0.0/8\n", UapiErrno.Invalid, 2 },
            { peer + "allowed_ip=-\n", UapiErrno.Invalid, 2 },
            { peer + "allowed_ip=\n", UapiErrno.Invalid, 2 },

            // A line longer than wireguard-go's scanner buffer: EIO (-5).
            { "listen_port=1\n" + new string('a', 65536) + "\n", UapiErrno.Io, 2 },
            { "private_key=" + new string('0', 65536) + "\n", UapiErrno.Io, 1 },
        };
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void Bad_input_gets_the_errno_wireguard_go_answers(string body, UapiErrno expected, int line)
    {
        using var parsed = UapiParser.ParseSet(body, name => name == "lo" ? 1u : null);
        Assert.Null(parsed.Request);
        Assert.Equal(expected, parsed.Error);
        Assert.Equal(line, parsed.Line);
        Assert.False(string.IsNullOrEmpty(parsed.Message));
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void Bad_input_leaves_the_device_unchanged(string body, UapiErrno expected, int line)
    {
        _ = line;
        var target = Configured();
        var before = Get(target);
        var calls = target.Calls.Count;

        // Valid lines before the bad one must not be applied either (wireguard-go would apply them).
        var prefix = $"private_key={Hex(0x42)}\nlisten_port=9999\nreplace_peers=true\n";
        var withPrefix = body.StartsWith("public_key", StringComparison.Ordinal) || body.StartsWith("listen_port=1\n", StringComparison.Ordinal)
            ? prefix + body
            : body;
        Assert.Equal(expected, Set(target, withPrefix));
        Assert.Equal(before, Get(target));
        Assert.Equal(calls, target.Calls.Count);
    }

    [Fact]
    public void Hostile_input_never_throws()
    {
        var random = new Random(4);
        var pieces = new[]
        {
            "public_key=", "private_key=", "endpoint=", "allowed_ip=", "=", "\n", "\r", "[", "]", "%", ":", "::",
            "/", "-", "+", "1", "255", "65536", ".", "ffff", Hex(0x11), "true", "\0", "é", "listen_port=",
        };
        for (var i = 0; i < 20000; i++)
        {
            var body = string.Concat(Enumerable.Range(0, random.Next(1, 12)).Select(_ => pieces[random.Next(pieces.Length)]));
            using var parsed = UapiParser.ParseSet(body, name => name == "lo" ? 1u : null);
            Assert.True(parsed.Request is not null || parsed.Error != UapiErrno.None);
        }

        var bytes = new byte[4096];
        for (var i = 0; i < 2000; i++)
        {
            random.NextBytes(bytes);
            using var parsed = UapiParser.ParseSet(bytes.AsSpan(0, random.Next(bytes.Length)));
            Assert.True(parsed.Request is not null || parsed.Error != UapiErrno.None);
        }
    }

    private static InMemoryUapiTarget Configured()
    {
        var target = new InMemoryUapiTarget();
        Assert.Equal(UapiErrno.None, Set(target,
            $"private_key={Hex(0x21)}\nlisten_port=51820\nfwmark=7\npublic_key={Hex(0x11)}\nendpoint=1.2.3.4:5\n" +
            $"allowed_ip=10.0.0.0/8\npublic_key={Hex(0x22)}\nallowed_ip=fd00::/64\n\n"));
        return target;
    }
}
