using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Branchgate.Platform.Linux.Netlink.Route;

/// <summary>
/// A route of any routing table, as in `ip route`: what <see cref="RouteNetlink.ListRoutes"/> returns (every field
/// filled in from the kernel) and what add/replace/delete take. In requests, null fields mean "the kernel's default"
/// when adding and "any" when deleting (e.g. a null <see cref="Metric"/> deletes the route whatever its metric).
/// </summary>
public sealed record IPRoute
{
    /// <summary>The destination range (RTA_DST and rtm_dst_len); 0.0.0.0/0 or ::/0 is the default route.</summary>
    public required IPPrefix Destination { get; init; }

    public RouteType Type { get; init; } = RouteType.Unicast;

    /// <summary>The routing table (RTA_TABLE, so tables above 255 work): 254 main, 255 local, 220 strongSwan's...</summary>
    public uint Table { get; init; } = RouteTable.Main;

    /// <summary>The next hop's address (RTA_GATEWAY), same family as the destination; null for on-link routes.</summary>
    public IPAddress? Gateway { get; init; }

    /// <summary>The output interface by name. In requests it wins over <see cref="DeviceIndex"/>; in dumps it is the
    /// name the index had when listed (null if the link vanished meanwhile).</summary>
    public string? Device { get; init; }

    /// <summary>The output interface's index (RTA_OIF); 0 for none (blackhole, throw...).</summary>
    public int DeviceIndex { get; init; }

    /// <summary>The route's priority (RTA_PRIORITY), lower wins. In dumps 0 when the kernel sent none (IPv4 default).
    /// When adding, null lets the kernel choose (0 for IPv4, 1024 for IPv6).</summary>
    public uint? Metric { get; init; }

    /// <summary>The scope. When adding, null means what `ip route` would use: host for local routes, link for
    /// on-link unicast routes (no gateway), global otherwise. When deleting, null matches any scope.</summary>
    public RouteScope? Scope { get; init; }

    /// <summary>Who installed the route. When adding, null means <see cref="RouteProtocol.Static"/>; when deleting,
    /// null matches any protocol.</summary>
    public RouteProtocol? Protocol { get; init; }

    /// <summary>The source address preferred for traffic on this route (RTA_PREFSRC, `ip route ... src`).</summary>
    public IPAddress? PreferredSource { get; init; }

    /// <summary>Source prefix of a source-specific IPv6 route (RTA_SRC, `ip -6 route ... from`).</summary>
    public IPPrefix? Source { get; init; }

    /// <summary>The next hops of a multipath route (RTA_MULTIPATH), in dumps only; empty for single-path routes.
    /// Adding multipath routes is not supported.</summary>
    public IReadOnlyList<RouteNextHop> NextHops { get; init; } = [];

    public AddressFamily Family => Destination.Family;

    /// <summary>Field-by-field equality, next hops compared by content (a record would compare the list reference).</summary>
    public bool Equals(IPRoute? other) =>
        other is not null &&
        Destination == other.Destination && Type == other.Type && Table == other.Table &&
        Equals(Gateway, other.Gateway) && Device == other.Device && DeviceIndex == other.DeviceIndex &&
        Metric == other.Metric && Scope == other.Scope && Protocol == other.Protocol &&
        Equals(PreferredSource, other.PreferredSource) && Source == other.Source &&
        NextHops.SequenceEqual(other.NextHops);

    public override int GetHashCode() => HashCode.Combine(Destination, Type, Table, Gateway, DeviceIndex, Metric);

    /// <summary>The route in `ip route` words: "blackhole 10.5.0.0/16 table 220", "10.2.0.0/24 table main via
    /// 10.1.0.2 dev br0 metric 5".</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        if (Type != RouteType.Unicast)
        {
            text.Append(RouteNames.Type(Type)).Append(' ');
        }

        text.Append(Destination);
        if (Source is { } source)
        {
            text.Append(" from ").Append(source);
        }

        text.Append(" table ").Append(RouteNames.Table(Table));
        if (Gateway is not null)
        {
            text.Append(" via ").Append(Gateway);
        }

        if (Device is not null)
        {
            text.Append(" dev ").Append(Device);
        }
        else if (DeviceIndex > 0)
        {
            text.Append(" dev #").Append(DeviceIndex);
        }

        foreach (var hop in NextHops)
        {
            text.Append(" nexthop ").Append(hop);
        }

