// ChaCha20 for short runs (at most 4 blocks) with AVX2: "one block per 128-bit lane", the layout of the RFC's figures.
// Each Vector256<uint> holds one row of the state (words 0-3, 4-7, 8-11 or 12-15) of two blocks, counter and
// counter+1, in its two halves; a second set of four vectors holds counter+2 and counter+3. A column round is then one
// quarter round on the four row vectors; rotating rows b, c and d by one, two and three words (VPSHUFD, within each
// half) lines the diagonals up as columns for the diagonal round, and rotating them back restores the order.
//
// Why: the batch paths compute 8 blocks at once and keep 16 vectors live, more than x64's 16 registers hold without
// spilling; for a keepalive or a TCP ACK (one or two blocks with the Poly1305 key block) this path needs 8 vectors and
// a quarter of the work. It is latency-bound (each round waits for the previous one), which the two independent sets
// of vectors halve.

using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace Branchgate.Crypto;

internal static partial class ChaCha20
{
    /// <summary>Bytes the row path covers in one call: 4 blocks.</summary>
    public const int RowsSize256 = 4 * BlockSize;

    /// <summary>
    /// XORs the keystream of blocks <paramref name="counter"/> .. counter+3 into at most 256 bytes, straight from the
    /// registers; only a last partial 32-byte piece goes through a stack buffer.
    /// </summary>
    [SkipLocalsInit]
    private static void XorRows256(in ChaChaState state, uint counter, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Debug.Assert(source.Length <= RowsSize256 && destination.Length == source.Length);
        Rows256(state, counter, out Vector256<uint> a01, out Vector256<uint> b01, out Vector256<uint> c01, out Vector256<uint> d01,
            out Vector256<uint> a23, out Vector256<uint> b23, out Vector256<uint> c23, out Vector256<uint> d23);

        // Block j is the low (even j) or high (odd j) half of each row: 32 bytes of words 0-7, then 32 of words 8-15.
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        nuint length = (nuint)source.Length;
        if (XorRowsPiece(Vector256.Create(a01.GetLower(), b01.GetLower()), ref src, ref dst, 0, length)
            && XorRowsPiece(Vector256.Create(c01.GetLower(), d01.GetLower()), ref src, ref dst, 32, length)
            && XorRowsPiece(Vector256.Create(a01.GetUpper(), b01.GetUpper()), ref src, ref dst, 64, length)
            && XorRowsPiece(Vector256.Create(c01.GetUpper(), d01.GetUpper()), ref src, ref dst, 96, length)
            && XorRowsPiece(Vector256.Create(a23.GetLower(), b23.GetLower()), ref src, ref dst, 128, length)
            && XorRowsPiece(Vector256.Create(c23.GetLower(), d23.GetLower()), ref src, ref dst, 160, length)
            && XorRowsPiece(Vector256.Create(a23.GetUpper(), b23.GetUpper()), ref src, ref dst, 192, length))
        {
            XorRowsPiece(Vector256.Create(c23.GetUpper(), d23.GetUpper()), ref src, ref dst, 224, length);
        }
    }

    /// <summary>
    /// XORs 32 bytes of keystream at <paramref name="offset"/>, or as much of them as is left before
    /// <paramref name="length"/>; false when the data ends here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool XorRowsPiece(Vector256<uint> keystream, ref byte source, ref byte destination, nuint offset, nuint length)
    {
        if (offset + 32 <= length)
        {
            (Vector256.LoadUnsafe(ref source, offset) ^ keystream.AsByte()).StoreUnsafe(ref destination, offset);
            return offset + 32 < length;
        }
        if (offset < length)
        {
            XorPartialPiece(keystream, ref Unsafe.Add(ref source, offset), ref Unsafe.Add(ref destination, offset), (int)(length - offset));
        }
        return false;
    }

    [SkipLocalsInit]
    private static void XorPartialPiece(Vector256<uint> keystream, ref byte source, ref byte destination, int length)
    {
        Span<byte> piece = stackalloc byte[32];
        keystream.AsByte().StoreUnsafe(ref MemoryMarshal.GetReference(piece));
        XorBytes(MemoryMarshal.CreateReadOnlySpan(ref source, length), piece, MemoryMarshal.CreateSpan(ref destination, length));
        CryptographicOperations.ZeroMemory(piece);
    }

