// Poly1305 (RFC 8439 section 2.5): the MAC state, the dispatch between paths, and the scalar path (radix 2^64).
//
// Paths: Scalar absorbs one block at a time; Vector128 (NEON on ARM64) and Vector256 (AVX2) absorb 2 or 4 blocks per
// step in radix 2^26 with precomputed powers of r (Poly1305.Radix26.cs, Poly1305.Vector*.cs). The vector paths take
// over only from VectorMinimumBlocks blocks on: below that, computing the powers costs more than it saves. Every path
// leaves the same partially reduced h behind, so they can take turns on one message (associated data, ciphertext).
//
// Scalar: the accumulator h = h0 + h1*2^64 + h2*2^128 is kept partially reduced: below 6*2^128, so h2 stays under 8.
// The clamped r = r0 + r1*2^64 has r0, r1 < 2^60, so every partial product of h*r fits in 128 bits without overflow.
// Reduction modulo p = 2^130 - 5 folds the bits above 2^130 back in times 5 (2^130 = 5 mod p), as 4x + x.
// The last step subtracts p at most once, selected with a mask rather than a branch. Carries are computed with
// masks too, so the running time depends only on the message length.

using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;

namespace Branchgate.Crypto;

/// <summary>How many blocks a Poly1305 step absorbs in parallel; the value is the block count.</summary>
internal enum Poly1305Width
{
    Scalar = 1,
    Vector128 = 2,
    Vector256 = 4,
}

internal partial struct Poly1305
{
    public const int KeySize = 32;
    public const int TagSize = 16;
    public const int BlockSize = 16;

    // Read once: the JIT (and NativeAOT, for its target instruction set) turns these into constants. The vector paths
    // load blocks as little-endian words.
    private static readonly bool s_vector256 = Vector256.IsHardwareAccelerated && BitConverter.IsLittleEndian;
    private static readonly bool s_vector128 = Vector128.IsHardwareAccelerated && BitConverter.IsLittleEndian;

    /// <summary>The widest path this machine accelerates.</summary>
    public static Poly1305Width PreferredWidth =>
        s_vector256 ? Poly1305Width.Vector256
        : s_vector128 ? Poly1305Width.Vector128
        : Poly1305Width.Scalar;

    /// <summary>The Poly1305 path that goes with a ChaCha20 width: the same vector registers, at most 256 bits wide.</summary>
    public static Poly1305Width WidthFor(ChaChaWidth width) => width switch
    {
        ChaChaWidth.Scalar => Poly1305Width.Scalar,
        ChaChaWidth.Vector128 => Poly1305Width.Vector128,
        _ => Poly1305Width.Vector256,
    };

    private readonly ulong _r0, _r1, _s0, _s1;
    private ulong _h0, _h1, _h2;

    public Poly1305(ReadOnlySpan<byte> key)
    {
        Debug.Assert(key.Length >= KeySize);
        _r0 = BinaryPrimitives.ReadUInt64LittleEndian(key) & 0x0FFFFFFC0FFFFFFF;
        _r1 = BinaryPrimitives.ReadUInt64LittleEndian(key[8..]) & 0x0FFFFFFC0FFFFFFC;
        _s0 = BinaryPrimitives.ReadUInt64LittleEndian(key[16..]);
        _s1 = BinaryPrimitives.ReadUInt64LittleEndian(key[24..]);
    }

