// ChaCha20, 16 blocks per batch in Vector512<uint> (AVX-512). Lane i of x<k> is word k of block counter+i; see
// ChaCha20.cs. After the in-lane word transposes, each 128-bit lane holds 16 bytes of one block, and a second 4x4
// transpose, with whole 128-bit lanes as the elements, gathers each block's 64 bytes into one vector.

using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Branchgate.Crypto;

internal static partial class ChaCha20
{
    private const int BatchSize512 = 16 * BlockSize;

    private static void XorBatches512(in ChaChaState state, uint counter, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Debug.Assert(source.Length % BatchSize512 == 0 && destination.Length == source.Length);
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);

        for (nuint offset = 0; offset < (nuint)source.Length; offset += BatchSize512, counter += 16)
        {
            Vector512<uint> counters = Vector512.Create(counter) + Vector512.Create(0u, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            Vector512<uint> x0 = Vector512.Create(state[0]), x1 = Vector512.Create(state[1]);
            Vector512<uint> x2 = Vector512.Create(state[2]), x3 = Vector512.Create(state[3]);
            Vector512<uint> x4 = Vector512.Create(state[4]), x5 = Vector512.Create(state[5]);
            Vector512<uint> x6 = Vector512.Create(state[6]), x7 = Vector512.Create(state[7]);
            Vector512<uint> x8 = Vector512.Create(state[8]), x9 = Vector512.Create(state[9]);
            Vector512<uint> x10 = Vector512.Create(state[10]), x11 = Vector512.Create(state[11]);
            Vector512<uint> x12 = counters, x13 = Vector512.Create(state[13]);
            Vector512<uint> x14 = Vector512.Create(state[14]), x15 = Vector512.Create(state[15]);

            for (int i = 0; i < 10; i++)
            {
                QuarterRound(ref x0, ref x4, ref x8, ref x12);
                QuarterRound(ref x1, ref x5, ref x9, ref x13);
                QuarterRound(ref x2, ref x6, ref x10, ref x14);
                QuarterRound(ref x3, ref x7, ref x11, ref x15);
                QuarterRound(ref x0, ref x5, ref x10, ref x15);
                QuarterRound(ref x1, ref x6, ref x11, ref x12);
                QuarterRound(ref x2, ref x7, ref x8, ref x13);
                QuarterRound(ref x3, ref x4, ref x9, ref x14);
            }

            x0 += Vector512.Create(state[0]); x1 += Vector512.Create(state[1]);
            x2 += Vector512.Create(state[2]); x3 += Vector512.Create(state[3]);
            x4 += Vector512.Create(state[4]); x5 += Vector512.Create(state[5]);
            x6 += Vector512.Create(state[6]); x7 += Vector512.Create(state[7]);
            x8 += Vector512.Create(state[8]); x9 += Vector512.Create(state[9]);
            x10 += Vector512.Create(state[10]); x11 += Vector512.Create(state[11]);
            x12 += counters; x13 += Vector512.Create(state[13]);
            x14 += Vector512.Create(state[14]); x15 += Vector512.Create(state[15]);

            // Now x<4g+j>, lane L, holds words 4g..4g+3 of block 4L+j.
            Transpose(ref x0, ref x1, ref x2, ref x3);
            Transpose(ref x4, ref x5, ref x6, ref x7);
            Transpose(ref x8, ref x9, ref x10, ref x11);
            Transpose(ref x12, ref x13, ref x14, ref x15);

            ref byte s = ref Unsafe.Add(ref src, offset);
            ref byte d = ref Unsafe.Add(ref dst, offset);
            XorBlocks512(x0, x4, x8, x12, ref s, ref d, 0);
            XorBlocks512(x1, x5, x9, x13, ref s, ref d, BlockSize);
            XorBlocks512(x2, x6, x10, x14, ref s, ref d, 2 * BlockSize);
            XorBlocks512(x3, x7, x11, x15, ref s, ref d, 3 * BlockSize);
        }
    }

