// The Noise KDF as WireGuard uses it (whitepaper section 5.4, "Kdf_n(key, input)"): HKDF over HMAC-BLAKE2s with an
// empty info string and n 32-byte outputs:
//   t0 = HMAC(key, input)
//   t1 = HMAC(t0, 0x01)
//   t2 = HMAC(t0, t1 || 0x02)
//   t3 = HMAC(t0, t2 || 0x03)
// The handshake derives straight into its own chaining key (Kdf2(ck, x, ck, k)), so every output is computed into a
// stack temporary and only copied out at the end; outputs may therefore alias the key, the input or each other.

using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Branchgate.Crypto;

/// <summary>WireGuard's HKDF with HMAC-BLAKE2s: Kdf1, Kdf2 and Kdf3 of the whitepaper.</summary>
public static class NoiseKdf
{
    public const int OutputSize = 32;

    /// <summary>t1 = Kdf1(key, input).</summary>
    public static void Kdf1(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t1)
    {
        CheckOutput(t1, nameof(t1));
        Derive(key, input, t1, Span<byte>.Empty, Span<byte>.Empty, count: 1);
    }

    /// <summary>(t1, t2) = Kdf2(key, input).</summary>
    public static void Kdf2(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t1, Span<byte> t2)
    {
        CheckOutput(t1, nameof(t1));
        CheckOutput(t2, nameof(t2));
        Derive(key, input, t1, t2, Span<byte>.Empty, count: 2);
    }

    /// <summary>(t1, t2, t3) = Kdf3(key, input).</summary>
    public static void Kdf3(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t1, Span<byte> t2, Span<byte> t3)
    {
        CheckOutput(t1, nameof(t1));
        CheckOutput(t2, nameof(t2));
        CheckOutput(t3, nameof(t3));
        Derive(key, input, t1, t2, t3, count: 3);
    }

    private static void Derive(
        ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t1, Span<byte> t2, Span<byte> t3, int count)
    {
        Span<byte> prk = stackalloc byte[OutputSize];
        Span<byte> results = stackalloc byte[3 * OutputSize];
        // Holds t(i-1) || i, the message of the next expansion step; t0 contributes no bytes, only the counter.
        Span<byte> message = stackalloc byte[OutputSize + 1];

        Blake2s.Hmac(key, input, prk);

        message[0] = 1;
        Blake2s.Hmac(prk, message[..1], results[..OutputSize]);
        for (int i = 1; i < count; i++)
        {
            results.Slice((i - 1) * OutputSize, OutputSize).CopyTo(message);
            message[OutputSize] = (byte)(i + 1);
            Blake2s.Hmac(prk, message, results.Slice(i * OutputSize, OutputSize));
        }

        results[..OutputSize].CopyTo(t1);
        if (count >= 2)
            results.Slice(OutputSize, OutputSize).CopyTo(t2);
        if (count >= 3)
            results.Slice(2 * OutputSize, OutputSize).CopyTo(t3);

        CryptographicOperations.ZeroMemory(prk);
        CryptographicOperations.ZeroMemory(results);
        CryptographicOperations.ZeroMemory(message);
    }

    private static void CheckOutput(Span<byte> output, string paramName)
    {
        if (output.Length != OutputSize)
            ThrowWrongOutputLength(paramName);
    }

    [DoesNotReturn]
    private static void ThrowWrongOutputLength(string paramName) =>
        throw new ArgumentException("Noise KDF outputs must be exactly 32 bytes.", paramName);
}
