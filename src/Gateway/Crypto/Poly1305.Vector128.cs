// Poly1305, two lanes of Vector128<ulong>, radix 2^26: the ARM64 (NEON) path. The scheme is the one of
// Poly1305.Vector256.cs with two lanes: lane j takes every other block with Horner's rule in r^2, the loop takes two
// groups per step, a = (a + m) * r^4 + m' * r^2, and the last step multiplies the lanes by r^2 and r^1. The sequence
// is aligned to its end (an odd count puts the first block alone in lane 1), and the first and last groups are put
// together in registers. Two 16-byte loads hold blocks 0 and 1, and ZIP1/ZIP2 (PUNPCKLQDQ/PUNPCKHQDQ) gather their
// low and high halves in block order, so no lane permutation here.
//
// The 32x32->64-bit multiplies are UMULL on ARM64 (after XTN narrows the 64-bit lanes to 32 bits) and PMULUDQ on x64,
// called directly for the inlining budget (see Poly1305.Vector256.cs); elsewhere portable Vector128 operations compute
// the same.

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
    private static void Absorb128(ref ulong h0, ref ulong h1, ref ulong h2, ulong r0, ulong r1, ReadOnlySpan<byte> blocks, ReadOnlySpan<byte> extra, ulong lastHighBit)
    {
        int count = (blocks.Length + extra.Length) / BlockSize;
        int head = count % 2;
        Debug.Assert(count >= 2 && blocks.Length >= (count - 2) * BlockSize);
        ReadOnlySpan<byte> middle = blocks[(head * BlockSize)..((count - 2) * BlockSize)];

        Unsafe.SkipInit(out Multipliers128 k);
        SetUp128(r0, r1, ref k, withR4: middle.Length >= 2 * GroupSize128);

        var start = new Radix26(h0, h1, h2);
        Vector128<ulong> firstLane = Vector128.Equals(Vector128.Create(0UL, 1), Vector128.Create((ulong)head));
        Lanes128 a = new()
        {
            L0 = Vector128.Create(start.L0) & firstLane,
            L1 = Vector128.Create(start.L1) & firstLane,
            L2 = Vector128.Create(start.L2) & firstLane,
            L3 = Vector128.Create(start.L3) & firstLane,
            L4 = Vector128.Create(start.L4) & firstLane,
        };

        if (head > 0)
        {
            // An odd count: block 0 alone, in lane 1.
            Step128(ref a, Vector128<ulong>.Zero, SequenceBlock(blocks, extra, 0).AsUInt64(), Vector128.Create(0, HighBit26), ref k.R2);
        }
        if (!middle.IsEmpty)
        {
            Loop128(ref a, middle, ref k);
        }
        Step128(ref a, SequenceBlock(blocks, extra, count - 2).AsUInt64(), SequenceBlock(blocks, extra, count - 1).AsUInt64(),
            Vector128.Create(HighBit26, lastHighBit * HighBit26), ref k.Last);

        var sum = new Radix26
        {
            L0 = Vector128.Sum(a.L0),
            L1 = Vector128.Sum(a.L1),
            L2 = Vector128.Sum(a.L2),
            L3 = Vector128.Sum(a.L3),
            L4 = Vector128.Sum(a.L4),
        };
        sum.ToRadix64(out h0, out h1, out h2);
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref k, 1)));
    }

    /// <summary>Five 26-bit limbs per lane.</summary>
    internal struct Lanes128
    {
        public Vector128<ulong> L0, L1, L2, L3, L4;
    }

    /// <summary>A multiplier per lane: its five limbs, and the four that wrap around, times 5.</summary>
    internal struct Multiplier128
    {
        public Vector128<ulong> R0, R1, R2, R3, R4, S1, S2, S3, S4;
    }

    private struct Multipliers128
    {
        public Multiplier128 R2, R4, Last;
    }

    /// <summary>The multipliers: r^2 in both lanes, r^4 (if asked for), and the last step's r^2, r^1.</summary>
    private static void SetUp128(ulong r0, ulong r1, ref Multipliers128 k, bool withR4)
    {
        Powers(r0, r1, out Radix26 p1, out Radix26 p2);
        SetMultiplier(ref k.Last,
            Vector128.Create(p2.L0, p1.L0), Vector128.Create(p2.L1, p1.L1), Vector128.Create(p2.L2, p1.L2),
            Vector128.Create(p2.L3, p1.L3), Vector128.Create(p2.L4, p1.L4));
        SetMultiplier(ref k.R2,
            Vector128.Create(p2.L0), Vector128.Create(p2.L1), Vector128.Create(p2.L2), Vector128.Create(p2.L3), Vector128.Create(p2.L4));
        if (withR4)
        {
            Lanes128 r4 = new() { L0 = k.R2.R0, L1 = k.R2.R1, L2 = k.R2.R2, L3 = k.R2.R3, L4 = k.R2.R4 };
            MultiplyCarry128(ref r4, ref k.R2);
            SetMultiplier(ref k.R4, r4.L0, r4.L1, r4.L2, r4.L3, r4.L4);
        }
    }

    internal static void SetMultiplier(ref Multiplier128 k, Vector128<ulong> l0, Vector128<ulong> l1, Vector128<ulong> l2, Vector128<ulong> l3, Vector128<ulong> l4)
    {
        (k.R0, k.R1, k.R2, k.R3, k.R4) = (l0, l1, l2, l3, l4);
        (k.S1, k.S2, k.S3, k.S4) = ((l1 << 2) + l1, (l2 << 2) + l2, (l3 << 2) + l3, (l4 << 2) + l4);
    }

    /// <summary>a = (a + two blocks) * k: the first and last steps.</summary>
    private static void Step128(ref Lanes128 a, Vector128<ulong> block0, Vector128<ulong> block1, Vector128<ulong> highBits, ref Multiplier128 k)
    {
        Split128(block0, block1, highBits, out Lanes128 m);
        Lanes128 h = new() { L0 = a.L0 + m.L0, L1 = a.L1 + m.L1, L2 = a.L2 + m.L2, L3 = a.L3 + m.L3, L4 = a.L4 + m.L4 };
        MultiplyCarry128(ref h, ref k);
        a = h;
    }

    /// <summary>The middle groups, all with the 2^128 bit: two per step while two are left, then one.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Loop128(ref Lanes128 accumulator, ReadOnlySpan<byte> middle, ref Multipliers128 k)
    {
        Debug.Assert(middle.Length % GroupSize128 == 0);
        Vector128<ulong> highBits = Vector128.Create(HighBit26);
        Lanes128 a = accumulator;
        ref byte data = ref MemoryMarshal.GetReference(middle);
        nuint offset = 0;
        for (; offset + 2 * GroupSize128 <= (nuint)middle.Length; offset += 2 * GroupSize128)
        {
            // a = (a + m) * r^4 + m' * r^2
            Split128(Vector128.LoadUnsafe(ref data, offset + 32).AsUInt64(), Vector128.LoadUnsafe(ref data, offset + 48).AsUInt64(), highBits, out Lanes128 next);
            Product128(ref next, ref k.R2, out Lanes128 e);
            Split128(Vector128.LoadUnsafe(ref data, offset).AsUInt64(), Vector128.LoadUnsafe(ref data, offset + 16).AsUInt64(), highBits, out Lanes128 m);
            Lanes128 h = new() { L0 = a.L0 + m.L0, L1 = a.L1 + m.L1, L2 = a.L2 + m.L2, L3 = a.L3 + m.L3, L4 = a.L4 + m.L4 };
            Product128(ref h, ref k.R4, out Lanes128 d);
            d.L0 += e.L0; d.L1 += e.L1; d.L2 += e.L2; d.L3 += e.L3; d.L4 += e.L4;
            Carry128(ref d.L0, ref d.L1, ref d.L2, ref d.L3, ref d.L4);
            a = d;
        }
        if (offset < (nuint)middle.Length)
        {
            Split128(Vector128.LoadUnsafe(ref data, offset).AsUInt64(), Vector128.LoadUnsafe(ref data, offset + 16).AsUInt64(), highBits, out Lanes128 m);
            Lanes128 h = new() { L0 = a.L0 + m.L0, L1 = a.L1 + m.L1, L2 = a.L2 + m.L2, L3 = a.L3 + m.L3, L4 = a.L4 + m.L4 };
            MultiplyCarry128(ref h, ref k.R2);
            a = h;
        }
        accumulator = a;
    }

    /// <summary>Two blocks as five 26-bit limbs per lane, with <paramref name="highBits"/> as the 2^128 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Split128(Vector128<ulong> block0, Vector128<ulong> block1, Vector128<ulong> highBits, out Lanes128 m)
    {
        Vector128<ulong> mask = Vector128.Create(Mask26);
        Vector128<ulong> low, high;
        if (Sse2.IsSupported)
        {
            low = Sse2.UnpackLow(block0, block1);
            high = Sse2.UnpackHigh(block0, block1);
        }
        else if (AdvSimd.Arm64.IsSupported)
        {
            low = AdvSimd.Arm64.ZipLow(block0, block1);
            high = AdvSimd.Arm64.ZipHigh(block0, block1);
        }
        else
        {
            low = Vector128.Create(block0[0], block1[0]);
            high = Vector128.Create(block0[1], block1[1]);
        }
        m.L0 = low & mask;
        m.L1 = (low >> 26) & mask;
        m.L2 = ((low >> 52) | (high << 12)) & mask;
        m.L3 = (high >> 14) & mask;
        m.L4 = (high >> 40) | highBits;
    }

    /// <summary>h = h * k, carried.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyCarry128(ref Lanes128 h, ref Multiplier128 k)
    {
        Product128(ref h, ref k, out Lanes128 d);
        Carry128(ref d.L0, ref d.L1, ref d.L2, ref d.L3, ref d.L4);
        h = d;
    }

    /// <summary>
    /// d = h * k, limb by limb, not carried: the 64-bit products of the low 32 bits of each lane, PMULUDQ on x64; on
    /// ARM64 the limbs are narrowed to 32 bits once (XTN) and UMULL/UMLAL multiply and add.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Product128(ref Lanes128 h, ref Multiplier128 k, out Lanes128 d)
    {
        if (Sse2.IsSupported)
        {
            Vector128<uint> h0 = h.L0.AsUInt32(), h1 = h.L1.AsUInt32(), h2 = h.L2.AsUInt32(), h3 = h.L3.AsUInt32(), h4 = h.L4.AsUInt32();
            d.L0 = Sse2.Multiply(h0, k.R0.AsUInt32()) + Sse2.Multiply(h1, k.S4.AsUInt32()) + Sse2.Multiply(h2, k.S3.AsUInt32()) + Sse2.Multiply(h3, k.S2.AsUInt32()) + Sse2.Multiply(h4, k.S1.AsUInt32());
            d.L1 = Sse2.Multiply(h0, k.R1.AsUInt32()) + Sse2.Multiply(h1, k.R0.AsUInt32()) + Sse2.Multiply(h2, k.S4.AsUInt32()) + Sse2.Multiply(h3, k.S3.AsUInt32()) + Sse2.Multiply(h4, k.S2.AsUInt32());
            d.L2 = Sse2.Multiply(h0, k.R2.AsUInt32()) + Sse2.Multiply(h1, k.R1.AsUInt32()) + Sse2.Multiply(h2, k.R0.AsUInt32()) + Sse2.Multiply(h3, k.S4.AsUInt32()) + Sse2.Multiply(h4, k.S3.AsUInt32());
            d.L3 = Sse2.Multiply(h0, k.R3.AsUInt32()) + Sse2.Multiply(h1, k.R2.AsUInt32()) + Sse2.Multiply(h2, k.R1.AsUInt32()) + Sse2.Multiply(h3, k.R0.AsUInt32()) + Sse2.Multiply(h4, k.S4.AsUInt32());
            d.L4 = Sse2.Multiply(h0, k.R4.AsUInt32()) + Sse2.Multiply(h1, k.R3.AsUInt32()) + Sse2.Multiply(h2, k.R2.AsUInt32()) + Sse2.Multiply(h3, k.R1.AsUInt32()) + Sse2.Multiply(h4, k.R0.AsUInt32());
        }
        else if (AdvSimd.IsSupported)
        {
            Vector64<uint> h0 = AdvSimd.ExtractNarrowingLower(h.L0), h1 = AdvSimd.ExtractNarrowingLower(h.L1), h2 = AdvSimd.ExtractNarrowingLower(h.L2);
            Vector64<uint> h3 = AdvSimd.ExtractNarrowingLower(h.L3), h4 = AdvSimd.ExtractNarrowingLower(h.L4);
            Vector64<uint> r0 = AdvSimd.ExtractNarrowingLower(k.R0), r1 = AdvSimd.ExtractNarrowingLower(k.R1), r2 = AdvSimd.ExtractNarrowingLower(k.R2);
            Vector64<uint> r3 = AdvSimd.ExtractNarrowingLower(k.R3), r4 = AdvSimd.ExtractNarrowingLower(k.R4);
            Vector64<uint> s1 = AdvSimd.ExtractNarrowingLower(k.S1), s2 = AdvSimd.ExtractNarrowingLower(k.S2);
            Vector64<uint> s3 = AdvSimd.ExtractNarrowingLower(k.S3), s4 = AdvSimd.ExtractNarrowingLower(k.S4);
            d.L0 = AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(h0, r0), h1, s4), h2, s3), h3, s2), h4, s1);
            d.L1 = AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(h0, r1), h1, r0), h2, s4), h3, s3), h4, s2);
            d.L2 = AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(h0, r2), h1, r1), h2, r0), h3, s4), h4, s3);
            d.L3 = AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(h0, r3), h1, r2), h2, r1), h3, r0), h4, s4);
            d.L4 = AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(h0, r4), h1, r3), h2, r2), h3, r1), h4, r0);
        }
        else
        {
            d.L0 = MultiplyLow32(h.L0, k.R0) + MultiplyLow32(h.L1, k.S4) + MultiplyLow32(h.L2, k.S3) + MultiplyLow32(h.L3, k.S2) + MultiplyLow32(h.L4, k.S1);
            d.L1 = MultiplyLow32(h.L0, k.R1) + MultiplyLow32(h.L1, k.R0) + MultiplyLow32(h.L2, k.S4) + MultiplyLow32(h.L3, k.S3) + MultiplyLow32(h.L4, k.S2);
            d.L2 = MultiplyLow32(h.L0, k.R2) + MultiplyLow32(h.L1, k.R1) + MultiplyLow32(h.L2, k.R0) + MultiplyLow32(h.L3, k.S4) + MultiplyLow32(h.L4, k.S3);
            d.L3 = MultiplyLow32(h.L0, k.R3) + MultiplyLow32(h.L1, k.R2) + MultiplyLow32(h.L2, k.R1) + MultiplyLow32(h.L3, k.R0) + MultiplyLow32(h.L4, k.S4);
            d.L4 = MultiplyLow32(h.L0, k.R4) + MultiplyLow32(h.L1, k.R3) + MultiplyLow32(h.L2, k.R2) + MultiplyLow32(h.L3, k.R1) + MultiplyLow32(h.L4, k.R0);
        }
    }

    /// <summary>The portable PMULUDQ.</summary>
    private static Vector128<ulong> MultiplyLow32(Vector128<ulong> x, Vector128<ulong> y)
    {
        Vector128<ulong> low32 = Vector128.Create(0xFFFF_FFFFUL);
        return (x & low32) * (y & low32);
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
}
