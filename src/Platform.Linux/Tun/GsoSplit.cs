using System.Buffers.Binary;

namespace Branchgate.Platform.Linux.Tun;

/// <summary>Where the headers and segments of a GSO super-packet are; see <see cref="GsoSplit.TryGetLayout"/>.</summary>
public readonly struct GsoLayout
{
    public bool IsIPv6 { get; init; }

    /// <summary><see cref="InternetChecksum.ProtocolTcp"/> or <see cref="InternetChecksum.ProtocolUdp"/>.</summary>
    public byte Protocol { get; init; }

    /// <summary>Offset of the TCP/UDP header (the IP header length, extension headers included).</summary>
    public int TransportOffset { get; init; }

    /// <summary>IP plus TCP/UDP header length: the bytes every segment repeats.</summary>
    public int HeaderLength { get; init; }

    /// <summary>Payload bytes per segment (gso_size, the MSS); the last segment may carry fewer.</summary>
    public int SegmentSize { get; init; }

    public int SegmentCount { get; init; }

    /// <summary>The length of the longest segment, i.e. the buffer size each segment needs.</summary>
    public int MaxSegmentLength => HeaderLength + SegmentSize;
}

/// <summary>
/// Splits the super-packets a TUN with TSO/USO offloads hands us into the MTU-sized packets the kernel would have
/// sent: every segment gets a copy of the headers with its own lengths, IPv4 identification (incremented per
/// segment, header checksum recomputed), TCP sequence number (FIN and PSH only on the last segment, CWR only on the
/// first) and a full TCP/UDP checksum. Pure functions on spans: no I/O, no allocation.
/// </summary>
public static class GsoSplit
{
    private const byte TcpFin = 0x01;
    private const byte TcpPsh = 0x08;
    private const byte TcpCwr = 0x80;

    /// <summary>
    /// Validates a super-packet described by <paramref name="header"/> (GsoType not <see cref="VirtioNetHeader.GsoNone"/>)
    /// and computes its layout from the packet's own headers (the header's hdr_len is only a hint). False for a
    /// packet that does not describe a TCP/UDP run we can split (it should be dropped and counted).
    /// </summary>
    public static bool TryGetLayout(in VirtioNetHeader header, ReadOnlySpan<byte> packet, out GsoLayout layout)
    {
        layout = default;
        if (packet.Length < 20 || header.GsoSize == 0)
        {
            return false;
        }

        int version = packet[0] >> 4;
        byte protocol;
        switch (header.GsoType & ~VirtioNetHeader.GsoEcn)
        {
            case VirtioNetHeader.GsoTcpV4 when version == 4:
            case VirtioNetHeader.GsoTcpV6 when version == 6:
                protocol = InternetChecksum.ProtocolTcp;
                break;
            case VirtioNetHeader.GsoUdpL4 when version is 4 or 6:
                protocol = InternetChecksum.ProtocolUdp;
                break;
            default:
                return false;
        }

        if (!TryGetTransportOffset(header, packet, protocol, out int transport))
        {
            return false;
        }

        int headerLength;
        if (protocol == InternetChecksum.ProtocolTcp)
        {
            if (transport + 20 > packet.Length || (header.NeedsChecksum && header.ChecksumOffset != 16))
            {
                return false;
            }

            int tcpHeaderLength = (packet[transport + 12] >> 4) * 4;
            if (tcpHeaderLength < 20)
            {
                return false;
            }

            headerLength = transport + tcpHeaderLength;
        }
        else
        {
            if (header.NeedsChecksum && header.ChecksumOffset != 6)
            {
                return false;
            }

            headerLength = transport + 8;
        }

        int payload = packet.Length - headerLength;
        if (payload <= 0)
        {
            return false;
        }

        layout = new GsoLayout
        {
            IsIPv6 = version == 6,
            Protocol = protocol,
            TransportOffset = transport,
            HeaderLength = headerLength,
            SegmentSize = header.GsoSize,
            SegmentCount = (payload + header.GsoSize - 1) / header.GsoSize,
        };
        return true;
    }

    /// <summary>
    /// Writes segment <paramref name="index"/> (0-based, below <see cref="GsoLayout.SegmentCount"/>) of
    /// <paramref name="packet"/> into <paramref name="destination"/> and returns its length, or 0 when it does not fit.
    /// </summary>
    public static int WriteSegment(ReadOnlySpan<byte> packet, in GsoLayout layout, int index, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, layout.SegmentCount);
        int start = layout.HeaderLength + (index * layout.SegmentSize);
        int payload = Math.Min(layout.SegmentSize, packet.Length - start);
        int total = layout.HeaderLength + payload;
        if (destination.Length < total)
        {
            return 0;
        }

