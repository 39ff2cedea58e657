// Poly1305, two lanes of Vector128<ulong>, radix 2^26: the ARM64 (NEON) path. The scheme is the one of
// Poly1305.Vector256.cs with two lanes: lane j takes every other block with Horner's rule in r^2, the loop takes two
// groups per step, a = (a + m) * r^4 + m' * r^2, and the last step multiplies the lanes by r^2 and r^1. The sequence
// is aligned to its end (an odd count puts the first block alone in lane 1), and the first and last groups are staged
// in a stack buffer. Two 16-byte loads hold blocks 0 and 1, and ZIP1/ZIP2 (PUNPCKLQDQ/PUNPCKHQDQ) gather their low
// and high halves in block order, so no lane permutation here.
//
// The 32x32->64-bit multiplies are UMULL on ARM64 (after XTN narrows the 64-bit lanes to 32 bits) and PMULUDQ on x64;
// elsewhere portable Vector128 operations compute the same.

using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;

namespace Branchgate.Crypto;

internal partial struct Poly1305
{
    private const int GroupSize128 = 2 * BlockSize;

    /// <summary>Absorbs <paramref name="blocks"/> then <paramref name="extra"/>; see <see cref="Absorb"/>.</summary>
    [SkipLocalsInit]
    private static void Absorb128(ref ulong h0, ref ulong h1, ref ulong h2, ulong r0, ulong r1, ReadOnlySpan<byte> blocks, ReadOnlySpan<byte> extra, ulong lastHighBit)
    {
        int count = (blocks.Length + extra.Length) / BlockSize;
        int head = count % 2;
        int lastFromBlocks = GroupSize128 - extra.Length;
        Debug.Assert(lastFromBlocks >= 0 && blocks.Length >= head * BlockSize + lastFromBlocks);

        Unsafe.SkipInit(out Multipliers128 k);
        Powers(r0, r1, out Radix26 p1, out Radix26 p2);
        SetMultiplier(ref k.Last,
            Vector128.Create(p2.L0, p1.L0), Vector128.Create(p2.L1, p1.L1), Vector128.Create(p2.L2, p1.L2),
            Vector128.Create(p2.L3, p1.L3), Vector128.Create(p2.L4, p1.L4));
        SetMultiplier(ref k.R2,
            Vector128.Create(p2.L0), Vector128.Create(p2.L1), Vector128.Create(p2.L2), Vector128.Create(p2.L3), Vector128.Create(p2.L4));
        ReadOnlySpan<byte> middle = blocks[(head * BlockSize)..^lastFromBlocks];
        if (middle.Length >= 2 * GroupSize128)
        {
            // r^4 = r^2 * r^2, in both lanes.
            Product128(k.R2[0], k.R2[1], k.R2[2], k.R2[3], k.R2[4], ref k.R2,
                out Vector128<ulong> e0, out Vector128<ulong> e1, out Vector128<ulong> e2, out Vector128<ulong> e3, out Vector128<ulong> e4);
            Carry128(ref e0, ref e1, ref e2, ref e3, ref e4);
            SetMultiplier(ref k.R4, e0, e1, e2, e3, e4);
        }
        Vector128<ulong> highBits = Vector128.Create(HighBit26);

        var start = new Radix26(h0, h1, h2);
        Vector128<ulong> firstLane = Vector128.Equals(Vector128.Create(0UL, 1), Vector128.Create((ulong)head));
        Vector128<ulong> a0 = Vector128.Create(start.L0) & firstLane, a1 = Vector128.Create(start.L1) & firstLane;
        Vector128<ulong> a2 = Vector128.Create(start.L2) & firstLane, a3 = Vector128.Create(start.L3) & firstLane;
        Vector128<ulong> a4 = Vector128.Create(start.L4) & firstLane;

        Span<byte> staged = stackalloc byte[GroupSize128];
        ref byte stagedStart = ref MemoryMarshal.GetReference(staged);
        if (head > 0)
        {
            staged[..BlockSize].Clear();
            blocks[..BlockSize].CopyTo(staged[BlockSize..]);
            Step128(ref a0, ref a1, ref a2, ref a3, ref a4, ref stagedStart, Vector128.Create(0, HighBit26), ref k.R2);
        }

        ref byte data = ref MemoryMarshal.GetReference(middle);
        nuint offset = 0;
        for (; offset + 2 * GroupSize128 <= (nuint)middle.Length; offset += 2 * GroupSize128)
        {
            DoubleStep128(ref a0, ref a1, ref a2, ref a3, ref a4, ref Unsafe.Add(ref data, offset), highBits, ref k);
        }
        if (offset < (nuint)middle.Length)
        {
            Step128(ref a0, ref a1, ref a2, ref a3, ref a4, ref Unsafe.Add(ref data, offset), highBits, ref k.R2);
        }

        blocks[^lastFromBlocks..].CopyTo(staged);
        extra.CopyTo(staged[lastFromBlocks..]);
        Step128(ref a0, ref a1, ref a2, ref a3, ref a4, ref stagedStart, Vector128.Create(HighBit26, lastHighBit * HighBit26), ref k.Last);

        var sum = new Radix26
        {
            L0 = Vector128.Sum(a0),
            L1 = Vector128.Sum(a1),
            L2 = Vector128.Sum(a2),
            L3 = Vector128.Sum(a3),
            L4 = Vector128.Sum(a4),
        };
        sum.ToRadix64(out h0, out h1, out h2);

        CryptographicOperations.ZeroMemory(staged);
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref k, 1)));
    }

    /// <summary>A multiplier per lane: its five limbs, then the four that wrap around, times 5.</summary>
    [InlineArray(9)]
    internal struct Multiplier128
    {
        private Vector128<ulong> _element0;
    }

    private struct Multipliers128
    {
        public Multiplier128 R2, R4, Last;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SetMultiplier(ref Multiplier128 k, Vector128<ulong> l0, Vector128<ulong> l1, Vector128<ulong> l2, Vector128<ulong> l3, Vector128<ulong> l4)
    {
        (k[0], k[1], k[2], k[3], k[4]) = (l0, l1, l2, l3, l4);
        (k[5], k[6], k[7], k[8]) = ((l1 << 2) + l1, (l2 << 2) + l2, (l3 << 2) + l3, (l4 << 2) + l4);
    }

    /// <summary>a = (a + the two blocks at <paramref name="group"/>) * k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step128(
        ref Vector128<ulong> a0, ref Vector128<ulong> a1, ref Vector128<ulong> a2, ref Vector128<ulong> a3, ref Vector128<ulong> a4,
        ref byte group, Vector128<ulong> highBits, ref Multiplier128 k)
    {
        Load128(ref group, highBits, out Vector128<ulong> m0, out Vector128<ulong> m1, out Vector128<ulong> m2, out Vector128<ulong> m3, out Vector128<ulong> m4);
        Product128(a0 + m0, a1 + m1, a2 + m2, a3 + m3, a4 + m4, ref k,
            out Vector128<ulong> d0, out Vector128<ulong> d1, out Vector128<ulong> d2, out Vector128<ulong> d3, out Vector128<ulong> d4);
        Carry128(ref d0, ref d1, ref d2, ref d3, ref d4);
        (a0, a1, a2, a3, a4) = (d0, d1, d2, d3, d4);
    }

    /// <summary>a = (a + the two blocks at <paramref name="groups"/>) * r^4 + (the next two) * r^2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DoubleStep128(
        ref Vector128<ulong> a0, ref Vector128<ulong> a1, ref Vector128<ulong> a2, ref Vector128<ulong> a3, ref Vector128<ulong> a4,
        ref byte groups, Vector128<ulong> highBits, ref Multipliers128 k)
    {
        Load128(ref Unsafe.Add(ref groups, GroupSize128), highBits,
            out Vector128<ulong> n0, out Vector128<ulong> n1, out Vector128<ulong> n2, out Vector128<ulong> n3, out Vector128<ulong> n4);
        Product128(n0, n1, n2, n3, n4, ref k.R2,
            out Vector128<ulong> e0, out Vector128<ulong> e1, out Vector128<ulong> e2, out Vector128<ulong> e3, out Vector128<ulong> e4);
        Load128(ref groups, highBits, out Vector128<ulong> m0, out Vector128<ulong> m1, out Vector128<ulong> m2, out Vector128<ulong> m3, out Vector128<ulong> m4);
        Product128(a0 + m0, a1 + m1, a2 + m2, a3 + m3, a4 + m4, ref k.R4,
            out Vector128<ulong> d0, out Vector128<ulong> d1, out Vector128<ulong> d2, out Vector128<ulong> d3, out Vector128<ulong> d4);
        d0 += e0; d1 += e1; d2 += e2; d3 += e3; d4 += e4;
        Carry128(ref d0, ref d1, ref d2, ref d3, ref d4);
        (a0, a1, a2, a3, a4) = (d0, d1, d2, d3, d4);
    }

    /// <summary>Two blocks as five 26-bit limbs per lane, with <paramref name="highBits"/> as the 2^128 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Load128(ref byte group, Vector128<ulong> highBits,
        out Vector128<ulong> m0, out Vector128<ulong> m1, out Vector128<ulong> m2, out Vector128<ulong> m3, out Vector128<ulong> m4)
    {
        Vector128<ulong> mask = Vector128.Create(Mask26);
        Vector128<ulong> block0 = Vector128.LoadUnsafe(ref group).AsUInt64();
        Vector128<ulong> block1 = Vector128.LoadUnsafe(ref group, 16).AsUInt64();
        Vector128<ulong> low = UnpackLow(block0, block1);
        Vector128<ulong> high = UnpackHigh(block0, block1);
        m0 = low & mask;
        m1 = (low >> 26) & mask;
        m2 = ((low >> 52) | (high << 12)) & mask;
        m3 = (high >> 14) & mask;
        m4 = (high >> 40) | highBits;
    }

    /// <summary>d = h * k, limb by limb, not carried.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Product128(
        Vector128<ulong> h0, Vector128<ulong> h1, Vector128<ulong> h2, Vector128<ulong> h3, Vector128<ulong> h4, ref Multiplier128 k,
        out Vector128<ulong> d0, out Vector128<ulong> d1, out Vector128<ulong> d2, out Vector128<ulong> d3, out Vector128<ulong> d4)
    {
        // k[0..4] = r0..r4, k[5..8] = 5*r1..5*r4.
        d0 = Multiply(h0, k[0]) + Multiply(h1, k[8]) + Multiply(h2, k[7]) + Multiply(h3, k[6]) + Multiply(h4, k[5]);
        d1 = Multiply(h0, k[1]) + Multiply(h1, k[0]) + Multiply(h2, k[8]) + Multiply(h3, k[7]) + Multiply(h4, k[6]);
        d2 = Multiply(h0, k[2]) + Multiply(h1, k[1]) + Multiply(h2, k[0]) + Multiply(h3, k[8]) + Multiply(h4, k[7]);
        d3 = Multiply(h0, k[3]) + Multiply(h1, k[2]) + Multiply(h2, k[1]) + Multiply(h3, k[0]) + Multiply(h4, k[8]);
        d4 = Multiply(h0, k[4]) + Multiply(h1, k[3]) + Multiply(h2, k[2]) + Multiply(h3, k[1]) + Multiply(h4, k[0]);
    }

    /// <summary>The lazy carry of Carry256.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Carry128(ref Vector128<ulong> d0, ref Vector128<ulong> d1, ref Vector128<ulong> d2, ref Vector128<ulong> d3, ref Vector128<ulong> d4)
    {
        Vector128<ulong> mask = Vector128.Create(Mask26);
        Vector128<ulong> c;
        c = d0 >> 26; d0 &= mask; d1 += c;
        c = d3 >> 26; d3 &= mask; d4 += c;
        c = d1 >> 26; d1 &= mask; d2 += c;
        c = d4 >> 26; d4 &= mask; d0 += c + (c << 2);
        c = d2 >> 26; d2 &= mask; d3 += c;
        c = d0 >> 26; d0 &= mask; d1 += c;
        c = d3 >> 26; d3 &= mask; d4 += c;
    }

    /// <summary>The 64-bit products of the low 32 bits of each lane: PMULUDQ on x64, XTN + UMULL on ARM64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Multiply(Vector128<ulong> x, Vector128<ulong> y)
    {
        if (Sse2.IsSupported)
        {
            return Sse2.Multiply(x.AsUInt32(), y.AsUInt32());
        }
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.MultiplyWideningLower(AdvSimd.ExtractNarrowingLower(x).AsUInt32(), AdvSimd.ExtractNarrowingLower(y).AsUInt32());
        }
        Vector128<ulong> low32 = Vector128.Create(0xFFFF_FFFFUL);
        return (x & low32) * (y & low32);
    }

    /// <summary>The low 64 bits of both blocks: PUNPCKLQDQ on x64, ZIP1 on ARM64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> UnpackLow(Vector128<ulong> x, Vector128<ulong> y) =>
        Sse2.IsSupported ? Sse2.UnpackLow(x, y)
        : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.ZipLow(x, y)
        : Vector128.Create(x[0], y[0]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> UnpackHigh(Vector128<ulong> x, Vector128<ulong> y) =>
        Sse2.IsSupported ? Sse2.UnpackHigh(x, y)
        : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.ZipHigh(x, y)
        : Vector128.Create(x[1], y[1]);
}
