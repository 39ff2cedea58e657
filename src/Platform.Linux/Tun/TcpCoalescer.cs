using System.Buffers.Binary;

namespace Branchgate.Platform.Linux.Tun;

/// <summary>How a packet relates to the flow of a <see cref="TcpCoalescer"/> run.</summary>
public enum TcpFlowRelation
{
    /// <summary>Another flow (or not TCP): it may be written before or after the super-packet.</summary>
    OtherFlow,

    /// <summary>The same flow (or one we cannot tell apart): appended, or it ends the search to keep order.</summary>
    SameFlow,
}

/// <summary>
/// Merges consecutive TCP segments of one flow into a GSO super-packet for a TUN write, as the kernel's GRO would:
/// same addresses, ports and ACK number, the same IP fields (TOS/traffic class, TTL/hop limit, DF), identical TCP
/// options, contiguous sequence numbers, flags ACK (PSH allowed on the last), every segment the size of the first
/// except a shorter last one, at most 64 KiB, and every checksum valid (the kernel trusts a NEEDS_CSUM packet, so a
/// corrupt segment must not hide inside one). The result carries a virtio header (NEEDS_CSUM, TCPV4/TCPV6,
/// gso_size) and the pseudo-header sum in the TCP checksum field. Pure: it copies into the caller's buffer, no I/O,
/// no allocation.
/// </summary>
public ref struct TcpCoalescer
{
    /// <summary>The buffer size that holds the largest super-packet and its virtio header.</summary>
    public const int BufferSize = VirtioNetHeader.Size + MaxPacket;

    private const int MaxPacket = 65535;
    private const byte TcpAck = 0x10;
    private const byte TcpPsh = 0x08;

    private readonly Span<byte> _buffer;
    private ReadOnlySpan<byte> _head;
    private Segment _first;
    private int _length;
    private uint _nextSequence;
    private bool _closed;
    private bool _copied;
    private int _count;

    /// <param name="buffer">Receives the virtio header and the super-packet; at least <see cref="BufferSize"/> bytes.</param>
    public TcpCoalescer(Span<byte> buffer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buffer.Length, BufferSize);
        _buffer = buffer;
    }

    /// <summary>Begins a run with <paramref name="packet"/>; false when it cannot head one (write it alone).</summary>
    public bool Start(ReadOnlySpan<byte> packet)
    {
        _count = 0;
        _copied = false;
        if (!Segment.TryParse(packet, out _first))
        {
            return false;
        }

        _head = packet;
        _length = packet.Length;
        _nextSequence = _first.Sequence + (uint)_first.PayloadLength;
        _closed = _first.Push;
        _count = 1;
        return true;
    }

    /// <summary>Number of packets in the run: 0 before Start, 1 when nothing was appended.</summary>
    public readonly int Count => _count;

    /// <summary>Whether <paramref name="packet"/> belongs to the run's flow (unknown counts as the same flow).</summary>
    public readonly TcpFlowRelation Relate(ReadOnlySpan<byte> packet)
    {
        var head = _head;
        if (packet.Length < 20 || packet[0] >> 4 != head[0] >> 4)
        {
            return TcpFlowRelation.OtherFlow;
        }

        int ports;
        if (_first.IsIPv6)
        {
            if (packet.Length < 40 || !packet.Slice(8, 32).SequenceEqual(head.Slice(8, 32)))
            {
                return TcpFlowRelation.OtherFlow;
            }

            if (packet[6] is InternetChecksum.ProtocolUdp or 58)
            {
                return TcpFlowRelation.OtherFlow;
            }

            if (packet[6] != InternetChecksum.ProtocolTcp)
            {
                return TcpFlowRelation.SameFlow; // extension headers: could be ours, do not reorder around it
            }

            ports = 40;
        }
        else
        {
            if (!packet.Slice(12, 8).SequenceEqual(head.Slice(12, 8)) || packet[9] != InternetChecksum.ProtocolTcp)
            {
                return TcpFlowRelation.OtherFlow;
            }

            ports = (packet[0] & 0x0F) * 4;
            bool fragment = (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x1FFF) != 0;
            if (fragment)
            {
                return TcpFlowRelation.SameFlow;
            }
        }

        if (packet.Length < ports + 4)
        {
            return TcpFlowRelation.SameFlow;
        }

        return packet.Slice(ports, 4).SequenceEqual(head.Slice(_first.IpHeaderLength, 4))
            ? TcpFlowRelation.SameFlow
            : TcpFlowRelation.OtherFlow;
    }

    /// <summary>Appends a packet of the same flow when it continues the run; false leaves the run unchanged.</summary>
    public bool TryAppend(ReadOnlySpan<byte> packet)
    {
        if (_count == 0 || _closed || !Segment.TryParse(packet, out var next))
        {
            return false;
        }

        var head = _head;
        if (next.IsIPv6 != _first.IsIPv6
            || next.IpHeaderLength != _first.IpHeaderLength
            || next.TcpHeaderLength != _first.TcpHeaderLength
            || next.Sequence != _nextSequence
            || next.PayloadLength > _first.PayloadLength
            || _length + next.PayloadLength > MaxPacket
            || !IpFieldsMatch(head, packet, _first.IsIPv6)
            || !TcpFieldsMatch(head, packet, _first.IpHeaderLength, _first.TcpHeaderLength))
        {
            return false;
        }

        if (!_copied)
        {
            if (!Segment.ChecksumsValid(head, _first))
            {
                _closed = true;
                return false;
            }
        }

        if (!Segment.ChecksumsValid(packet, next))
        {
            return false;
        }

        if (!_copied)
        {
            head.CopyTo(_buffer[VirtioNetHeader.Size..]);
            _copied = true;
        }

        packet.Slice(next.HeaderLength, next.PayloadLength).CopyTo(_buffer[(VirtioNetHeader.Size + _length)..]);
        _length += next.PayloadLength;
        _nextSequence += (uint)next.PayloadLength;
        _count++;
        if (next.Push)
        {
            _buffer[VirtioNetHeader.Size + _first.IpHeaderLength + 13] |= TcpPsh;
            _closed = true;
        }

        if (next.PayloadLength < _first.PayloadLength)
        {
            _closed = true;
        }

        return true;
    }

    /// <summary>
    /// Scans <paramref name="buffers"/> after index <paramref name="first"/> (the run's head) and appends every
    /// packet that continues the run, marking it in <paramref name="consumed"/>. Packets of other flows are skipped;
    /// the first packet of this flow that cannot be appended ends the scan, so the flow's order is kept.
    /// </summary>
    public void Gather(ReadOnlySpan<Memory<byte>> buffers, ReadOnlySpan<int> sizes, int offset, int first, Span<bool> consumed)
    {
        for (int j = first + 1; j < buffers.Length && !_closed; j++)
        {
            if (consumed[j])
            {
                continue;
            }

            var packet = buffers[j].Span.Slice(offset, sizes[j]);
            if (Relate(packet) == TcpFlowRelation.OtherFlow)
            {
                continue;
            }

            if (!TryAppend(packet))
            {
                break;
            }

            consumed[j] = true;
        }
    }

    /// <summary>
    /// After at least one append: fixes the IP length fields and header checksum, puts the pseudo-header sum in
    /// the TCP checksum field, writes the virtio header in front and returns the bytes to write (header included).
    /// </summary>
    public readonly int Finish()
    {
        if (_count < 2)
        {
            throw new InvalidOperationException("nothing was coalesced: write the packet alone with a zero virtio header");
        }

        var packet = _buffer.Slice(VirtioNetHeader.Size, _length);
        int ipHeader = _first.IpHeaderLength;
        if (_first.IsIPv6)
        {
            BinaryPrimitives.WriteUInt16BigEndian(packet[4..], (ushort)(_length - 40));
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)_length);
            GsoSplit.WriteIPv4HeaderChecksum(packet[..ipHeader]);
        }

        ulong pseudo = GsoSplit.PseudoHeaderSum(packet, _first.IsIPv6, InternetChecksum.ProtocolTcp, _length - ipHeader);
        BinaryPrimitives.WriteUInt16BigEndian(packet[(ipHeader + 16)..], InternetChecksum.Fold(pseudo));
        new VirtioNetHeader
        {
            Flags = VirtioNetHeader.FlagNeedsChecksum,
            GsoType = _first.IsIPv6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4,
            HeaderLength = (ushort)_first.HeaderLength,
            GsoSize = (ushort)_first.PayloadLength,
            ChecksumStart = (ushort)ipHeader,
            ChecksumOffset = 16,
        }.Write(_buffer);
        return VirtioNetHeader.Size + _length;
    }

    private static bool IpFieldsMatch(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, bool ipv6)
    {
        if (ipv6)
        {
            // version, traffic class, flow label; hop limit
            return a[..4].SequenceEqual(b[..4]) && a[7] == b[7];
        }

        // TOS; DF and reserved bits (MF and offsets were refused); TTL
        return a[1] == b[1] && (a[6] & 0xE0) == (b[6] & 0xE0) && a[8] == b[8];
    }

    private static bool TcpFieldsMatch(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int ipHeader, int tcpHeader)
    {
        // ACK number, then the options.
        return a.Slice(ipHeader + 8, 4).SequenceEqual(b.Slice(ipHeader + 8, 4))
            && a.Slice(ipHeader + 20, tcpHeader - 20).SequenceEqual(b.Slice(ipHeader + 20, tcpHeader - 20));
    }

    /// <summary>A TCP packet that may take part in coalescing, with its parsed header fields.</summary>
    private struct Segment
    {
        public bool IsIPv6;
        public int IpHeaderLength;
        public int TcpHeaderLength;
        public int PayloadLength;
        public uint Sequence;
        public bool Push;

        public readonly int HeaderLength => IpHeaderLength + TcpHeaderLength;

        public static bool TryParse(ReadOnlySpan<byte> packet, out Segment segment)
        {
            segment = default;
            if (packet.Length < 40 || packet.Length > MaxPacket)
            {
                return false;
            }

            int version = packet[0] >> 4;
            if (version == 4)
            {
                // No IP options, not a fragment, the length field matching what we have.
                if (packet[0] != 0x45 || packet[9] != InternetChecksum.ProtocolTcp
                    || BinaryPrimitives.ReadUInt16BigEndian(packet[2..]) != packet.Length
                    || (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3FFF) != 0)
                {
                    return false;
                }

                segment.IpHeaderLength = 20;
            }
            else if (version == 6)
            {
                if (packet.Length < 60 || packet[6] != InternetChecksum.ProtocolTcp
                    || BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) != packet.Length - 40)
                {
                    return false;
                }

                segment.IsIPv6 = true;
                segment.IpHeaderLength = 40;
            }
            else
            {
                return false;
            }

            var tcp = packet[segment.IpHeaderLength..];
            segment.TcpHeaderLength = (tcp[12] >> 4) * 4;
            byte flags = tcp[13];
            if (segment.TcpHeaderLength < 20 || segment.TcpHeaderLength > tcp.Length
                || (flags != TcpAck && flags != (TcpAck | TcpPsh)))
            {
                return false;
            }

            segment.PayloadLength = tcp.Length - segment.TcpHeaderLength;
            segment.Sequence = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
            segment.Push = (flags & TcpPsh) != 0;
            return segment.PayloadLength > 0;
        }

        public static bool ChecksumsValid(ReadOnlySpan<byte> packet, in Segment segment)
        {
            if (!segment.IsIPv6 && !InternetChecksum.IsValid(packet[..20]))
            {
                return false;
            }

            int tcpLength = packet.Length - segment.IpHeaderLength;
            ulong pseudo = GsoSplit.PseudoHeaderSum(packet, segment.IsIPv6, InternetChecksum.ProtocolTcp, tcpLength);
            return InternetChecksum.IsValid(packet[segment.IpHeaderLength..], pseudo);
        }
    }
}
