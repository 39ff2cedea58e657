using System.Buffers.Binary;
using System.Text;
using Branchgate.Crypto;
using Branchgate.Protocol;
using Microsoft.Extensions.Time.Testing;

namespace Branchgate.Tests.Protocol;

/// <summary>One side of an in-memory tunnel: the device-level pieces around a session with the other side.</summary>
internal sealed class TestNode : IDisposable
{
    public TestNode(string name, TimeProvider time, NoisePrivateKey? key = null)
    {
        Name = name;
        Time = time;
        Identity = new NoiseIdentity(key ?? NoisePrivateKey.Generate());
        Handler = new MessageHandler(Identity, Indices, Directory, time);
        Address = Encoding.ASCII.GetBytes(name + ":51820");
    }

    public string Name { get; }

    public TimeProvider Time { get; }

    public NoiseIdentity Identity { get; }

    public IndexTable Indices { get; } = new();

    public SessionDirectory Directory { get; } = new();

    public MessageHandler Handler { get; }

    public byte[] Address { get; set; }

    public PeerSession Session { get; private set; } = null!;

    public PeerSession AddPeer(NoisePublicKey peer, ReadOnlySpan<byte> presharedKey = default, int seed = 1)
    {
        Session = new PeerSession(peer, Indices, Time, new Random(seed));
        Session.SetIdentity(Identity);
        Session.SetPresharedKey(presharedKey);
        Directory.TryAdd(Session);
        return Session;
    }

    /// <summary>Receives a datagram from <paramref name="from"/>; the reply, if any, is in <paramref name="reply"/>.</summary>
    public MessageResult Receive(byte[] datagram, TestNode from, byte[] reply, bool underLoad = false) =>
        Handler.Handle(datagram, from.Address, underLoad, reply);

    public void Dispose()
    {
        Session?.Dispose();
        Handler.Dispose();
        Identity.Dispose();
    }
}

/// <summary>Two nodes that know each other, on one fake clock.</summary>
internal sealed class TestPair : IDisposable
{
    public TestPair(ReadOnlySpan<byte> psk = default, ReadOnlySpan<byte> responderPsk = default)
    {
        A = new TestNode("a", Clock);
        B = new TestNode("b", Clock);
        A.AddPeer(B.Identity.PublicKey, psk, seed: 1);
        B.AddPeer(A.Identity.PublicKey, responderPsk.IsEmpty ? psk : responderPsk, seed: 2);
    }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    public TestNode A { get; }

    public TestNode B { get; }

    /// <summary>A (initiator) and B complete a handshake; B's keypair is confirmed by A's first keepalive.</summary>
    public void Handshake(bool confirm = true)
    {
        var initiation = Initiation(A);
        var reply = new byte[256];
        var atB = B.Receive(initiation, A, reply);
        Assert.Equal(MessageOutcome.Reply, atB.Outcome);
        var atA = A.Receive(reply[..atB.Length], B, new byte[256]);
        Assert.Equal(MessageOutcome.HandshakeComplete, atA.Outcome);
        if (confirm)
        {
            var keepalive = Keepalive(A);
            var confirmed = B.Receive(keepalive, A, new byte[256]);
            Assert.Equal(MessageOutcome.Keepalive, confirmed.Outcome);
            Assert.True(confirmed.HandshakeCompleted);
        }
    }

    public static byte[] Initiation(TestNode node, bool isRetry = false)
    {
        var message = new byte[Messages.InitiationSize];
        Assert.Equal(Messages.InitiationSize, node.Session.WriteInitiation(message, isRetry));
        return message;
    }

    public static byte[] Keepalive(TestNode node)
    {
        var message = new byte[64];
        var sent = node.Session.WriteKeepalive(message);
        Assert.Equal(SendStatus.Sealed, sent.Status);
        return message[..sent.Length];
    }

    /// <summary>Seals an IPv4 packet carrying <paramref name="text"/>; returns the datagram.</summary>
    public static byte[] Data(TestNode from, string text, out SendResult result, int mtu = Constants.DefaultMtu)
    {
        var packet = Ipv4Packet(text);
        var buffer = new byte[Messages.TransportHeaderSize + packet.Length + 64];
        packet.CopyTo(buffer, Messages.TransportHeaderSize);
        result = from.Session.Encrypt(buffer, packet.Length, mtu);
        return buffer[..result.Length];
    }

    public static byte[] Data(TestNode from, string text)
    {
        var datagram = Data(from, text, out var result);
        Assert.Equal(SendStatus.Sealed, result.Status);
        return datagram;
    }

    /// <summary>Delivers data and returns the text it carried.</summary>
    public static string Deliver(byte[] datagram, TestNode from, TestNode to)
    {
        var result = to.Receive(datagram, from, new byte[256]);
        Assert.Equal(MessageOutcome.Data, result.Outcome);
        Assert.Same(to.Session, result.Session);
        var plaintext = datagram.AsSpan(Messages.TransportHeaderSize, result.Length);
        Assert.True(InnerPacket.TryParse(plaintext, out var version, out var length, out _));
        Assert.Equal(4, version);
        return Encoding.UTF8.GetString(plaintext[20..length]);
    }

    public static byte[] Ipv4Packet(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var packet = new byte[20 + payload.Length];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        packet[9] = 253; // experimental protocol number: no transport header
        packet[12] = 10;
        packet[15] = 1;
        packet[16] = 10;
        packet[19] = 2;
        payload.CopyTo(packet, 20);
        return packet;
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}