        packet[..layout.HeaderLength].CopyTo(destination);
        packet.Slice(start, payload).CopyTo(destination[layout.HeaderLength..]);
        var segment = destination[..total];
        bool last = index == layout.SegmentCount - 1;

        if (layout.IsIPv6)
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[4..], (ushort)(total - 40));
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[2..], (ushort)total);
            ushort id = BinaryPrimitives.ReadUInt16BigEndian(segment[4..]);
            BinaryPrimitives.WriteUInt16BigEndian(segment[4..], (ushort)(id + index));
            WriteIPv4HeaderChecksum(segment[..layout.TransportOffset]);
        }

        var transport = segment[layout.TransportOffset..];
        int checksumAt;
        if (layout.Protocol == InternetChecksum.ProtocolTcp)
        {
            uint seq = BinaryPrimitives.ReadUInt32BigEndian(transport[4..]);
            BinaryPrimitives.WriteUInt32BigEndian(transport[4..], seq + (uint)(index * layout.SegmentSize));
            if (!last)
            {
                transport[13] &= unchecked((byte)~(TcpFin | TcpPsh));
            }

            if (index > 0)
            {
                transport[13] &= unchecked((byte)~TcpCwr);
            }

            checksumAt = 16;
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(transport[4..], (ushort)transport.Length);
            checksumAt = 6;
        }

        WriteTransportChecksum(segment, layout.IsIPv6, layout.Protocol, layout.TransportOffset, checksumAt);
        return total;
    }

    /// <summary>
    /// Completes the checksum of a packet read with <see cref="VirtioNetHeader.FlagNeedsChecksum"/> and no GSO:
    /// sums from ChecksumStart to the end (the field already holds the pseudo-header sum) and stores the result.
    /// False when the offsets lie outside the packet.
    /// </summary>
    public static bool CompleteChecksum(Span<byte> packet, in VirtioNetHeader header)
    {
        int start = header.ChecksumStart;
        int at = start + header.ChecksumOffset;
        if (start >= packet.Length || at + 2 > packet.Length)
        {
            return false;
        }

        ushort checksum = InternetChecksum.Compute(packet[start..]);
        // As the kernel's skb_checksum_help: 0 goes out as 0xFFFF (the same value in one's complement, and for UDP
        // a 0 would mean "no checksum").
        BinaryPrimitives.WriteUInt16BigEndian(packet[at..], checksum == 0 ? (ushort)0xFFFF : checksum);
        return true;
    }

    internal static void WriteIPv4HeaderChecksum(Span<byte> ipHeader)
    {
        ipHeader[10] = 0;
        ipHeader[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ipHeader[10..], InternetChecksum.Compute(ipHeader));
    }

    /// <summary>Sum of the pseudo-header for <paramref name="packet"/> (addresses from its IP header).</summary>
    internal static ulong PseudoHeaderSum(ReadOnlySpan<byte> packet, bool ipv6, byte protocol, int transportLength) =>
        ipv6
            ? InternetChecksum.PseudoHeader(packet.Slice(8, 16), packet.Slice(24, 16), protocol, transportLength)
            : InternetChecksum.PseudoHeader(packet.Slice(12, 4), packet.Slice(16, 4), protocol, transportLength);

    private static void WriteTransportChecksum(Span<byte> packet, bool ipv6, byte protocol, int transportOffset, int checksumAt)
    {
        var transport = packet[transportOffset..];
        transport[checksumAt] = 0;
        transport[checksumAt + 1] = 0;
        ulong pseudo = PseudoHeaderSum(packet, ipv6, protocol, transport.Length);
        ushort checksum = InternetChecksum.Compute(transport, pseudo);
        if (checksum == 0 && protocol == InternetChecksum.ProtocolUdp)
        {
            checksum = 0xFFFF;
        }

        BinaryPrimitives.WriteUInt16BigEndian(transport[checksumAt..], checksum);
    }

    private static bool TryGetTransportOffset(in VirtioNetHeader header, ReadOnlySpan<byte> packet, byte protocol, out int offset)
    {
        if (packet[0] >> 4 == 4)
        {
            offset = (packet[0] & 0x0F) * 4;
            return offset >= 20 && packet[9] == protocol && offset <= packet.Length
                && (!header.NeedsChecksum || header.ChecksumStart == offset);
        }

        if (packet.Length < 40)
        {
            offset = 0;
            return false;
        }

        // IPv6: checksum start covers extension headers; without it only a transport header right after the fixed
        // header can be found.
        if (header.NeedsChecksum)
        {
            offset = header.ChecksumStart;
            return offset >= 40 && offset <= packet.Length;
        }

        offset = 40;
        return packet[6] == protocol;
    }
}
