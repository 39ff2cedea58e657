using System.Buffers.Binary;
using System.Net;

namespace Branchgate.Platform.Linux.Tests.Tun;

/// <summary>
/// Builds IPv4/IPv6 TCP and UDP packets for the tests and checks them with a deliberately plain checksum routine
/// (16-bit words, one at a time), independent of the code under test.
/// </summary>
internal static class Packets
{
    public const byte FlagFin = 0x01;
    public const byte FlagSyn = 0x02;
    public const byte FlagPsh = 0x08;
    public const byte FlagAck = 0x10;
    public const byte FlagCwr = 0x80;

    public static readonly IPAddress V4A = IPAddress.Parse("10.1.0.1");
    public static readonly IPAddress V4B = IPAddress.Parse("10.1.0.2");
    public static readonly IPAddress V6A = IPAddress.Parse("fd00::1");
    public static readonly IPAddress V6B = IPAddress.Parse("fd00::2");

    /// <summary>The reference checksum: complement of the folded sum of big-endian 16-bit words (odd byte padded).</summary>
    public static ushort ReferenceChecksum(byte[] data)
    {
        uint sum = 0;
        for (int i = 0; i < data.Length; i += 2)
        {
            int word = data[i] << 8;
            if (i + 1 < data.Length)
            {
                word |= data[i + 1];
            }

            sum += (uint)word;
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    public static bool IsIPv6(byte[] packet) => packet[0] >> 4 == 6;

    public static int IpHeaderLength(byte[] packet) => IsIPv6(packet) ? 40 : (packet[0] & 0x0F) * 4;

    public static byte Protocol(byte[] packet) => IsIPv6(packet) ? packet[6] : packet[9];

    /// <summary>True when the transport checksum (over pseudo-header, header and payload) verifies.</summary>
    public static bool TransportChecksumValid(byte[] packet) =>
        ReferenceChecksum([.. PseudoHeader(packet), .. packet.AsSpan(IpHeaderLength(packet)).ToArray()]) == 0;

    public static bool IPv4HeaderValid(byte[] packet) => ReferenceChecksum(packet[..IpHeaderLength(packet)]) == 0;

    public static byte[] PseudoHeader(byte[] packet)
    {
        int ipHeader = IpHeaderLength(packet);
        int length = packet.Length - ipHeader;
        if (IsIPv6(packet))
        {
            var p = new byte[40];
            packet.AsSpan(8, 32).CopyTo(p);
            BinaryPrimitives.WriteInt32BigEndian(p.AsSpan(32), length);
            p[39] = Protocol(packet);
            return p;
        }

        var q = new byte[12];
        packet.AsSpan(12, 8).CopyTo(q);
        q[9] = Protocol(packet);
        BinaryPrimitives.WriteUInt16BigEndian(q.AsSpan(10), (ushort)length);
        return q;
    }

    public static byte[] Tcp(
        IPAddress source, IPAddress destination, ushort sourcePort, ushort destinationPort, uint seq, uint ack, byte flags,
        ReadOnlySpan<byte> payload, ushort id = 1, byte ttl = 64, byte[]? options = null)
    {
        options ??= [];
        var tcp = new byte[20 + options.Length + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(8), ack);
        tcp[12] = (byte)((20 + options.Length) / 4 << 4);
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), 502);
        options.CopyTo(tcp, 20);
        payload.CopyTo(tcp.AsSpan(20 + options.Length));
        return Ip(source, destination, 6, tcp, id, ttl, checksumAt: 16);
    }

    public static byte[] Udp(IPAddress source, IPAddress destination, ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> payload, ushort id = 1)
    {
        var udp = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        payload.CopyTo(udp.AsSpan(8));
        return Ip(source, destination, 17, udp, id, 64, checksumAt: 6);
    }

    /// <summary>Wraps a transport segment in an IP header and fills in every checksum.</summary>
    public static byte[] Ip(IPAddress source, IPAddress destination, byte protocol, byte[] transport, ushort id, byte ttl, int checksumAt)
    {
        byte[] packet;
        if (source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            packet = new byte[40 + transport.Length];
            packet[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)transport.Length);
            packet[6] = protocol;
            packet[7] = ttl;
            source.GetAddressBytes().CopyTo(packet, 8);
            destination.GetAddressBytes().CopyTo(packet, 24);
            transport.CopyTo(packet, 40);
        }
        else
        {
            packet = new byte[20 + transport.Length];
            packet[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), id);
            packet[6] = 0x40; // DF
            packet[8] = ttl;
            packet[9] = protocol;
            source.GetAddressBytes().CopyTo(packet, 12);
            destination.GetAddressBytes().CopyTo(packet, 16);
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), ReferenceChecksum(packet[..20]));
            transport.CopyTo(packet, 20);
        }

        int at = IpHeaderLength(packet) + checksumAt;
        ushort checksum = ReferenceChecksum([.. PseudoHeader(packet), .. transport]);
        if (checksum == 0 && protocol == 17)
        {
            checksum = 0xFFFF;
        }

        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(at), checksum);
        return packet;
    }

    /// <summary>
    /// Turns a packet into what the kernel hands a TUN with offloads: the checksum field holds only the folded
    /// pseudo-header sum (CHECKSUM_PARTIAL).
    /// </summary>
    public static void MakePartial(byte[] packet)
    {
        int at = IpHeaderLength(packet) + (Protocol(packet) == 6 ? 16 : 6);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(at), (ushort)~ReferenceChecksum(PseudoHeader(packet)));
    }

    public static uint Seq(byte[] packet) => BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(IpHeaderLength(packet) + 4));

    public static byte TcpFlags(byte[] packet) => packet[IpHeaderLength(packet) + 13];

    public static ushort Id(byte[] packet) => BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(4));

    public static int TransportHeaderLength(byte[] packet) =>
        Protocol(packet) == 6 ? (packet[IpHeaderLength(packet) + 12] >> 4) * 4 : 8;

    public static byte[] Payload(byte[] packet) => packet[(IpHeaderLength(packet) + TransportHeaderLength(packet))..];

    /// <summary>The IP length field says the packet's real length.</summary>
    public static int IpLength(byte[] packet) => IsIPv6(packet)
        ? 40 + BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(4))
        : BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(2));
}
