using System.Security.Cryptography;
using NSec.Cryptography;

namespace Branchgate.Crypto;

/// <summary>
/// Curve25519 Diffie-Hellman through NSec (libsodium). Private keys live in libsodium's guarded memory as NSec keys.
/// </summary>
public static class X25519
{
    public const int KeySize = 32;

    private static readonly KeyAgreementAlgorithm Algorithm = KeyAgreementAlgorithm.X25519;

    /// <summary>A fresh random key that never leaves libsodium's memory (for ephemeral keys).</summary>
    public static Key GenerateKey() => Key.Create(Algorithm);

    /// <summary>Imports a 32-byte private scalar (clamping happens inside the scalar multiplication).</summary>
    public static Key ImportPrivateKey(ReadOnlySpan<byte> privateKey) =>
        Key.Import(Algorithm, privateKey, KeyBlobFormat.RawPrivateKey);

    /// <summary>Fills <paramref name="privateKey"/> with a random, clamped private key as `wg genkey` does.</summary>
    public static void GeneratePrivateKey(Span<byte> privateKey)
    {
        if (privateKey.Length != KeySize)
        {
            ThrowHelper.ThrowArgument(nameof(privateKey), "must be 32 bytes");
        }

        RandomNumberGenerator.Fill(privateKey);
        Clamp(privateKey);
    }

    public static void Clamp(Span<byte> privateKey)
    {
        privateKey[0] &= 248;
        privateKey[31] = (byte)((privateKey[31] & 127) | 64);
    }

    public static void ExportPublicKey(Key key, Span<byte> publicKey)
    {
        if (!key.PublicKey.TryExport(KeyBlobFormat.RawPublicKey, publicKey, out var written) || written != KeySize)
        {
            ThrowHelper.ThrowArgument(nameof(publicKey), "must be 32 bytes");
        }
    }

    /// <summary>Derives the public key of a raw private key.</summary>
    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        using var key = ImportPrivateKey(privateKey);
        ExportPublicKey(key, publicKey);
    }

    /// <summary>
    /// DH(private, public). Returns false for a public key of low order (the shared secret would be all zeros); the
    /// handshake must then be abandoned.
    /// </summary>
    public static bool TryAgree(Key privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret)
    {
        if (sharedSecret.Length != KeySize || publicKey.Length != KeySize)
        {
            ThrowHelper.ThrowArgument(nameof(sharedSecret), "keys and secrets are 32 bytes");
        }

        var peer = NSec.Cryptography.PublicKey.Import(Algorithm, publicKey, KeyBlobFormat.RawPublicKey);
        var exportable = new SharedSecretCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };
        using var secret = Algorithm.Agree(privateKey, peer, in exportable);
        if (secret is null)
        {
            sharedSecret.Clear();
            return false;
        }

        return secret.TryExport(SharedSecretBlobFormat.RawSharedSecret, sharedSecret, out var written) && written == KeySize;
    }
}
