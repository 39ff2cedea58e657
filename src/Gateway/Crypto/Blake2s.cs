// BLAKE2s (RFC 7693) as WireGuard uses it: HASH, MAC (keyed BLAKE2s, mac1/mac2) and HMAC (the Noise KDF).
//
// Everything lives on the stack: Blake2s is a plain struct with inline buffers, so a local variable holds the whole
// state and nothing is allocated per call. Key material that passes through the state (the padded key block, HMAC
// pads, inner digests) is wiped with CryptographicOperations.ZeroMemory before returning. Copying a Blake2s copies
// its secrets as well; pass it by ref.

using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Branchgate.Crypto;

/// <summary>Incremental BLAKE2s state (RFC 7693), optionally keyed, with 1..32 bytes of output.</summary>
public struct Blake2s
{
    public const int HashSize = 32;
    public const int BlockSize = 64;
    public const int MaxKeySize = 32;

    private const uint IV0 = 0x6A09E667;
    private const uint IV1 = 0xBB67AE85;
    private const uint IV2 = 0x3C6EF372;
    private const uint IV3 = 0xA54FF53A;
    private const uint IV4 = 0x510E527F;
    private const uint IV5 = 0x9B05688C;
    private const uint IV6 = 0x1F83D9AB;
    private const uint IV7 = 0x5BE0CD19;

    // RFC 2104 pads for HMAC over a 64-byte block.
    private const byte InnerPad = 0x36;
    private const byte OuterPad = 0x5C;

    private HashWords _h;
    private Block _buffer;
    private ulong _bytesCompressed;
    private int _bufferLength;
    private int _outputLength; // 0 once finished (or for default(Blake2s)): the state is unusable.

    /// <summary>Starts an unkeyed hash producing <paramref name="outputLength"/> (1..32) bytes.</summary>
    public Blake2s(int outputLength)
        : this(outputLength, ReadOnlySpan<byte>.Empty)
    {
    }

    /// <summary>Starts a keyed hash (BLAKE2s MAC); an empty key is the same as unkeyed.</summary>
    public Blake2s(int outputLength, ReadOnlySpan<byte> key)
    {
        if ((uint)(outputLength - 1) >= HashSize)
            ThrowArgument(nameof(outputLength), "BLAKE2s output length must be between 1 and 32 bytes.");
        if (key.Length > MaxKeySize)
            ThrowArgument(nameof(key), "BLAKE2s key must be at most 32 bytes.");

        // Parameter block word 0: digest length, key length, fanout = 1, depth = 1; all other parameters are zero.
        _h[0] = IV0 ^ 0x01010000u ^ ((uint)key.Length << 8) ^ (uint)outputLength;
        _h[1] = IV1;
        _h[2] = IV2;
        _h[3] = IV3;
        _h[4] = IV4;
        _h[5] = IV5;
        _h[6] = IV6;
        _h[7] = IV7;
        _outputLength = outputLength;

        if (!key.IsEmpty)
        {
            // The key, zero padded, is the first block; it stays buffered so that an empty message still works.
            key.CopyTo(_buffer);
            _bufferLength = BlockSize;
        }
    }

    /// <summary>Absorbs <paramref name="data"/>; may be called any number of times before <see cref="Finish"/>.</summary>
    public void Update(ReadOnlySpan<byte> data)
    {
        if (_outputLength == 0)
            ThrowNotInitialized();
        if (data.IsEmpty)
            return;

        // The last block must be compressed with the final flag, so a full block is only compressed once more
        // data follows it.
        if (data.Length > BlockSize - _bufferLength)
        {
            if (_bufferLength > 0)
            {
                int fill = BlockSize - _bufferLength;
                data[..fill].CopyTo(((Span<byte>)_buffer)[_bufferLength..]);
                data = data[fill..];
                _bytesCompressed += BlockSize;
                Compress(_buffer, finalFlag: 0);
                _bufferLength = 0;
            }

            while (data.Length > BlockSize)
            {
                _bytesCompressed += BlockSize;
                Compress(data[..BlockSize], finalFlag: 0);
                data = data[BlockSize..];
            }
        }

        data.CopyTo(((Span<byte>)_buffer)[_bufferLength..]);
        _bufferLength += data.Length;
    }

