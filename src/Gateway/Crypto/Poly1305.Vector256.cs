// Poly1305, four lanes of Vector256<ulong> (AVX2: VPMULUDQ), radix 2^26 (see Poly1305.Radix26.cs).
//
// With n blocks m_1..m_n the MAC adds up m_i * r^(n-i+1). Lane j takes every fourth block and runs Horner's rule with
// r^4, four independent chains instead of one; in the last step the lanes are multiplied by r^4, r^3, r^2 and r^1
// instead, and then added up. The loop takes two groups of four blocks per step, a = (a + m) * r^8 + m' * r^4, so the
// chain through the accumulator (multiply, add up, carry) is walked once per 128 bytes; m' * r^4 does not wait for it.
//
// The sequence is aligned to its end: when n is not a multiple of 4, the first step holds the first n mod 4 blocks in
// its last lanes, after zero blocks without the 2^128 bit, which add nothing. The accumulator h so far joins the lane
// of the first block. The first (partial) group and the last group are put together block by block in registers, the
// last one from the final blocks of the data and the caller's padding and lengths blocks, so no block is left to the
// scalar code.
//
// Loading: two 32-byte loads hold blocks (0, 1) and (2, 3); VPUNPCKLQDQ and VPUNPCKHQDQ (which work within 128-bit
// halves) gather the low and the high 64 bits of each block, in lane order 0, 2, 1, 3. Rather than permuting the data,
// the per-lane constants (the last step's powers of r, which lanes hold blocks) follow that order.
//
// Code shape: the loop is a method of its own, and the arithmetic calls AVX2 intrinsics directly rather than through a
// helper per multiply, so that the JIT's (and NativeAOT's) inlining budget covers all of it; an un-inlined helper in
// the loop costs more than the vector arithmetic saves. Without AVX2 (tests forcing this path on other machines) the
// portable branches compute the same with Vector256 operations.

using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;

namespace Branchgate.Crypto;

internal partial struct Poly1305
{
    private const int GroupSize256 = 4 * BlockSize;