    /// <summary>
    /// Takes words 0-3, 4-7, 8-11 and 12-15 (in that order) of blocks j, j+4, j+8 and j+12 (one per 128-bit lane),
    /// gathers each block into one vector and XORs it into the data; <paramref name="offset"/> is block j's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void XorBlocks512(Vector512<uint> a, Vector512<uint> b, Vector512<uint> c, Vector512<uint> d, ref byte source, ref byte destination, nuint offset)
    {
        TransposeLanes(ref a, ref b, ref c, ref d);
        XorStore(a, ref source, ref destination, offset);
        XorStore(b, ref source, ref destination, offset + 4 * BlockSize);
        XorStore(c, ref source, ref destination, offset + 8 * BlockSize);
        XorStore(d, ref source, ref destination, offset + 12 * BlockSize);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void XorStore(Vector512<uint> keystream, ref byte source, ref byte destination, nuint offset) =>
        (Vector512.LoadUnsafe(ref source, offset) ^ keystream.AsByte()).StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuarterRound(ref Vector512<uint> a, ref Vector512<uint> b, ref Vector512<uint> c, ref Vector512<uint> d)
    {
        a += b; d = RotateLeft16(d ^ a);
        c += d; b = RotateLeft(b ^ c, 12);
        a += b; d = RotateLeft8(d ^ a);
        c += d; b = RotateLeft(b ^ c, 7);
    }

    /// <summary>VPROLD where AVX-512 is there (one instruction instead of two shifts and an OR).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> RotateLeft(Vector512<uint> value, [ConstantExpected(Min = 1, Max = 31)] byte count) =>
        Avx512F.IsSupported
            ? Avx512F.RotateLeft(value, count)
            : Vector512.ShiftLeft(value, count) | Vector512.ShiftRightLogical(value, 32 - count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> RotateLeft16(Vector512<uint> value) =>
        Vector512.Shuffle(value.AsByte(), Vector512.Create(
            (byte)2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
            18, 19, 16, 17, 22, 23, 20, 21, 26, 27, 24, 25, 30, 31, 28, 29,
            34, 35, 32, 33, 38, 39, 36, 37, 42, 43, 40, 41, 46, 47, 44, 45,
            50, 51, 48, 49, 54, 55, 52, 53, 58, 59, 56, 57, 62, 63, 60, 61)).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> RotateLeft8(Vector512<uint> value) =>
        Vector512.Shuffle(value.AsByte(), Vector512.Create(
            (byte)3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
            19, 16, 17, 18, 23, 20, 21, 22, 27, 24, 25, 26, 31, 28, 29, 30,
            35, 32, 33, 34, 39, 36, 37, 38, 43, 40, 41, 42, 47, 44, 45, 46,
            51, 48, 49, 50, 55, 52, 53, 54, 59, 56, 57, 58, 63, 60, 61, 62)).AsUInt32();

    /// <summary>4x4 transpose of 32-bit words within each 128-bit lane; see the Vector128 overload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ref Vector512<uint> a, ref Vector512<uint> b, ref Vector512<uint> c, ref Vector512<uint> d)
    {
        Vector512<uint> even32 = Vector512.Create(~0u, 0, ~0u, 0, ~0u, 0, ~0u, 0, ~0u, 0, ~0u, 0, ~0u, 0, ~0u, 0);
        Vector512<uint> ab0 = Vector512.ConditionalSelect(even32, a, Swap32(b));
        Vector512<uint> ab1 = Vector512.ConditionalSelect(even32, Swap32(a), b);
        Vector512<uint> cd0 = Vector512.ConditionalSelect(even32, c, Swap32(d));
        Vector512<uint> cd1 = Vector512.ConditionalSelect(even32, Swap32(c), d);

        Vector512<uint> low64 = Vector512.Create(~0u, ~0u, 0, 0, ~0u, ~0u, 0, 0, ~0u, ~0u, 0, 0, ~0u, ~0u, 0, 0);
        a = Vector512.ConditionalSelect(low64, ab0, Swap64(cd0));
        b = Vector512.ConditionalSelect(low64, ab1, Swap64(cd1));
        c = Vector512.ConditionalSelect(low64, Swap64(ab0), cd0);
        d = Vector512.ConditionalSelect(low64, Swap64(ab1), cd1);
    }

    /// <summary>
    /// 4x4 transpose whose elements are whole 128-bit lanes: lane L of (a, b, c, d) in, vector L out. Same shape as the
    /// word transpose, one level up: neighbouring lanes trade places, then 256-bit halves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeLanes(ref Vector512<uint> a, ref Vector512<uint> b, ref Vector512<uint> c, ref Vector512<uint> d)
    {
        Vector512<uint> evenLanes = Vector512.Create(~0u, ~0u, ~0u, ~0u, 0, 0, 0, 0, ~0u, ~0u, ~0u, ~0u, 0, 0, 0, 0);
        Vector512<uint> ab0 = Vector512.ConditionalSelect(evenLanes, a, SwapLanes(b));
        Vector512<uint> ab1 = Vector512.ConditionalSelect(evenLanes, SwapLanes(a), b);
        Vector512<uint> cd0 = Vector512.ConditionalSelect(evenLanes, c, SwapLanes(d));
        Vector512<uint> cd1 = Vector512.ConditionalSelect(evenLanes, SwapLanes(c), d);

        Vector512<uint> lowHalf = Vector512.Create(~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, 0, 0, 0, 0, 0, 0, 0, 0);
        a = Vector512.ConditionalSelect(lowHalf, ab0, SwapHalves(cd0));
        b = Vector512.ConditionalSelect(lowHalf, ab1, SwapHalves(cd1));
        c = Vector512.ConditionalSelect(lowHalf, SwapHalves(ab0), cd0);
        d = Vector512.ConditionalSelect(lowHalf, SwapHalves(ab1), cd1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Swap32(Vector512<uint> value) =>
        Vector512.Shuffle(value, Vector512.Create(1u, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Swap64(Vector512<uint> value) =>
        Vector512.Shuffle(value.AsUInt64(), Vector512.Create(1ul, 0, 3, 2, 5, 4, 7, 6)).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> SwapLanes(Vector512<uint> value) =>
        Vector512.Shuffle(value.AsUInt64(), Vector512.Create(2ul, 3, 0, 1, 6, 7, 4, 5)).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> SwapHalves(Vector512<uint> value) =>
        Vector512.Shuffle(value.AsUInt64(), Vector512.Create(4ul, 5, 6, 7, 0, 1, 2, 3)).AsUInt32();
}
