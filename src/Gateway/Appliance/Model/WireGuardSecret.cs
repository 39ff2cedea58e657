using System.Security.Cryptography;
using Branchgate.Crypto;

namespace Branchgate.Appliance.Model;

/// <summary>
/// A 32-byte private or preshared key in the appliance's configuration. Immutable; equality is constant-time;
/// <see cref="ToString"/> never shows the key. The bytes leave only through <see cref="Span"/> (to the device and the
/// store) and <see cref="RevealBase64"/> (to a wg-quick file the administrator asked for).
/// </summary>
public sealed class WireGuardSecret : IEquatable<WireGuardSecret>
{
    public const int Size = 32;

    private readonly byte[] _bytes;

    /// <exception cref="ArgumentException">Not 32 bytes.</exception>
    public WireGuardSecret(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException("a WireGuard key is 32 bytes", nameof(bytes));
        }

        _bytes = bytes.ToArray();
    }

    public ReadOnlySpan<byte> Span => _bytes;

    /// <summary>A new random private key (clamped, as `wg genkey`).</summary>
    public static WireGuardSecret GeneratePrivateKey()
    {
        using var key = NoisePrivateKey.Generate();
        return new WireGuardSecret(key.Span);
    }

    /// <summary>A new random preshared key (as `wg genpsk`).</summary>
    public static WireGuardSecret GeneratePresharedKey()
    {
        Span<byte> raw = stackalloc byte[Size];
        RandomNumberGenerator.Fill(raw);
        try
        {
            return new WireGuardSecret(raw);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>Parses the base64 form `wg` uses; false (and no exception) for anything else.</summary>
    public static bool TryParseBase64(string? text, out WireGuardSecret? secret)
    {
        Span<byte> raw = stackalloc byte[Size];
        try
        {
            secret = KeyEncoding.TryFromBase64(text, raw) ? new WireGuardSecret(raw) : null;
            return secret is not null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>The public key of this private key.</summary>
    public NoisePublicKey DerivePublicKey()
    {
        using var key = new NoisePrivateKey(_bytes);
        return key.PublicKey;
    }

    /// <summary>The key in base64, for a wg-quick file or `wg set` only. Never log the result.</summary>
    public string RevealBase64() => KeyEncoding.ToBase64(_bytes);

    public bool Equals(WireGuardSecret? other) =>
        other is not null && CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    public override bool Equals(object? obj) => Equals(obj as WireGuardSecret);

    public override int GetHashCode() => 0x5ec7e7;

    public override string ToString() => "(hidden)";
}
