// ChaCha20, 4 blocks per batch in Vector128<uint> (NEON on ARM64, SSE/AVX on x64). Lane i of x<k> is word k of block
// counter+i; see ChaCha20.cs for the layout. Cross-platform Vector128 APIs only, so ARM64 gets the same code.

using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Branchgate.Crypto;

internal static partial class ChaCha20
{
    private const int BatchSize128 = 4 * BlockSize;

    private static void XorBatches128(in ChaChaState state, uint counter, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Debug.Assert(source.Length % BatchSize128 == 0 && destination.Length == source.Length);
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);

        for (nuint offset = 0; offset < (nuint)source.Length; offset += BatchSize128, counter += 4)
        {
            Vector128<uint> counters = Vector128.Create(counter) + Vector128.Create(0u, 1, 2, 3);
            Vector128<uint> x0 = Vector128.Create(state[0]), x1 = Vector128.Create(state[1]);
            Vector128<uint> x2 = Vector128.Create(state[2]), x3 = Vector128.Create(state[3]);
            Vector128<uint> x4 = Vector128.Create(state[4]), x5 = Vector128.Create(state[5]);
            Vector128<uint> x6 = Vector128.Create(state[6]), x7 = Vector128.Create(state[7]);
            Vector128<uint> x8 = Vector128.Create(state[8]), x9 = Vector128.Create(state[9]);
            Vector128<uint> x10 = Vector128.Create(state[10]), x11 = Vector128.Create(state[11]);
            Vector128<uint> x12 = counters, x13 = Vector128.Create(state[13]);
            Vector128<uint> x14 = Vector128.Create(state[14]), x15 = Vector128.Create(state[15]);

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

            x0 += Vector128.Create(state[0]); x1 += Vector128.Create(state[1]);
            x2 += Vector128.Create(state[2]); x3 += Vector128.Create(state[3]);
            x4 += Vector128.Create(state[4]); x5 += Vector128.Create(state[5]);
            x6 += Vector128.Create(state[6]); x7 += Vector128.Create(state[7]);
            x8 += Vector128.Create(state[8]); x9 += Vector128.Create(state[9]);
            x10 += Vector128.Create(state[10]); x11 += Vector128.Create(state[11]);
            x12 += counters; x13 += Vector128.Create(state[13]);
            x14 += Vector128.Create(state[14]); x15 += Vector128.Create(state[15]);

            ref byte s = ref Unsafe.Add(ref src, offset);
            ref byte d = ref Unsafe.Add(ref dst, offset);
            XorWords128(x0, x1, x2, x3, ref s, ref d, 0);
            XorWords128(x4, x5, x6, x7, ref s, ref d, 16);
            XorWords128(x8, x9, x10, x11, ref s, ref d, 32);
            XorWords128(x12, x13, x14, x15, ref s, ref d, 48);
        }
    }

    /// <summary>
    /// Takes words 4g..4g+3 of the four blocks (one vector per word), transposes them to one vector per block and XORs
    /// each into its block at byte <paramref name="offset"/> = 16g.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void XorWords128(Vector128<uint> a, Vector128<uint> b, Vector128<uint> c, Vector128<uint> d, ref byte source, ref byte destination, nuint offset)
    {
        Transpose(ref a, ref b, ref c, ref d);
        XorStore(a, ref source, ref destination, offset);
        XorStore(b, ref source, ref destination, offset + BlockSize);
        XorStore(c, ref source, ref destination, offset + 2 * BlockSize);
        XorStore(d, ref source, ref destination, offset + 3 * BlockSize);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void XorStore(Vector128<uint> keystream, ref byte source, ref byte destination, nuint offset) =>
        (Vector128.LoadUnsafe(ref source, offset) ^ keystream.AsByte()).StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuarterRound(ref Vector128<uint> a, ref Vector128<uint> b, ref Vector128<uint> c, ref Vector128<uint> d)
    {
        a += b; d = RotateLeft16(d ^ a);
        c += d; b = RotateLeft(b ^ c, 12);
        a += b; d = RotateLeft8(d ^ a);
        c += d; b = RotateLeft(b ^ c, 7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> RotateLeft(Vector128<uint> value, [ConstantExpected] int count) =>
        Vector128.ShiftLeft(value, count) | Vector128.ShiftRightLogical(value, 32 - count);

    // Rotating a little-endian word by 16 or 8 moves whole bytes: one byte shuffle instead of two shifts and an OR.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> RotateLeft16(Vector128<uint> value) =>
        Vector128.Shuffle(value.AsByte(), Vector128.Create((byte)2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13)).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> RotateLeft8(Vector128<uint> value) =>
        Vector128.Shuffle(value.AsByte(), Vector128.Create((byte)3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14)).AsUInt32();

    /// <summary>
    /// 4x4 transpose of 32-bit words: (a, b, c, d) rows in, columns out. Built from single-input shuffles and selects,
    /// which is what the cross-platform API offers: first pairs of 32-bit words trade places, then pairs of 64-bit halves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ref Vector128<uint> a, ref Vector128<uint> b, ref Vector128<uint> c, ref Vector128<uint> d)
    {
        Vector128<uint> even32 = Vector128.Create(~0u, 0, ~0u, 0);
        Vector128<uint> ab0 = Vector128.ConditionalSelect(even32, a, Swap32(b)); // a0 b0 a2 b2
        Vector128<uint> ab1 = Vector128.ConditionalSelect(even32, Swap32(a), b); // a1 b1 a3 b3
        Vector128<uint> cd0 = Vector128.ConditionalSelect(even32, c, Swap32(d)); // c0 d0 c2 d2
        Vector128<uint> cd1 = Vector128.ConditionalSelect(even32, Swap32(c), d); // c1 d1 c3 d3

        Vector128<uint> low64 = Vector128.Create(~0u, ~0u, 0, 0);
        a = Vector128.ConditionalSelect(low64, ab0, Swap64(cd0)); // a0 b0 c0 d0
        b = Vector128.ConditionalSelect(low64, ab1, Swap64(cd1)); // a1 b1 c1 d1
        c = Vector128.ConditionalSelect(low64, Swap64(ab0), cd0); // a2 b2 c2 d2
        d = Vector128.ConditionalSelect(low64, Swap64(ab1), cd1); // a3 b3 c3 d3
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Swap32(Vector128<uint> value) => Vector128.Shuffle(value, Vector128.Create(1u, 0, 3, 2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Swap64(Vector128<uint> value) =>
        Vector128.Shuffle(value.AsUInt64(), Vector128.Create(1ul, 0)).AsUInt32();
}
