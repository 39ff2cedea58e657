using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Udp;

/// <summary>
/// A peer's UDP address and port, plus the local address (and interface) its last datagram arrived on. Sends to an
/// endpoint that carries a source leave from that source ("sticky" source, as the kernel's WireGuard caches it per
/// endpoint), so replies come from the address the peer talked to on a host with several addresses.
/// IPv4 peers are always IPv4 here, also when they reached the dual-stack socket as IPv4-mapped IPv6.
/// A plain value: copying and comparing it never allocates.
/// </summary>
public struct UdpEndpoint : IEquatable<UdpEndpoint>
{
    private AddressBytes _address;
    private AddressBytes _source;
    private uint _scopeId;
    private int _sourceIfIndex;
    private ushort _port;
    private byte _family;
    private bool _hasSource;

    /// <summary>An endpoint from raw address bytes (4 for IPv4, 16 for IPv6; IPv4-mapped IPv6 becomes IPv4).</summary>
    public UdpEndpoint(ReadOnlySpan<byte> address, ushort port, uint scopeId = 0)
    {
        SetAddress(ref _address, address, out _family);
        _port = port;
        _scopeId = _family == 6 ? scopeId : 0;
    }

    /// <summary>AddressFamily.InterNetwork or InterNetworkV6; Unspecified for the default (empty) value.</summary>
    public readonly AddressFamily Family => _family switch
    {
        4 => AddressFamily.InterNetwork,
        6 => AddressFamily.InterNetworkV6,
        _ => AddressFamily.Unspecified,
    };

    public readonly bool IsIPv4 => _family == 4;

    public readonly bool IsIPv6 => _family == 6;

    public readonly ushort Port => _port;

    /// <summary>The IPv6 scope (interface index) of a link-local peer; 0 otherwise.</summary>
    public readonly uint ScopeId => _scopeId;

    /// <summary>The peer's address bytes in network order: 4 for IPv4, 16 for IPv6, empty for the default value.</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> Address => ((ReadOnlySpan<byte>)_address)[..AddressLength(_family)];

    /// <summary>True when sends pin the source address learned from the peer's last datagram.</summary>
    public readonly bool HasSource => _hasSource;

    /// <summary>The local address the peer's last datagram arrived on (same family as the peer); empty when none.</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> SourceAddress =>
        _hasSource ? ((ReadOnlySpan<byte>)_source)[..AddressLength(_family)] : default;

    /// <summary>The interface the peer's last datagram arrived on; 0 when unknown.</summary>
    public readonly int SourceIfIndex => _sourceIfIndex;

    /// <summary>Parses "a.b.c.d:port" or "[v6%scope]:port" (the UAPI endpoint form).</summary>
    public static UdpEndpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // A port is required: "[v6]:port", or "a.b.c.d:port" with its single colon (a bare IPv6 address is no endpoint).
        bool hasPort = text.StartsWith('[')
            ? text.Contains("]:", StringComparison.Ordinal)
            : text.Count(':') == 1;
        if (!hasPort || !IPEndPoint.TryParse(text, out var parsed))
        {
            throw new FormatException($"'{text}' is not an endpoint of the form a.b.c.d:port or [v6]:port");
        }

