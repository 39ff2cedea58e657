using System.Buffers.Binary;

namespace Branchgate.Protocol;

/// <summary>
/// Just enough of IPv4 and IPv6 headers for the tunnel: the version, the real length (transport payloads are padded)
/// and the source and destination addresses for cryptokey routing. Never throws on malformed input.
/// </summary>
public static class InnerPacket
{
    public const int IPv4HeaderSize = 20;
    public const int IPv6HeaderSize = 40;

    /// <summary>The IP version (4 or 6) and total length of the packet at the start of <paramref name="plaintext"/>.</summary>
    public static bool TryParse(ReadOnlySpan<byte> plaintext, out int version, out int length, out DropReason reason)
    {
        version = plaintext.IsEmpty ? 0 : plaintext[0] >> 4;
        length = 0;
        reason = DropReason.NotAnIpPacket;
        switch (version)
        {
            case 4 when plaintext.Length >= IPv4HeaderSize:
                length = BinaryPrimitives.ReadUInt16BigEndian(plaintext[2..]);
                if (length < IPv4HeaderSize || length > plaintext.Length || (plaintext[0] & 0x0f) * 4 < IPv4HeaderSize)
                {
                    return false;
                }

                break;
            case 6 when plaintext.Length >= IPv6HeaderSize:
                length = IPv6HeaderSize + BinaryPrimitives.ReadUInt16BigEndian(plaintext[4..]);
                if (length > plaintext.Length)
                {
                    return false;
                }

                break;
            default:
                return false;
        }

        reason = DropReason.None;
        return true;
    }

    /// <summary>Source address bytes (4 or 16) of a packet <see cref="TryParse"/> accepted.</summary>
    public static ReadOnlySpan<byte> Source(ReadOnlySpan<byte> packet, int version) =>
        version == 4 ? packet.Slice(12, 4) : packet.Slice(8, 16);

    /// <summary>Destination address bytes (4 or 16) of a packet <see cref="TryParse"/> accepted.</summary>
    public static ReadOnlySpan<byte> Destination(ReadOnlySpan<byte> packet, int version) =>
        version == 4 ? packet.Slice(16, 4) : packet.Slice(24, 16);
}
