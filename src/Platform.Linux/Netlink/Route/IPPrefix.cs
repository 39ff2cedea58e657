using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Branchgate.Platform.Linux.Netlink.Route;

/// <summary>
/// A network prefix in CIDR form (10.2.0.0/24, fd00::/64): an IPv4 or IPv6 address with no bits set after the prefix
/// length. Unlike <see cref="IPNetwork.Parse(string)"/>, which silently clears host bits, construction and
/// <see cref="Parse"/> refuse them ("10.2.0.1/24 has host bits set; did you mean 10.2.0.0/24?"), because a typo in a
/// route or allowed-IP range must not quietly become a different range. <c>default</c> is 0.0.0.0/0.
/// </summary>
public readonly struct IPPrefix : IEquatable<IPPrefix>
{
    private readonly IPAddress? _address;
    private readonly byte _length;

    /// <summary>The prefix <paramref name="address"/>/<paramref name="prefixLength"/>.</summary>
    /// <exception cref="ArgumentException">Not IPv4/IPv6, a length out of range, a scope id, or host bits set.</exception>
    public IPPrefix(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        string? error = Validate(address, prefixLength, requireNoHostBits: true);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(address));
        }

        _address = address;
        _length = (byte)prefixLength;
    }

    private IPPrefix(IPAddress address, byte prefixLength, bool trusted)
    {
        _ = trusted;
        _address = address;
        _length = prefixLength;
    }

    /// <summary>The first address of the range (the network address).</summary>
    public IPAddress Address => _address ?? IPAddress.Any;

    public int PrefixLength => _length;

    public AddressFamily Family => Address.AddressFamily;

    public bool IsIPv6 => Family == AddressFamily.InterNetworkV6;

    /// <summary>True for 0.0.0.0/0 and ::/0.</summary>
    public bool IsDefault => _length == 0;

    /// <summary>Parses "ADDRESS/LENGTH" strictly: dotted-quad IPv4 (no octal, hex or short forms) or IPv6 without a
    /// zone, a decimal length within the family's range, and no host bits.</summary>
    /// <exception cref="ArgumentException">The text is not such a prefix; the message says why.</exception>
    public static IPPrefix Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var prefix, out string? error) ? prefix : throw new ArgumentException(error, nameof(text));
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out IPPrefix prefix) => TryParse(text, out prefix, out _);

    /// <summary>Like <see cref="Parse"/>, reporting the reason instead of throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out IPPrefix prefix, [NotNullWhen(false)] out string? error)
    {
        prefix = default;
        if (!TryParseParts(text, out var address, out int length, out error))
        {
            return false;
        }

        error = Validate(address, length, requireNoHostBits: true);
        if (error is not null)
        {
            return false;
        }

        prefix = new IPPrefix(address, (byte)length, trusted: true);
        return true;
    }

    /// <summary>The prefix of the given length that contains <paramref name="address"/>, host bits cleared
    /// (10.1.0.1, 24 -> 10.1.0.0/24). For deriving a network from an interface address, not for user input.</summary>
    public static IPPrefix Containing(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        string? error = Validate(address, prefixLength, requireNoHostBits: false);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(address));
        }

        return new IPPrefix(Mask(address, prefixLength), (byte)prefixLength, trusted: true);
    }

    /// <summary>The single-address prefix (/32 or /128).</summary>
    public static IPPrefix Host(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new IPPrefix(address, address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32);
    }

    /// <summary>0.0.0.0/0 or ::/0.</summary>
    public static IPPrefix DefaultRoute(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => new IPPrefix(IPAddress.Any, 0, trusted: true),
        AddressFamily.InterNetworkV6 => new IPPrefix(IPAddress.IPv6Any, 0, trusted: true),
        _ => throw new ArgumentException($"not an IP address family: {family}", nameof(family)),
    };

    /// <summary>Whether <paramref name="address"/> (same family) lies in this range.</summary>
    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily == Family && Mask(address, _length).Equals(Address);
    }

    /// <summary>Whether <paramref name="other"/> lies entirely within this range (same family, equal or longer).</summary>
    public bool Contains(IPPrefix other) =>
        other.Family == Family && other._length >= _length && Contains(other.Address);

    /// <summary>Whether the two ranges share any address (for prefixes: one contains the other).</summary>
    public bool Overlaps(IPPrefix other) => Contains(other) || other.Contains(this);

    public IPNetwork ToIPNetwork() => new(Address, _length);

    public override string ToString() => $"{Address}/{_length}";

    public bool Equals(IPPrefix other) => _length == other._length && Address.Equals(other.Address);

    public override bool Equals(object? obj) => obj is IPPrefix other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Address, _length);

    public static bool operator ==(IPPrefix left, IPPrefix right) => left.Equals(right);

    public static bool operator !=(IPPrefix left, IPPrefix right) => !left.Equals(right);

    /// <summary>Splits "ADDRESS/LENGTH" and parses both halves strictly (shared with <see cref="InterfaceAddress"/>).</summary>
    internal static bool TryParseParts(
        string? text, [NotNullWhen(true)] out IPAddress? address, out int length, [NotNullWhen(false)] out string? error)
    {
        address = null;
        length = 0;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty prefix; expected ADDRESS/LENGTH such as 10.2.0.0/24";
            return false;
        }

        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            error = $"'{text}' has no prefix length; expected ADDRESS/LENGTH such as 10.2.0.0/24";
            return false;
        }

        var addressText = text.AsSpan(0, slash);
        var lengthText = text.AsSpan(slash + 1);
        if (!TryParseAddress(addressText, out address))
        {
            error = $"'{text}': '{addressText}' is not an IPv4 (dotted quad) or IPv6 address";
            return false;
        }

        if (lengthText.Length is 0 or > 3 || !IsDigits(lengthText) ||
            !int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out length))
        {
            error = $"'{text}': '{lengthText}' is not a prefix length";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Checks family, length range and (optionally) host bits; returns the reason or null.</summary>
    internal static string? Validate(IPAddress address, int prefixLength, bool requireNoHostBits)
    {
        int max = address.AddressFamily switch
        {
            AddressFamily.InterNetwork => 32,
            AddressFamily.InterNetworkV6 => 128,
            _ => -1,
        };
        if (max < 0)
        {
            return $"{address} is not an IPv4 or IPv6 address";
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
        {
            return $"{address} has a zone (scope id); a prefix cannot";
        }

        if (prefixLength < 0 || prefixLength > max)
        {
            return $"{address}/{prefixLength}: prefix length must be 0 to {max}";
        }

        if (requireNoHostBits)
        {
            var network = Mask(address, prefixLength);
            if (!network.Equals(address))
            {
                return $"{address}/{prefixLength} has host bits set; did you mean {network}/{prefixLength}?";
            }
        }

        return null;
    }

    private static IPAddress Mask(IPAddress address, int prefixLength)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int n);
        bytes = bytes[..n];
        for (int i = 0; i < n; i++)
        {
            int keep = Math.Clamp(prefixLength - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xff << (8 - keep));
        }

        return new IPAddress(bytes);
    }

    private static bool TryParseAddress(ReadOnlySpan<char> text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (text.Contains(':'))
        {
            // IPv6; zones ("%eth0") are not part of a prefix.
            return !text.Contains('%') && IPAddress.TryParse(text, out address) &&
                address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        // IPv4: exactly four decimal octets, no leading zeros (IPAddress.Parse would accept "10.1" or "010.0.0.1").
        Span<byte> octets = stackalloc byte[4];
        int part = 0;
        foreach (var range in text.Split('.'))
        {
            var digits = text[range];
            if (part == 4 || digits.Length is 0 or > 3 || !IsDigits(digits) || (digits.Length > 1 && digits[0] == '0'))
            {
                return false;
            }

            int value = int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
            if (value > 255)
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

    private static bool IsDigits(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }
}
