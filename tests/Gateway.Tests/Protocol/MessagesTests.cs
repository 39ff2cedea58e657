using Branchgate.Protocol;

namespace Branchgate.Tests.Protocol;

public class MessagesTests
{
    [Theory]
    [InlineData(1, 148, MessageType.Initiation)]
    [InlineData(2, 92, MessageType.Response)]
    [InlineData(3, 64, MessageType.CookieReply)]
    [InlineData(4, 32, MessageType.Transport)]
    [InlineData(4, 1500, MessageType.Transport)]
    public void Well_formed_messages_are_classified(byte type, int size, MessageType expected)
    {
        var message = new byte[size];
        message[0] = type;
        Assert.Equal(expected, Messages.Classify(message, out var reason));
        Assert.Equal(DropReason.None, reason);
    }

    [Theory]
    [InlineData(1, 147, DropReason.WrongSize)]
    [InlineData(1, 149, DropReason.WrongSize)]
    [InlineData(2, 91, DropReason.WrongSize)]
    [InlineData(2, 148, DropReason.WrongSize)]
    [InlineData(3, 65, DropReason.WrongSize)]
    [InlineData(4, 31, DropReason.WrongSize)]
    [InlineData(0, 148, DropReason.UnknownType)]
    [InlineData(5, 148, DropReason.UnknownType)]
    [InlineData(255, 64, DropReason.UnknownType)]
    [InlineData(1, 3, DropReason.TooShort)]
    [InlineData(4, 0, DropReason.TooShort)]
    public void Malformed_messages_get_a_reason(byte type, int size, DropReason expected)
    {
        var message = new byte[size];
        if (size > 0)
        {
            message[0] = type;
        }

        Assert.Equal(MessageType.None, Messages.Classify(message, out var reason));
        Assert.Equal(expected, reason);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Reserved_bytes_must_be_zero(int position)
    {
        var message = new byte[148];
        message[0] = 1;
        message[position] = 1;
        Assert.Equal(MessageType.None, Messages.Classify(message, out var reason));
        Assert.Equal(DropReason.ReservedBytesNotZero, reason);
    }

    [Fact]
    public void Random_datagrams_never_throw_and_never_authenticate()
    {
        using var pair = new TestPair();
        pair.Handshake();
        var random = new Random(7);
        var reply = new byte[256];
        var sizes = new[] { 0, 1, 3, 4, 31, 32, 33, 64, 92, 148, 200, 1500 };
        for (var i = 0; i < 3000; i++)
        {
            var datagram = new byte[sizes[i % sizes.Length]];
            random.NextBytes(datagram);
            if (datagram.Length >= 4 && i % 2 == 0)
            {
                datagram[0] = (byte)(1 + (i / 2 % 4));
                datagram[1] = datagram[2] = datagram[3] = 0;
            }

            if (datagram.Length >= 8 && i % 3 == 0 && pair.B.Session.CurrentKeypair is { } keypair)
            {
                // Aim at a real receiver index so the packet reaches the AEAD.
                Messages.WriteUInt32(datagram, Messages.TransportReceiver, keypair.LocalIndex);
            }

            var result = pair.B.Receive(datagram, pair.A, reply, underLoad: i % 5 == 0);
            Assert.NotEqual(MessageOutcome.Data, result.Outcome);
            Assert.NotEqual(MessageOutcome.Keepalive, result.Outcome);
            Assert.NotEqual(MessageOutcome.HandshakeComplete, result.Outcome);
        }

        // The tunnel still works afterwards.
        Assert.Equal("still up", TestPair.Deliver(TestPair.Data(pair.A, "still up"), pair.A, pair.B));
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x45 })]
    [InlineData(new byte[] { 0x60, 0, 0, 0 })]
    [InlineData(new byte[] { 0x10, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    public void Inner_packets_that_are_not_IP_are_refused(byte[] packet)
    {
        Assert.False(InnerPacket.TryParse(packet, out _, out _, out var reason));
        Assert.Equal(DropReason.NotAnIpPacket, reason);
    }

    [Fact]
    public void Inner_packet_lengths_come_from_the_IP_header()
    {
        var v4 = new byte[48];
        v4[0] = 0x45;
        v4[3] = 33;
        Assert.True(InnerPacket.TryParse(v4, out var version, out var length, out _));
        Assert.Equal((4, 33), (version, length));
        v4[3] = 49; // longer than the buffer
        Assert.False(InnerPacket.TryParse(v4, out _, out _, out _));

        var v6 = new byte[64];
        v6[0] = 0x60;
        v6[5] = 8;
        Assert.True(InnerPacket.TryParse(v6, out version, out length, out _));
        Assert.Equal((6, 48), (version, length));
        v6[5] = 25;
        Assert.False(InnerPacket.TryParse(v6, out _, out _, out _));
    }
}
