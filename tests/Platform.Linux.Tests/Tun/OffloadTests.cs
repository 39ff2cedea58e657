using System.Buffers.Binary;
using System.Net;
using Branchgate.Platform.Linux.Tun;

namespace Branchgate.Platform.Linux.Tests.Tun;

/// <summary>Split and coalesce as pure functions: no root, no kernel, checked against the plain reference checksum.</summary>
public class OffloadTests
{
    [Fact]
    public void Checksum_matches_the_reference_for_every_length_and_alignment()
    {
        var random = new Random(7);
        for (int length = 0; length < 600; length++)
        {
            var data = new byte[length + 3];
            random.NextBytes(data);
            for (int start = 0; start < 3; start++)
            {
                var slice = data.AsSpan(start, length).ToArray();
                Assert.Equal(Packets.ReferenceChecksum(slice), InternetChecksum.Compute(slice));
            }
        }
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 12)]
    [InlineData(true, 0)]
    [InlineData(true, 12)]
    public void Tcp_super_packet_splits_into_valid_segments(bool ipv6, int optionBytes)
    {
        var (a, b) = Addresses(ipv6);
        var payload = RandomBytes(10_000, 1);
        var options = Enumerable.Range(1, optionBytes).Select(i => (byte)i).ToArray();
        var super = Packets.Tcp(a, b, 40000, 443, 1_000_000, 777, Packets.FlagAck | Packets.FlagPsh | Packets.FlagFin | Packets.FlagCwr, payload, id: 100, options: options);
        Packets.MakePartial(super);
        int ipHeader = ipv6 ? 40 : 20;
        var header = new VirtioNetHeader
        {
            Flags = VirtioNetHeader.FlagNeedsChecksum,
            GsoType = ipv6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4,
            HeaderLength = 1234, // the kernel's hint is its linear length: must not be trusted
            GsoSize = 1400,
            ChecksumStart = (ushort)ipHeader,
            ChecksumOffset = 16,
        };

        var segments = Split(header, super);

        Assert.Equal(8, segments.Count); // ceil(10000 / 1400)
        for (int i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            bool last = i == segments.Count - 1;
            Assert.Equal(s.Length, Packets.IpLength(s));
            Assert.Equal(ipHeader + 20 + optionBytes + (last ? 10_000 - (7 * 1400) : 1400), s.Length);
            if (!ipv6)
            {
                Assert.True(Packets.IPv4HeaderValid(s));
                Assert.Equal(100 + i, Packets.Id(s));
            }

            Assert.True(Packets.TransportChecksumValid(s), $"segment {i} TCP checksum");
            Assert.Equal(1_000_000u + (uint)(i * 1400), Packets.Seq(s));
            byte flags = Packets.TcpFlags(s);
            Assert.Equal(last, (flags & Packets.FlagFin) != 0);
            Assert.Equal(last, (flags & Packets.FlagPsh) != 0);
            Assert.Equal(i == 0, (flags & Packets.FlagCwr) != 0);
            Assert.True((flags & Packets.FlagAck) != 0);
            Assert.Equal(options, s.AsSpan(ipHeader + 20, optionBytes).ToArray());
        }

        Assert.Equal(payload, segments.SelectMany(Packets.Payload).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Udp_super_packet_splits_into_datagrams_with_their_own_headers(bool ipv6)
    {
        var (a, b) = Addresses(ipv6);
        var payload = RandomBytes(5 * 1200 + 7, 2);
        var super = Packets.Udp(a, b, 5000, 6000, payload, id: 9);
        Packets.MakePartial(super);
        var header = new VirtioNetHeader
        {
            Flags = VirtioNetHeader.FlagNeedsChecksum,
            GsoType = VirtioNetHeader.GsoUdpL4,
            GsoSize = 1200,
            ChecksumStart = (ushort)(ipv6 ? 40 : 20),
            ChecksumOffset = 6,
        };

        var segments = Split(header, super);

        Assert.Equal(6, segments.Count);
        for (int i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            int ipHeader = ipv6 ? 40 : 20;
            Assert.Equal(s.Length, Packets.IpLength(s));
            Assert.Equal(s.Length - ipHeader, BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(ipHeader + 4)));
            Assert.True(Packets.TransportChecksumValid(s));
            if (!ipv6)
            {
                Assert.True(Packets.IPv4HeaderValid(s));
                Assert.Equal(9 + i, Packets.Id(s));
            }
        }

        Assert.Equal(payload, segments.SelectMany(Packets.Payload).ToArray());
    }

    [Fact]
    public void Ecn_bit_in_the_gso_type_is_accepted()
    {
        var super = Packets.Tcp(Packets.V4A, Packets.V4B, 1, 2, 5, 6, Packets.FlagAck, RandomBytes(3000, 3));
        Packets.MakePartial(super);
        var header = TcpHeader(false, 1000);
        header.GsoType |= VirtioNetHeader.GsoEcn;
        Assert.Equal(3, Split(header, super).Count);
    }

    [Fact]
    public void Malformed_super_packets_are_refused()
    {
        var v4 = Packets.Tcp(Packets.V4A, Packets.V4B, 1, 2, 5, 6, Packets.FlagAck, RandomBytes(3000, 4));
        var v6 = Packets.Tcp(Packets.V6A, Packets.V6B, 1, 2, 5, 6, Packets.FlagAck, RandomBytes(3000, 4));
        Assert.False(GsoSplit.TryGetLayout(TcpHeader(false, 0), v4, out _)); // gso_size 0
        Assert.False(GsoSplit.TryGetLayout(TcpHeader(false, 1000), v6, out _)); // TCPV4 on an IPv6 packet
        Assert.False(GsoSplit.TryGetLayout(TcpHeader(true, 1000), v4, out _));
        var wrongStart = TcpHeader(false, 1000);
        wrongStart.ChecksumStart = 24;
        Assert.False(GsoSplit.TryGetLayout(wrongStart, v4, out _));
        var unknown = TcpHeader(false, 1000);
        unknown.GsoType = VirtioNetHeader.GsoUdp; // UFO: never negotiated
        Assert.False(GsoSplit.TryGetLayout(unknown, v4, out _));
        Assert.False(GsoSplit.TryGetLayout(TcpHeader(false, 1000), v4.AsSpan(0, 40), out _)); // headers only
    }

    [Fact]
    public void A_segment_that_does_not_fit_the_buffer_is_not_written()
    {
        var super = Packets.Tcp(Packets.V4A, Packets.V4B, 1, 2, 5, 6, Packets.FlagAck, RandomBytes(3000, 5));
        Assert.True(GsoSplit.TryGetLayout(TcpHeader(false, 1400), super, out var layout));
        Assert.Equal(0, GsoSplit.WriteSegment(super, layout, 0, new byte[1439]));
        Assert.Equal(1440, GsoSplit.WriteSegment(super, layout, 0, new byte[1440]));
    }

    [Theory]
    [InlineData(false, 17)]
    [InlineData(true, 17)]
    [InlineData(false, 6)]
    [InlineData(true, 6)]
    public void Partial_checksum_of_a_single_packet_is_completed(bool ipv6, int protocol)
    {
        var (a, b) = Addresses(ipv6);
        var payload = RandomBytes(333, 6);
        var packet = protocol == 6
            ? Packets.Tcp(a, b, 10, 20, 1, 2, Packets.FlagAck, payload)
            : Packets.Udp(a, b, 10, 20, payload);
        var expected = (byte[])packet.Clone();
        Packets.MakePartial(packet);
        Assert.False(Packets.TransportChecksumValid(packet));
        var header = new VirtioNetHeader
        {
            Flags = VirtioNetHeader.FlagNeedsChecksum,
            ChecksumStart = (ushort)(ipv6 ? 40 : 20),
            ChecksumOffset = (ushort)(protocol == 6 ? 16 : 6),
        };

        Assert.True(GsoSplit.CompleteChecksum(packet, header));

        Assert.True(Packets.TransportChecksumValid(packet));
        Assert.Equal(expected, packet);
        header.ChecksumStart = (ushort)packet.Length;
        Assert.False(GsoSplit.CompleteChecksum(packet, header));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Coalesced_segments_form_the_super_packet_the_kernel_expects(bool ipv6)
    {
        var segments = Flow(ipv6, count: 6, size: 1400, lastSize: 321, push: true);
        var buffer = new byte[TcpCoalescer.BufferSize];
        var run = new TcpCoalescer(buffer);
        Assert.True(run.Start(segments[0]));
        foreach (var s in segments.Skip(1))
        {
            Assert.Equal(TcpFlowRelation.SameFlow, run.Relate(s));
            Assert.True(run.TryAppend(s));
        }

        int length = run.Finish();

        var header = VirtioNetHeader.Read(buffer);
        int ipHeader = ipv6 ? 40 : 20;
        Assert.Equal(VirtioNetHeader.FlagNeedsChecksum, header.Flags);
        Assert.Equal(ipv6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4, header.GsoType);
        Assert.Equal(1400, header.GsoSize);
        Assert.Equal(ipHeader + 20, header.HeaderLength);
        Assert.Equal(ipHeader, header.ChecksumStart);
        Assert.Equal(16, header.ChecksumOffset);
        var super = buffer[VirtioNetHeader.Size..length];
        Assert.Equal(ipHeader + 20 + (5 * 1400) + 321, super.Length);
        Assert.Equal(super.Length, Packets.IpLength(super));
        if (!ipv6)
        {
            Assert.True(Packets.IPv4HeaderValid(super));
        }

        // The TCP checksum field holds the folded pseudo-header sum, not a checksum.
        ushort field = BinaryPrimitives.ReadUInt16BigEndian(super.AsSpan(ipHeader + 16));
        Assert.Equal((ushort)~Packets.ReferenceChecksum(Packets.PseudoHeader(super)), field);
        Assert.Equal(Packets.FlagAck | Packets.FlagPsh, Packets.TcpFlags(super));

        // What the kernel's segmentation would make of it is exactly what went in.
        var again = Split(header, super);
        Assert.Equal(segments.Count, again.Count);
        for (int i = 0; i < segments.Count; i++)
        {
            Assert.Equal(segments[i], again[i]);
        }
    }

    [Fact]
    public void Segments_that_do_not_continue_the_run_are_not_appended()
    {
        var flow = Flow(false, count: 3, size: 1000, lastSize: 1000, push: false);
        var (a, b) = Addresses(false);
        var gap = Packets.Tcp(a, b, 40000, 443, 5000 + 1001, 99, Packets.FlagAck, RandomBytes(1000, 9), id: 2);
        var otherAck = Packets.Tcp(a, b, 40000, 443, 5000 + 1000, 98, Packets.FlagAck, RandomBytes(1000, 9), id: 2);
        var syn = Packets.Tcp(a, b, 40000, 443, 5000 + 1000, 99, Packets.FlagAck | Packets.FlagSyn, RandomBytes(1000, 9), id: 2);
        var otherTtl = Packets.Tcp(a, b, 40000, 443, 5000 + 1000, 99, Packets.FlagAck, RandomBytes(1000, 9), id: 2, ttl: 63);
        var longer = Packets.Tcp(a, b, 40000, 443, 5000 + 1000, 99, Packets.FlagAck, RandomBytes(1001, 9), id: 2);
        var otherOptions = Packets.Tcp(a, b, 40000, 443, 5000 + 1000, 99, Packets.FlagAck, RandomBytes(1000, 9), id: 2, options: [1, 1, 1, 1]);
        var corrupt = (byte[])flow[1].Clone();
        corrupt[^1] ^= 0xFF;
        var pureAck = Packets.Tcp(a, b, 40000, 443, 5000 + 1000, 99, Packets.FlagAck, [], id: 2);

        var buffer = new byte[TcpCoalescer.BufferSize];
        foreach (var refused in new[] { gap, otherAck, syn, otherTtl, longer, otherOptions, corrupt, pureAck })
        {
            var run = new TcpCoalescer(buffer);
            Assert.True(run.Start(flow[0]));
            Assert.Equal(TcpFlowRelation.SameFlow, run.Relate(refused));
            Assert.False(run.TryAppend(refused));
            Assert.True(run.TryAppend(flow[1])); // the run itself is still fine
        }
    }

    [Fact]
    public void A_shorter_segment_or_PSH_ends_the_run()
    {
        var buffer = new byte[TcpCoalescer.BufferSize];
        var shortMiddle = Flow(false, count: 3, size: 1000, lastSize: 1000, push: false);
        shortMiddle[1] = Rebuild(shortMiddle[1], payloadLength: 500, flags: Packets.FlagAck);
        var run = new TcpCoalescer(buffer);
        Assert.True(run.Start(shortMiddle[0]));
        Assert.True(run.TryAppend(shortMiddle[1]));
        Assert.False(run.TryAppend(Rebuild(shortMiddle[2], seq: Packets.Seq(shortMiddle[1]) + 500)));

        var pushMiddle = Flow(false, count: 3, size: 1000, lastSize: 1000, push: false);
        pushMiddle[1] = Rebuild(pushMiddle[1], payloadLength: 1000, flags: Packets.FlagAck | Packets.FlagPsh);
        run = new TcpCoalescer(buffer);
        Assert.True(run.Start(pushMiddle[0]));
        Assert.True(run.TryAppend(pushMiddle[1]));
        Assert.False(run.TryAppend(pushMiddle[2]));
        Assert.Equal(2, run.Count);
    }

    [Fact]
    public void Packets_that_cannot_head_a_run_are_refused()
    {
        var buffer = new byte[TcpCoalescer.BufferSize];
        var (a, b) = Addresses(false);
        var run = new TcpCoalescer(buffer);
        Assert.False(run.Start(Packets.Udp(a, b, 1, 2, RandomBytes(100, 1))));
        Assert.False(run.Start(Packets.Tcp(a, b, 1, 2, 3, 4, Packets.FlagSyn, RandomBytes(100, 1))));
        Assert.False(run.Start(Packets.Tcp(a, b, 1, 2, 3, 4, Packets.FlagAck, [])));
        var fragment = Packets.Tcp(a, b, 1, 2, 3, 4, Packets.FlagAck, RandomBytes(100, 1));
        fragment[6] |= 0x20; // MF
        Assert.False(run.Start(fragment));
        var withOptions = Packets.Tcp(a, b, 1, 2, 3, 4, Packets.FlagAck, RandomBytes(100, 1));
        withOptions[0] = 0x46;
        Assert.False(run.Start(withOptions));
    }

    [Fact]
    public void Gather_skips_other_flows_and_stops_at_a_packet_of_the_flow_it_cannot_append()
    {
        var flowA = Flow(false, count: 4, size: 1000, lastSize: 1000, push: false);
        var flowB = Flow(false, count: 2, size: 1000, lastSize: 1000, push: false, sourcePort: 40001);
        var udp = Packets.Udp(Packets.V4A, Packets.V4B, 40000, 443, RandomBytes(50, 1));
        var pureAckA = Packets.Tcp(Packets.V4A, Packets.V4B, 40000, 443, Packets.Seq(flowA[3]), 99, Packets.FlagAck, []);
        byte[][] batch = [flowA[0], flowB[0], flowA[1], udp, flowA[2], flowB[1], pureAckA, flowA[3]];
        const int offset = 16;
        var buffers = batch.Select(p => new Memory<byte>([.. new byte[offset], .. p])).ToArray();
        var sizes = batch.Select(p => p.Length).ToArray();
        var consumed = new bool[batch.Length];

        var buffer = new byte[TcpCoalescer.BufferSize];
        var run = new TcpCoalescer(buffer);
        Assert.True(run.Start(batch[0]));
        run.Gather(buffers, sizes, offset, 0, consumed);

        Assert.Equal(3, run.Count); // A0 A1 A2; the pure ACK of flow A stops it before A3
        Assert.Equal([false, false, true, false, true, false, false, false], consumed);
    }

    [Fact]
    public void Split_and_coalesce_do_not_allocate()
    {
        var flow = Flow(true, count: 40, size: 1400, lastSize: 900, push: true);
        var buffer = new byte[TcpCoalescer.BufferSize];
        var segment = new byte[2000];
        int Round()
        {
            var run = new TcpCoalescer(buffer);
            run.Start(flow[0]);
            for (int i = 1; i < flow.Count; i++)
            {
                run.TryAppend(flow[i]);
            }

            int length = run.Finish();
            var header = VirtioNetHeader.Read(buffer);
            var super = buffer.AsSpan(VirtioNetHeader.Size, length - VirtioNetHeader.Size);
            GsoSplit.TryGetLayout(header, super, out var layout);
            int total = 0;
            for (int i = 0; i < layout.SegmentCount; i++)
            {
                total += GsoSplit.WriteSegment(super, layout, i, segment);
            }

            return total;
        }

        int expected = Round();
        long total = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            total += Round();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(200L * expected, total);
        Assert.Equal(0, allocated);
    }

    internal static List<byte[]> Split(VirtioNetHeader header, byte[] super)
    {
        Assert.True(GsoSplit.TryGetLayout(header, super, out var layout));
        var result = new List<byte[]>();
        var destination = new byte[layout.MaxSegmentLength + 100];
        for (int i = 0; i < layout.SegmentCount; i++)
        {
            int length = GsoSplit.WriteSegment(super, layout, i, destination);
            Assert.True(length > 0);
            result.Add(destination[..length]);
        }

        return result;
    }

    private static List<byte[]> Flow(bool ipv6, int count, int size, int lastSize, bool push, ushort sourcePort = 40000)
    {
        var (a, b) = Addresses(ipv6);
        var list = new List<byte[]>();
        uint seq = 5000;
        for (int i = 0; i < count; i++)
        {
            bool last = i == count - 1;
            byte flags = (byte)(Packets.FlagAck | (last && push ? Packets.FlagPsh : 0));
            var payload = RandomBytes(last ? lastSize : size, 100 + i);
            list.Add(Packets.Tcp(a, b, sourcePort, 443, seq, 99, flags, payload, id: (ushort)(1 + i)));
            seq += (uint)payload.Length;
        }

        return list;
    }

    private static byte[] Rebuild(byte[] packet, int? payloadLength = null, byte? flags = null, uint? seq = null)
    {
        bool ipv6 = Packets.IsIPv6(packet);
        var (a, b) = Addresses(ipv6);
        var payload = Packets.Payload(packet);
        return Packets.Tcp(a, b, 40000, 443, seq ?? Packets.Seq(packet), 99, flags ?? Packets.TcpFlags(packet),
            payload.AsSpan(0, payloadLength ?? payload.Length), id: ipv6 ? (ushort)1 : Packets.Id(packet));
    }

    private static VirtioNetHeader TcpHeader(bool ipv6, ushort gsoSize) => new()
    {
        Flags = VirtioNetHeader.FlagNeedsChecksum,
        GsoType = ipv6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4,
        GsoSize = gsoSize,
        ChecksumStart = (ushort)(ipv6 ? 40 : 20),
        ChecksumOffset = 16,
    };

    private static (IPAddress A, IPAddress B) Addresses(bool ipv6) =>
        ipv6 ? (Packets.V6A, Packets.V6B) : (Packets.V4A, Packets.V4B);

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
