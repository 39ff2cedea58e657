using System.Net;
using System.Net.Sockets;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Netlink;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Platform.Linux.Tests.Netlink.Route;

/// <summary>Routes of every table through rtnetlink against the real kernel, checked with `ip -j route show table all`.</summary>
public class RouteTests
{
    private const string Setup =
        "ip link add br-a type bridge && ip link set br-a up && ip addr add 10.1.0.1/24 dev br-a && " +
        "ip -6 addr add fd00:1::1/64 dev br-a nodad";

    [Fact]
    public void IPv4_routes_of_main_220_and_a_table_above_255_are_dumped_as_ip_shows_them()
    {
        using var ns = new NetNs("rtroute4");
        ns.Exec(Setup);
        var listed = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            rt.AddRoute(new IPRoute { Destination = P("10.2.0.0/24"), Device = "br-a" });
            rt.AddRoute(new IPRoute { Destination = P("10.3.0.0/24"), Gateway = A("10.1.0.2"), Table = 220, Metric = 5 });
            rt.AddRoute(new IPRoute { Destination = P("0.0.0.0/0"), Gateway = A("10.1.0.254"), Table = 220 });
            rt.AddRoute(new IPRoute { Destination = P("10.4.0.0/16"), Device = "br-a", Table = 1000, Metric = 7, Protocol = RouteProtocol.Bird });
            rt.AddRoute(new IPRoute { Destination = P("10.4.1.0/24"), Device = "br-a", Table = 70000, Scope = RouteScope.Link, PreferredSource = A("10.1.0.1") });
            rt.AddRoute(new IPRoute { Type = RouteType.Throw, Destination = P("10.5.0.0/16"), Table = 220 });
            rt.AddRoute(new IPRoute { Type = RouteType.Blackhole, Destination = P("10.6.0.0/16"), Table = 1000 });
            rt.AddRoute(new IPRoute { Type = RouteType.Unreachable, Destination = P("10.7.0.0/16") });
            rt.AddRoute(new IPRoute { Type = RouteType.Prohibit, Destination = P("10.8.0.1/32") });
            rt.AddRoute(new IPRoute { Type = RouteType.Local, Destination = P("10.1.0.77/32"), Device = "br-a", Table = RouteTable.Local });
            return rt.ListRoutes(AddressFamily.InterNetwork);
        });

        Assert.Equal(Shown(ns, "-4"), listed.Select(Describe).Order());
        var inTable1000 = listed.Single(r => r.Destination == P("10.4.0.0/16"));
        Assert.Equal((uint)1000, inTable1000.Table);
        Assert.Equal("br-a", inTable1000.Device);
        Assert.Equal(RouteProtocol.Bird, inTable1000.Protocol);
        Assert.Equal((uint)70000, listed.Single(r => r.Destination == P("10.4.1.0/24")).Table);
        Assert.Equal(RouteScope.Link, listed.Single(r => r.Destination == P("10.2.0.0/24")).Scope);
        Assert.Equal(RouteProtocol.Static, listed.Single(r => r.Destination == P("10.2.0.0/24")).Protocol);
        Assert.Equal(RouteScope.Global, listed.Single(r => r.Destination == P("10.3.0.0/24")).Scope);
        Assert.Contains(listed, r => r.Type == RouteType.Local && r.Table == RouteTable.Local && r.Destination == P("10.1.0.1/32"));
        Assert.Contains(listed, r => r.Destination.IsDefault && r.Table == 220);
    }

    [Fact]
    public void IPv6_routes_of_several_tables_are_dumped_as_ip_shows_them()
    {
        using var ns = new NetNs("rtroute6");
        ns.Exec(Setup);
        var listed = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            rt.AddRoute(new IPRoute { Destination = P("fd00:2::/64"), Gateway = A("fd00:1::2"), Table = 300, Metric = 9 });
            rt.AddRoute(new IPRoute { Destination = P("fd00:4::/64"), Device = "br-a", Table = 220 });
            rt.AddRoute(new IPRoute { Destination = P("::/0"), Gateway = A("fd00:1::fe"), Device = "br-a" });
            rt.AddRoute(new IPRoute { Type = RouteType.Blackhole, Destination = P("fd00:3::/64") });
            rt.AddRoute(new IPRoute { Type = RouteType.Throw, Destination = P("fd00:5::/64"), Table = 220 });
            rt.AddRoute(new IPRoute { Type = RouteType.Unreachable, Destination = P("fd00:6::/64"), Table = 70000 });
            rt.AddRoute(new IPRoute { Type = RouteType.Prohibit, Destination = P("fd00:7::1/128") });
            return rt.ListRoutes(AddressFamily.InterNetworkV6);
        });

        Assert.Equal(Shown(ns, "-6"), listed.Select(Describe).Order());
        var viaGateway = listed.Single(r => r.Destination == P("fd00:2::/64"));
        Assert.Equal(A("fd00:1::2"), viaGateway.Gateway);
        Assert.Equal((uint?)9, viaGateway.Metric);
        Assert.Equal((uint)300, viaGateway.Table);
        Assert.Equal((uint?)1024, listed.Single(r => r.Destination == P("fd00:3::/64")).Metric);
    }

    [Fact]
    public void Routes_are_replaced_deleted_and_round_trip_from_a_dump()
    {
        using var ns = new NetNs("rtroutechg");
        ns.Exec(Setup + " && ip route add 10.20.0.0/24 table 230 nexthop via 10.1.0.2 weight 1 nexthop via 10.1.0.3 weight 3");
        var (after, multipath, afterDelete) = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            rt.AddRoute(new IPRoute { Destination = P("10.3.0.0/24"), Gateway = A("10.1.0.2"), Table = 220, Metric = 5 });
            rt.ReplaceRoute(new IPRoute { Destination = P("10.3.0.0/24"), Gateway = A("10.1.0.3"), Table = 220, Metric = 5 });
            rt.ReplaceRoute(new IPRoute { Destination = P("10.9.0.0/24"), Device = "br-a", Table = 220 });
            rt.AddRoute(new IPRoute { Destination = P("fd00:9::/64"), Device = "br-a", Table = 500 });
            rt.AddRoute(new IPRoute { Type = RouteType.Blackhole, Destination = P("10.6.0.0/16"), Table = 220 });
            var replaced = rt.ListRoutes(table: 220);
            var hops = rt.ListRoutes(AddressFamily.InterNetwork, 230).Single();

            rt.DeleteRoute(new IPRoute { Destination = P("10.3.0.0/24"), Table = 220 });
            rt.DeleteRoute(rt.ListRoutes(table: 500).Single()); // every field from the dump, as the reconciler would
            rt.DeleteRoute(new IPRoute { Type = RouteType.Blackhole, Destination = P("10.6.0.0/16"), Table = 220 });
            rt.DeleteRoute(hops);
            return (replaced, hops, rt.ListRoutes());
        });

        var inTable220 = Assert.Single(after, r => r.Destination == P("10.3.0.0/24"));
        Assert.Equal(A("10.1.0.3"), inTable220.Gateway);
        Assert.Contains(after, r => r.Destination == P("10.9.0.0/24"));
        Assert.All(after, r => Assert.Equal((uint)220, r.Table));

        Assert.Null(multipath.Gateway);
        Assert.Equal([(A("10.1.0.2"), 1), (A("10.1.0.3"), 3)], multipath.NextHops.Select(h => (h.Gateway, h.Weight)));
        Assert.All(multipath.NextHops, h => Assert.Equal("br-a", h.Device));
        Assert.Equal(multipath, multipath with { NextHops = [.. multipath.NextHops] });
        Assert.NotEqual(multipath, multipath with { NextHops = [multipath.NextHops[0]] });

        Assert.DoesNotContain(afterDelete, r => r.Destination == P("10.3.0.0/24") || r.Destination == P("fd00:9::/64") ||
            r.Destination == P("10.6.0.0/16") || r.Table == 230);
        Assert.Contains(afterDelete, r => r.Destination == P("10.9.0.0/24"));
        Assert.DoesNotContain(ns.IpJson("route show table all").EnumerateArray(), r => r.Text("dst") == "10.3.0.0/24");
    }

    [Fact]
    public void Throw_blackhole_unreachable_and_prohibit_routes_change_what_a_lookup_finds()
    {
        using var ns = new NetNs("rtroutethrow");
        ns.Exec(Setup + " && ip rule add priority 100 table 220");
        var errors = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            rt.AddRoute(new IPRoute { Destination = P("10.50.0.0/16"), Gateway = A("10.1.0.2"), Table = 220 });
            rt.AddRoute(new IPRoute { Type = RouteType.Throw, Destination = P("10.50.1.0/24"), Table = 220 });
            rt.AddRoute(new IPRoute { Destination = P("10.50.1.0/24"), Gateway = A("10.1.0.3") });
            rt.AddRoute(new IPRoute { Type = RouteType.Blackhole, Destination = P("10.50.2.0/24"), Table = 220 });
            rt.AddRoute(new IPRoute { Type = RouteType.Unreachable, Destination = P("10.50.3.0/24"), Table = 220 });
            rt.AddRoute(new IPRoute { Type = RouteType.Prohibit, Destination = P("10.50.4.0/24"), Table = 220 });
            return new[] { "10.50.2.9", "10.50.3.9", "10.50.4.9" }.Select(ConnectError).ToList();
        });

        Assert.Equal("10.1.0.2", ns.IpJson("route get 10.50.9.9")[0].Text("gateway"));
        Assert.Equal("10.1.0.3", ns.IpJson("route get 10.50.1.9")[0].Text("gateway")); // thrown back to main
        Assert.Equal([SocketError.InvalidArgument, SocketError.HostUnreachable, SocketError.AccessDenied], errors);
    }

    /// <summary>How the kernel answers a UDP connect (a route lookup, no packet sent) to <paramref name="address"/>.</summary>
    private static SocketError ConnectError(string address)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Connect(A(address), 9);
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }

    [Fact]
    public void Refusals_name_the_route_and_table_and_bad_arguments_fail_before_any_request()
    {
        using var ns = new NetNs("rtrouteerr");
        ns.Exec(Setup + " && ip route add 10.2.0.0/24 dev br-a table 220");
        var e = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            return (
                exists: Assert.Throws<NetlinkException>(() => rt.AddRoute(new IPRoute { Destination = P("10.2.0.0/24"), Device = "br-a", Table = 220 })),
                absent: Assert.Throws<NetlinkException>(() => rt.DeleteRoute(new IPRoute { Destination = P("10.2.0.0/24"), Table = 221 })),
                noLink: Assert.Throws<NetlinkException>(() => rt.AddRoute(new IPRoute { Destination = P("10.3.0.0/24"), Device = "nosuch0" })),
                tooLong: Assert.Throws<ArgumentException>(() => rt.AddRoute(new IPRoute { Destination = P("10.3.0.0/24"), Device = "a-name-of-16byte" })),
                nowhere: Assert.Throws<ArgumentException>(() => rt.AddRoute(new IPRoute { Destination = P("10.3.0.0/24"), Table = 1000 })),
                mixed: Assert.Throws<ArgumentException>(() => rt.AddRoute(new IPRoute { Destination = P("10.3.0.0/24"), Gateway = A("fd00:1::2") })),
                unreachableGateway: Assert.Throws<NetlinkException>(() => rt.AddRoute(new IPRoute { Destination = P("10.3.0.0/24"), Gateway = A("192.0.2.1") })));
        });

        Assert.Equal(Errno.EEXIST, e.exists.Errno);
        Assert.StartsWith("RTM_NEWROUTE 10.2.0.0/24 table 220 dev br-a: File exists", e.exists.Message);
        Assert.Equal(Errno.ESRCH, e.absent.Errno);
        Assert.StartsWith("RTM_DELROUTE 10.2.0.0/24 table 221: No such process (", e.absent.Message);
        Assert.Equal(Errno.ENODEV, e.noLink.Errno);
        Assert.StartsWith("RTM_NEWROUTE 10.3.0.0/24 table main dev nosuch0: No such device", e.noLink.Message);
        Assert.Contains("a-name-of-16byte", e.tooLong.Message);
        Assert.Contains("fd00:1::2", e.mixed.Message);
        Assert.Contains("needs a gateway or a device", e.nowhere.Message);
        Assert.Equal(Errno.ENETUNREACH, e.unreachableGateway.Errno);
        Assert.NotNull(e.unreachableGateway.KernelMessage);

        var hostBits = Assert.Throws<ArgumentException>(() => new IPRoute { Destination = IPPrefix.Parse("10.2.0.1/24") });
        Assert.StartsWith("10.2.0.1/24 has host bits set; did you mean 10.2.0.0/24?", hostBits.Message);
        Assert.DoesNotContain(ns.IpJson("route show table all").EnumerateArray(), r => r.Text("dst") == "10.3.0.0/24");
    }

    private static IPPrefix P(string text) => IPPrefix.Parse(text);

    private static IPAddress A(string text) => IPAddress.Parse(text);

    /// <summary>The fields compared with `ip -j route show table all`, in one line per route.</summary>
    private static string Describe(IPRoute r) =>
        $"{(byte)r.Type} {r.Destination} dev={r.Device} table={r.Table} metric={r.Metric} scope={(byte)r.Scope!} " +
        $"proto={(byte)r.Protocol!} via={r.Gateway} src={r.PreferredSource}";

    private static IEnumerable<string> Shown(NetNs ns, string family)
    {
        bool v6 = family == "-6";
        return ns.IpJson(family + " route show table all").EnumerateArray().Select(j =>
            $"{IpJson.RouteType(j.Text("type"))} {IpJson.Prefix(j.Text("dst"), v6)} dev={j.Text("dev")} " +
            $"table={IpJson.Table(j.Text("table"))} metric={j.Text("metric") ?? "0"} scope={IpJson.Scope(j.Text("scope"))} " +
            $"proto={IpJson.Protocol(j.Text("protocol"))} via={j.Text("gateway")} src={j.Text("prefsrc")}").Order();
    }
}
