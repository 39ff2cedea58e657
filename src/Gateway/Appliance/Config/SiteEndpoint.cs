using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Branchgate.Appliance.Config;

/// <summary>
/// A peer endpoint as an administrator writes it, "host:port": an IPv4 literal (strict dotted quad), a bracketed
/// IPv6 literal ("[2001:db8::1]:51820") or a DNS name made of RFC 1123 labels ("branch-b.example.net:51820", a
/// trailing dot allowed). The port is 1..65535. <see cref="ToString"/> gives the canonical text, which parses back to
/// an equal value. A DNS name is resolved later by <see cref="EndpointResolver"/>, so a branch whose ISP changes its
/// address stays reachable.
/// </summary>
public sealed record SiteEndpoint
{
    private const int MaxNameLength = 253;
    private const int MaxLabelLength = 63;

    private SiteEndpoint(string host, ushort port, IPAddress? literal)
    {
        Host = host;
        Port = port;
        Literal = literal;
    }

    /// <summary>The host as written without brackets: "192.0.2.1", "2001:db8::1" (canonical form) or a DNS name.</summary>
    public string Host { get; }

    public ushort Port { get; }

    /// <summary>The address when the host is an IP literal; null for a DNS name.</summary>
    public IPAddress? Literal { get; }

    [MemberNotNullWhen(false, nameof(Literal))]
    public bool IsDnsName => Literal is null;

    /// <summary>Parses "host:port"; false with a reason (naming the text) for anything else. Never throws.</summary>
    public static bool TryParse(
        string? text, [NotNullWhen(true)] out SiteEndpoint? endpoint, [NotNullWhen(false)] out string? error)
    {
        endpoint = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty endpoint; expected host:port such as 198.51.100.7:51820";
            return false;
        }

        string shown = Show(text);
        if (text.Length > MaxNameLength + 10)
        {
            error = $"endpoint '{shown}' is too long";
            return false;
        }

        if (!SplitHostPort(text, out var hostText, out var portText, out bool bracketed, out error))
        {
            error = $"endpoint '{shown}': {error}";
            return false;
        }

        if (!TryParsePort(portText, out ushort port))
        {
            error = $"endpoint '{shown}': port must be a number from 1 to 65535";
            return false;
        }

        if (bracketed)
        {
            if (hostText.Contains('%'))
            {
                error = $"endpoint '{shown}': IPv6 zones ('%') are not supported";
                return false;
            }

            if (!IPAddress.TryParse(hostText, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"endpoint '{shown}': '{Show(hostText.ToString())}' is not an IPv6 address";
                return false;
            }

            endpoint = new SiteEndpoint(v6.ToString(), port, v6);
            return true;
        }

        if (LooksNumeric(hostText))
        {
            if (!TryParseIPv4(hostText, out var v4))
            {
                error = $"endpoint '{shown}': '{Show(hostText.ToString())}' is not an IPv4 address (four numbers 0..255)";
                return false;
            }

            endpoint = new SiteEndpoint(v4.ToString(), port, v4);
            return true;
        }

        if (!IsHostName(hostText, out error))
        {
            error = $"endpoint '{shown}': {error}";
            return false;
        }

        endpoint = new SiteEndpoint(hostText.ToString(), port, null);
        return true;
    }

    /// <summary>"host:port", with brackets around an IPv6 literal.</summary>
    public override string ToString() =>
        Literal is { AddressFamily: AddressFamily.InterNetworkV6 }
            ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}"
            : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    private static bool SplitHostPort(
        string text, out ReadOnlySpan<char> host, out ReadOnlySpan<char> port, out bool bracketed, out string? error)
    {
        host = default;
        port = default;
        bracketed = text.StartsWith('[');
        if (bracketed)
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                error = "expected [IPv6]:port";
                return false;
            }

            host = text.AsSpan(1, close - 1);
            port = text.AsSpan(close + 2);
            error = null;
            return true;
        }

        int colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            error = "no port; expected host:port";
            return false;
        }

        if (text.AsSpan(0, colon).Contains(':'))
        {
            error = "an IPv6 address needs brackets: [address]:port";
            return false;
        }

        host = text.AsSpan(0, colon);
        port = text.AsSpan(colon + 1);
        error = host.IsEmpty ? "no host before the port" : null;
        return error is null;
    }

    private static bool TryParsePort(ReadOnlySpan<char> text, out ushort port)
    {
        port = 0;
        if (text.Length is 0 or > 10 || !IsDigits(text) ||
            !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) ||
            value is < 1 or > ushort.MaxValue)
        {
            return false;
        }

        port = (ushort)value;
        return true;
    }

    /// <summary>A host whose last label is all digits is meant as an IPv4 address (no top-level domain is numeric).</summary>
    private static bool LooksNumeric(ReadOnlySpan<char> host)
    {
        var trimmed = host.EndsWith(".") ? host[..^1] : host;
        int dot = trimmed.LastIndexOf('.');
        var last = trimmed[(dot + 1)..];
        return last.IsEmpty || IsDigits(last);
    }

    private static bool TryParseIPv4(ReadOnlySpan<char> text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        Span<byte> octets = stackalloc byte[4];
        int part = 0;
        foreach (var range in text.Split('.'))
        {
            var digits = text[range];
            if (part == 4 || digits.Length is 0 or > 3 || !IsDigits(digits) || (digits.Length > 1 && digits[0] == '0') ||
                !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value > 255)
            {
                return false;
            }

            octets[part++] = (byte)value;
        }

        if (part != 4)
        {
            return false;
        }

        address = new IPAddress(octets);
        return true;
    }

    /// <summary>RFC 1123 host name: labels of 1..63 letters, digits and '-', not starting or ending with '-'.</summary>
    private static bool IsHostName(ReadOnlySpan<char> host, [NotNullWhen(false)] out string? error)
    {
        var name = host.EndsWith(".") ? host[..^1] : host;
        if (name.IsEmpty || name.Length > MaxNameLength)
        {
            error = $"a host name is 1 to {MaxNameLength} characters";
            return false;
        }

        foreach (var range in name.Split('.'))
        {
            var label = name[range];
            if (label.IsEmpty || label.Length > MaxLabelLength)
            {
                error = $"'{Show(host.ToString())}' has an empty label or one longer than {MaxLabelLength} characters";
                return false;
            }

            foreach (char c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                {
                    error = $"'{Show(host.ToString())}' is not a host name (letters, digits, '-' and '.')";
                    return false;
                }
            }

            if (label[0] == '-' || label[^1] == '-')
            {
                error = $"'{Show(host.ToString())}': a label may not start or end with '-'";
                return false;
            }
        }

        error = null;
        return true;
    }

    private static bool IsDigits(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Text for a message: printable ASCII only and short, so a pasted secret or a control character does
    /// not end up whole in a log.</summary>
    internal static string Show(string text)
    {
        const int max = 80;
        var chars = text.Length > max ? text[..max] : text;
        var clean = string.Create(chars.Length, chars, static (span, source) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = source[i] is >= ' ' and <= '~' ? source[i] : '?';
            }
        });
        return text.Length > max ? clean + "..." : clean;
    }
}