    /// <summary>
    /// Writes the digest to <paramref name="output"/>, whose length must equal the output length given at
    /// construction, then zeroes the whole state. The state cannot be used again afterwards.
    /// </summary>
    public void Finish(Span<byte> output)
    {
        if (_outputLength == 0)
            ThrowNotInitialized();
        if (output.Length != _outputLength)
            ThrowArgument(nameof(output), "Output length must equal the BLAKE2s output length.");

        _bytesCompressed += (uint)_bufferLength;
        ((Span<byte>)_buffer)[_bufferLength..].Clear();
        Compress(_buffer, finalFlag: uint.MaxValue);

        if (output.Length == HashSize)
        {
            WriteDigest(output);
        }
        else
        {
            Span<byte> digest = stackalloc byte[HashSize];
            WriteDigest(digest);
            digest[..output.Length].CopyTo(output);
            CryptographicOperations.ZeroMemory(digest);
        }

        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref this, 1)));
    }

    /// <summary>Unkeyed BLAKE2s of <paramref name="data"/>, <c>output.Length</c> (1..32) bytes long.</summary>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> output)
    {
        var state = new Blake2s(output.Length);
        state.Update(data);
        state.Finish(output);
    }

    /// <summary>HASH(first || second), the Noise mixing step, without building the concatenation.</summary>
    public static void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> output)
    {
        var state = new Blake2s(output.Length);
        state.Update(first);
        state.Update(second);
        state.Finish(output);
    }

    /// <summary>Keyed BLAKE2s (WireGuard's MAC): key 0..32 bytes, <c>output.Length</c> 1..32 bytes.</summary>
    public static void KeyedHash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> output)
    {
        var state = new Blake2s(output.Length, key);
        state.Update(data);
        state.Finish(output);
    }

    /// <summary>
    /// HMAC-BLAKE2s-256 (RFC 2104 with a 64-byte block); <paramref name="output"/> must be exactly 32 bytes.
    /// The output may overlap the key or the data: it is written only after both have been read.
    /// </summary>
    public static void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> output)
    {
        if (output.Length != HashSize)
            ThrowArgument(nameof(output), "HMAC-BLAKE2s output must be exactly 32 bytes.");

        Span<byte> pad = stackalloc byte[BlockSize];
        Span<byte> innerDigest = stackalloc byte[HashSize];
        if (key.Length > BlockSize)
        {
            Hash(key, pad[..HashSize]);
            pad[HashSize..].Clear();
        }
        else
        {
            key.CopyTo(pad);
            pad[key.Length..].Clear();
        }

        XorPad(pad, InnerPad);
        var state = new Blake2s(HashSize);
        state.Update(pad);
        state.Update(data);
        state.Finish(innerDigest);

        XorPad(pad, InnerPad ^ OuterPad);
        state = new Blake2s(HashSize);
        state.Update(pad);
        state.Update(innerDigest);
        state.Finish(output);

        CryptographicOperations.ZeroMemory(pad);
        CryptographicOperations.ZeroMemory(innerDigest);
    }

    private static void XorPad(Span<byte> pad, byte value)
    {
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(pad);
        ulong mask = value * 0x0101010101010101UL;
        for (int i = 0; i < words.Length; i++)
            words[i] ^= mask;
    }

    private void WriteDigest(Span<byte> output)
    {
        Debug.Assert(output.Length == HashSize);
        ReadOnlySpan<uint> h = _h;
        for (int i = 0; i < h.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(output[(i * sizeof(uint))..], h[i]);
    }

    // The compression function F (RFC 7693 section 3.2), fully unrolled over the ten rounds of the sigma schedule.
    private void Compress(ReadOnlySpan<byte> block, uint finalFlag)
    {
        Debug.Assert(block.Length >= BlockSize);
        ref byte b = ref MemoryMarshal.GetReference(block);
        uint m0 = LoadWord(ref b, 0);
        uint m1 = LoadWord(ref b, 4);
        uint m2 = LoadWord(ref b, 8);
        uint m3 = LoadWord(ref b, 12);
        uint m4 = LoadWord(ref b, 16);
        uint m5 = LoadWord(ref b, 20);
        uint m6 = LoadWord(ref b, 24);
        uint m7 = LoadWord(ref b, 28);
        uint m8 = LoadWord(ref b, 32);
        uint m9 = LoadWord(ref b, 36);
        uint m10 = LoadWord(ref b, 40);
        uint m11 = LoadWord(ref b, 44);
        uint m12 = LoadWord(ref b, 48);
        uint m13 = LoadWord(ref b, 52);
        uint m14 = LoadWord(ref b, 56);
        uint m15 = LoadWord(ref b, 60);

        Span<uint> h = _h;
        uint v0 = h[0];
        uint v1 = h[1];
        uint v2 = h[2];
        uint v3 = h[3];
        uint v4 = h[4];
        uint v5 = h[5];
        uint v6 = h[6];
        uint v7 = h[7];
        uint v8 = IV0;
        uint v9 = IV1;
        uint v10 = IV2;
        uint v11 = IV3;
        uint v12 = IV4 ^ (uint)_bytesCompressed;
        uint v13 = IV5 ^ (uint)(_bytesCompressed >> 32);
        uint v14 = IV6 ^ finalFlag;
        uint v15 = IV7;

        // Round 0: sigma[0]
        G(ref v0, ref v4, ref v8, ref v12, m0, m1);
        G(ref v1, ref v5, ref v9, ref v13, m2, m3);
        G(ref v2, ref v6, ref v10, ref v14, m4, m5);
        G(ref v3, ref v7, ref v11, ref v15, m6, m7);
        G(ref v0, ref v5, ref v10, ref v15, m8, m9);
        G(ref v1, ref v6, ref v11, ref v12, m10, m11);
        G(ref v2, ref v7, ref v8, ref v13, m12, m13);
        G(ref v3, ref v4, ref v9, ref v14, m14, m15);

        // Round 1: sigma[1]
        G(ref v0, ref v4, ref v8, ref v12, m14, m10);
        G(ref v1, ref v5, ref v9, ref v13, m4, m8);
        G(ref v2, ref v6, ref v10, ref v14, m9, m15);
        G(ref v3, ref v7, ref v11, ref v15, m13, m6);
        G(ref v0, ref v5, ref v10, ref v15, m1, m12);
        G(ref v1, ref v6, ref v11, ref v12, m0, m2);
        G(ref v2, ref v7, ref v8, ref v13, m11, m7);
        G(ref v3, ref v4, ref v9, ref v14, m5, m3);

        // Round 2: sigma[2]
        G(ref v0, ref v4, ref v8, ref v12, m11, m8);
        G(ref v1, ref v5, ref v9, ref v13, m12, m0);
        G(ref v2, ref v6, ref v10, ref v14, m5, m2);
        G(ref v3, ref v7, ref v11, ref v15, m15, m13);
        G(ref v0, ref v5, ref v10, ref v15, m10, m14);
        G(ref v1, ref v6, ref v11, ref v12, m3, m6);
        G(ref v2, ref v7, ref v8, ref v13, m7, m1);
        G(ref v3, ref v4, ref v9, ref v14, m9, m4);

        // Round 3: sigma[3]
        G(ref v0, ref v4, ref v8, ref v12, m7, m9);
        G(ref v1, ref v5, ref v9, ref v13, m3, m1);
        G(ref v2, ref v6, ref v10, ref v14, m13, m12);
        G(ref v3, ref v7, ref v11, ref v15, m11, m14);
        G(ref v0, ref v5, ref v10, ref v15, m2, m6);
        G(ref v1, ref v6, ref v11, ref v12, m5, m10);
        G(ref v2, ref v7, ref v8, ref v13, m4, m0);
        G(ref v3, ref v4, ref v9, ref v14, m15, m8);

        // Round 4: sigma[4]
        G(ref v0, ref v4, ref v8, ref v12, m9, m0);
        G(ref v1, ref v5, ref v9, ref v13, m5, m7);
        G(ref v2, ref v6, ref v10, ref v14, m2, m4);
        G(ref v3, ref v7, ref v11, ref v15, m10, m15);
        G(ref v0, ref v5, ref v10, ref v15, m14, m1);
        G(ref v1, ref v6, ref v11, ref v12, m11, m12);
        G(ref v2, ref v7, ref v8, ref v13, m6, m8);
        G(ref v3, ref v4, ref v9, ref v14, m3, m13);

        // Round 5: sigma[5]
        G(ref v0, ref v4, ref v8, ref v12, m2, m12);
        G(ref v1, ref v5, ref v9, ref v13, m6, m10);
        G(ref v2, ref v6, ref v10, ref v14, m0, m11);
        G(ref v3, ref v7, ref v11, ref v15, m8, m3);
        G(ref v0, ref v5, ref v10, ref v15, m4, m13);
        G(ref v1, ref v6, ref v11, ref v12, m7, m5);
        G(ref v2, ref v7, ref v8, ref v13, m15, m14);
        G(ref v3, ref v4, ref v9, ref v14, m1, m9);

        // Round 6: sigma[6]
        G(ref v0, ref v4, ref v8, ref v12, m12, m5);
        G(ref v1, ref v5, ref v9, ref v13, m1, m15);
        G(ref v2, ref v6, ref v10, ref v14, m14, m13);
        G(ref v3, ref v7, ref v11, ref v15, m4, m10);
        G(ref v0, ref v5, ref v10, ref v15, m0, m7);
        G(ref v1, ref v6, ref v11, ref v12, m6, m3);
        G(ref v2, ref v7, ref v8, ref v13, m9, m2);
        G(ref v3, ref v4, ref v9, ref v14, m8, m11);

        // Round 7: sigma[7]
        G(ref v0, ref v4, ref v8, ref v12, m13, m11);
        G(ref v1, ref v5, ref v9, ref v13, m7, m14);
        G(ref v2, ref v6, ref v10, ref v14, m12, m1);
        G(ref v3, ref v7, ref v11, ref v15, m3, m9);
        G(ref v0, ref v5, ref v10, ref v15, m5, m0);
        G(ref v1, ref v6, ref v11, ref v12, m15, m4);
        G(ref v2, ref v7, ref v8, ref v13, m8, m6);
        G(ref v3, ref v4, ref v9, ref v14, m2, m10);

        // Round 8: sigma[8]
        G(ref v0, ref v4, ref v8, ref v12, m6, m15);
        G(ref v1, ref v5, ref v9, ref v13, m14, m9);
        G(ref v2, ref v6, ref v10, ref v14, m11, m3);
        G(ref v3, ref v7, ref v11, ref v15, m0, m8);
        G(ref v0, ref v5, ref v10, ref v15, m12, m2);
        G(ref v1, ref v6, ref v11, ref v12, m13, m7);
        G(ref v2, ref v7, ref v8, ref v13, m1, m4);
        G(ref v3, ref v4, ref v9, ref v14, m10, m5);

        // Round 9: sigma[9]
        G(ref v0, ref v4, ref v8, ref v12, m10, m2);
        G(ref v1, ref v5, ref v9, ref v13, m8, m4);
        G(ref v2, ref v6, ref v10, ref v14, m7, m6);
        G(ref v3, ref v7, ref v11, ref v15, m1, m5);
        G(ref v0, ref v5, ref v10, ref v15, m15, m11);
        G(ref v1, ref v6, ref v11, ref v12, m9, m14);
        G(ref v2, ref v7, ref v8, ref v13, m3, m12);
        G(ref v3, ref v4, ref v9, ref v14, m13, m0);

        h[0] ^= v0 ^ v8;
        h[1] ^= v1 ^ v9;
        h[2] ^= v2 ^ v10;
        h[3] ^= v3 ^ v11;
        h[4] ^= v4 ^ v12;
        h[5] ^= v5 ^ v13;
        h[6] ^= v6 ^ v14;
        h[7] ^= v7 ^ v15;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void G(ref uint a, ref uint b, ref uint c, ref uint d, uint x, uint y)
    {
        a += b + x;
        d = BitOperations.RotateRight(d ^ a, 16);
        c += d;
        b = BitOperations.RotateRight(b ^ c, 12);
        a += b + y;
        d = BitOperations.RotateRight(d ^ a, 8);
        c += d;
        b = BitOperations.RotateRight(b ^ c, 7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint LoadWord(ref byte block, int offset)
    {
        uint word = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, offset));
        return BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word);
    }

    [DoesNotReturn]
    private static void ThrowArgument(string paramName, string message) => throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    private static void ThrowNotInitialized() =>
        throw new InvalidOperationException("The BLAKE2s state was not initialized with a constructor or is already finished.");

    [InlineArray(8)]
    private struct HashWords
    {
        private uint _element0;
    }

    [InlineArray(BlockSize)]
    private struct Block
    {
        private byte _element0;
    }
}
