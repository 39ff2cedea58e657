// Poly1305 (RFC 8439 section 2.5), scalar, radix 2^64.
//
// The accumulator h = h0 + h1*2^64 + h2*2^128 is kept partially reduced: below 2^130 + 2^128, so h2 stays under 8.
// The clamped r = r0 + r1*2^64 has r0, r1 < 2^60, so every partial product of h*r fits in 128 bits without overflow.
// Reduction modulo p = 2^130 - 5 folds the bits above 2^130 back in times 5 (2^130 = 5 mod p), as 4x + x.
// The last step subtracts p at most once, selected with a mask rather than a branch. Carries are computed with
// masks too, so the running time depends only on the message length.

using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;

namespace Branchgate.Crypto;

internal struct Poly1305
{
    public const int KeySize = 32;
    public const int TagSize = 16;
    public const int BlockSize = 16;

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

    /// <summary>The standalone MAC of RFC 8439 section 2.5: a short last block is padded with 0x01 then zeros.</summary>
    public static void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, Span<byte> tag)
    {
        var mac = new Poly1305(key);
        int whole = message.Length & ~(BlockSize - 1);
        mac.Blocks(message[..whole]);
        if (whole < message.Length)
        {
            Span<byte> last = stackalloc byte[BlockSize];
            last.Clear();
            message[whole..].CopyTo(last);
            last[message.Length - whole] = 1;
            mac.Block(
                BinaryPrimitives.ReadUInt64LittleEndian(last),
                BinaryPrimitives.ReadUInt64LittleEndian(last[8..]),
                highBit: 0);
        }
        mac.Finish(tag);
        mac.Clear();
    }

    /// <summary>
    /// Absorbs <paramref name="data"/> followed by zeros up to a multiple of 16 bytes, the AEAD's pad16 (RFC 8439
    /// section 2.8): unlike the standalone MAC, a padded block counts as a full block.
    /// </summary>
    public void UpdatePadded(ReadOnlySpan<byte> data)
    {
        int whole = data.Length & ~(BlockSize - 1);
        Blocks(data[..whole]);
        if (whole < data.Length)
        {
            Span<byte> last = stackalloc byte[BlockSize];
            last.Clear();
            data[whole..].CopyTo(last);
            Blocks(last);
        }
    }

    /// <summary>The AEAD's final block: both lengths as 64-bit little-endian integers.</summary>
    public void UpdateLengths(int associatedDataLength, int ciphertextLength) =>
        Block((ulong)associatedDataLength, (ulong)ciphertextLength, highBit: 1);

    public readonly void Finish(Span<byte> tag)
    {
        Debug.Assert(tag.Length >= TagSize);
        ulong h0 = _h0, h1 = _h1, h2 = _h2;

        // g = h + 5 reaches 2^130 exactly when h >= p; then h - p = g mod 2^130. h < 2p, so once is enough.
        ulong g0 = AddWithCarry(h0, 5, 0, out ulong carry);
        ulong g1 = AddWithCarry(h1, 0, carry, out carry);
        ulong g2 = h2 + carry;
        ulong useG = 0 - (g2 >> 2);
        h0 = (h0 & ~useG) | (g0 & useG);
        h1 = (h1 & ~useG) | (g1 & useG);

        // tag = (h + s) mod 2^128
        h0 = AddWithCarry(h0, _s0, 0, out carry);
        h1 = h1 + _s1 + carry;
        BinaryPrimitives.WriteUInt64LittleEndian(tag, h0);
        BinaryPrimitives.WriteUInt64LittleEndian(tag[8..], h1);
    }

    /// <summary>Zeroes the key and the accumulator.</summary>
    public void Clear() =>
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref this, 1)));

    /// <summary>Absorbs whole 16-byte blocks.</summary>
    private void Blocks(ReadOnlySpan<byte> data)
    {
        Debug.Assert(data.Length % BlockSize == 0);
        ulong h0 = _h0, h1 = _h1, h2 = _h2, r0 = _r0, r1 = _r1;
        ref byte start = ref MemoryMarshal.GetReference(data);
        for (nuint offset = 0; offset < (nuint)data.Length; offset += BlockSize)
        {
            ulong m0 = ReadLittleEndian(ref Unsafe.Add(ref start, offset));
            ulong m1 = ReadLittleEndian(ref Unsafe.Add(ref start, offset + 8));
            Absorb(ref h0, ref h1, ref h2, m0, m1, 1, r0, r1);
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

    private void Block(ulong m0, ulong m1, ulong highBit) => Absorb(ref _h0, ref _h1, ref _h2, m0, m1, highBit, _r0, _r1);

    /// <summary>h = (h + m + highBit*2^128) * r mod p, partially reduced.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Absorb(ref ulong h0, ref ulong h1, ref ulong h2, ulong m0, ulong m1, ulong highBit, ulong r0, ulong r1)
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
