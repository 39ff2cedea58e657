using System.Net;
using Branchgate.Crypto;
using Branchgate.Uapi;
using static Branchgate.Tests.Uapi.UapiTestText;

namespace Branchgate.Tests.Uapi;

/// <summary>The get answer, byte for byte as wireguard-go 0.0.20220316 writes it.</summary>
public class UapiFormatterTests
{
    [Fact]
    public void An_empty_device_answers_only_errno()
    {
        using var snapshot = new UapiDeviceSnapshot([], 0, 0, []);
        using var answer = UapiFormatter.FormatGet(snapshot);
        Assert.Equal("errno=0\n\n", answer.ToString());
    }

    [Fact]
    public void Lines_come_in_wireguard_gos_order_and_zero_device_values_are_omitted()
    {
        var first = new UapiPeerSnapshot(new NoisePublicKey(Convert.FromHexString(Hex(0x11))), Convert.FromHexString(Hex(0xab)))
        {
            Endpoint = new IPEndPoint(IPAddress.Parse("fe80::1%3"), 51820),
            LastHandshakeTimeSeconds = 1700000000,
            LastHandshakeTimeNanoseconds = 123456789,
            TransmittedBytes = ulong.MaxValue,
            ReceivedBytes = 42,
            PersistentKeepaliveInterval = 25,
            AllowedIps = [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("::ffff:10.0.0.0/104"), IPNetwork.Parse("fd00::/64")],
        };
        var second = new UapiPeerSnapshot(new NoisePublicKey(Convert.FromHexString(Hex(0x22))), []);
        using var snapshot = new UapiDeviceSnapshot(Convert.FromHexString(Hex(0x48)), 0, 4294967295, [first, second]);
        using var answer = UapiFormatter.FormatGet(snapshot);
        Assert.Equal(
            $"private_key={Hex(0x48)}\nfwmark=4294967295\n" +
            $"public_key={Hex(0x11)}\npreshared_key={Hex(0xab)}\nprotocol_version=1\nendpoint=[fe80::1]:51820\n" +
            "last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=123456789\ntx_bytes=18446744073709551615\n" +
            "rx_bytes=42\npersistent_keepalive_interval=25\nallowed_ip=10.0.0.0/8\nallowed_ip=::ffff:10.0.0.0/104\n" +
            "allowed_ip=fd00::/64\n" +
            $"public_key={Hex(0x22)}\npreshared_key={Hex(0)}\nprotocol_version=1\nlast_handshake_time_sec=0\n" +
            "last_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0\n" +
            "errno=0\n\n",
            answer.ToString());
    }

    [Fact]
    public void An_all_zero_private_key_is_not_listed_and_the_listen_port_is()
    {
        using var snapshot = new UapiDeviceSnapshot(new byte[32], 51820, 0, []);
        using var answer = UapiFormatter.FormatGet(snapshot);
        Assert.Equal("listen_port=51820\nerrno=0\n\n", answer.ToString());
    }

    [Theory]
    [InlineData(UapiErrno.None, "errno=0\n\n")]
    [InlineData(UapiErrno.Io, "errno=-5\n\n")]
    [InlineData(UapiErrno.Invalid, "errno=-22\n\n")]
    [InlineData(UapiErrno.Protocol, "errno=-71\n\n")]
    [InlineData(UapiErrno.AddressInUse, "errno=-98\n\n")]
    [InlineData(UapiErrno.Unknown, "errno=-55\n\n")]
    public void Errno_answers_are_negative(UapiErrno error, string expected) =>
        Assert.Equal(expected, UapiFormatter.FormatErrno(error));

    [Fact]
    public void The_answer_buffer_is_zeroed_on_dispose()
    {
        using var snapshot = new UapiDeviceSnapshot(Convert.FromHexString(Hex(0x48)), 0, 0, []);
        var answer = UapiFormatter.FormatGet(snapshot);
        var bytes = answer.Bytes;
        answer.Dispose();
        Assert.DoesNotContain(bytes.Span.ToArray(), b => b != 0);
    }

    [Fact]
    public void Many_peers_grow_the_buffer()
    {
        var peers = Enumerable.Range(0, 300).Select(i =>
        {
            var key = new byte[32];
            key[0] = (byte)i;
            key[1] = (byte)(i >> 8);
            return new UapiPeerSnapshot(new NoisePublicKey(key), [])
            {
                AllowedIps = [.. Enumerable.Range(0, 20).Select(j => new IPNetwork(new IPAddress([10, (byte)i, (byte)j, 0]), 24))],
            };
        }).ToList();
        using var snapshot = new UapiDeviceSnapshot([], 1, 0, peers);
        using var answer = UapiFormatter.FormatGet(snapshot);
        var text = answer.ToString();
        Assert.Equal(300, text.Split("public_key=").Length - 1);
        Assert.Equal(6000, text.Split("allowed_ip=").Length - 1);
        Assert.EndsWith("allowed_ip=10.43.19.0/24\nerrno=0\n\n", text, StringComparison.Ordinal);
    }
}
