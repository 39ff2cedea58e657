using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Branchgate.Platform.Linux.Tests.Netlink.Xfrm;

/// <summary>
/// Builds NETLINK_XFRM payloads byte by byte at the offsets of linux/xfrm.h as gcc lays them out on x86-64 and arm64
/// (checked with offsetof), independently of the parser's structs, so a layout mistake there shows up here.
/// </summary>
internal static class XfrmFixture
{
    public const int SelectorSize = 56;
    public const int PolicyInfoSize = 168;
    public const int TemplateSize = 64;
    public const int SaInfoSize = 224;

    public const ushort XFRMA_ALG_AUTH = 1;
    public const ushort XFRMA_ALG_CRYPT = 2;
    public const ushort XFRMA_ALG_COMP = 3;
    public const ushort XFRMA_ENCAP = 4;
    public const ushort XFRMA_TMPL = 5;
    public const ushort XFRMA_SEC_CTX = 8;
    public const ushort XFRMA_POLICY_TYPE = 16;
    public const ushort XFRMA_ALG_AEAD = 18;
    public const ushort XFRMA_ALG_AUTH_TRUNC = 20;
    public const ushort XFRMA_MARK = 21;
    public const ushort XFRMA_SET_MARK = 29;
    public const ushort XFRMA_SET_MARK_MASK = 30;
    public const ushort XFRMA_IF_ID = 31;

    public static ushort Family(IPAddress a) => a.AddressFamily == AddressFamily.InterNetworkV6 ? (ushort)10 : (ushort)2;

    /// <summary>struct xfrm_selector at the start of <paramref name="b"/>.</summary>
    public static void Selector(Span<byte> b, IPAddress src, int srcLen, IPAddress dst, int dstLen, byte proto = 0,
        ushort sport = 0, ushort sportMask = 0, ushort dport = 0, ushort dportMask = 0, int ifindex = 0, uint user = 0,
        ushort? family = null)
    {
        dst.TryWriteBytes(b[0..16], out _);
        src.TryWriteBytes(b[16..32], out _);
        BinaryPrimitives.WriteUInt16BigEndian(b[32..], dport);
        BinaryPrimitives.WriteUInt16BigEndian(b[34..], dportMask);
        BinaryPrimitives.WriteUInt16BigEndian(b[36..], sport);
        BinaryPrimitives.WriteUInt16BigEndian(b[38..], sportMask);
        BinaryPrimitives.WriteUInt16LittleEndian(b[40..], family ?? Family(src));
        b[42] = (byte)dstLen;
        b[43] = (byte)srcLen;
        b[44] = proto;
        BinaryPrimitives.WriteInt32LittleEndian(b[48..], ifindex);
        BinaryPrimitives.WriteUInt32LittleEndian(b[52..], user);
    }

    /// <summary>struct xfrm_lifetime_cfg (8 x u64) then struct xfrm_lifetime_cur (4 x u64).</summary>
    public static void Lifetimes(Span<byte> b, ulong[] limits, ulong[] current)
    {
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b[(i * 8)..], limits[i]);
        }

        for (int i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b[(64 + (i * 8))..], current[i]);
        }
    }

    public static byte[] PolicyInfo(Action<Span<byte>> selector, byte dir, byte action = 0, uint priority = 0,
        uint index = 0, byte flags = 0, ulong[]? limits = null, ulong[]? current = null)
    {
        var b = new byte[PolicyInfoSize];
        selector(b.AsSpan(0, SelectorSize));
        Lifetimes(b.AsSpan(56), limits ?? new ulong[8], current ?? new ulong[4]);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(152), priority);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(156), index);
        b[160] = dir;
        b[161] = action;
        b[162] = flags;
        b[163] = 0;
        return b;
    }

    public static byte[] Template(IPAddress src, IPAddress dst, uint reqid, byte mode = 1, byte proto = 50,
        uint spi = 0, bool optional = false, ushort? family = null)
    {
        var b = new byte[TemplateSize];
        dst.TryWriteBytes(b.AsSpan(0, 16), out _);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(16), spi);
        b[20] = proto;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(24), family ?? Family(src));
        src.TryWriteBytes(b.AsSpan(28, 16), out _);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(44), reqid);
        b[48] = mode;
        b[49] = 0;
        b[50] = optional ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(52), 0xffffffff);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(56), 0xfffffffe);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(60), 0xfffffffd);
        return b;
    }

    public static byte[] SaInfo(Action<Span<byte>> selector, IPAddress src, IPAddress dst, uint spi, byte proto = 50,
        byte mode = 1, uint reqid = 0, uint seq = 0, byte replayWindow = 0, byte flags = 0, ulong[]? limits = null,
        ulong[]? current = null, uint[]? stats = null)
    {
        var b = new byte[SaInfoSize];
        selector(b.AsSpan(0, SelectorSize));
        dst.TryWriteBytes(b.AsSpan(56, 16), out _);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(72), spi);
        b[76] = proto;
        src.TryWriteBytes(b.AsSpan(80, 16), out _);
        Lifetimes(b.AsSpan(96), limits ?? new ulong[8], current ?? new ulong[4]);
        stats ??= [0, 0, 0];
        for (int i = 0; i < 3; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(192 + (i * 4)), stats[i]);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(204), seq);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(208), reqid);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(212), Family(src));
        b[214] = mode;
        b[215] = replayWindow;
        b[216] = flags;
        return b;
    }

    /// <summary>One netlink attribute: u16 length, u16 type, value, zero padding to 4.</summary>
    public static byte[] Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        var b = new byte[(4 + value.Length + 3) & ~3];
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), type);
        value.CopyTo(b.AsSpan(4));
        return b;
    }

    public static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    public static byte[] Mark(uint value, uint mask) => [.. U32(value), .. U32(mask)];

    /// <summary>struct xfrm_algo (name[64], key length in bits, key) or, with <paramref name="extra"/>, the _auth/_aead
    /// variant whose second u32 is the truncation/ICV length.</summary>
    public static byte[] Algorithm(string name, byte[] key, uint? extra = null)
    {
        int header = 64 + 4 + (extra is null ? 0 : 4);
        var b = new byte[header + key.Length];
        Encoding.ASCII.GetBytes(name).CopyTo(b, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(64), (uint)key.Length * 8);
        if (extra is { } e)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(68), e);
        }

        key.CopyTo(b, header);
        return b;
    }

    /// <summary>struct xfrm_encap_tmpl.</summary>
    public static byte[] Encap(ushort type, ushort sport, ushort dport, IPAddress originalAddress)
    {
        var b = new byte[24];
        BinaryPrimitives.WriteUInt16LittleEndian(b, type);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), sport);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), dport);
        originalAddress.TryWriteBytes(b.AsSpan(8, 16), out _);
        return b;
    }

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
