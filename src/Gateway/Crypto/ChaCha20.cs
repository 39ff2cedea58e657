// ChaCha20 (RFC 8439 section 2.3/2.4): keystream generation for the data path.
//
// State: 16 little-endian 32-bit words, as in the RFC
//      0  1  2  3      constants "expand 32-byte k"
//      4  5  6  7      key
//      8  9 10 11      key
//     12 13 14 15      block counter, nonce
// A double round is four column quarter rounds, QR(0,4,8,12) QR(1,5,9,13) QR(2,6,10,14) QR(3,7,11,15), then four
// diagonal ones, QR(0,5,10,15) QR(1,6,11,12) QR(2,7,8,13) QR(3,4,9,14); ten double rounds, then the input is added.
//
// Vector layout ("one block per lane"): a batch of N blocks (N = 4, 8 or 16 for Vector128, Vector256, Vector512) keeps
// 16 vectors x0..x15, where lane i of x<k> is word k of block counter+i. Every lane runs the same quarter rounds on its
// own block, so the quarter-round mapping is the scalar one word for word (QR(x0,x4,x8,x12) and so on), no shuffles
// between rounds, and the rotates by 16 and 8 are byte shuffles (TBL on NEON, PSHUFB on x64). At the end the words are
// transposed back into block order (4x4 transposes within each 128-bit lane, then across lanes) and XORed into the data
// with full-width loads and stores. Vector128 is the ARM64 (NEON) path and uses cross-platform Vector128 APIs only.
//
// Lengths that are not a whole number of batches fall through to narrower widths; the last partial batch is generated
// into a stack buffer, XORed and zeroed. With 256-bit vectors, the last 4 blocks or fewer (and the first batch of a
// short AEAD message) take the row path of ChaCha20.Rows256.cs instead of a whole 8-block batch.

using System.Buffers.Binary;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace Branchgate.Crypto;

/// <summary>How many blocks a ChaCha20 batch computes in parallel; the value is the block count.</summary>
internal enum ChaChaWidth
{
    Scalar = 1,
    Vector128 = 4,
    Vector256 = 8,
    Vector512 = 16,
}

/// <summary>The key and nonce words of a ChaCha20 state. Word 12 (the block counter) is passed separately.</summary>
[InlineArray(16)]
internal struct ChaChaState
{
    private uint _word0;
}

internal static partial class ChaCha20
{
    public const int KeySize = 32;
    public const int NonceSize = 12;
    public const int BlockSize = 64;

    /// <summary>Bytes in the largest batch (16 blocks), the size of a buffer that can hold any batch.</summary>
    public const int MaxBatchSize = (int)ChaChaWidth.Vector512 * BlockSize;

    /// <summary>Zeros to XOR a batch of keystream out of, instead of clearing the buffer it goes into first.</summary>
    private static readonly byte[] s_zeros = new byte[MaxBatchSize];

    // Read once: the JIT turns static readonly fields of an initialized class into constants.
    private static readonly bool s_vector512 = Vector512.IsHardwareAccelerated;
    private static readonly bool s_vector256 = Vector256.IsHardwareAccelerated;
    private static readonly bool s_vector128 = Vector128.IsHardwareAccelerated;

    /// <summary>The widest path this machine accelerates.</summary>
    public static ChaChaWidth PreferredWidth =>
        s_vector512 ? ChaChaWidth.Vector512
        : s_vector256 ? ChaChaWidth.Vector256
        : s_vector128 ? ChaChaWidth.Vector128
        : ChaChaWidth.Scalar;

