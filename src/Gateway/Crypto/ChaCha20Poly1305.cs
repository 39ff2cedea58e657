// AEAD_CHACHA20_POLY1305 (RFC 8439 section 2.8) for the WireGuard data path.
//
// Seal: 1. one batch of keystream from block 0: its first 32 bytes are the Poly1305 key, the rest encrypts the start of
//          the message  2. MAC the associated data  3. encrypt the rest from the next block on  4. MAC the ciphertext,
//          the padding and the lengths  5. write the tag.
// Open: 1. the same first batch  2. MAC the associated data and the ciphertext  3. compare tags in constant time
//       4. only then decrypt, so a forged packet never produces plaintext.
// Key-derived bytes (the state, the first batch, the MAC state) are zeroed before returning. No heap allocation.
// ChaCha20 runs on the widest vector path the machine accelerates (see ChaCha20.cs); the internal overloads that take a
// ChaChaWidth let the tests run every path on any machine.

using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Branchgate.Crypto;

public static class ChaCha20Poly1305
{
    public const int KeySize = 32, NonceSize = 12, TagSize = 16;

    /// <summary>
    /// Encrypts <paramref name="source"/> into <paramref name="destination"/> (same length; may be the very same memory)
    /// and writes the 16-byte tag.
    /// </summary>
    public static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> source, Span<byte> destination, Span<byte> tag, ReadOnlySpan<byte> associatedData) =>
        Seal(ChaCha20.PreferredWidth, key, nonce, source, destination, tag, associatedData);

    /// <summary>
    /// Verifies the tag and decrypts <paramref name="source"/> into <paramref name="destination"/> (same length; may be
    /// the very same memory). Returns false, leaving <paramref name="destination"/> untouched, when the tag does not verify.
    /// </summary>
    public static bool Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> source, Span<byte> destination, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> associatedData) =>
        Open(ChaCha20.PreferredWidth, key, nonce, source, destination, tag, associatedData);

    /// <summary>Seal with WireGuard's nonce: 4 zero bytes, then <paramref name="counter"/> little-endian.</summary>
    public static void Seal(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> source, Span<byte> destination, Span<byte> tag, ReadOnlySpan<byte> associatedData) =>
        Seal(ChaCha20.PreferredWidth, key, counter, source, destination, tag, associatedData);

    /// <summary>Open with WireGuard's nonce: 4 zero bytes, then <paramref name="counter"/> little-endian.</summary>
    public static bool Open(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> source, Span<byte> destination, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> associatedData) =>
        Open(ChaCha20.PreferredWidth, key, counter, source, destination, tag, associatedData);

    internal static void Seal(ChaChaWidth width, ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> source, Span<byte> destination, Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        CheckNonce(nonce);
        CheckArguments(key, source, destination, tag.Length);
        ChaChaState state = default;
        ChaCha20.Initialize(ref state, key, nonce);
        SealCore(width, ref state, source, destination, tag, associatedData);
    }

    internal static bool Open(ChaChaWidth width, ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> source, Span<byte> destination, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        CheckNonce(nonce);
        CheckArguments(key, source, destination, tag.Length);
        ChaChaState state = default;
        ChaCha20.Initialize(ref state, key, nonce);
        return OpenCore(width, ref state, source, destination, tag, associatedData);
    }

    internal static void Seal(ChaChaWidth width, ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> source, Span<byte> destination, Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(key, source, destination, tag.Length);
        ChaChaState state = default;
        ChaCha20.Initialize(ref state, key, 0, (uint)counter, (uint)(counter >> 32));
        SealCore(width, ref state, source, destination, tag, associatedData);
    }

    internal static bool Open(ChaChaWidth width, ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> source, Span<byte> destination, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(key, source, destination, tag.Length);
        ChaChaState state = default;
        ChaCha20.Initialize(ref state, key, 0, (uint)counter, (uint)(counter >> 32));
        return OpenCore(width, ref state, source, destination, tag, associatedData);
    }

    /// <summary>The Poly1305 one-time key of RFC 8439 section 2.6, computed the way Seal and Open compute it.</summary>
    [SkipLocalsInit]
    internal static void GeneratePoly1305Key(ChaChaWidth width, ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, Span<byte> oneTimeKey)
    {
        ChaChaState state = default;
        ChaCha20.Initialize(ref state, key, nonce);
        Span<byte> firstBatch = stackalloc byte[ChaCha20.MaxBatchSize];
        int generated = ChaCha20.FirstBatch(width, state, (int)width * ChaCha20.BlockSize, firstBatch);
        firstBatch[..Poly1305.KeySize].CopyTo(oneTimeKey);
        CryptographicOperations.ZeroMemory(firstBatch[..generated]);
        ChaCha20.ZeroMemory(ref state);
    }

    [SkipLocalsInit]
    private static void SealCore(ChaChaWidth width, ref ChaChaState state, ReadOnlySpan<byte> source, Span<byte> destination, Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        Span<byte> firstBatch = stackalloc byte[ChaCha20.MaxBatchSize];
        int generated = ChaCha20.FirstBatch(width, state, source.Length, firstBatch);
        var mac = new Poly1305(firstBatch);
        Poly1305Width macWidth = Poly1305.WidthFor(width);

        // The associated data goes first, before destination changes, in case the caller placed it there.
        mac.UpdatePadded(macWidth, associatedData);
        Encrypt(width, state, firstBatch[..generated], source, destination);
        mac.UpdatePaddedWithLengths(macWidth, destination, associatedData.Length);
        mac.Finish(tag);

        mac.Clear();
        CryptographicOperations.ZeroMemory(firstBatch[..generated]);
        ChaCha20.ZeroMemory(ref state);
    }

    [SkipLocalsInit]
    private static bool OpenCore(ChaChaWidth width, ref ChaChaState state, ReadOnlySpan<byte> source, Span<byte> destination, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        Span<byte> firstBatch = stackalloc byte[ChaCha20.MaxBatchSize];
        int generated = ChaCha20.FirstBatch(width, state, source.Length, firstBatch);
        var mac = new Poly1305(firstBatch);
        Poly1305Width macWidth = Poly1305.WidthFor(width);

        mac.UpdatePadded(macWidth, associatedData);
        mac.UpdatePaddedWithLengths(macWidth, source, associatedData.Length);
        Span<byte> expectedTag = stackalloc byte[TagSize];
        mac.Finish(expectedTag);
        bool authentic = CryptographicOperations.FixedTimeEquals(expectedTag, tag);
        if (authentic)
        {
            Encrypt(width, state, firstBatch[..generated], source, destination);
        }

        mac.Clear();
        CryptographicOperations.ZeroMemory(expectedTag);
        CryptographicOperations.ZeroMemory(firstBatch[..generated]);
        ChaCha20.ZeroMemory(ref state);
        return authentic;
    }

    /// <summary>
    /// XORs the keystream from block 1 on: first what is left of the first batch after the Poly1305 key block, then
    /// fresh batches.
    /// </summary>
    private static void Encrypt(ChaChaWidth width, in ChaChaState state, ReadOnlySpan<byte> firstBatch, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ReadOnlySpan<byte> keystream = firstBatch[ChaCha20.BlockSize..];
        int head = Math.Min(source.Length, keystream.Length);
        ChaCha20.XorBytes(source[..head], keystream, destination[..head]);
        uint nextBlock = (uint)(firstBatch.Length / ChaCha20.BlockSize);
        ChaCha20.Xor(width, state, nextBlock, source[head..], destination[head..]);
    }

    private static void CheckNonce(ReadOnlySpan<byte> nonce)
    {
        if (nonce.Length != NonceSize)
        {
            ThrowArgument(nameof(nonce), "The nonce must be 12 bytes.");
        }
    }

    private static void CheckArguments(ReadOnlySpan<byte> key, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, int tagLength)
    {
        if (key.Length != KeySize)
        {
            ThrowArgument(nameof(key), "The key must be 32 bytes.");
        }
        if (tagLength != TagSize)
        {
            ThrowArgument("tag", "The tag must be 16 bytes.");
        }
        if (destination.Length != source.Length)
        {
            ThrowArgument(nameof(destination), "The destination must be as long as the source.");
        }
        if (source.Overlaps(destination, out int elementOffset) && elementOffset != 0)
        {
            ThrowArgument(nameof(destination), "The destination must be the source itself or not overlap it.");
        }
    }

    [DoesNotReturn]
    private static void ThrowArgument(string paramName, string message) => throw new ArgumentException(message, paramName);
}