    /// <summary>The standalone MAC of RFC 8439 section 2.5, on the preferred path.</summary>
    public static void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, Span<byte> tag) =>
        Compute(PreferredWidth, key, message, tag);

    /// <summary>
    /// The standalone MAC of RFC 8439 section 2.5: a short last block is padded with 0x01 then zeros. A vector
    /// <paramref name="width"/> takes over from <paramref name="vectorFrom"/> blocks on (tests lower it to reach the
    /// vector code with short messages).
    /// </summary>
    public static void Compute(Poly1305Width width, ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, Span<byte> tag, int vectorFrom = VectorMinimumBlocks)
    {
        var mac = new Poly1305(key);
        int whole = message.Length & ~(BlockSize - 1);
        Span<byte> last = stackalloc byte[BlockSize]; // zeroed: the padding
        int partial = message.Length - whole;
        if (partial > 0)
        {
            message[whole..].CopyTo(last);
            last[partial] = 1;
        }
        // The padded block carries its own 0x01: no 2^128 bit.
        mac.Absorb(width, message[..whole], partial > 0 ? last : default, lastHighBit: partial > 0 ? 0UL : 1UL, vectorFrom);
        mac.Finish(tag);
        mac.Clear();
        CryptographicOperations.ZeroMemory(last);
    }

    /// <summary>
    /// Absorbs <paramref name="data"/> followed by zeros up to a multiple of 16 bytes, the AEAD's pad16 (RFC 8439
    /// section 2.8): unlike the standalone MAC, a padded block counts as a full block.
    /// </summary>
    public void UpdatePadded(Poly1305Width width, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return; // WireGuard's transport data has no associated data.
        }
        int whole = data.Length & ~(BlockSize - 1);
        Span<byte> last = stackalloc byte[BlockSize]; // zeroed: the padding
        data[whole..].CopyTo(last);
        // Associated data and ciphertext are public: the copies need no zeroing.
        Absorb(width, data[..whole], whole < data.Length ? last : default, lastHighBit: 1, VectorMinimumBlocks);
    }

    /// <summary>
    /// The end of the AEAD's MAC input (RFC 8439 section 2.8): <paramref name="ciphertext"/>, its pad16, and the lengths
    /// block, absorbed in one go so that the vector paths cover the padding and lengths blocks too.
    /// </summary>
    public void UpdatePaddedWithLengths(Poly1305Width width, ReadOnlySpan<byte> ciphertext, int associatedDataLength)
    {
        int whole = ciphertext.Length & ~(BlockSize - 1);
        Span<byte> tail = stackalloc byte[2 * BlockSize]; // zeroed: the padding
        int tailLength = BlockSize;
        if (whole < ciphertext.Length)
        {
            ciphertext[whole..].CopyTo(tail);
            tailLength = 2 * BlockSize;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(tail[(tailLength - BlockSize)..], (ulong)associatedDataLength);
        BinaryPrimitives.WriteUInt64LittleEndian(tail[(tailLength - 8)..], (ulong)ciphertext.Length);
        Absorb(width, ciphertext[..whole], tail[..tailLength], lastHighBit: 1, VectorMinimumBlocks);
    }

    public readonly void Finish(Span<byte> tag)
    {
        Debug.Assert(tag.Length >= TagSize);
        ulong h0 = _h0, h1 = _h1, h2 = _h2;
        Reduce(ref h0, ref h1, ref h2);

        // tag = (h + s) mod 2^128
        h0 = AddWithCarry(h0, _s0, 0, out ulong carry);
        h1 = h1 + _s1 + carry;
        BinaryPrimitives.WriteUInt64LittleEndian(tag, h0);
        BinaryPrimitives.WriteUInt64LittleEndian(tag[8..], h1);
    }

    /// <summary>h mod p, for a partially reduced h (below 2p).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Reduce(ref ulong h0, ref ulong h1, ref ulong h2)
    {
        // g = h + 5 reaches 2^130 exactly when h >= p; then h - p = g mod 2^130. h < 2p, so once is enough.
        ulong g0 = AddWithCarry(h0, 5, 0, out ulong carry);
        ulong g1 = AddWithCarry(h1, 0, carry, out carry);
        ulong g2 = h2 + carry;
        ulong useG = 0 - (g2 >> 2);
        h0 = (h0 & ~useG) | (g0 & useG);
        h1 = (h1 & ~useG) | (g1 & useG);
        h2 = (h2 & ~useG) | (g2 & 3 & useG);
    }

    /// <summary>Zeroes the key and the accumulator.</summary>
    public void Clear() =>
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref this, 1)));

    /// <summary>
    /// Absorbs the whole blocks of <paramref name="blocks"/>, then the whole blocks of <paramref name="extra"/> (at most
    /// two, staged by the caller); every block gets the 2^128 bit except that the very last one gets
    /// <paramref name="lastHighBit"/>. A vector path needs at least one whole group (as many blocks as it has lanes).
    /// </summary>
    private void Absorb(Poly1305Width width, ReadOnlySpan<byte> blocks, ReadOnlySpan<byte> extra, ulong lastHighBit, int vectorFrom)
    {
        Debug.Assert(blocks.Length % BlockSize == 0 && extra.Length % BlockSize == 0 && extra.Length <= 2 * BlockSize);
        int count = (blocks.Length + extra.Length) / BlockSize;
        if (width == Poly1305Width.Vector256 && count >= Math.Max(vectorFrom, 4))
        {
            Absorb256(ref _h0, ref _h1, ref _h2, _r0, _r1, blocks, extra, lastHighBit);
        }
        else if (width == Poly1305Width.Vector128 && count >= Math.Max(vectorFrom, 2))
        {
            Absorb128(ref _h0, ref _h1, ref _h2, _r0, _r1, blocks, extra, lastHighBit);
        }
        else if (extra.IsEmpty)
        {
            Blocks(blocks, lastHighBit);
        }
        else
        {
            Blocks(blocks, 1);
            Blocks(extra, lastHighBit);
        }
    }

    /// <summary>Absorbs whole 16-byte blocks, one at a time; the last one gets <paramref name="lastHighBit"/>.</summary>
    private void Blocks(ReadOnlySpan<byte> data, ulong lastHighBit)
    {
        Debug.Assert(data.Length % BlockSize == 0);
        ulong h0 = _h0, h1 = _h1, h2 = _h2, r0 = _r0, r1 = _r1;
        ref byte start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        for (nuint offset = 0; offset < length; offset += BlockSize)
        {
            ulong m0 = ReadLittleEndian(ref Unsafe.Add(ref start, offset));
            ulong m1 = ReadLittleEndian(ref Unsafe.Add(ref start, offset + 8));
            ulong highBit = offset + BlockSize < length ? 1 : lastHighBit;
            AbsorbBlock(ref h0, ref h1, ref h2, m0, m1, highBit, r0, r1);
        }
        _h0 = h0;
        _h1 = h1;
        _h2 = h2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadLittleEndian(ref byte source)
    {
        ulong value = Unsafe.ReadUnaligned<ulong>(ref source);
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    /// <summary>h = (h + m + highBit*2^128) * r mod p, partially reduced.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AbsorbBlock(ref ulong h0, ref ulong h1, ref ulong h2, ulong m0, ulong m1, ulong highBit, ulong r0, ulong r1)
    {
        h0 = AddWithCarry(h0, m0, 0, out ulong carry);
        h1 = AddWithCarry(h1, m1, carry, out carry);
        h2 += carry + highBit;

        // h * r = h0r0 + (h1r0 + h0r1) 2^64 + (h2r0 + h1r1) 2^128 + h2r1 2^192; h2 < 8 keeps h2r0, h2r1 below 2^63.
        ulong h0r0Hi = Multiply(h0, r0, out ulong h0r0Lo);
        ulong h1r0Hi = Multiply(h1, r0, out ulong h1r0Lo);
        ulong h0r1Hi = Multiply(h0, r1, out ulong h0r1Lo);
        ulong h1r1Hi = Multiply(h1, r1, out ulong h1r1Lo);
        ulong h2r0 = h2 * r0;
        ulong h2r1 = h2 * r1;

        ulong m1Lo = AddWithCarry(h1r0Lo, h0r1Lo, 0, out carry);
        ulong m1Hi = h1r0Hi + h0r1Hi + carry;
        ulong m2Lo = AddWithCarry(h1r1Lo, h2r0, 0, out carry);
        ulong m2Hi = h1r1Hi + carry;

        ulong t0 = h0r0Lo;
        ulong t1 = AddWithCarry(m1Lo, h0r0Hi, 0, out carry);
        ulong t2 = AddWithCarry(m2Lo, m1Hi, carry, out carry);
        ulong t3 = m2Hi + h2r1 + carry;

        // t = low + high*2^130 = low + 4*high + high (mod p), with 4*high = (t2 & ~3, t3) already in place.
        ulong high0 = t2 & ~3UL, high1 = t3;
        h0 = AddWithCarry(t0, high0, 0, out carry);
        h1 = AddWithCarry(t1, high1, carry, out carry);
        h2 = (t2 & 3) + carry;
        high0 = (high0 >> 2) | (high1 << 62);
        high1 >>= 2;
        h0 = AddWithCarry(h0, high0, 0, out carry);
        h1 = AddWithCarry(h1, high1, carry, out carry);
        h2 += carry;
    }

    /// <summary>The 128-bit product: returns the high half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Multiply(ulong x, ulong y, out ulong low)
    {
        // Math.BigMul on x64 hands the low half back through memory, a store and a load on the critical path;
        // MULX for the high half and IMUL for the low half keep both in registers. ARM64 gets UMULH + MUL either way.
        if (Bmi2.X64.IsSupported)
        {
            low = x * y;
            return Bmi2.X64.MultiplyNoFlags(x, y);
        }
        return Math.BigMul(x, y, out low);
    }

    /// <summary>x + y + carryIn with the carry out computed from bits, not a comparison the JIT could branch on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong AddWithCarry(ulong x, ulong y, ulong carryIn, out ulong carryOut)
    {
        ulong partial = x + y;
        ulong sum = partial + carryIn;
        carryOut = (ulong)(Unsafe.BitCast<bool, byte>(partial < x) | Unsafe.BitCast<bool, byte>(sum < partial));
        return sum;
    }
}