    /// <summary>Absorbs <paramref name="blocks"/> then <paramref name="extra"/>; see <see cref="Absorb"/>.</summary>
    private static void Absorb256(ref ulong h0, ref ulong h1, ref ulong h2, ulong r0, ulong r1, ReadOnlySpan<byte> blocks, ReadOnlySpan<byte> extra, ulong lastHighBit)
    {
        int count = (blocks.Length + extra.Length) / BlockSize;
        int head = count % 4;
        Debug.Assert(count >= 4 && blocks.Length >= (count - 4) * BlockSize);
        ReadOnlySpan<byte> middle = blocks[(head * BlockSize)..((count - 4) * BlockSize)];

        Unsafe.SkipInit(out Multipliers256 k);
        SetUp256(r0, r1, ref k, withR8: middle.Length >= 2 * GroupSize256);

        // Physical lanes 0-3 hold blocks 0, 2, 1, 3 of a group.
        Vector256<ulong> blockOfLane = Vector256.Create(0UL, 2, 1, 3);
        Vector256<ulong> highBits = Vector256.Create(HighBit26);
        var start = new Radix26(h0, h1, h2);
        Vector256<ulong> firstLane = Vector256.Equals(blockOfLane, Vector256.Create((ulong)((4 - head) % 4)));
        Lanes256 a = new()
        {
            L0 = Vector256.Create(start.L0) & firstLane,
            L1 = Vector256.Create(start.L1) & firstLane,
            L2 = Vector256.Create(start.L2) & firstLane,
            L3 = Vector256.Create(start.L3) & firstLane,
            L4 = Vector256.Create(start.L4) & firstLane,
        };

        if (head > 0)
        {
            // Blocks 0 .. head-1 go to the last lanes; the lanes before them get zero and no 2^128 bit.
            int first = head - 4;
            Vector256<ulong> real = Vector256.GreaterThanOrEqual(blockOfLane, Vector256.Create((ulong)(4 - head)));
            Step256(ref a,
                Vector256.Create(SequenceBlock(blocks, extra, first), SequenceBlock(blocks, extra, first + 1)).AsUInt64(),
                Vector256.Create(SequenceBlock(blocks, extra, first + 2), SequenceBlock(blocks, extra, first + 3)).AsUInt64(),
                highBits & real, ref k.R4);
        }
        if (!middle.IsEmpty)
        {
            Loop256(ref a, middle, ref k);
        }
        int last = count - 4;
        Step256(ref a,
            Vector256.Create(SequenceBlock(blocks, extra, last), SequenceBlock(blocks, extra, last + 1)).AsUInt64(),
            Vector256.Create(SequenceBlock(blocks, extra, last + 2), SequenceBlock(blocks, extra, last + 3)).AsUInt64(),
            Vector256.Create(HighBit26, HighBit26, HighBit26, lastHighBit * HighBit26), ref k.Last);

        var sum = new Radix26
        {
            L0 = Vector256.Sum(a.L0),
            L1 = Vector256.Sum(a.L1),
            L2 = Vector256.Sum(a.L2),
            L3 = Vector256.Sum(a.L3),
            L4 = Vector256.Sum(a.L4),
        };
        sum.ToRadix64(out h0, out h1, out h2);
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref k, 1)));
    }

    /// <summary>Five 26-bit limbs per lane.</summary>
    internal struct Lanes256
    {
        public Vector256<ulong> L0, L1, L2, L3, L4;
    }

    /// <summary>
    /// A multiplier per lane: its five limbs, and the four that wrap around, times 5. Kept in memory on purpose: x64
    /// has 16 vector registers, and the multiplies take these as memory operands.
    /// </summary>
    internal struct Multiplier256
    {
        public Vector256<ulong> R0, R1, R2, R3, R4, S1, S2, S3, S4;
    }

    private struct Multipliers256
    {
        public Multiplier256 R4, R8, Last;
    }

    /// <summary>The multipliers: r^4 in every lane, r^8 (if asked for), and the last step's r^4, r^2, r^3, r^1.</summary>
    private static void SetUp256(ulong r0, ulong r1, ref Multipliers256 k, bool withR8)
    {
        Powers(r0, r1, out Radix26 p1, out Radix26 p2, out Radix26 p3, out Radix26 p4);
        SetMultiplier(ref k.Last,
            Vector256.Create(p4.L0, p2.L0, p3.L0, p1.L0), Vector256.Create(p4.L1, p2.L1, p3.L1, p1.L1),
            Vector256.Create(p4.L2, p2.L2, p3.L2, p1.L2), Vector256.Create(p4.L3, p2.L3, p3.L3, p1.L3),
            Vector256.Create(p4.L4, p2.L4, p3.L4, p1.L4));
        SetMultiplier(ref k.R4,
            Vector256.Create(p4.L0), Vector256.Create(p4.L1), Vector256.Create(p4.L2), Vector256.Create(p4.L3), Vector256.Create(p4.L4));
        if (withR8)
        {
            Lanes256 r8 = new() { L0 = k.R4.R0, L1 = k.R4.R1, L2 = k.R4.R2, L3 = k.R4.R3, L4 = k.R4.R4 };
            MultiplyCarry256(ref r8, ref k.R4);
            SetMultiplier(ref k.R8, r8.L0, r8.L1, r8.L2, r8.L3, r8.L4);
        }
    }

    internal static void SetMultiplier(ref Multiplier256 k, Vector256<ulong> l0, Vector256<ulong> l1, Vector256<ulong> l2, Vector256<ulong> l3, Vector256<ulong> l4)
    {
        (k.R0, k.R1, k.R2, k.R3, k.R4) = (l0, l1, l2, l3, l4);
        (k.S1, k.S2, k.S3, k.S4) = ((l1 << 2) + l1, (l2 << 2) + l2, (l3 << 2) + l3, (l4 << 2) + l4);
    }

    /// <summary>a = (a + four blocks, two per vector) * k: the first and last steps.</summary>
    private static void Step256(ref Lanes256 a, Vector256<ulong> blocks01, Vector256<ulong> blocks23, Vector256<ulong> highBits, ref Multiplier256 k)
    {
        Split256(blocks01, blocks23, highBits, out Lanes256 m);
        Lanes256 h = new() { L0 = a.L0 + m.L0, L1 = a.L1 + m.L1, L2 = a.L2 + m.L2, L3 = a.L3 + m.L3, L4 = a.L4 + m.L4 };
        MultiplyCarry256(ref h, ref k);
        a = h;
    }

    /// <summary>The middle groups, all with the 2^128 bit: two per step while two are left, then one.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Loop256(ref Lanes256 accumulator, ReadOnlySpan<byte> middle, ref Multipliers256 k)
    {
        Debug.Assert(middle.Length % GroupSize256 == 0);
        Vector256<ulong> highBits = Vector256.Create(HighBit26);
        Lanes256 a = accumulator;
        ref byte data = ref MemoryMarshal.GetReference(middle);
        nuint offset = 0;
        for (; offset + 2 * GroupSize256 <= (nuint)middle.Length; offset += 2 * GroupSize256)
        {
            // a = (a + m) * r^8 + m' * r^4
            Split256(Vector256.LoadUnsafe(ref data, offset + 64).AsUInt64(), Vector256.LoadUnsafe(ref data, offset + 96).AsUInt64(), highBits, out Lanes256 next);
            Product256(ref next, ref k.R4, out Lanes256 e);
            Split256(Vector256.LoadUnsafe(ref data, offset).AsUInt64(), Vector256.LoadUnsafe(ref data, offset + 32).AsUInt64(), highBits, out Lanes256 m);
            Lanes256 h = new() { L0 = a.L0 + m.L0, L1 = a.L1 + m.L1, L2 = a.L2 + m.L2, L3 = a.L3 + m.L3, L4 = a.L4 + m.L4 };
            Product256(ref h, ref k.R8, out Lanes256 d);
            d.L0 += e.L0; d.L1 += e.L1; d.L2 += e.L2; d.L3 += e.L3; d.L4 += e.L4;
            Carry256(ref d.L0, ref d.L1, ref d.L2, ref d.L3, ref d.L4);
            a = d;
        }
        if (offset < (nuint)middle.Length)
        {
            Split256(Vector256.LoadUnsafe(ref data, offset).AsUInt64(), Vector256.LoadUnsafe(ref data, offset + 32).AsUInt64(), highBits, out Lanes256 m);
            Lanes256 h = new() { L0 = a.L0 + m.L0, L1 = a.L1 + m.L1, L2 = a.L2 + m.L2, L3 = a.L3 + m.L3, L4 = a.L4 + m.L4 };
            MultiplyCarry256(ref h, ref k.R4);
            a = h;
        }
        accumulator = a;
    }

    /// <summary>
    /// Four blocks (0 and 1 in <paramref name="blocks01"/>, 2 and 3 in <paramref name="blocks23"/>) as five 26-bit limbs
    /// per lane, lanes in block order 0, 2, 1, 3, with <paramref name="highBits"/> as the 2^128 bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Split256(Vector256<ulong> blocks01, Vector256<ulong> blocks23, Vector256<ulong> highBits, out Lanes256 m)
    {
        Vector256<ulong> mask = Vector256.Create(Mask26);
        Vector256<ulong> low, high;
        if (Avx2.IsSupported)
        {
            low = Avx2.UnpackLow(blocks01, blocks23);
            high = Avx2.UnpackHigh(blocks01, blocks23);
        }
        else
        {
            low = Vector256.Create(blocks01[0], blocks23[0], blocks01[2], blocks23[2]);
            high = Vector256.Create(blocks01[1], blocks23[1], blocks01[3], blocks23[3]);
        }
        m.L0 = low & mask;
        m.L1 = (low >> 26) & mask;
        m.L2 = ((low >> 52) | (high << 12)) & mask;
        m.L3 = (high >> 14) & mask;
        m.L4 = (high >> 40) | highBits;
    }

    /// <summary>h = h * k, carried.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyCarry256(ref Lanes256 h, ref Multiplier256 k)
    {
        Product256(ref h, ref k, out Lanes256 d);
        Carry256(ref d.L0, ref d.L1, ref d.L2, ref d.L3, ref d.L4);
        h = d;
    }

    /// <summary>d = h * k, limb by limb, not carried: the 64-bit products of the low 32 bits of each lane (VPMULUDQ).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Product256(ref Lanes256 h, ref Multiplier256 k, out Lanes256 d)
    {
        if (Avx2.IsSupported)
        {
            Vector256<uint> h0 = h.L0.AsUInt32(), h1 = h.L1.AsUInt32(), h2 = h.L2.AsUInt32(), h3 = h.L3.AsUInt32(), h4 = h.L4.AsUInt32();
            d.L0 = Avx2.Multiply(h0, k.R0.AsUInt32()) + Avx2.Multiply(h1, k.S4.AsUInt32()) + Avx2.Multiply(h2, k.S3.AsUInt32()) + Avx2.Multiply(h3, k.S2.AsUInt32()) + Avx2.Multiply(h4, k.S1.AsUInt32());
            d.L1 = Avx2.Multiply(h0, k.R1.AsUInt32()) + Avx2.Multiply(h1, k.R0.AsUInt32()) + Avx2.Multiply(h2, k.S4.AsUInt32()) + Avx2.Multiply(h3, k.S3.AsUInt32()) + Avx2.Multiply(h4, k.S2.AsUInt32());
            d.L2 = Avx2.Multiply(h0, k.R2.AsUInt32()) + Avx2.Multiply(h1, k.R1.AsUInt32()) + Avx2.Multiply(h2, k.R0.AsUInt32()) + Avx2.Multiply(h3, k.S4.AsUInt32()) + Avx2.Multiply(h4, k.S3.AsUInt32());
            d.L3 = Avx2.Multiply(h0, k.R3.AsUInt32()) + Avx2.Multiply(h1, k.R2.AsUInt32()) + Avx2.Multiply(h2, k.R1.AsUInt32()) + Avx2.Multiply(h3, k.R0.AsUInt32()) + Avx2.Multiply(h4, k.S4.AsUInt32());
            d.L4 = Avx2.Multiply(h0, k.R4.AsUInt32()) + Avx2.Multiply(h1, k.R3.AsUInt32()) + Avx2.Multiply(h2, k.R2.AsUInt32()) + Avx2.Multiply(h3, k.R1.AsUInt32()) + Avx2.Multiply(h4, k.R0.AsUInt32());
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

    /// <summary>The portable VPMULUDQ.</summary>
    private static Vector256<ulong> MultiplyLow32(Vector256<ulong> x, Vector256<ulong> y)
    {
        Vector256<ulong> low32 = Vector256.Create(0xFFFF_FFFFUL);
        return (x & low32) * (y & low32);
    }

    /// <summary>
    /// Lazy carry: two interleaved chains, d0 -> d1 -> d2 -> d3 -> d4 and d3 -> d4 -> d0 -> d1. The limbs end below
    /// 2^26 except d1 and d4, which stay a few bits above: enough for the next multiplication.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Carry256(ref Vector256<ulong> d0, ref Vector256<ulong> d1, ref Vector256<ulong> d2, ref Vector256<ulong> d3, ref Vector256<ulong> d4)
    {
        Vector256<ulong> mask = Vector256.Create(Mask26);
        Vector256<ulong> c;
        c = d0 >> 26; d0 &= mask; d1 += c;
        c = d3 >> 26; d3 &= mask; d4 += c;
        c = d1 >> 26; d1 &= mask; d2 += c;
        c = d4 >> 26; d4 &= mask; d0 += c + (c << 2);
        c = d2 >> 26; d2 &= mask; d3 += c;
        c = d0 >> 26; d0 &= mask; d1 += c;
        c = d3 >> 26; d3 &= mask; d4 += c;
    }
}
