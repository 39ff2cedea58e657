using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Netlink.Xfrm;

// Mirrors of the fixed structs of linux/xfrm.h, field for field, so the managed layout (and its padding) is the C
// compiler's: on x86-64, arm64 and 32-bit ARM EABI a __u64 is 8-aligned, which gives the sizes the tests assert
// (selector 56, user_tmpl 64, userpolicy_info 168, usersa_info 224). 32-bit x86 aligns __u64 to 4 and has other sizes
// (the kernel's XFRM_USER_COMPAT translates); we do not run there. Fields the kernel keeps in network byte order
// (ports, SPIs) are stored raw here and swapped when read out. Integer fields are host order, as netlink is.

/// <summary>xfrm_address_t: a union of one IPv4 or one IPv6 address, 4-byte aligned; the bytes stay in memory order.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmAddressRaw
{
    public uint Word0;
    public uint Word1;
    public uint Word2;
    public uint Word3;

    /// <summary>The address for a family: IPv4 uses the first 4 bytes (a4), IPv6 all 16.</summary>
    public readonly IPAddress ToAddress(ushort family)
    {
        Span<byte> bytes = stackalloc byte[16];
        MemoryMarshal.Write(bytes, in this);
        return family == XfrmConstants.AF_INET6 ? new IPAddress(bytes) : new IPAddress(bytes[..4]);
    }
}

/// <summary>struct xfrm_selector (56 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmSelectorRaw
{
    public XfrmAddressRaw Daddr;
    public XfrmAddressRaw Saddr;
    public ushort DportBigEndian;
    public ushort DportMaskBigEndian;
    public ushort SportBigEndian;
    public ushort SportMaskBigEndian;
    public ushort Family;
    public byte PrefixLengthDestination;
    public byte PrefixLengthSource;
    public byte Proto;
    public int IfIndex;
    public uint User;
}

/// <summary>struct xfrm_id (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmIdRaw
{
    public XfrmAddressRaw Daddr;
    public uint SpiBigEndian;
    public byte Proto;
}

/// <summary>struct xfrm_lifetime_cfg (64 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmLifetimeConfigRaw
{
    public ulong SoftByteLimit;
    public ulong HardByteLimit;
    public ulong SoftPacketLimit;
    public ulong HardPacketLimit;
    public ulong SoftAddExpiresSeconds;
    public ulong HardAddExpiresSeconds;
    public ulong SoftUseExpiresSeconds;
    public ulong HardUseExpiresSeconds;
}

/// <summary>struct xfrm_lifetime_cur (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmLifetimeCurrentRaw
{
    public ulong Bytes;
    public ulong Packets;
    public ulong AddTime;
    public ulong UseTime;
}

/// <summary>struct xfrm_userpolicy_info (168 bytes: 164 of fields, padded to the 8-byte alignment of its __u64s).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmUserPolicyInfoRaw
{
    public XfrmSelectorRaw Selector;
    public XfrmLifetimeConfigRaw Lifetime;
    public XfrmLifetimeCurrentRaw Current;
    public uint Priority;
    public uint Index;
    public byte Direction;
    public byte Action;
    public byte Flags;
    public byte Share;
}

/// <summary>struct xfrm_user_tmpl (64 bytes; XFRMA_TMPL carries an array of them).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmUserTemplateRaw
{
    public XfrmIdRaw Id;
    public ushort Family;
    public XfrmAddressRaw Saddr;
    public uint RequestId;
    public byte Mode;
    public byte Share;
    public byte Optional;
    public uint AuthAlgorithms;
    public uint EncryptionAlgorithms;
    public uint CompressionAlgorithms;
}

/// <summary>struct xfrm_stats (12 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmStatsRaw
{
    public uint ReplayWindow;
    public uint Replay;
    public uint IntegrityFailed;
}

/// <summary>struct xfrm_usersa_info (224 bytes: 217 of fields, padded to 8).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmUserSaInfoRaw
{
    public XfrmSelectorRaw Selector;
    public XfrmIdRaw Id;
    public XfrmAddressRaw Saddr;
    public XfrmLifetimeConfigRaw Lifetime;
    public XfrmLifetimeCurrentRaw Current;
    public XfrmStatsRaw Stats;
    public uint Sequence;
    public uint RequestId;
    public ushort Family;
    public byte Mode;
    public byte ReplayWindow;
    public byte Flags;
}

/// <summary>struct xfrm_mark (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmMarkRaw
{
    public uint Value;
    public uint Mask;
}

/// <summary>struct xfrm_encap_tmpl (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmEncapTemplateRaw
{
    public ushort Type;
    public ushort SportBigEndian;
    public ushort DportBigEndian;
    public XfrmAddressRaw OriginalAddress;
}

/// <summary>struct xfrm_userpolicy_type (6 bytes; only the first byte means something).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmUserPolicyTypeRaw
{
    public byte Type;
    public ushort Reserved1;
    public byte Reserved2;
}

/// <summary>struct xfrm_userpolicy_default (3 bytes): the action for packets no policy matches, per direction.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XfrmUserPolicyDefaultRaw
{
    public byte In;
    public byte Forward;
    public byte Out;
}

internal static class NetworkOrder
{
    public static ushort ToHost(ushort raw) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(raw) : raw;

    public static uint ToHost(uint raw) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(raw) : raw;
}
