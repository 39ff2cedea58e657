// Poly1305 numbers in radix 2^26, for the vector paths.
//
// x = l0 + l1*2^26 + l2*2^52 + l3*2^78 + l4*2^104, partially reduced. Bounds: the limbs that go into a multiplication
// (accumulator plus message block) stay below 2^28, the multiplier's below 2^27 (powers of r below 2^131), and the
// limbs of the multiplier that wrap around (limb products at 2^130 and above, 2^130 = 5 mod p) are premultiplied by 5,
// below 2^30. So every partial product fits a 32x32->64-bit multiply (PMULUDQ on x64, UMULL on ARM64) and is below
// 2^58, and the at most ten that are added up for one limb of a result (two products in a double step) stay below 2^62.
//
// After a multiplication the limbs are "carried": each limb's bits above 26 move into the next one, l4's into l0 times
// 5. The vector loops use a short, lazy chain (limbs end up a few bits above 2^26 at most); the conversion back to
// radix 2^64 carries all the way.

using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Branchgate.Crypto;

internal partial struct Poly1305
{
    /// <summary>
    /// Blocks from which a vector path is worth its set-up (the powers of r, staging the first and last groups):
    /// Vector256 and the scalar code break even at 8 to 10 blocks on x64 (see docs/performance.md).
    /// </summary>
    private const int VectorMinimumBlocks = 10;

    private const ulong Mask26 = (1UL << 26) - 1;

    /// <summary>The 2^128 bit of a block, in limb 4.</summary>
    private const ulong HighBit26 = 1UL << 24;

    /// <summary>A number mod p in five 26-bit limbs.</summary>
    internal struct Radix26
    {
        public ulong L0, L1, L2, L3, L4;

        public Radix26(ulong h0, ulong h1, ulong h2)
        {
            L0 = h0 & Mask26;
            L1 = (h0 >> 26) & Mask26;
            L2 = ((h0 >> 52) | (h1 << 12)) & Mask26;
            L3 = (h1 >> 14) & Mask26;
            L4 = (h1 >> 40) | (h2 << 24);
        }

        /// <summary>Carries all the way round: l0-l3 below 2^26, then h = the same number in radix 2^64, below 2p.</summary>
        public readonly void ToRadix64(out ulong h0, out ulong h1, out ulong h2)
        {
            ulong l0 = L0, l1 = L1, l2 = L2, l3 = L3, l4 = L4;
            for (int pass = 0; pass < 2; pass++)
            {
                l1 += l0 >> 26; l0 &= Mask26;
                l2 += l1 >> 26; l1 &= Mask26;
                l3 += l2 >> 26; l2 &= Mask26;
                l4 += l3 >> 26; l3 &= Mask26;
                ulong c = l4 >> 26; l4 &= Mask26;
                l0 += c * 5;
            }
            // A carry out of l4 in the second pass can only come from a carry that rippled up from l0, which left l0
            // small: adding 5 to it carries no further. So all limbs are below 2^26 now and do not overlap.
            Debug.Assert(l0 >> 26 == 0);
            h0 = l0 | (l1 << 26) | (l2 << 52);
            h1 = (l2 >> 12) | (l3 << 14) | (l4 << 40);
            h2 = l4 >> 24;
        }
    }

    /// <summary>r and r^2 in radix 2^26; see the other overload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Powers(ulong r0, ulong r1, out Radix26 p1, out Radix26 p2)
    {
        ulong h0 = r0, h1 = r1, h2 = 0;
        p1 = new Radix26(h0, h1, h2);
        AbsorbBlock(ref h0, ref h1, ref h2, 0, 0, 0, r0, r1);
        p2 = new Radix26(h0, h1, h2);
    }

    /// <summary>r, r^2, r^3, r^4 in radix 2^26, partially reduced (below 2^131, so l4 below 2^27).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Powers(ulong r0, ulong r1, out Radix26 p1, out Radix26 p2, out Radix26 p3, out Radix26 p4)
    {
        // Multiplying by the clamped r is the scalar path's block step with a zero block.
        ulong h0 = r0, h1 = r1, h2 = 0;
        p1 = new Radix26(h0, h1, h2);
        AbsorbBlock(ref h0, ref h1, ref h2, 0, 0, 0, r0, r1);
        p2 = new Radix26(h0, h1, h2);
        AbsorbBlock(ref h0, ref h1, ref h2, 0, 0, 0, r0, r1);
        p3 = new Radix26(h0, h1, h2);
        AbsorbBlock(ref h0, ref h1, ref h2, 0, 0, 0, r0, r1);
        p4 = new Radix26(h0, h1, h2);
    }

    /// <summary>
    /// Block <paramref name="index"/> of the sequence <paramref name="blocks"/> then <paramref name="extra"/>, or zero
    /// for a negative index (the empty lanes before a partial first group).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> SequenceBlock(ReadOnlySpan<byte> blocks, ReadOnlySpan<byte> extra, int index)
    {
        if (index < 0)
        {
            return Vector128<byte>.Zero;
        }
        int offset = index * BlockSize;
        Debug.Assert(offset + BlockSize <= blocks.Length + extra.Length);
        return offset < blocks.Length
            ? Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(blocks), (nuint)offset)
            : Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(extra), (nuint)(offset - blocks.Length));
    }
}
