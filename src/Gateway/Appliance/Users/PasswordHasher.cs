using System.Globalization;
using System.Security.Cryptography;
using NSec.Cryptography;

namespace Branchgate.Appliance.Users;

/// <summary>
/// Argon2id password hashes (libsodium through NSec) in the PHC string form
/// "$argon2id$v=19$m=MEMORY_KIB,t=PASSES,p=1$SALT$HASH" (salt and hash in base64 without padding), so a stored hash
/// carries its own parameters and old hashes keep verifying after the defaults change.
/// </summary>
public sealed class PasswordHasher
{
    /// <summary>
    /// OWASP's Argon2id minimum (Password Storage Cheat Sheet): 19 MiB of memory, 2 passes, 1 lane. A Raspberry Pi 4
    /// computes it in well under a second and has the memory to spare; it is also what a login costs an attacker.
    /// libsodium supports one lane only.
    /// </summary>
    public const int DefaultMemoryKib = 19 * 1024;

    public const int DefaultPasses = 2;

    public const int SaltSize = 16;

    public const int HashSize = 32;

    // Bounds for parameters read back from a stored string: a tampered hash must not make one login take minutes or
    // gigabytes.
    private const int MaxMemoryKib = 256 * 1024;
    private const int MinMemoryKib = 8;
    private const int MaxPasses = 32;
    private const int MinHashSize = 16;
    private const int MaxHashSize = 64;

    private const string Prefix = "$argon2id$v=19$";

    /// <summary>Argon2id with the OWASP parameters.</summary>
    public static readonly PasswordHasher Default = new(DefaultMemoryKib, DefaultPasses);

    private readonly int _memoryKib;
    private readonly int _passes;

    public PasswordHasher(int memoryKib, int passes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryKib, MinMemoryKib);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(memoryKib, MaxMemoryKib);
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(passes, MaxPasses);
        _memoryKib = memoryKib;
        _passes = passes;
    }

    /// <summary>A new random salt and the hash of <paramref name="password"/>, as a PHC string.</summary>
    public string Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        Span<byte> salt = stackalloc byte[SaltSize];
        RandomNumberGenerator.Fill(salt);
        var hash = new byte[HashSize];
        Derive(password, salt, _memoryKib, _passes, hash);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Prefix}m={_memoryKib},t={_passes},p=1${Base64(salt)}${Base64(hash)}");
    }

    /// <summary>True when <paramref name="password"/> matches <paramref name="phc"/>; false for a wrong password and
    /// for anything that is not a well-formed hash of ours (never throws on a bad string).</summary>
    public static bool Verify(string password, string? phc)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryParse(phc, out var memoryKib, out var passes, out var salt, out var expected))
        {
            return false;
        }

        var actual = new byte[expected.Length];
        try
        {
            Derive(password, salt, memoryKib, passes, actual);
            return CryptographicOperations.FixedTimeEquals(actual, expected);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(actual);
        }
    }

    /// <summary>Splits "$argon2id$v=19$m=..,t=..,p=1$salt$hash" strictly; false for anything else.</summary>
    internal static bool TryParse(string? phc, out int memoryKib, out int passes, out byte[] salt, out byte[] hash)
    {
        memoryKib = 0;
        passes = 0;
        salt = [];
        hash = [];
        if (phc is null || phc.Length > 256 || !phc.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = phc[Prefix.Length..].Split('$');
        if (parts.Length != 3)
        {
            return false;
        }

        var parameters = parts[0].Split(',');
        if (parameters.Length != 3
            || !TryParameter(parameters[0], "m=", MinMemoryKib, MaxMemoryKib, out memoryKib)
            || !TryParameter(parameters[1], "t=", 1, MaxPasses, out passes)
            || parameters[2] != "p=1")
        {
            return false;
        }

        return TryBase64(parts[1], out salt) && salt.Length == SaltSize
            && TryBase64(parts[2], out hash) && hash.Length is >= MinHashSize and <= MaxHashSize;
    }

    private static void Derive(string password, ReadOnlySpan<byte> salt, int memoryKib, int passes, Span<byte> output)
    {
        var parameters = new Argon2Parameters
        {
            DegreeOfParallelism = 1,
            MemorySize = memoryKib,
            NumberOfPasses = passes,
        };
        PasswordBasedKeyDerivationAlgorithm.Argon2id(parameters).DeriveBytes(password, salt, output);
    }

    private static bool TryParameter(string text, string name, int min, int max, out int value)
    {
        value = 0;
        return text.StartsWith(name, StringComparison.Ordinal)
            && text.Length > name.Length && text.Length <= name.Length + 9
            && text[name.Length] != '0'
            && int.TryParse(text.AsSpan(name.Length), NumberStyles.None, CultureInfo.InvariantCulture, out value)
            && value >= min && value <= max;
    }

    // PHC strings use base64 without '=' padding.
    private static string Base64(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    private static bool TryBase64(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length is 0 or > 128 || text.Contains('=', StringComparison.Ordinal) || text.Length % 4 == 1)
        {
            return false;
        }

        var padded = text + new string('=', (4 - (text.Length % 4)) % 4);
        var buffer = new byte[text.Length];
        if (!Convert.TryFromBase64String(padded, buffer, out var written))
        {
            return false;
        }

        bytes = buffer[..written];
        return Base64(bytes) == text;
    }
}
