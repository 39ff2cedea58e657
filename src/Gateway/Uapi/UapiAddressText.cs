using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Branchgate.Uapi;

/// <summary>
/// Numbers, addresses, endpoints and prefixes exactly as wireguard-go 0.0.20220316 reads and prints them: it was built
/// with Go 1.19 and uses strconv.ParseUint, strconv.Atoi and net/netip (ParseAddr, ParseAddrPort, ParsePrefix,
/// Addr.String). .NET's IPAddress.TryParse is far more lenient ("1", "0x7f.1", "01.2.3.4"), so nothing here uses it.
/// Every method returns false on bad input and never throws.
/// </summary>
internal static class UapiAddressText
{
    /// <summary>strconv.ParseUint(s, 10, bits): one or more ASCII digits (leading zeros allowed), at most max.</summary>
    public static bool TryParseUnsigned(ReadOnlySpan<char> text, ulong max, out ulong value)
    {
        value = 0;
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            var digit = (ulong)(c - '0');
            if (value > (max - digit) / 10)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        return true;
    }

    /// <summary>
    /// strconv.Atoi as netip.ParsePrefix uses it for the prefix length: an optional '+' or '-', then digits; so "+8",
    /// "08" and "-0" are all valid. Returns false unless the value lies in 0..max.
    /// </summary>
    public static bool TryParsePrefixLength(ReadOnlySpan<char> text, int max, out int value)
    {
        value = 0;
        var negative = false;
        if (!text.IsEmpty && (text[0] == '+' || text[0] == '-'))
        {
            negative = text[0] == '-';
            text = text[1..];
        }

        if (!TryParseUnsigned(text, ulong.MaxValue, out var magnitude) || magnitude > (ulong)max)
        {
            return false;
        }

        if (negative && magnitude != 0)
        {
            return false;
        }

        value = (int)magnitude;
        return true;
    }

    /// <summary>
    /// netip.ParseAddr: dotted-quad IPv4 (no leading zeros, exactly four fields) or IPv6 with at most one "::", an
    /// optional trailing dotted quad and an optional non-empty "%zone". <paramref name="bytes"/> receives 4 or 16 bytes;
    /// an IPv4-mapped IPv6 address stays IPv6.
    /// </summary>
    public static bool TryParseAddress(ReadOnlySpan<char> text, Span<byte> bytes, out int length, out ReadOnlySpan<char> zone)
    {
        length = 0;
        zone = default;
        foreach (var c in text)
        {
            switch (c)
            {
                case '.':
                    length = 4;
                    return TryParseIPv4(text, bytes[..4]);
                case ':':
                    length = 16;
                    return TryParseIPv6(text, bytes[..16], out zone);
                case '%':
                    return false;
            }
        }

        return false;
    }

