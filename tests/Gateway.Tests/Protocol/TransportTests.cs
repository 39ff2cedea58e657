using Branchgate.Protocol;

namespace Branchgate.Tests.Protocol;

public class TransportTests
{
    [Theory]
    [InlineData(0, 1420, 0)]
    [InlineData(1, 1420, 15)]
    [InlineData(16, 1420, 0)]
    [InlineData(17, 1420, 15)]
    [InlineData(1419, 1420, 1)]
    [InlineData(1410, 1420, 10)] // 1424 would pass the MTU: pad only to 1420
    [InlineData(1420, 1420, 0)]
    [InlineData(1000, 1001, 1)]
    [InlineData(33, 0, 15)] // MTU unknown: plain multiple of 16
    public void Padding_reaches_a_multiple_of_16_but_never_passes_the_MTU(int length, int mtu, int expected)
    {
        Assert.Equal(expected, PeerSession.PaddingLength(length, mtu));
    }

    [Fact]
    public void Sealed_packets_are_padded_on_the_wire()
    {
        using var pair = new TestPair();
        pair.Handshake();
        var datagram = TestPair.Data(pair.A, "x"); // 21-byte IPv4 packet
        Assert.Equal(16 + 32 + 16, datagram.Length);
        Assert.Equal("x", TestPair.Deliver(datagram, pair.A, pair.B));
    }

    [Fact]
    public void A_replayed_transport_packet_is_dropped()
    {
        using var pair = new TestPair();
        pair.Handshake();
        var datagram = TestPair.Data(pair.A, "once");
        var copy = (byte[])datagram.Clone();
        Assert.Equal("once", TestPair.Deliver(datagram, pair.A, pair.B));
        var again = pair.B.Receive(copy, pair.A, new byte[256]);
        Assert.Equal(MessageOutcome.Dropped, again.Outcome);
        Assert.Equal(DropReason.Replay, again.Reason);
    }

    [Fact]
    public void Out_of_order_packets_are_accepted_once()
    {
        using var pair = new TestPair();
        pair.Handshake();
        var packets = Enumerable.Range(0, 20).Select(i => TestPair.Data(pair.A, $"p{i}")).ToArray();
        foreach (var i in new[] { 5, 0, 19, 3, 4, 1, 2, 18, 6 })
        {
            Assert.Equal($"p{i}", TestPair.Deliver((byte[])packets[i].Clone(), pair.A, pair.B));
        }

        Assert.Equal(DropReason.Replay, pair.B.Receive(packets[19], pair.A, new byte[256]).Reason);
    }

    [Fact]
    public void A_tampered_transport_packet_fails_authentication_and_does_not_burn_its_counter()
    {
        using var pair = new TestPair();
        pair.Handshake();
        var datagram = TestPair.Data(pair.A, "intact");
        for (var i = Messages.TransportCounter; i < datagram.Length; i++)
        {
            var tampered = (byte[])datagram.Clone();
            tampered[i] ^= 0x01;
            Assert.Equal(DropReason.DecryptionFailed, pair.B.Receive(tampered, pair.A, new byte[256]).Reason);
        }

        // The replay filter only learns authenticated counters, so the genuine packet still gets through.
        Assert.Equal("intact", TestPair.Deliver(datagram, pair.A, pair.B));
    }

    [Fact]
    public void Unknown_receiver_indices_are_dropped()
    {
        using var pair = new TestPair();
        pair.Handshake();
        var datagram = TestPair.Data(pair.A, "lost");
        Messages.WriteUInt32(datagram, Messages.TransportReceiver, Messages.ReadUInt32(datagram, Messages.TransportReceiver) ^ 0x5a5a5a5a);
        Assert.Equal(DropReason.UnknownReceiverIndex, pair.B.Receive(datagram, pair.A, new byte[256]).Reason);
    }

    [Fact]
    public void Sending_and_receiving_allocate_nothing()
    {
        using var pair = new TestPair();
        pair.Handshake();
        var buffer = new byte[2048];
        var packet = TestPair.Ipv4Packet(new string('z', 1000));
        var reply = new byte[256];
        var source = pair.A.Address;
        var failures = 0;

        void RoundTrip()
        {
            packet.CopyTo(buffer, Messages.TransportHeaderSize);
            var sent = pair.A.Session.Encrypt(buffer, packet.Length, 1420);
            var received = pair.B.Handler.Handle(buffer.AsSpan(0, sent.Length), source, false, reply);
            failures += received.Outcome == MessageOutcome.Data ? 0 : 1;
        }

        RoundTrip();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            RoundTrip();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, failures);
        Assert.Equal(0, allocated);
    }
}