        return FromIPEndPoint(parsed);
    }

    public static UdpEndpoint FromIPEndPoint(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        Span<byte> bytes = stackalloc byte[16];
        if (!endPoint.Address.TryWriteBytes(bytes, out int written))
        {
            throw new ArgumentException($"address {endPoint.Address} has no byte form", nameof(endPoint));
        }

        uint scope = endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? (uint)endPoint.Address.ScopeId : 0;
        return new UdpEndpoint(bytes[..written], (ushort)endPoint.Port, scope);
    }

    public readonly IPEndPoint ToIPEndPoint()
    {
        if (_family == 0)
        {
            throw new InvalidOperationException("the endpoint is empty");
        }

        var address = _family == 6 ? new IPAddress(Address, _scopeId) : new IPAddress(Address);
        return new IPEndPoint(address, _port);
    }

    /// <summary>The pinned source address as an IPAddress, or null when none is pinned.</summary>
    public readonly IPAddress? SourceToIPAddress() => _hasSource ? new IPAddress(SourceAddress) : null;

    /// <summary>
    /// Pins the source address for sends to this endpoint (4 or 16 bytes of the endpoint's family; IPv4-mapped IPv6 is
    /// taken as IPv4). The interface index is used on send only for an IPv6 link-local source, which needs it.
    /// </summary>
    public void SetSource(ReadOnlySpan<byte> address, int ifIndex)
    {
        SetAddress(ref _source, address, out byte family);
        if (family != _family)
        {
            throw new ArgumentException("the source address must have the endpoint's address family", nameof(address));
        }

        _hasSource = true;
        _sourceIfIndex = ifIndex;
    }

    /// <summary>Forgets the pinned source: the kernel's routing picks one again.</summary>
    public void ClearSource()
    {
        _source = default;
        _hasSource = false;
        _sourceIfIndex = 0;
    }

    /// <summary>Same peer address, port and scope, whatever source either side has pinned.</summary>
    public readonly bool DestinationEquals(in UdpEndpoint other) =>
        _family == other._family && _port == other._port && _scopeId == other._scopeId &&
        ((ReadOnlySpan<byte>)_address).SequenceEqual(other._address);

    /// <summary>Same destination and same pinned source (what may share one GSO send).</summary>
    public readonly bool Equals(UdpEndpoint other) =>
        DestinationEquals(other) && _hasSource == other._hasSource && _sourceIfIndex == other._sourceIfIndex &&
        ((ReadOnlySpan<byte>)_source).SequenceEqual(other._source);

    public override readonly bool Equals(object? obj) => obj is UdpEndpoint other && Equals(other);

    public override readonly int GetHashCode()
    {
        ReadOnlySpan<byte> a = _address;
        return HashCode.Combine(
            MemoryMarshal.Read<ulong>(a), MemoryMarshal.Read<ulong>(a[8..]), _port, _family, _hasSource);
    }

    public static bool operator ==(UdpEndpoint left, UdpEndpoint right) => left.Equals(right);

    public static bool operator !=(UdpEndpoint left, UdpEndpoint right) => !left.Equals(right);

    /// <summary>"a.b.c.d:port" or "[v6]:port" (allocates: for logs and messages, not per packet).</summary>
    public override readonly string ToString() => _family == 0 ? "(none)" : ToIPEndPoint().ToString();

    /// <summary>
    /// Writes the peer as a sockaddr for a socket of the given kind: sockaddr_in6 (IPv4 as IPv4-mapped) for the
    /// dual-stack socket, sockaddr_in for IPv4 on the IPv4-only socket. Returns the length written.
    /// </summary>
    internal readonly unsafe uint WriteSockaddr(byte* storage, bool dualStack)
    {
        var span = new Span<byte>(storage, UdpNative.SockaddrIn6Size);
        span.Clear();
        ReadOnlySpan<byte> address = _address;
        if (_family == 4 && !dualStack)
        {
            MemoryMarshal.Write(span, (ushort)Interop.Libc.AF_INET);
            BinaryPrimitives.WriteUInt16BigEndian(span[2..], _port);
            address[..4].CopyTo(span[4..]);
            return UdpNative.SockaddrInSize;
        }

        MemoryMarshal.Write(span, (ushort)Interop.Libc.AF_INET6);
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], _port);
        if (_family == 4)
        {
            span[18] = 0xff;
            span[19] = 0xff;
            address[..4].CopyTo(span[20..]);
        }
        else
        {
            address.CopyTo(span[8..]);
            MemoryMarshal.Write(span[24..], _scopeId);
        }

        return UdpNative.SockaddrIn6Size;
    }

    /// <summary>Reads a sockaddr_in or sockaddr_in6 the kernel filled in; clears any pinned source.</summary>
    internal unsafe void ReadSockaddr(byte* storage, uint length)
    {
        this = default;
        var span = new ReadOnlySpan<byte>(storage, (int)Math.Min(length, (uint)UdpNative.SockaddrIn6Size));
        if (span.Length < UdpNative.SockaddrInSize)
        {
            return;
        }

        ushort family = MemoryMarshal.Read<ushort>(span);
        _port = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
        if (family == Interop.Libc.AF_INET)
        {
            SetAddress(ref _address, span.Slice(4, 4), out _family);
        }
        else if (family == Interop.Libc.AF_INET6 && span.Length >= UdpNative.SockaddrIn6Size)
        {
            SetAddress(ref _address, span.Slice(8, 16), out _family);
            _scopeId = _family == 6 ? MemoryMarshal.Read<uint>(span[24..]) : 0;
        }
    }

    /// <summary>Stores an address, turning IPv4-mapped IPv6 into IPv4; family is 4 or 6.</summary>
    private static void SetAddress(ref AddressBytes target, ReadOnlySpan<byte> address, out byte family)
    {
        target = default;
        Span<byte> bytes = target;
        if (address.Length == 4)
        {
            address.CopyTo(bytes);
            family = 4;
        }
        else if (address.Length == 16 && IsV4Mapped(address))
        {
            address[12..].CopyTo(bytes);
            family = 4;
        }
        else if (address.Length == 16)
        {
            address.CopyTo(bytes);
            family = 6;
        }
        else
        {
            throw new ArgumentException("an address has 4 (IPv4) or 16 (IPv6) bytes", nameof(address));
        }
    }

    internal static bool IsV4Mapped(ReadOnlySpan<byte> address) =>
        address[..10].IndexOfAnyExcept((byte)0) < 0 && address[10] == 0xff && address[11] == 0xff;

    private static int AddressLength(byte family) => family switch
    {
        4 => 4,
        6 => 16,
        _ => 0,
    };

    [InlineArray(16)]
    private struct AddressBytes
    {
        private byte _element0;
    }
}
