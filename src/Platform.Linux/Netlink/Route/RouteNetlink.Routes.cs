using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Netlink.Route;

public sealed partial class RouteNetlink
{
    /// <summary>RTM_F_CLONED: a cache entry, not a route anyone configured.</summary>
    private const uint RTM_F_CLONED = 0x200;

    /// <summary>Adds a route (`ip route add`); fails with EEXIST when the table already has one for the destination
    /// (for IPv6: with the same metric).</summary>
    /// <exception cref="NetlinkException">"RTM_NEWROUTE 10.2.0.0/24 table 220 dev br0: File exists", or another refusal.</exception>
    /// <exception cref="ArgumentException">Families disagree, a unicast route has neither gateway nor device, a
    /// device name is invalid, or multipath next hops were given.</exception>
    public void AddRoute(IPRoute route) =>
        ChangeRoute(route, Rtnl.RTM_NEWROUTE, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL, "RTM_NEWROUTE");

    /// <summary>Adds a route or replaces the one for the same destination, table (and, for IPv6, metric):
    /// `ip route replace`. The idempotent call for reconciling.</summary>
    public void ReplaceRoute(IPRoute route) =>
        ChangeRoute(route, Rtnl.RTM_NEWROUTE, Nl.NLM_F_CREATE | Nl.NLM_F_REPLACE, "RTM_NEWROUTE replace");

    /// <summary>Deletes the first route matching <paramref name="route"/> (`ip route del`): destination, table and
    /// type always; gateway, device, metric, scope and protocol only when given (null matches any).</summary>
    /// <exception cref="NetlinkException">ESRCH ("No such process (no such route)") when nothing matches.</exception>
    public void DeleteRoute(IPRoute route) => ChangeRoute(route, Rtnl.RTM_DELROUTE, 0, "RTM_DELROUTE");

    /// <summary>
    /// Every route of every table (main, local, default, 220, tables above 255...), of one family or (Unspecified)
    /// IPv4 then IPv6, or of <paramref name="table"/> only. Cache entries are left out. Device names are those the
    /// indexes had when listed.
    /// </summary>
    public IReadOnlyList<IPRoute> ListRoutes(AddressFamily family = AddressFamily.Unspecified, uint? table = null)
    {
        FamilyByte(family, nameof(family));
        var names = LinkNames();
        var routes = new List<IPRoute>();
        foreach (var f in family == AddressFamily.Unspecified
            ? [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6]
            : new[] { family })
        {
            routes.AddRange(DumpRoutes(f, names).Where(r => table is null || r.Table == table));
        }

        return routes;
    }

    private List<IPRoute> DumpRoutes(AddressFamily family, Dictionary<int, string> names)
    {
        Span<byte> buffer = stackalloc byte[64];
        var request = new NetlinkWriter(buffer, Rtnl.RTM_GETROUTE, 0);
        // Without strict checking the kernel ignores rtm_table and dumps every table; filtering happens above.
        request.WriteHeader(new RtMsg { Family = FamilyByte(family, nameof(family)) });
        var routes = new List<IPRoute>();
        _socket.Dump(request.Message, $"RTM_GETROUTE (list {FamilyName(family)} routes)", (type, payload) =>
        {
            if (type == Rtnl.RTM_NEWROUTE && TryParseRoute(payload, names, out var route))
            {
                routes.Add(route);
            }
        }, routes.Clear);
        return routes;
    }

    private void ChangeRoute(IPRoute route, ushort type, ushort flags, string verb)
    {
        ArgumentNullException.ThrowIfNull(route);
        bool deleting = type == Rtnl.RTM_DELROUTE;
        CheckRoute(route, deleting);
        string description = $"{verb} {route}";
        int oif = route.Device is { } device ? ResolveLink(device, description) : route.DeviceIndex;

        Span<byte> buffer = stackalloc byte[Rtnl.RequestBufferLength];
        var request = new NetlinkWriter(buffer, type, flags);
        request.WriteHeader(new RtMsg
        {
            Family = FamilyByte(route.Family, nameof(route)),
            DestinationLength = (byte)route.Destination.PrefixLength,
            SourceLength = (byte)(route.Source?.PrefixLength ?? 0),
            // rtm_table is a byte; RTA_TABLE below carries the full number and wins.
            Table = route.Table < 256 ? (byte)route.Table : (byte)RouteTable.Unspecified,
            Protocol = (byte)(route.Protocol ?? (deleting ? RouteProtocol.Unspecified : RouteProtocol.Static)),
            Scope = (byte)(route.Scope ?? (deleting ? RouteScope.Nowhere : DefaultScope(route))),
            Type = (byte)route.Type,
        });
        request.AttributeU32(Rtnl.RTA_TABLE, route.Table);
        if (route.Destination.PrefixLength > 0)
        {
            request.AttributeAddress(Rtnl.RTA_DST, route.Destination.Address);
        }

        if (route.Source is { } source)
        {
            request.AttributeAddress(Rtnl.RTA_SRC, source.Address);
        }

        if (route.Gateway is not null)
        {
            request.AttributeAddress(Rtnl.RTA_GATEWAY, route.Gateway);
        }

        if (oif > 0)
        {
            request.AttributeU32(Rtnl.RTA_OIF, (uint)oif);
        }

        if (route.Metric is { } metric)
        {
            request.AttributeU32(Rtnl.RTA_PRIORITY, metric);
        }

        if (route.PreferredSource is not null)
        {
            request.AttributeAddress(Rtnl.RTA_PREFSRC, route.PreferredSource);
        }

        Execute(request.Message, description, Errno.ESRCH, deleting ? "no such route" : null);
    }

