namespace Branchgate.Crypto;

/// <summary>
/// Text forms of 32-byte keys: base64 as `wg` prints them (44 characters ending in '=') and lowercase hex as the UAPI
/// uses. Parsers return false on anything else; they never throw on bad input.
/// </summary>
public static class KeyEncoding
{
    public const int Base64Length = 44;
    public const int HexLength = 64;

    public static bool TryFromBase64(ReadOnlySpan<char> text, Span<byte> key)
    {
        if (key.Length != X25519.KeySize || text.Length != Base64Length || text[^1] != '=' || text[^2] == '=')
        {
            return false;
        }

        foreach (var c in text[..^1])
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '+' || c == '/'))
            {
                return false;
            }
        }

        return Convert.TryFromBase64Chars(text, key, out var written) && written == X25519.KeySize;
    }

    public static bool TryFromBase64(string? text, Span<byte> key) =>
        text is not null && TryFromBase64(text.AsSpan(), key);

    public static string ToBase64(ReadOnlySpan<byte> key) => Convert.ToBase64String(key);

    /// <summary>Exactly 64 hex digits (either case, as wireguard-go accepts).</summary>
    public static bool TryFromHex(ReadOnlySpan<char> text, Span<byte> key)
    {
        if (key.Length != X25519.KeySize || text.Length != HexLength)
        {
            return false;
        }

        return Convert.FromHexString(text, key, out var consumed, out var written) == System.Buffers.OperationStatus.Done
            && consumed == HexLength && written == X25519.KeySize;
    }

    public static string ToHex(ReadOnlySpan<byte> key) => Convert.ToHexStringLower(key);
}
