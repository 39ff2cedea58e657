using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Netlink;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Platform.Linux.Tests.Netlink.Route;

/// <summary>Interface addresses through rtnetlink against the real kernel, checked with `ip -j addr`.</summary>
public class AddressTests
{
    [Fact]
    public void IPv4_and_IPv6_addresses_are_added_listed_as_ip_shows_them_and_deleted()
    {
        using var ns = new NetNs("rtaddr");
        ns.Exec("ip link add br-a type bridge && ip link add br-b type bridge && ip link set br-a up && " +
            "ip addr add 10.9.0.1 peer 10.9.0.2/32 dev br-a && ip addr add 10.7.0.1/24 dev br-b");
        var listed = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            rt.AddAddress("br-a", InterfaceAddress.Parse("10.1.0.1/24"));
            rt.AddAddress("br-a", InterfaceAddress.Parse("10.1.0.2/24"));
            rt.AddAddress("br-a", InterfaceAddress.Parse("fd00:1::1/64"), AddressFlags.NoDad);
            rt.AddAddress("br-a", InterfaceAddress.Parse("fd00:2::1/64"), AddressFlags.NoDad | AddressFlags.NoPrefixRoute);
            return rt.ListAddresses("br-a");
        });

        var shown = ns.IpJson("addr show dev br-a")[0].GetProperty("addr_info").EnumerateArray().ToList();
        Assert.Equal(shown.Count, listed.Count);
        foreach (var json in shown)
        {
            var address = Assert.Single(listed, a => a.Address.Address.Equals(IPAddress.Parse(json.Text("local")!)));
            AssertSame(json, address);
        }

        Assert.DoesNotContain(listed, a => a.Link != "br-a");
        var v6 = listed.Single(a => a.Address == InterfaceAddress.Parse("fd00:1::1/64"));
        Assert.True(v6.Flags.HasFlag(AddressFlags.NoDad));
        Assert.False(v6.Flags.HasFlag(AddressFlags.Tentative), "NoDad makes the address usable at once");
        Assert.True(listed.Single(a => a.Address.Address.Equals(IPAddress.Parse("10.1.0.2"))).Flags.HasFlag(AddressFlags.Secondary));
        Assert.Equal(IPAddress.Parse("10.9.0.2"), listed.Single(a => a.Address.Address.Equals(IPAddress.Parse("10.9.0.1"))).Peer);
        Assert.DoesNotContain(ns.IpJson("-6 route show dev br-a").EnumerateArray(), r => r.Text("dst") == "fd00:2::/64");

        var (v4Only, all) = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            rt.DeleteAddress("br-a", InterfaceAddress.Parse("10.1.0.2/24"));
            rt.DeleteAddress("br-a", InterfaceAddress.Parse("fd00:1::1/64"));
            rt.DeleteAddress(rt.ListAddresses("br-a").Single(a => a.Peer is not null));
            return (rt.ListAddresses("br-a", AddressFamily.InterNetwork), rt.ListAddresses());
        });
        var left = ns.IpJson("addr show dev br-a")[0].GetProperty("addr_info").EnumerateArray()
            .Select(a => a.Text("local")).ToList();
        Assert.DoesNotContain("10.1.0.2", left);
        Assert.DoesNotContain("fd00:1::1", left);
        Assert.DoesNotContain("10.9.0.1", left);
        Assert.Contains("10.1.0.1", left);
        Assert.Equal([InterfaceAddress.Parse("10.1.0.1/24")], v4Only.Select(a => a.Address));
        Assert.Contains(all, a => a.Link == "br-b" && a.Address == InterfaceAddress.Parse("10.7.0.1/24"));
        Assert.Contains(all, a => a.Link == "lo" && a.Address == InterfaceAddress.Parse("127.0.0.1/8") && a.Scope == RouteScope.Host);
    }

    [Fact]
    public void Refusals_name_the_address_and_the_link()
    {
        using var ns = new NetNs("rtaddrerr");
        ns.Exec("ip link add br-a type bridge && ip addr add 10.1.0.1/24 dev br-a");
        var e = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            return (
                exists: Assert.Throws<NetlinkException>(() => rt.AddAddress("br-a", InterfaceAddress.Parse("10.1.0.1/24"))),
                absent: Assert.Throws<NetlinkException>(() => rt.DeleteAddress("br-a", InterfaceAddress.Parse("10.1.0.9/24"))),
                wrongLength: Assert.Throws<NetlinkException>(() => rt.DeleteAddress("br-a", InterfaceAddress.Parse("10.1.0.1/16"))),
                absent6: Assert.Throws<NetlinkException>(() => rt.DeleteAddress("br-a", InterfaceAddress.Parse("fd00::9/64"))),
                noLink: Assert.Throws<NetlinkException>(() => rt.AddAddress("nosuch0", InterfaceAddress.Parse("10.2.0.1/24"))),
                noLinkList: Assert.Throws<NetlinkException>(() => rt.ListAddresses("nosuch0")),
                tooLong: Assert.Throws<ArgumentException>(() => rt.AddAddress("a-name-of-16byte", InterfaceAddress.Parse("10.2.0.1/24"))));
        });

        Assert.Equal(Errno.EEXIST, e.exists.Errno);
        Assert.StartsWith("RTM_NEWADDR 10.1.0.1/24 dev br-a: File exists", e.exists.Message);
        Assert.Equal(Errno.EADDRNOTAVAIL, e.absent.Errno);
        Assert.StartsWith("RTM_DELADDR 10.1.0.9/24 dev br-a: ", e.absent.Message);
        Assert.Equal(Errno.EADDRNOTAVAIL, e.wrongLength.Errno);
        Assert.Equal(Errno.EADDRNOTAVAIL, e.absent6.Errno);
        Assert.Equal(Errno.ENODEV, e.noLink.Errno);
        Assert.StartsWith("RTM_NEWADDR 10.2.0.1/24 dev nosuch0: No such device", e.noLink.Message);
        Assert.Equal("link 'nosuch0': No such device", e.noLinkList.Message);
        Assert.Contains("a-name-of-16byte", e.tooLong.Message);
        Assert.Single(ns.IpJson("-4 addr show dev br-a")[0].GetProperty("addr_info").EnumerateArray());
    }

    private static void AssertSame(JsonElement json, AddressInfo address)
    {
        Assert.Equal(json.Text("family") == "inet6" ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork,
            address.Address.Family);
        Assert.Equal(json.GetProperty("prefixlen").GetInt32(), address.Address.PrefixLength);
        Assert.Equal(IpJson.Scope(json.Text("scope")), (byte)address.Scope);
        Assert.Equal(json.Text("label"), address.Label);
        Assert.Equal(json.Text("address"), address.Peer?.ToString());
        Assert.Equal(json.Text("broadcast"), address.Broadcast?.ToString());
        Assert.Equal(json.Has("nodad"), address.Flags.HasFlag(AddressFlags.NoDad));
        Assert.Equal(json.Has("noprefixroute"), address.Flags.HasFlag(AddressFlags.NoPrefixRoute));
        Assert.Equal(json.Has("tentative"), address.Flags.HasFlag(AddressFlags.Tentative));
        Assert.Equal(json.Has("secondary"), address.Flags.HasFlag(AddressFlags.Secondary) &&
            address.Address.Family == AddressFamily.InterNetwork);
    }
}
