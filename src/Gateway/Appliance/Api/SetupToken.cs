using System.Security.Cryptography;
using System.Text;
using Branchgate.Appliance.Users;
using Microsoft.Extensions.Logging;

namespace Branchgate.Appliance.Api;

/// <summary>
/// The one-time secret that lets the first administrator be created (POST /v1/setup). Made at `branchgate serve` start
/// when no user exists, written to a root-only file and logged once, so only someone who can read the console, the
/// journal or that file can claim the appliance; the panel only forwards what the administrator typed. Compared in
/// constant time; gone after one successful use.
/// </summary>
public sealed class SetupToken
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private const int Groups = 5;
    private const int GroupLength = 5;

    private readonly Lock _lock = new();
    private byte[]? _value;

    internal SetupToken(string value, string? path)
    {
        _value = Encoding.ASCII.GetBytes(Normalize(value));
        FilePath = path;
    }

    /// <summary>Where the token was written (null: nowhere).</summary>
    public string? FilePath { get; }

    public bool IsConsumed
    {
        get
        {
            lock (_lock)
            {
                return _value is null;
            }
        }
    }

    /// <summary>A token when <paramref name="users"/> has no user yet (written to <paramref name="path"/>, mode 0600,
    /// and logged once), else null: setup is over.</summary>
    public static SetupToken? CreateIfNeeded(IUserDirectory users, string path, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(logger);
        if (users.HasAnyUser)
        {
            DeleteFile(path);
            return null;
        }

        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException();
        }

        var token = new SetupToken(Generate(), path);
        var text = token.Text;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        DeleteFile(path);
        using (var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            file.Write(Encoding.ASCII.GetBytes(text + "\n"));
        }

        ManagementApiLog.SetupTokenCreated(logger, text, path);
        return token;
    }

    /// <summary>True when <paramref name="presented"/> is the token (case, spaces and dashes aside) and it is unused.</summary>
    public bool Matches(string? presented)
    {
        var candidate = Encoding.ASCII.GetBytes(Normalize(presented ?? ""));
        lock (_lock)
        {
            return _value is not null && CryptographicOperations.FixedTimeEquals(_value, candidate);
        }
    }

    /// <summary>Spends the token (after the first administrator was created) and removes its file.</summary>
    public void Consume()
    {
        lock (_lock)
        {
            if (_value is not null)
            {
                CryptographicOperations.ZeroMemory(_value);
                _value = null;
            }
        }

        if (FilePath is not null)
        {
            DeleteFile(FilePath);
        }
    }

    private string Text
    {
        get
        {
            lock (_lock)
            {
                var raw = Encoding.ASCII.GetString(_value ?? []);
                return string.Join('-', raw.Chunk(GroupLength).Select(c => new string(c)));
            }
        }
    }

    /// <summary>25 characters from a 32-letter alphabet without look-alikes (0/O, 1/I): 125 bits.</summary>
    private static string Generate() => RandomNumberGenerator.GetString(Alphabet, Groups * GroupLength);

    private static string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is not ('-' or ' '))
            {
                builder.Append(char.ToUpperInvariant(c));
            }
        }

        return builder.ToString();
    }

    private static void DeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing to remove, or not ours to remove: the token is in memory either way.
        }
    }
}
