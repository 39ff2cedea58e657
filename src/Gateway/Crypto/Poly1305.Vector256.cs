// Poly1305, four lanes of Vector256<ulong> (AVX2: VPMULUDQ), radix 2^26 (see Poly1305.Radix26.cs).
//
// With n blocks m_1..m_n the MAC adds up m_i * r^(n-i+1). Lane j takes every fourth block and runs Horner's rule with
// r^4, four independent chains instead of one; in the last step the lanes are multiplied by r^4, r^3, r^2 and r^1
// instead, and then added up. The loop takes two groups of four blocks per step, a = (a + m) * r^8 + m' * r^4, so the
// chain through the accumulator (multiply, add up, carry) is walked once per 128 bytes; m' * r^4 does not wait for it.
//
// The sequence is aligned to its end: when n is not a multiple of 4, the first step holds the first n mod 4 blocks in
// its last lanes, after zero blocks without the 2^128 bit, which add nothing. The accumulator h so far joins the lane
// of the first block. The first (partial) group and the last group are copied into a stack buffer, the last one with
// the caller's padding and lengths blocks behind the final blocks of the data, so no block is left to the scalar code.
//
// Loading: two 32-byte loads hold blocks (0, 1) and (2, 3); VPUNPCKLQDQ and VPUNPCKHQDQ (which work within 128-bit
// halves) gather the low and the high 64 bits of each block, in lane order 0, 2, 1, 3. Rather than permuting the data,
// the per-lane constants (the last step's powers of r, which lanes hold blocks) follow that order.
//
// Without AVX2 (tests forcing this path on other machines) the same code runs with portable Vector256 operations.

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
    [SkipLocalsInit]
    private static void Absorb256(ref ulong h0, ref ulong h1, ref ulong h2, ulong r0, ulong r1, ReadOnlySpan<byte> blocks, ReadOnlySpan<byte> extra, ulong lastHighBit)
    {
        int count = (blocks.Length + extra.Length) / BlockSize;
        int head = count % 4;
        int lastFromBlocks = GroupSize256 - extra.Length;
        Debug.Assert(blocks.Length >= head * BlockSize + lastFromBlocks);

        Unsafe.SkipInit(out Multipliers256 k);
        Powers(r0, r1, out Radix26 p1, out Radix26 p2, out Radix26 p3, out Radix26 p4);
        // Physical lanes 0-3 hold the group's blocks 0, 2, 1, 3, which take r^4, r^2, r^3, r^1 in the last step.
        SetMultiplier(ref k.Last,
            Vector256.Create(p4.L0, p2.L0, p3.L0, p1.L0), Vector256.Create(p4.L1, p2.L1, p3.L1, p1.L1),
            Vector256.Create(p4.L2, p2.L2, p3.L2, p1.L2), Vector256.Create(p4.L3, p2.L3, p3.L3, p1.L3),
            Vector256.Create(p4.L4, p2.L4, p3.L4, p1.L4));
        SetMultiplier(ref k.R4,
            Vector256.Create(p4.L0), Vector256.Create(p4.L1), Vector256.Create(p4.L2), Vector256.Create(p4.L3), Vector256.Create(p4.L4));
        ReadOnlySpan<byte> middle = blocks[(head * BlockSize)..^lastFromBlocks];
        if (middle.Length >= 2 * GroupSize256)
        {
            // r^8 = r^4 * r^4, in every lane.
            Product256(k.R4[0], k.R4[1], k.R4[2], k.R4[3], k.R4[4], ref k.R4,
                out Vector256<ulong> e0, out Vector256<ulong> e1, out Vector256<ulong> e2, out Vector256<ulong> e3, out Vector256<ulong> e4);
            Carry256(ref e0, ref e1, ref e2, ref e3, ref e4);
            SetMultiplier(ref k.R8, e0, e1, e2, e3, e4);
        }
        Vector256<ulong> blockOfLane = Vector256.Create(0UL, 2, 1, 3);
        Vector256<ulong> highBits = Vector256.Create(HighBit26);

        var start = new Radix26(h0, h1, h2);
        Vector256<ulong> firstLane = Vector256.Equals(blockOfLane, Vector256.Create((ulong)((4 - head) % 4)));
        Vector256<ulong> a0 = Vector256.Create(start.L0) & firstLane, a1 = Vector256.Create(start.L1) & firstLane;
        Vector256<ulong> a2 = Vector256.Create(start.L2) & firstLane, a3 = Vector256.Create(start.L3) & firstLane;
        Vector256<ulong> a4 = Vector256.Create(start.L4) & firstLane;

        Span<byte> staged = stackalloc byte[GroupSize256];
        ref byte stagedStart = ref MemoryMarshal.GetReference(staged);
        if (head > 0)
        {
            staged.Clear();
            blocks[..(head * BlockSize)].CopyTo(staged[((4 - head) * BlockSize)..]);
            Vector256<ulong> real = Vector256.GreaterThanOrEqual(blockOfLane, Vector256.Create((ulong)(4 - head)));
            Step256(ref a0, ref a1, ref a2, ref a3, ref a4, ref stagedStart, highBits & real, ref k.R4);
        }

        ref byte data = ref MemoryMarshal.GetReference(middle);
        nuint offset = 0;
        for (; offset + 2 * GroupSize256 <= (nuint)middle.Length; offset += 2 * GroupSize256)
        {
            DoubleStep256(ref a0, ref a1, ref a2, ref a3, ref a4, ref Unsafe.Add(ref data, offset), highBits, ref k);
        }
        if (offset < (nuint)middle.Length)
        {
            Step256(ref a0, ref a1, ref a2, ref a3, ref a4, ref Unsafe.Add(ref data, offset), highBits, ref k.R4);
        }

        blocks[^lastFromBlocks..].CopyTo(staged);
        extra.CopyTo(staged[lastFromBlocks..]);
        Vector256<ulong> lastHighBits = Vector256.Create(HighBit26, HighBit26, HighBit26, lastHighBit * HighBit26);
        Step256(ref a0, ref a1, ref a2, ref a3, ref a4, ref stagedStart, lastHighBits, ref k.Last);

        var sum = new Radix26
        {
            L0 = Vector256.Sum(a0),
            L1 = Vector256.Sum(a1),
            L2 = Vector256.Sum(a2),
            L3 = Vector256.Sum(a3),
            L4 = Vector256.Sum(a4),
        };
        sum.ToRadix64(out h0, out h1, out h2);

        CryptographicOperations.ZeroMemory(staged);
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref k, 1)));
    }

    /// <summary>
    /// A multiplier per lane: its five limbs, then the four that wrap around, times 5. Kept in memory on purpose: x64
    /// has 16 vector registers, and the multiplies take these as memory operands.
    /// </summary>
    [InlineArray(9)]
    internal struct Multiplier256
    {
        private Vector256<ulong> _element0;
    }

    private struct Multipliers256
    {
        public Multiplier256 R4, R8, Last;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SetMultiplier(ref Multiplier256 k, Vector256<ulong> l0, Vector256<ulong> l1, Vector256<ulong> l2, Vector256<ulong> l3, Vector256<ulong> l4)
    {
        (k[0], k[1], k[2], k[3], k[4]) = (l0, l1, l2, l3, l4);
        (k[5], k[6], k[7], k[8]) = ((l1 << 2) + l1, (l2 << 2) + l2, (l3 << 2) + l3, (l4 << 2) + l4);
    }

    /// <summary>a = (a + the four blocks at <paramref name="group"/>) * k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step256(
        ref Vector256<ulong> a0, ref Vector256<ulong> a1, ref Vector256<ulong> a2, ref Vector256<ulong> a3, ref Vector256<ulong> a4,
        ref byte group, Vector256<ulong> highBits, ref Multiplier256 k)
    {
        Load256(ref group, highBits, out Vector256<ulong> m0, out Vector256<ulong> m1, out Vector256<ulong> m2, out Vector256<ulong> m3, out Vector256<ulong> m4);
        Product256(a0 + m0, a1 + m1, a2 + m2, a3 + m3, a4 + m4, ref k,
            out Vector256<ulong> d0, out Vector256<ulong> d1, out Vector256<ulong> d2, out Vector256<ulong> d3, out Vector256<ulong> d4);
        Carry256(ref d0, ref d1, ref d2, ref d3, ref d4);
        (a0, a1, a2, a3, a4) = (d0, d1, d2, d3, d4);
    }

    /// <summary>a = (a + the four blocks at <paramref name="groups"/>) * r^8 + (the next four) * r^4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DoubleStep256(
        ref Vector256<ulong> a0, ref Vector256<ulong> a1, ref Vector256<ulong> a2, ref Vector256<ulong> a3, ref Vector256<ulong> a4,
        ref byte groups, Vector256<ulong> highBits, ref Multipliers256 k)
    {
        Load256(ref Unsafe.Add(ref groups, GroupSize256), highBits,
            out Vector256<ulong> n0, out Vector256<ulong> n1, out Vector256<ulong> n2, out Vector256<ulong> n3, out Vector256<ulong> n4);
        Product256(n0, n1, n2, n3, n4, ref k.R4,
            out Vector256<ulong> e0, out Vector256<ulong> e1, out Vector256<ulong> e2, out Vector256<ulong> e3, out Vector256<ulong> e4);
        Load256(ref groups, highBits, out Vector256<ulong> m0, out Vector256<ulong> m1, out Vector256<ulong> m2, out Vector256<ulong> m3, out Vector256<ulong> m4);
        Product256(a0 + m0, a1 + m1, a2 + m2, a3 + m3, a4 + m4, ref k.R8,
            out Vector256<ulong> d0, out Vector256<ulong> d1, out Vector256<ulong> d2, out Vector256<ulong> d3, out Vector256<ulong> d4);
        d0 += e0; d1 += e1; d2 += e2; d3 += e3; d4 += e4;
        Carry256(ref d0, ref d1, ref d2, ref d3, ref d4);
        (a0, a1, a2, a3, a4) = (d0, d1, d2, d3, d4);
    }

    /// <summary>Four blocks as five 26-bit limbs per lane, with <paramref name="highBits"/> as the 2^128 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Load256(ref byte group, Vector256<ulong> highBits,
        out Vector256<ulong> m0, out Vector256<ulong> m1, out Vector256<ulong> m2, out Vector256<ulong> m3, out Vector256<ulong> m4)
    {
        Vector256<ulong> mask = Vector256.Create(Mask26);
        Vector256<ulong> blocks01 = Vector256.LoadUnsafe(ref group).AsUInt64();
        Vector256<ulong> blocks23 = Vector256.LoadUnsafe(ref group, 32).AsUInt64();
        Vector256<ulong> low = UnpackLow(blocks01, blocks23);
        Vector256<ulong> high = UnpackHigh(blocks01, blocks23);
        m0 = low & mask;
        m1 = (low >> 26) & mask;
        m2 = ((low >> 52) | (high << 12)) & mask;
        m3 = (high >> 14) & mask;
        m4 = (high >> 40) | highBits;
    }

    /// <summary>d = h * k, limb by limb, not carried.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Product256(
        Vector256<ulong> h0, Vector256<ulong> h1, Vector256<ulong> h2, Vector256<ulong> h3, Vector256<ulong> h4, ref Multiplier256 k,
        out Vector256<ulong> d0, out Vector256<ulong> d1, out Vector256<ulong> d2, out Vector256<ulong> d3, out Vector256<ulong> d4)
    {
        // k[0..4] = r0..r4, k[5..8] = 5*r1..5*r4.
        d0 = Multiply(h0, k[0]) + Multiply(h1, k[8]) + Multiply(h2, k[7]) + Multiply(h3, k[6]) + Multiply(h4, k[5]);
        d1 = Multiply(h0, k[1]) + Multiply(h1, k[0]) + Multiply(h2, k[8]) + Multiply(h3, k[7]) + Multiply(h4, k[6]);
        d2 = Multiply(h0, k[2]) + Multiply(h1, k[1]) + Multiply(h2, k[0]) + Multiply(h3, k[8]) + Multiply(h4, k[7]);
        d3 = Multiply(h0, k[3]) + Multiply(h1, k[2]) + Multiply(h2, k[1]) + Multiply(h3, k[0]) + Multiply(h4, k[8]);
        d4 = Multiply(h0, k[4]) + Multiply(h1, k[3]) + Multiply(h2, k[2]) + Multiply(h3, k[1]) + Multiply(h4, k[0]);
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

    /// <summary>The 64-bit products of the low 32 bits of each lane: VPMULUDQ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Multiply(Vector256<ulong> x, Vector256<ulong> y)
    {
        if (Avx2.IsSupported)
        {
            return Avx2.Multiply(x.AsUInt32(), y.AsUInt32());
        }
        Vector256<ulong> low32 = Vector256.Create(0xFFFF_FFFFUL);
        return (x & low32) * (y & low32);
    }

    /// <summary>The low 64 bits of both blocks in each 128-bit half: VPUNPCKLQDQ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> UnpackLow(Vector256<ulong> x, Vector256<ulong> y) =>
        Avx2.IsSupported ? Avx2.UnpackLow(x, y) : Vector256.Create(x[0], y[0], x[2], y[2]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> UnpackHigh(Vector256<ulong> x, Vector256<ulong> y) =>
        Avx2.IsSupported ? Avx2.UnpackHigh(x, y) : Vector256.Create(x[1], y[1], x[3], y[3]);
}