    public static void Initialize(ref ChaChaState state, ReadOnlySpan<byte> key, uint nonce0, uint nonce1, uint nonce2)
    {
        Debug.Assert(key.Length == KeySize);
        state[0] = 0x61707865;
        state[1] = 0x3320646e;
        state[2] = 0x79622d32;
        state[3] = 0x6b206574;
        for (int i = 0; i < 8; i++)
        {
            state[4 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(4 * i)..]);
        }
        state[12] = 0;
        state[13] = nonce0;
        state[14] = nonce1;
        state[15] = nonce2;
    }

    public static void Initialize(ref ChaChaState state, ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce)
    {
        Debug.Assert(nonce.Length == NonceSize);
        Initialize(
            ref state,
            key,
            BinaryPrimitives.ReadUInt32LittleEndian(nonce),
            BinaryPrimitives.ReadUInt32LittleEndian(nonce[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(nonce[8..]));
    }

    /// <summary>RFC 8439 ChaCha20 encryption: XORs the keystream starting at block <paramref name="counter"/>.</summary>
    public static void Xor(ChaChaWidth width, ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, uint counter, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ChaChaState state = default;
        Initialize(ref state, key, nonce);
        Xor(width, state, counter, source, destination);
        ZeroMemory(ref state);
    }

    /// <summary>
    /// XORs the keystream from block <paramref name="counter"/> on into <paramref name="source"/>, writing
    /// <paramref name="destination"/> (the same length; the very same memory is fine).
    /// </summary>
    public static void Xor(ChaChaWidth width, in ChaChaState state, uint counter, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Debug.Assert(source.Length == destination.Length);
        while (!source.IsEmpty)
        {
            int batchSize = (int)width * BlockSize;
            int whole = source.Length - source.Length % batchSize;
            if (whole > 0)
            {
                XorBatches(width, state, counter, source[..whole], destination[..whole]);
                counter += (uint)(whole / BlockSize);
                source = source[whole..];
                destination = destination[whole..];
            }
            else if (width >= ChaChaWidth.Vector256 && source.Length <= RowsSize256)
            {
                XorRows256(state, counter, source, destination);
                return;
            }
            else if (width <= ChaChaWidth.Vector128 || source.Length > batchSize / 2)
            {
                // One more batch beats falling back to narrower or scalar code for the rest.
                XorPartialBatch(width, state, counter, source, destination);
                return;
            }
            else
            {
                width = (ChaChaWidth)((int)width / 2);
            }
        }
    }

    /// <summary>
    /// Generates the first batch of keystream (block 0 on) into <paramref name="keystream"/>, for an AEAD message of
    /// <paramref name="messageLength"/> bytes: as narrow as covers the Poly1305 key block and the message, at most
    /// <paramref name="width"/>. Returns the number of keystream bytes written.
    /// </summary>
    public static int FirstBatch(ChaChaWidth width, in ChaChaState state, int messageLength, Span<byte> keystream)
    {
        if (width >= ChaChaWidth.Vector256 && BlockSize + messageLength <= RowsSize256)
        {
            XorRows256(state, 0, s_zeros.AsSpan(0, RowsSize256), keystream[..RowsSize256]);
            return RowsSize256;
        }
        ChaChaWidth first = width;
        while (first > ChaChaWidth.Vector128 && ((int)first / 2) * BlockSize >= BlockSize + messageLength)
        {
            first = (ChaChaWidth)((int)first / 2);
        }
        int size = (int)first * BlockSize;
        XorBatches(first, state, 0, s_zeros.AsSpan(0, size), keystream[..size]);
        return size;
    }

    /// <summary>destination = source ^ keystream, for source.Length bytes.</summary>
    public static void XorBytes(ReadOnlySpan<byte> source, ReadOnlySpan<byte> keystream, Span<byte> destination)
    {
        Debug.Assert(keystream.Length >= source.Length && destination.Length == source.Length);
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte key = ref MemoryMarshal.GetReference(keystream);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        nuint length = (nuint)source.Length;
        nuint i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 32 <= length; i += 32)
            {
                (Vector256.LoadUnsafe(ref src, i) ^ Vector256.LoadUnsafe(ref key, i)).StoreUnsafe(ref dst, i);
            }
        }
        for (; i + 16 <= length; i += 16)
        {
            (Vector128.LoadUnsafe(ref src, i) ^ Vector128.LoadUnsafe(ref key, i)).StoreUnsafe(ref dst, i);
        }
        for (; i < length; i++)
        {
            Unsafe.Add(ref dst, i) = (byte)(Unsafe.Add(ref src, i) ^ Unsafe.Add(ref key, i));
        }
    }

    public static void ZeroMemory(ref ChaChaState state)
    {
        Span<uint> words = state;
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(words));
    }

    /// <summary>XORs whole batches of <paramref name="width"/> blocks; the length is a multiple of the batch size.</summary>
    private static void XorBatches(ChaChaWidth width, in ChaChaState state, uint counter, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        switch (width)
        {
            case ChaChaWidth.Vector512:
                XorBatches512(state, counter, source, destination);
                break;
            case ChaChaWidth.Vector256:
                XorBatches256(state, counter, source, destination);
                break;
            case ChaChaWidth.Vector128:
                XorBatches128(state, counter, source, destination);
                break;
            default:
                XorBlocksScalar(state, counter, source, destination);
                break;
        }
    }

    [SkipLocalsInit]
    private static void XorPartialBatch(ChaChaWidth width, in ChaChaState state, uint counter, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int size = (int)width * BlockSize;
        Span<byte> keystream = stackalloc byte[size];
        XorBatches(width, state, counter, s_zeros.AsSpan(0, size), keystream);
        XorBytes(source, keystream, destination);
        CryptographicOperations.ZeroMemory(keystream);
    }

    private static void XorBlocksScalar(in ChaChaState state, uint counter, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Debug.Assert(source.Length % BlockSize == 0);
        Span<byte> keystream = stackalloc byte[BlockSize];
        for (int offset = 0; offset < source.Length; offset += BlockSize, counter++)
        {
            Block(state, counter, keystream);
            XorBytes(source.Slice(offset, BlockSize), keystream, destination.Slice(offset, BlockSize));
        }
        CryptographicOperations.ZeroMemory(keystream);
    }

    /// <summary>The ChaCha20 block function (RFC 8439 section 2.3): 64 bytes of keystream for block <paramref name="counter"/>.</summary>
    public static void Block(in ChaChaState state, uint counter, Span<byte> output)
    {
        Debug.Assert(output.Length >= BlockSize);
        uint x0 = state[0], x1 = state[1], x2 = state[2], x3 = state[3];
        uint x4 = state[4], x5 = state[5], x6 = state[6], x7 = state[7];
        uint x8 = state[8], x9 = state[9], x10 = state[10], x11 = state[11];
        uint x12 = counter, x13 = state[13], x14 = state[14], x15 = state[15];

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

        BinaryPrimitives.WriteUInt32LittleEndian(output, x0 + state[0]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[4..], x1 + state[1]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[8..], x2 + state[2]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[12..], x3 + state[3]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[16..], x4 + state[4]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[20..], x5 + state[5]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[24..], x6 + state[6]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[28..], x7 + state[7]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[32..], x8 + state[8]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[36..], x9 + state[9]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[40..], x10 + state[10]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[44..], x11 + state[11]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[48..], x12 + counter);
        BinaryPrimitives.WriteUInt32LittleEndian(output[52..], x13 + state[13]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[56..], x14 + state[14]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[60..], x15 + state[15]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuarterRound(ref uint a, ref uint b, ref uint c, ref uint d)
    {
        a += b; d = BitOperations.RotateLeft(d ^ a, 16);
        c += d; b = BitOperations.RotateLeft(b ^ c, 12);
        a += b; d = BitOperations.RotateLeft(d ^ a, 8);
        c += d; b = BitOperations.RotateLeft(b ^ c, 7);
    }
}
