using System.Net;
using System.Net.Sockets;

namespace Branchgate.Platform.Linux.Netlink.Xfrm;

/// <summary>
/// The traffic a policy or state applies to (struct xfrm_selector). Addresses are as the kernel holds them, host bits
/// included (the kernel does not clear them; only the first prefix-length bits are compared), so
/// <see cref="SourceNetwork"/> and <see cref="DestinationNetwork"/> give the masked networks for overlap checks. Ports
/// are in host order and match when <c>(port &amp; mask) == Port</c>; a mask of 0 matches any port. For ICMP and ICMPv6
/// the kernel keeps the type in the source port and the code in the destination port.
/// </summary>
public sealed record XfrmSelector
{
    /// <summary>InterNetwork or InterNetworkV6; Unspecified only on a state whose selector has no family.</summary>
    public required AddressFamily Family { get; init; }

    public required IPAddress Source { get; init; }

    public required int SourcePrefixLength { get; init; }

    public required IPAddress Destination { get; init; }

    public required int DestinationPrefixLength { get; init; }

    /// <summary>IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 50 ESP ...); 0 matches any.</summary>
    public required byte Protocol { get; init; }

    public required ushort SourcePort { get; init; }

    public required ushort SourcePortMask { get; init; }

    public required ushort DestinationPort { get; init; }

    public required ushort DestinationPortMask { get; init; }

    /// <summary>Only packets through this interface match (`ip xfrm policy ... dev`); 0 for any.</summary>
    public required int InterfaceIndex { get; init; }

    /// <summary>The uid the selector is limited to (kernel field `user`); 0 in practice.</summary>
    public required uint User { get; init; }

    public IPNetwork SourceNetwork => Masked(Source, SourcePrefixLength);

    public IPNetwork DestinationNetwork => Masked(Destination, DestinationPrefixLength);

    /// <summary>Converts the raw selector; <paramref name="fallbackFamily"/> reads the addresses of a family-less one.</summary>
    internal static XfrmSelector? From(in XfrmSelectorRaw raw, ushort fallbackFamily)
    {
        ushort family = raw.Family == XfrmConstants.AF_UNSPEC ? fallbackFamily : raw.Family;
        int maxPrefix = family switch
        {
            XfrmConstants.AF_INET => 32,
            XfrmConstants.AF_INET6 => 128,
            _ => -1,
        };
        if (maxPrefix < 0 || raw.PrefixLengthSource > maxPrefix || raw.PrefixLengthDestination > maxPrefix)
        {
            return null;
        }

        return new XfrmSelector
        {
            Family = raw.Family == XfrmConstants.AF_UNSPEC ? AddressFamily.Unspecified : ToAddressFamily(family),
            Source = raw.Saddr.ToAddress(family),
            SourcePrefixLength = raw.PrefixLengthSource,
            Destination = raw.Daddr.ToAddress(family),
            DestinationPrefixLength = raw.PrefixLengthDestination,
            Protocol = raw.Proto,
            SourcePort = NetworkOrder.ToHost(raw.SportBigEndian),
            SourcePortMask = NetworkOrder.ToHost(raw.SportMaskBigEndian),
            DestinationPort = NetworkOrder.ToHost(raw.DportBigEndian),
            DestinationPortMask = NetworkOrder.ToHost(raw.DportMaskBigEndian),
            InterfaceIndex = raw.IfIndex,
            User = raw.User,
        };
    }

    internal static AddressFamily ToAddressFamily(ushort family) => family switch
    {
        XfrmConstants.AF_INET => AddressFamily.InterNetwork,
        XfrmConstants.AF_INET6 => AddressFamily.InterNetworkV6,
        _ => AddressFamily.Unspecified,
    };

    private static IPNetwork Masked(IPAddress address, int prefixLength)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        bytes = bytes[..length];
        for (int bit = prefixLength; bit < length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPNetwork(new IPAddress(bytes), prefixLength);
    }
}
