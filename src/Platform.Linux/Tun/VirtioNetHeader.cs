using System.Buffers.Binary;

namespace Branchgate.Platform.Linux.Tun;

/// <summary>
/// struct virtio_net_hdr (linux/virtio_net.h), the 10 bytes in front of every packet on a TUN opened with
/// IFF_VNET_HDR. Fields are little-endian (the TUN default on little-endian hosts, and what virtio 1.0 specifies).
/// With <see cref="NeedsChecksum"/> the transport checksum is incomplete: the field at
/// <see cref="ChecksumStart"/> + <see cref="ChecksumOffset"/> holds the folded pseudo-header sum, and the
/// checksum over everything from <see cref="ChecksumStart"/> to the end still has to be added. A
/// <see cref="GsoType"/> other than <see cref="GsoNone"/> marks a super-packet that stands for a run of
/// <see cref="GsoSize"/>-byte segments sharing one header.
/// </summary>
public struct VirtioNetHeader
{
    public const int Size = 10;

    public const byte FlagNeedsChecksum = 1;
    public const byte FlagDataValid = 2;

    public const byte GsoNone = 0;
    public const byte GsoTcpV4 = 1;
    public const byte GsoUdp = 3;
    public const byte GsoTcpV6 = 4;
    public const byte GsoUdpL4 = 5;
    public const byte GsoEcn = 0x80;

    public byte Flags;
    public byte GsoType;

    /// <summary>A hint of the header length; on reads the kernel puts its linear length here, so do not trust it.</summary>
    public ushort HeaderLength;
    public ushort GsoSize;
    public ushort ChecksumStart;
    public ushort ChecksumOffset;

    public readonly bool NeedsChecksum => (Flags & FlagNeedsChecksum) != 0;

    public static VirtioNetHeader Read(ReadOnlySpan<byte> source) => new()
    {
        Flags = source[0],
        GsoType = source[1],
        HeaderLength = BinaryPrimitives.ReadUInt16LittleEndian(source[2..]),
        GsoSize = BinaryPrimitives.ReadUInt16LittleEndian(source[4..]),
        ChecksumStart = BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
        ChecksumOffset = BinaryPrimitives.ReadUInt16LittleEndian(source[8..]),
    };

    public readonly void Write(Span<byte> destination)
    {
        destination[0] = Flags;
        destination[1] = GsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], GsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], ChecksumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], ChecksumOffset);
    }
}