    private static bool TryParseIPv4(ReadOnlySpan<char> text, Span<byte> bytes)
    {
        int field = 0, value = 0, digits = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsAsciiDigit(c))
            {
                if (digits == 1 && value == 0)
                {
                    return false; // leading zero
                }

                value = (value * 10) + (c - '0');
                digits++;
                if (value > 255)
                {
                    return false;
                }
            }
            else if (c == '.')
            {
                if (i == 0 || i == text.Length - 1 || text[i - 1] == '.' || field == 3)
                {
                    return false;
                }

                bytes[field++] = (byte)value;
                value = 0;
                digits = 0;
            }
            else
            {
                return false;
            }
        }

        if (field < 3)
        {
            return false;
        }

        bytes[3] = (byte)value;
        return true;
    }

    private static bool TryParseIPv6(ReadOnlySpan<char> input, Span<byte> ip, out ReadOnlySpan<char> zone)
    {
        zone = default;
        var s = input;
        var percent = s.IndexOf('%');
        if (percent >= 0)
        {
            zone = s[(percent + 1)..];
            s = s[..percent];
            if (zone.IsEmpty)
            {
                return false;
            }
        }

        ip.Clear();
        var ellipsis = -1;
        if (s.Length >= 2 && s[0] == ':' && s[1] == ':')
        {
            ellipsis = 0;
            s = s[2..];
            if (s.IsEmpty)
            {
                return true;
            }
        }

        var i = 0;
        while (i < 16)
        {
            var off = 0;
            uint acc = 0;
            for (; off < s.Length; off++)
            {
                var nibble = HexValue(s[off]);
                if (nibble < 0)
                {
                    break;
                }

                acc = (acc << 4) + (uint)nibble;
                if (acc > ushort.MaxValue)
                {
                    return false;
                }
            }

            if (off == 0)
            {
                return false;
            }

            if (off < s.Length && s[off] == '.')
            {
                // A trailing dotted quad replaces the last two fields.
                if ((ellipsis < 0 && i != 12) || i + 4 > 16 || !TryParseIPv4(s, ip.Slice(i, 4)))
                {
                    return false;
                }

                s = default;
                i += 4;
                break;
            }

            ip[i] = (byte)(acc >> 8);
            ip[i + 1] = (byte)acc;
            i += 2;
            s = s[off..];
            if (s.IsEmpty)
            {
                break;
            }

            if (s[0] != ':' || s.Length == 1)
            {
                return false;
            }

            s = s[1..];
            if (s[0] == ':')
            {
                if (ellipsis >= 0)
                {
                    return false;
                }

                ellipsis = i;
                s = s[1..];
                if (s.IsEmpty)
                {
                    break;
                }
            }
        }

        if (!s.IsEmpty)
        {
            return false;
        }

        if (i < 16)
        {
            if (ellipsis < 0)
            {
                return false;
            }

            var n = 16 - i;
            for (var j = i - 1; j >= ellipsis; j--)
            {
                ip[j + n] = ip[j];
            }

            ip.Slice(ellipsis, n).Clear();
        }
        else if (ellipsis >= 0)
        {
            return false; // "::" must stand for at least one zero field
        }

        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>
    /// conn.LinuxSocketBind.ParseEndpoint: netip.ParseAddrPort (split at the last ':', brackets exactly for IPv6, a
    /// numeric port 0..65535, no host names), then an IPv6 zone becomes an interface index: by interface name first,
    /// else as a decimal number.
    /// </summary>
    public static bool TryParseEndpoint(ReadOnlySpan<char> text, Func<string, uint?> interfaceIndex, out IPEndPoint? endpoint)
    {
        endpoint = null;
        var colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            return false;
        }

        var host = text[..colon];
        var portText = text[(colon + 1)..];
        if (host.IsEmpty || portText.IsEmpty)
        {
            return false;
        }

        var bracketed = host[0] == '[';
        if (bracketed)
        {
            if (host.Length < 2 || host[^1] != ']')
            {
                return false;
            }

            host = host[1..^1];
        }

        if (!TryParseUnsigned(portText, ushort.MaxValue, out var port))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!TryParseAddress(host, bytes, out var length, out var zone) || bracketed != (length == 16))
        {
            return false;
        }

        if (length == 4)
        {
            endpoint = new IPEndPoint(new IPAddress(bytes[..4]), (int)port);
            return true;
        }

        uint scope = 0;
        if (!zone.IsEmpty && !TryResolveZone(zone, interfaceIndex, out scope))
        {
            return false;
        }

        endpoint = new IPEndPoint(new IPAddress(bytes, scope), (int)port);
        return true;
    }

    private static bool TryResolveZone(ReadOnlySpan<char> zone, Func<string, uint?> interfaceIndex, out uint scope)
    {
        scope = 0;
        if (zone.IndexOf('\0') < 0 && interfaceIndex(zone.ToString()) is { } index)
        {
            scope = index;
            return true;
        }

        if (!TryParseUnsigned(zone, uint.MaxValue, out var number))
        {
            return false;
        }

        scope = (uint)number;
        return true;
    }

    /// <summary>
    /// netip.ParsePrefix: "addr/bits" split at the last '/', no IPv6 zone, bits via Atoi within 0..32 or 0..128. The
    /// result has its host bits cleared, as wireguard-go's allowed-IPs trie stores and prints it.
    /// </summary>
    public static bool TryParsePrefix(ReadOnlySpan<char> text, out IPNetwork prefix)
    {
        prefix = default;
        var slash = text.LastIndexOf('/');
        if (slash < 0)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!TryParseAddress(text[..slash], bytes, out var length, out var zone) || !zone.IsEmpty ||
            !TryParsePrefixLength(text[(slash + 1)..], length * 8, out var bits))
        {
            return false;
        }

        prefix = MaskedPrefix(bytes[..length], bits);
        return true;
    }

    /// <summary>An <see cref="IPNetwork"/> from address bytes (4 or 16) with every bit after <paramref name="bits"/> cleared.</summary>
    public static IPNetwork MaskedPrefix(ReadOnlySpan<byte> address, int bits)
    {
        Span<byte> masked = stackalloc byte[address.Length];
        address.CopyTo(masked);
        for (var i = 0; i < masked.Length; i++)
        {
            var keep = Math.Clamp(bits - (i * 8), 0, 8);
            masked[i] &= (byte)(0xff00 >> keep);
        }

        return new IPNetwork(new IPAddress(masked), bits);
    }

    /// <summary>netip.Addr.String without the zone: dotted quad, "::ffff:a.b.c.d", or RFC 5952 IPv6.</summary>
    public static void AppendAddress(StringBuilder output, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes, out _);
            AppendIPv4(output, bytes[..4]);
            return;
        }

        address.TryWriteBytes(bytes, out _);
        if (!bytes[..10].ContainsAnyExcept((byte)0) && bytes[10] == 0xff && bytes[11] == 0xff)
        {
            output.Append("::ffff:");
            AppendIPv4(output, bytes[12..]);
            return;
        }

        AppendIPv6(output, bytes);
    }

    private static void AppendIPv4(StringBuilder output, ReadOnlySpan<byte> bytes) =>
        output.Append(bytes[0]).Append('.').Append(bytes[1]).Append('.').Append(bytes[2]).Append('.').Append(bytes[3]);

    private static void AppendIPv6(StringBuilder output, ReadOnlySpan<byte> bytes)
    {
        // The longest run of two or more zero fields becomes "::"; the first such run wins a tie.
        int zeroStart = -1, zeroEnd = -1;
        for (var i = 0; i < 8; i++)
        {
            var j = i;
            while (j < 8 && Field(bytes, j) == 0)
            {
                j++;
            }

            if (j - i >= 2 && j - i > zeroEnd - zeroStart)
            {
                zeroStart = i;
                zeroEnd = j;
            }
        }

        for (var i = 0; i < 8; i++)
        {
            if (i == zeroStart)
            {
                output.Append("::");
                i = zeroEnd;
                if (i >= 8)
                {
                    break;
                }
            }
            else if (i > 0)
            {
                output.Append(':');
            }

            output.Append(Field(bytes, i).ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private static ushort Field(ReadOnlySpan<byte> bytes, int index) =>
        BinaryPrimitives.ReadUInt16BigEndian(bytes.Slice(index * 2, 2));

    /// <summary>How wireguard-go prints a peer endpoint: "a.b.c.d:port" or "[v6]:port", never with the zone.</summary>
    public static void AppendEndpoint(StringBuilder output, IPEndPoint endpoint)
    {
        var v6 = endpoint.AddressFamily == AddressFamily.InterNetworkV6;
        if (v6)
        {
            output.Append('[');
        }

        AppendAddress(output, endpoint.Address);
        if (v6)
        {
            output.Append(']');
        }

        output.Append(':').Append(endpoint.Port);
    }

    /// <summary>netip.Prefix.String: address, '/', prefix length.</summary>
    public static void AppendPrefix(StringBuilder output, IPNetwork prefix)
    {
        AppendAddress(output, prefix.BaseAddress);
        output.Append('/').Append(prefix.PrefixLength);
    }
}
