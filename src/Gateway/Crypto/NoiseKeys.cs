using System.Security.Cryptography;
using NSec.Cryptography;

namespace Branchgate.Crypto;

/// <summary>A Curve25519 public key: 32 bytes with value equality, usable as a dictionary key.</summary>
public sealed class NoisePublicKey : IEquatable<NoisePublicKey>
{
    private readonly byte[] _bytes;

    public NoisePublicKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != X25519.KeySize)
        {
            ThrowHelper.ThrowArgument(nameof(bytes), "a public key is 32 bytes");
        }

        _bytes = bytes.ToArray();
    }

    public ReadOnlySpan<byte> Span => _bytes;

    public bool IsZero => !_bytes.AsSpan().ContainsAnyExcept((byte)0);

    public static bool TryParseBase64(string? text, out NoisePublicKey? key)
    {
        Span<byte> bytes = stackalloc byte[X25519.KeySize];
        key = KeyEncoding.TryFromBase64(text, bytes) ? new NoisePublicKey(bytes) : null;
        return key is not null;
    }

    public string ToBase64() => KeyEncoding.ToBase64(_bytes);

    public bool Equals(NoisePublicKey? other) =>
        other is not null && CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    public override bool Equals(object? obj) => Equals(obj as NoisePublicKey);

    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0) ^ BitConverter.ToInt32(_bytes, 28);

    public override string ToString() => ToBase64();
}

/// <summary>
/// 32 secret bytes in a pinned array (so the GC never leaves copies behind), zeroed on <see cref="Dispose"/>.
/// Used for preshared keys and transport keys.
/// </summary>
public sealed class SecretKey : IDisposable
{
    private readonly byte[] _bytes = GC.AllocateArray<byte>(X25519.KeySize, pinned: true);

    public SecretKey()
    {
    }

    public SecretKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != X25519.KeySize)
        {
            ThrowHelper.ThrowArgument(nameof(bytes), "a key is 32 bytes");
        }

        bytes.CopyTo(_bytes);
    }

    public Span<byte> Span => _bytes;

    public bool IsZero => !_bytes.AsSpan().ContainsAnyExcept((byte)0);

    public void Dispose() => CryptographicOperations.ZeroMemory(_bytes);
}

/// <summary>A static Curve25519 private key with its public key, held in libsodium memory for DH.</summary>
public sealed class NoisePrivateKey : IDisposable
{
    private readonly SecretKey _raw;
    private readonly Key _key;
    private bool _disposed;

    public NoisePrivateKey(ReadOnlySpan<byte> privateKey)
    {
        _raw = new SecretKey(privateKey);
        X25519.Clamp(_raw.Span);
        _key = X25519.ImportPrivateKey(_raw.Span);
        Span<byte> pub = stackalloc byte[X25519.KeySize];
        X25519.ExportPublicKey(_key, pub);
        PublicKey = new NoisePublicKey(pub);
    }

    public NoisePublicKey PublicKey { get; }

    /// <summary>The clamped private scalar; for export to wg(8) and the config store only.</summary>
    public ReadOnlySpan<byte> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _raw.Span;
        }
    }

    internal Key Key
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _key;
        }
    }

    public static NoisePrivateKey Generate()
    {
        Span<byte> raw = stackalloc byte[X25519.KeySize];
        try
        {
            X25519.GeneratePrivateKey(raw);
            return new NoisePrivateKey(raw);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    public bool TryAgree(ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret) =>
        X25519.TryAgree(Key, publicKey, sharedSecret);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _key.Dispose();
        _raw.Dispose();
    }
}