        if (Metric is { } metric)
        {
            text.Append(" metric ").Append(metric);
        }

        if (Protocol is { } protocol)
        {
            text.Append(" proto ").Append(RouteNames.Protocol(protocol));
        }

        if (Scope is { } scope)
        {
            text.Append(" scope ").Append(RouteNames.Scope(scope));
        }

        if (PreferredSource is not null)
        {
            text.Append(" src ").Append(PreferredSource);
        }

        return text.ToString();
    }
}

/// <summary>One next hop of a multipath route.</summary>
/// <param name="Gateway">The hop's gateway, null for an on-link hop.</param>
/// <param name="DeviceIndex">The hop's output interface index.</param>
/// <param name="Device">The hop's output interface name (null if the link vanished while listing).</param>
/// <param name="Weight">The hop's weight (rtnh_hops + 1).</param>
public sealed record RouteNextHop(IPAddress? Gateway, int DeviceIndex, string? Device, int Weight)
{
    public override string ToString() =>
        (Gateway is null ? string.Empty : $"via {Gateway} ") + $"dev {Device ?? "#" + DeviceIndex} weight {Weight}";
}

/// <summary>Route types (rtm_type, RTN_*).</summary>
public enum RouteType : byte
{
    Unspecified = 0,

    /// <summary>A normal route: forward via a gateway or on-link.</summary>
    Unicast = 1,

    /// <summary>The destination is this host (table local).</summary>
    Local = 2,
    Broadcast = 3,
    Anycast = 4,
    Multicast = 5,

    /// <summary>Drop silently.</summary>
    Blackhole = 6,

    /// <summary>Drop with ICMP unreachable (the sender sees EHOSTUNREACH).</summary>
    Unreachable = 7,

    /// <summary>Drop with ICMP administratively prohibited (the sender sees EACCES).</summary>
    Prohibit = 8,

    /// <summary>Stop looking in this table: the lookup continues with the next policy rule.</summary>
    Throw = 9,
    Nat = 10,
}

/// <summary>Scopes of routes and addresses (rtm_scope, ifa_scope, RT_SCOPE_*).</summary>
public enum RouteScope : byte
{
    /// <summary>RT_SCOPE_UNIVERSE ("global" in `ip`): reachable beyond this link.</summary>
    Global = 0,
    Site = 200,

    /// <summary>On the directly attached link.</summary>
    Link = 253,

    /// <summary>This host only.</summary>
    Host = 254,
    Nowhere = 255,
}

/// <summary>Who installed a route or rule (rtm_protocol, RTPROT_*). Any byte value is possible.</summary>
public enum RouteProtocol : byte
{
    Unspecified = 0,
    Redirect = 1,

    /// <summary>Added by the kernel itself (prefix routes of addresses, table local).</summary>
    Kernel = 2,

    /// <summary>What `ip route add` uses unless told otherwise.</summary>
    Boot = 3,

    /// <summary>Added by an administrator or daemon on purpose; the default of <see cref="RouteNetlink"/>.</summary>
    Static = 4,
    RouterAdvertisement = 9,
    Zebra = 11,
    Bird = 12,
    Dhcp = 16,
    KeepAlived = 18,
    Babel = 42,
    Bgp = 186,
    Isis = 187,
    Ospf = 188,
    Rip = 189,
}

/// <summary>Well-known routing table numbers (RT_TABLE_*).</summary>
public static class RouteTable
{
    public const uint Unspecified = 0;
    public const uint Default = 253;
    public const uint Main = 254;
    public const uint Local = 255;

    /// <summary>strongSwan's table for IPsec routes (consulted by rule priority 220, before main).</summary>
    public const uint StrongSwan = 220;
}

/// <summary>`ip`-style words for route fields, used in request descriptions and <see cref="IPRoute.ToString"/>.</summary>
internal static class RouteNames
{
    public static string Table(uint table) => table switch
    {
        RouteTable.Default => "default",
        RouteTable.Main => "main",
        RouteTable.Local => "local",
        _ => table.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static string Type(RouteType type) => Enum.IsDefined(type) ? type.ToString().ToLowerInvariant() : $"type {(byte)type}";

    public static string Scope(RouteScope scope) => Enum.IsDefined(scope) ? scope.ToString().ToLowerInvariant() : ((byte)scope).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Protocol(RouteProtocol protocol) => Enum.IsDefined(protocol) ? protocol.ToString().ToLowerInvariant() : ((byte)protocol).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