    private static void CheckRoute(IPRoute route, bool deleting)
    {
        var family = route.Family;
        if (route.Gateway is not null && route.Gateway.AddressFamily != family)
        {
            throw new ArgumentException(
                $"route {route}: gateway {route.Gateway} is not {FamilyName(family)} like the destination", nameof(route));
        }

        if (route.PreferredSource is not null && route.PreferredSource.AddressFamily != family)
        {
            throw new ArgumentException(
                $"route {route}: source address {route.PreferredSource} is not {FamilyName(family)}", nameof(route));
        }

        if (route.Source is { } source && source.Family != family)
        {
            throw new ArgumentException($"route {route}: source prefix {source} is not {FamilyName(family)}", nameof(route));
        }

        if (route.Device is { } device)
        {
            ValidateLinkName(device, nameof(route));
        }

        if (!deleting && route.Type == RouteType.Unicast && route.Gateway is null && route.Device is null &&
            route.DeviceIndex <= 0)
        {
            // The kernel's answer would be a bare "No such device".
            throw new ArgumentException($"route {route}: a unicast route needs a gateway or a device", nameof(route));
        }

        if (!deleting && route.NextHops.Count > 0)
        {
            throw new ArgumentException($"route {route}: adding multipath routes is not supported", nameof(route));
        }
    }

    /// <summary>The scope `ip route add` would choose: host for local and NAT routes, link for broadcast, multicast,
    /// anycast and for unicast routes without a gateway, global otherwise.</summary>
    private static RouteScope DefaultScope(IPRoute route) => route.Type switch
    {
        RouteType.Local or RouteType.Nat => RouteScope.Host,
        RouteType.Broadcast or RouteType.Multicast or RouteType.Anycast => RouteScope.Link,
        RouteType.Unicast or RouteType.Unspecified when route.Gateway is null => RouteScope.Link,
        _ => RouteScope.Global,
    };

    internal static bool TryParseRoute(ReadOnlySpan<byte> payload, Dictionary<int, string> names, out IPRoute route)
    {
        route = null!;
        if (!TryReadHeader<RtMsg>(payload, out var header, out var attributes) ||
            FamilyOf(header.Family) is not { } family || (header.Flags & RTM_F_CLONED) != 0)
        {
            return false;
        }

        IPAddress? destination = null, source = null, gateway = null, preferredSource = null;
        uint table = header.Table, metric = 0;
        int oif = 0;
        List<RouteNextHop>? hops = null;
        foreach (var attribute in attributes)
        {
            switch (attribute.Type)
            {
                case Rtnl.RTA_DST:
                    destination = attribute.AsAddress();
                    break;
                case Rtnl.RTA_SRC:
                    source = attribute.AsAddress();
                    break;
                case Rtnl.RTA_GATEWAY:
                    gateway = attribute.AsAddress();
                    break;
                case Rtnl.RTA_OIF:
                    oif = (int)attribute.U32;
                    break;
                case Rtnl.RTA_PRIORITY:
                    metric = attribute.U32;
                    break;
                case Rtnl.RTA_PREFSRC:
                    preferredSource = attribute.AsAddress();
                    break;
                case Rtnl.RTA_TABLE:
                    table = attribute.U32;
                    break;
                case Rtnl.RTA_MULTIPATH:
                    hops = ParseNextHops(attribute.Value, names);
                    break;
            }
        }

        if (!TryMakePrefix(destination, header.DestinationLength, family, out var destinationPrefix))
        {
            return false;
        }

        IPPrefix? sourcePrefix = null;
        if (source is not null && TryMakePrefix(source, header.SourceLength, family, out var s))
        {
            sourcePrefix = s;
        }

        route = new IPRoute
        {
            Destination = destinationPrefix,
            Source = sourcePrefix,
            Type = (RouteType)header.Type,
            Table = table,
            Gateway = gateway,
            DeviceIndex = oif,
            Device = oif > 0 ? names.GetValueOrDefault(oif) : null,
            Metric = metric,
            Scope = (RouteScope)header.Scope,
            Protocol = (RouteProtocol)header.Protocol,
            PreferredSource = preferredSource,
            NextHops = hops ?? [],
        };
        return true;
    }

    /// <summary>A prefix from a dumped address and length; a missing address is the family's default route.</summary>
    private static bool TryMakePrefix(IPAddress? address, byte length, AddressFamily family, out IPPrefix prefix)
    {
        prefix = default;
        address ??= family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
        if (address.AddressFamily != family || IPPrefix.Validate(address, length, requireNoHostBits: false) is not null)
        {
            return false;
        }

        prefix = IPPrefix.Containing(address, length);
        return true;
    }

    /// <summary>RTA_MULTIPATH holds struct rtnexthop records (u16 length, u8 flags, u8 hops, s32 ifindex), each
    /// followed by its own attributes (RTA_GATEWAY).</summary>
    private static List<RouteNextHop> ParseNextHops(ReadOnlySpan<byte> value, Dictionary<int, string> names)
    {
        var hops = new List<RouteNextHop>();
        while (value.Length >= Rtnl.RtNextHopLength)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(value);
            if (length < Rtnl.RtNextHopLength || length > value.Length)
            {
                break;
            }

            int weight = value[3] + 1;
            int index = BinaryPrimitives.ReadInt32LittleEndian(value[4..]);
            IPAddress? gateway = null;
            foreach (var attribute in new NetlinkAttributes(value[Rtnl.RtNextHopLength..length]))
            {
                if (attribute.Type == Rtnl.RTA_GATEWAY)
                {
                    gateway = attribute.AsAddress();
                }
            }

            hops.Add(new RouteNextHop(gateway, index, names.GetValueOrDefault(index), weight));
            value = value[Math.Min(Nl.Align(length), value.Length)..];
        }

        return hops;
    }
}
