using System.Buffers.Binary;
using System.Security.Cryptography;
using NSec.Cryptography;

namespace Branchgate.Appliance.Api;

/// <summary>Why an encrypted backup could not be opened.</summary>
public enum BackupOpenError
{
    None,

    /// <summary>Too short, or the magic bytes are not ours.</summary>
    NotABackup,

    /// <summary>A format version this gateway does not know (a newer one).</summary>
    UnsupportedVersion,

    /// <summary>Key derivation parameters outside the accepted bounds (a tampered or hostile header).</summary>
    BadParameters,

    /// <summary>Authentication failed: a wrong passphrase, or a changed or cut file (the two cannot be told apart).</summary>
    WrongPassphraseOrDamaged,
}

/// <summary>
/// Passphrase-encrypted backups: the store file sealed with XChaCha20-Poly1305 under a key derived from the passphrase
/// with Argon2id (libsodium through NSec). The file is a fixed header followed by the ciphertext and its tag; the whole
/// header is the associated data, so changing a parameter, the salt or the nonce fails authentication like changing a
/// byte of the ciphertext does.
/// <code>
/// offset size
///  0      8   "BGBACKUP"
///  8      1   format version (1)
///  9      1   algorithm (1 = Argon2id + XChaCha20-Poly1305)
/// 10      4   Argon2id memory in KiB (big endian)
/// 14      4   Argon2id passes (big endian)
/// 18     16   salt (random)
/// 34     24   nonce (random)
/// 58      …   ciphertext, then the 16-byte tag
/// </code>
/// </summary>
public static class BackupCipher
{
    public const byte Version = 1;

    public const int MinPassphraseBytes = 12;

    public const int MaxPassphraseBytes = 1024;

    /// <summary>64 MiB, 3 passes: an offline guess costs far more than a login (the file may be kept for years).</summary>
    public const int DefaultMemoryKib = 64 * 1024;

    public const int DefaultPasses = 3;

    public const int HeaderSize = 58;

    public const int TagSize = 16;

    /// <summary>Suggested file name extension.</summary>
    public const string FileExtension = ".bgbackup";

    private const byte AlgorithmArgon2idXChaCha = 1;
    private const int SaltSize = 16;
    private const int NonceSize = 24;

    // Bounds for parameters read from a file: a hostile header must not make a restore take gigabytes or minutes.
    private const int MinMemoryKib = 8;
    private const int MaxMemoryKib = 256 * 1024;
    private const int MaxPasses = 16;

    private static ReadOnlySpan<byte> Magic => "BGBACKUP"u8;

    /// <summary>The sealed file for <paramref name="plaintext"/>. The caller zeroes the passphrase and the plaintext.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> passphrase,
        int memoryKib = DefaultMemoryKib, int passes = DefaultPasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryKib, MinMemoryKib);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(memoryKib, MaxMemoryKib);
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(passes, MaxPasses);

        var file = new byte[HeaderSize + plaintext.Length + TagSize];
        var header = file.AsSpan(0, HeaderSize);
        Magic.CopyTo(header);
        header[8] = Version;
        header[9] = AlgorithmArgon2idXChaCha;
        BinaryPrimitives.WriteUInt32BigEndian(header[10..], (uint)memoryKib);
        BinaryPrimitives.WriteUInt32BigEndian(header[14..], (uint)passes);
        RandomNumberGenerator.Fill(header.Slice(18, SaltSize));
        RandomNumberGenerator.Fill(header.Slice(34, NonceSize));

        using var key = DeriveKey(passphrase, header.Slice(18, SaltSize), memoryKib, passes);
        AeadAlgorithm.XChaCha20Poly1305.Encrypt(key, header.Slice(34, NonceSize), header, plaintext, file.AsSpan(HeaderSize));
        return file;
    }

    /// <summary>
    /// The plaintext of a sealed file, or null with the reason. Never throws on hostile input. The caller zeroes the
    /// passphrase and the returned plaintext.
    /// </summary>
    public static byte[]? Open(ReadOnlySpan<byte> file, ReadOnlySpan<byte> passphrase, out BackupOpenError error)
    {
        if (file.Length < Magic.Length || !file[..Magic.Length].SequenceEqual(Magic))
        {
            error = BackupOpenError.NotABackup;
            return null;
        }

        if (file.Length < Magic.Length + 1 || file[8] != Version)
        {
            error = file.Length < Magic.Length + 1 ? BackupOpenError.WrongPassphraseOrDamaged : BackupOpenError.UnsupportedVersion;
            return null;
        }

        if (file.Length < HeaderSize + TagSize)
        {
            error = BackupOpenError.WrongPassphraseOrDamaged;
            return null;
        }

        var header = file[..HeaderSize];
        var memory = BinaryPrimitives.ReadUInt32BigEndian(header[10..]);
        var passes = BinaryPrimitives.ReadUInt32BigEndian(header[14..]);
        if (header[9] != AlgorithmArgon2idXChaCha || memory is < MinMemoryKib or > MaxMemoryKib || passes is < 1 or > MaxPasses)
        {
            error = BackupOpenError.BadParameters;
            return null;
        }

        var plaintext = new byte[file.Length - HeaderSize - TagSize];
        using var key = DeriveKey(passphrase, header.Slice(18, SaltSize), (int)memory, (int)passes);
        if (!AeadAlgorithm.XChaCha20Poly1305.Decrypt(key, header.Slice(34, NonceSize), header, file[HeaderSize..], plaintext))
        {
            CryptographicOperations.ZeroMemory(plaintext);
            error = BackupOpenError.WrongPassphraseOrDamaged;
            return null;
        }

        error = BackupOpenError.None;
        return plaintext;
    }

    /// <summary>A sentence for the administrator.</summary>
    public static string Describe(BackupOpenError error) => error switch
    {
        BackupOpenError.NotABackup => "not an encrypted Branchgate backup",
        BackupOpenError.UnsupportedVersion => "an encrypted backup of a format version this gateway does not know",
        BackupOpenError.BadParameters => "the backup's header is damaged (key derivation parameters out of bounds)",
        BackupOpenError.WrongPassphraseOrDamaged => "wrong passphrase, or the file was changed or cut short",
        _ => "the backup was opened",
    };

    private static Key DeriveKey(ReadOnlySpan<byte> passphrase, ReadOnlySpan<byte> salt, int memoryKib, int passes)
    {
        var parameters = new Argon2Parameters { DegreeOfParallelism = 1, MemorySize = memoryKib, NumberOfPasses = passes };
        return PasswordBasedKeyDerivationAlgorithm.Argon2id(parameters).DeriveKey(passphrase, salt,
            AeadAlgorithm.XChaCha20Poly1305);
    }
}
