// ChaCha20, 8 blocks per batch in Vector256<uint> (AVX2). Lane i of x<k> is word k of block counter+i; see ChaCha20.cs.
// Byte shuffles and the word transposes stay within 128-bit lanes (VPSHUFB, VPSHUFD); the two 128-bit halves are
// only recombined when the keystream is XORed into the data.
//
// x64 has 16 vector registers, all taken by the 16 state vectors, so the JIT spilled around every rotate. Here the
// d row (x12-x15) lives in a stack buffer instead: each quarter round loads its d once and stores it once, and the
// other 12 vectors and the temporaries stay in registers (about 1.7x faster on this CI machine). The Vector128 path
// does not do this: it is the ARM64 path, and NEON's 32 registers hold the whole state.

using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace Branchgate.Crypto;

internal static partial class ChaCha20
{
    private const int BatchSize256 = 8 * BlockSize;

    private static void XorBatches256(in ChaChaState state, uint counter, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Debug.Assert(source.Length % BatchSize256 == 0 && destination.Length == source.Length);
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        RowInMemory256 rowD = default;

        for (nuint offset = 0; offset < (nuint)source.Length; offset += BatchSize256, counter += 8)
        {
            Vector256<uint> counters = Vector256.Create(counter) + Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
            Vector256<uint> x0 = Vector256.Create(state[0]), x1 = Vector256.Create(state[1]);
            Vector256<uint> x2 = Vector256.Create(state[2]), x3 = Vector256.Create(state[3]);
            Vector256<uint> x4 = Vector256.Create(state[4]), x5 = Vector256.Create(state[5]);
            Vector256<uint> x6 = Vector256.Create(state[6]), x7 = Vector256.Create(state[7]);
            Vector256<uint> x8 = Vector256.Create(state[8]), x9 = Vector256.Create(state[9]);
            Vector256<uint> x10 = Vector256.Create(state[10]), x11 = Vector256.Create(state[11]);
            rowD[0] = counters;
            rowD[1] = Vector256.Create(state[13]);
            rowD[2] = Vector256.Create(state[14]);
            rowD[3] = Vector256.Create(state[15]);

            for (int i = 0; i < 10; i++)
            {
                QuarterRound(ref x0, ref x4, ref x8, ref rowD[0]);
                QuarterRound(ref x1, ref x5, ref x9, ref rowD[1]);
                QuarterRound(ref x2, ref x6, ref x10, ref rowD[2]);
                QuarterRound(ref x3, ref x7, ref x11, ref rowD[3]);
                QuarterRound(ref x0, ref x5, ref x10, ref rowD[3]);
                QuarterRound(ref x1, ref x6, ref x11, ref rowD[0]);
                QuarterRound(ref x2, ref x7, ref x8, ref rowD[1]);
                QuarterRound(ref x3, ref x4, ref x9, ref rowD[2]);
            }

            x0 += Vector256.Create(state[0]); x1 += Vector256.Create(state[1]);
            x2 += Vector256.Create(state[2]); x3 += Vector256.Create(state[3]);
            x4 += Vector256.Create(state[4]); x5 += Vector256.Create(state[5]);
            x6 += Vector256.Create(state[6]); x7 += Vector256.Create(state[7]);
            x8 += Vector256.Create(state[8]); x9 += Vector256.Create(state[9]);
            x10 += Vector256.Create(state[10]); x11 += Vector256.Create(state[11]);
            Vector256<uint> x12 = rowD[0] + counters, x13 = rowD[1] + Vector256.Create(state[13]);
            Vector256<uint> x14 = rowD[2] + Vector256.Create(state[14]), x15 = rowD[3] + Vector256.Create(state[15]);

            ref byte s = ref Unsafe.Add(ref src, offset);
            ref byte d = ref Unsafe.Add(ref dst, offset);
            XorWords256(x0, x1, x2, x3, x4, x5, x6, x7, ref s, ref d, 0);
            XorWords256(x8, x9, x10, x11, x12, x13, x14, x15, ref s, ref d, 32);
        }

        Span<Vector256<uint>> spilled = rowD;
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(spilled));
    }

    /// <summary>Four state vectors the JIT cannot keep in registers, because their address is taken.</summary>
    [InlineArray(4)]
    private struct RowInMemory256
    {
        private Vector256<uint> _element0;
    }

    /// <summary>
    /// Takes 8 consecutive words (one vector per word, starting at byte <paramref name="offset"/> of each block) of the
    /// eight blocks and XORs them, 32 bytes per block, into the data.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void XorWords256(
        Vector256<uint> w0, Vector256<uint> w1, Vector256<uint> w2, Vector256<uint> w3,
        Vector256<uint> w4, Vector256<uint> w5, Vector256<uint> w6, Vector256<uint> w7,
        ref byte source, ref byte destination, nuint offset)
    {
        // After the in-lane transposes, w<j> holds words 0-3 (w0-w3) or 4-7 (w4-w7) of block j in its lower half and
        // of block j+4 in its upper half.
        Transpose(ref w0, ref w1, ref w2, ref w3);
        Transpose(ref w4, ref w5, ref w6, ref w7);
        XorStore(Vector256.Create(w0.GetLower(), w4.GetLower()), ref source, ref destination, offset);
        XorStore(Vector256.Create(w1.GetLower(), w5.GetLower()), ref source, ref destination, offset + BlockSize);
        XorStore(Vector256.Create(w2.GetLower(), w6.GetLower()), ref source, ref destination, offset + 2 * BlockSize);
        XorStore(Vector256.Create(w3.GetLower(), w7.GetLower()), ref source, ref destination, offset + 3 * BlockSize);
        XorStore(Vector256.Create(w0.GetUpper(), w4.GetUpper()), ref source, ref destination, offset + 4 * BlockSize);
        XorStore(Vector256.Create(w1.GetUpper(), w5.GetUpper()), ref source, ref destination, offset + 5 * BlockSize);
        XorStore(Vector256.Create(w2.GetUpper(), w6.GetUpper()), ref source, ref destination, offset + 6 * BlockSize);
        XorStore(Vector256.Create(w3.GetUpper(), w7.GetUpper()), ref source, ref destination, offset + 7 * BlockSize);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void XorStore(Vector256<uint> keystream, ref byte source, ref byte destination, nuint offset) =>
        (Vector256.LoadUnsafe(ref source, offset) ^ keystream.AsByte()).StoreUnsafe(ref destination, offset);

    /// <summary>The quarter round, with <paramref name="dInMemory"/> read once and written once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuarterRound(ref Vector256<uint> a, ref Vector256<uint> b, ref Vector256<uint> c, ref Vector256<uint> dInMemory)
    {
        Vector256<uint> d = dInMemory;
        a += b; d = RotateLeft16(d ^ a);
        c += d; b = RotateLeft(b ^ c, 12);
        a += b; d = RotateLeft8(d ^ a);
        c += d; b = RotateLeft(b ^ c, 7);
        dInMemory = d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> RotateLeft(Vector256<uint> value, [ConstantExpected] int count) =>
        Vector256.ShiftLeft(value, count) | Vector256.ShiftRightLogical(value, 32 - count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> RotateLeft16(Vector256<uint> value) =>
        Vector256.Shuffle(value.AsByte(), Vector256.Create(
            (byte)2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
            18, 19, 16, 17, 22, 23, 20, 21, 26, 27, 24, 25, 30, 31, 28, 29)).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> RotateLeft8(Vector256<uint> value) =>
        Vector256.Shuffle(value.AsByte(), Vector256.Create(
            (byte)3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
            19, 16, 17, 18, 23, 20, 21, 22, 27, 24, 25, 26, 31, 28, 29, 30)).AsUInt32();

    /// <summary>4x4 transpose of 32-bit words within each 128-bit lane; see the Vector128 overload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ref Vector256<uint> a, ref Vector256<uint> b, ref Vector256<uint> c, ref Vector256<uint> d)
    {
        Vector256<uint> even32 = Vector256.Create(~0u, 0, ~0u, 0, ~0u, 0, ~0u, 0);
        Vector256<uint> ab0 = Vector256.ConditionalSelect(even32, a, Swap32(b));
        Vector256<uint> ab1 = Vector256.ConditionalSelect(even32, Swap32(a), b);
        Vector256<uint> cd0 = Vector256.ConditionalSelect(even32, c, Swap32(d));
        Vector256<uint> cd1 = Vector256.ConditionalSelect(even32, Swap32(c), d);

        Vector256<uint> low64 = Vector256.Create(~0u, ~0u, 0, 0, ~0u, ~0u, 0, 0);
        a = Vector256.ConditionalSelect(low64, ab0, Swap64(cd0));
        b = Vector256.ConditionalSelect(low64, ab1, Swap64(cd1));
        c = Vector256.ConditionalSelect(low64, Swap64(ab0), cd0);
        d = Vector256.ConditionalSelect(low64, Swap64(ab1), cd1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Swap32(Vector256<uint> value) =>
        Vector256.Shuffle(value, Vector256.Create(1u, 0, 3, 2, 5, 4, 7, 6));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Swap64(Vector256<uint> value) =>
        Vector256.Shuffle(value.AsUInt64(), Vector256.Create(1ul, 0, 3, 2)).AsUInt32();
}
