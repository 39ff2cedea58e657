using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Branchgate.Platform.Linux.Netlink.Route;

/// <summary>
/// An address assigned to an interface with the length of its on-link prefix, as in `ip addr add 10.1.0.1/24`.
/// Unlike <see cref="IPPrefix"/>, host bits are the point here; <see cref="Network"/> is the prefix it implies.
/// </summary>
public readonly struct InterfaceAddress : IEquatable<InterfaceAddress>
{
    private readonly IPAddress? _address;
    private readonly byte _length;

    /// <exception cref="ArgumentException">Not IPv4/IPv6, a zone, or a length out of range.</exception>
    public InterfaceAddress(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        string? error = IPPrefix.Validate(address, prefixLength, requireNoHostBits: false);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(address));
        }

        _address = address;
        _length = (byte)prefixLength;
    }

    public IPAddress Address => _address ?? IPAddress.Any;

    public int PrefixLength => _length;

    public AddressFamily Family => Address.AddressFamily;

    /// <summary>The on-link prefix (10.1.0.1/24 -> 10.1.0.0/24).</summary>
    public IPPrefix Network => IPPrefix.Containing(Address, _length);

    /// <summary>Parses "ADDRESS/LENGTH" as strictly as <see cref="IPPrefix.Parse"/>, but host bits are allowed.</summary>
    /// <exception cref="ArgumentException">The text is not such an address; the message says why.</exception>
    public static InterfaceAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var value, out string? error) ? value : throw new ArgumentException(error, nameof(text));
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out InterfaceAddress value, [NotNullWhen(false)] out string? error)
    {
        value = default;
        if (!IPPrefix.TryParseParts(text, out var address, out int length, out error))
        {
            return false;
        }

        error = IPPrefix.Validate(address, length, requireNoHostBits: false);
        if (error is not null)
        {
            return false;
        }

        value = new InterfaceAddress(address, length);
        return true;
    }

    public override string ToString() => $"{Address}/{_length}";

    public bool Equals(InterfaceAddress other) => _length == other._length && Address.Equals(other.Address);

    public override bool Equals(object? obj) => obj is InterfaceAddress other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Address, _length);

    public static bool operator ==(InterfaceAddress left, InterfaceAddress right) => left.Equals(right);

    public static bool operator !=(InterfaceAddress left, InterfaceAddress right) => !left.Equals(right);
}
