using System.Buffers.Binary;

namespace Branchgate.Platform.Linux.Tun;

/// <summary>
/// The Internet checksum (RFC 1071): the one's complement of the one's complement sum of 16-bit big-endian words.
/// Sums are kept unfolded in a 64-bit accumulator so that regions (pseudo-header, header, payload) can be added
/// separately; only the last region may have an odd length.
/// </summary>
public static class InternetChecksum
{
    public const byte ProtocolTcp = 6;
    public const byte ProtocolUdp = 17;

    /// <summary>Adds <paramref name="data"/> to an unfolded sum.</summary>
    public static ulong Add(ulong sum, ReadOnlySpan<byte> data)
    {
        // 32-bit words into a 64-bit accumulator cannot overflow for any packet; folding 32 to 16 bits later gives
        // the same result as summing 16-bit words.
        int i = 0;
        for (; i + 16 <= data.Length; i += 16)
        {
            sum += BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
            sum += BinaryPrimitives.ReadUInt32BigEndian(data[(i + 4)..]);
            sum += BinaryPrimitives.ReadUInt32BigEndian(data[(i + 8)..]);
            sum += BinaryPrimitives.ReadUInt32BigEndian(data[(i + 12)..]);
        }

        for (; i + 4 <= data.Length; i += 4)
        {
            sum += BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
        }

        if (i + 2 <= data.Length)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
            i += 2;
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }

        return sum;
    }

    /// <summary>Folds an unfolded sum to 16 bits (not complemented).</summary>
    public static ushort Fold(ulong sum)
    {
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)sum;
    }

    /// <summary>The checksum to store: the complement of the folded sum of <paramref name="data"/> and <paramref name="initial"/>.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data, ulong initial = 0) => (ushort)~Fold(Add(initial, data));

    /// <summary>
    /// The unfolded sum of the TCP/UDP pseudo-header: source and destination addresses (4 or 16 bytes each), the
    /// protocol and the transport length (header plus payload).
    /// </summary>
    public static ulong PseudoHeader(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int length)
    {
        ulong sum = Add(0, source);
        sum = Add(sum, destination);
        return sum + protocol + (uint)length;
    }

    /// <summary>True when an IPv4 header (its checksum field included) sums to 0xFFFF.</summary>
    public static bool IsValid(ReadOnlySpan<byte> data, ulong initial = 0) => Fold(Add(initial, data)) == 0xFFFF;
}