    /// <summary>Blocks counter .. counter+3, state added back in: rows of blocks 0 and 1, then of blocks 2 and 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows256(in ChaChaState state, uint counter,
        out Vector256<uint> a01, out Vector256<uint> b01, out Vector256<uint> c01, out Vector256<uint> d01,
        out Vector256<uint> a23, out Vector256<uint> b23, out Vector256<uint> c23, out Vector256<uint> d23)
    {
        Vector256<uint> a = Vector256.Create(Vector128.Create(state[0], state[1], state[2], state[3]));
        Vector256<uint> b = Vector256.Create(Vector128.Create(state[4], state[5], state[6], state[7]));
        Vector256<uint> c = Vector256.Create(Vector128.Create(state[8], state[9], state[10], state[11]));
        Vector256<uint> d = Vector256.Create(Vector128.Create(counter, state[13], state[14], state[15]));
        Vector256<uint> plus01 = Vector256.Create(0u, 0, 0, 0, 1, 0, 0, 0);
        Vector256<uint> plus23 = Vector256.Create(2u, 0, 0, 0, 3, 0, 0, 0);
        Vector256<uint> d01In = d + plus01, d23In = d + plus23;

        (a01, b01, c01, d01) = (a, b, c, d01In);
        (a23, b23, c23, d23) = (a, b, c, d23In);
        for (int i = 0; i < 10; i++)
        {
            RowRound(ref a01, ref b01, ref c01, ref d01, ref a23, ref b23, ref c23, ref d23);
            // Diagonals to columns: row b one word left, c two, d three.
            b01 = RotateWords(b01, 1); c01 = RotateWords(c01, 2); d01 = RotateWords(d01, 3);
            b23 = RotateWords(b23, 1); c23 = RotateWords(c23, 2); d23 = RotateWords(d23, 3);
            RowRound(ref a01, ref b01, ref c01, ref d01, ref a23, ref b23, ref c23, ref d23);
            b01 = RotateWords(b01, 3); c01 = RotateWords(c01, 2); d01 = RotateWords(d01, 1);
            b23 = RotateWords(b23, 3); c23 = RotateWords(c23, 2); d23 = RotateWords(d23, 1);
        }
        a01 += a; b01 += b; c01 += c; d01 += d01In;
        a23 += a; b23 += b; c23 += c; d23 += d23In;
    }

    /// <summary>The quarter round on all four columns of both sets, the two sets interleaved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowRound(
        ref Vector256<uint> a0, ref Vector256<uint> b0, ref Vector256<uint> c0, ref Vector256<uint> d0,
        ref Vector256<uint> a1, ref Vector256<uint> b1, ref Vector256<uint> c1, ref Vector256<uint> d1)
    {
        a0 += b0; a1 += b1; d0 = RotateLeft16(d0 ^ a0); d1 = RotateLeft16(d1 ^ a1);
        c0 += d0; c1 += d1; b0 = RotateLeft(b0 ^ c0, 12); b1 = RotateLeft(b1 ^ c1, 12);
        a0 += b0; a1 += b1; d0 = RotateLeft8(d0 ^ a0); d1 = RotateLeft8(d1 ^ a1);
        c0 += d0; c1 += d1; b0 = RotateLeft(b0 ^ c0, 7); b1 = RotateLeft(b1 ^ c1, 7);
    }

    /// <summary>Rotates the four words of each 128-bit half left by <paramref name="words"/> (VPSHUFD).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> RotateWords(Vector256<uint> row, [System.Diagnostics.CodeAnalysis.ConstantExpected] int words) => words switch
    {
        1 => Vector256.Shuffle(row, Vector256.Create(1u, 2, 3, 0, 5, 6, 7, 4)),
        2 => Vector256.Shuffle(row, Vector256.Create(2u, 3, 0, 1, 6, 7, 4, 5)),
        _ => Vector256.Shuffle(row, Vector256.Create(3u, 0, 1, 2, 7, 4, 5, 6)),
    };
}
