using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Netlink;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Platform.Linux.Tests.Netlink.Route;

/// <summary>Links through rtnetlink against the real kernel, checked with `ip -j link`.</summary>
public class LinkTests
{
    [Fact]
    public void Links_are_listed_as_ip_shows_them_and_found_by_name_and_index()
    {
        using var ns = new NetNs("rtlink");
        ns.Exec("ip link add br-a type bridge && ip link add va type veth peer name vb && ip link set br-a up");
        var (links, index, name) = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            int i = rt.GetLinkIndex("br-a");
            return (rt.ListLinks(), i, rt.GetLinkName(i));
        });

        var shown = ns.IpJson("-d link show").EnumerateArray().ToList();
        Assert.Equal(["br-a", "lo", "va", "vb"], links.Select(l => l.Name).Order());
        Assert.Equal(shown.Count, links.Count);
        foreach (var json in shown)
        {
            var link = Assert.Single(links, l => l.Index == json.GetProperty("ifindex").GetInt32());
            Assert.Equal(json.Text("ifname"), link.Name);
            Assert.Equal(json.GetProperty("mtu").GetInt32(), link.Mtu);
            var flags = json.GetProperty("flags").EnumerateArray().Select(f => f.GetString()).ToList();
            Assert.Equal(flags.Contains("UP"), link.IsUp);
            Assert.Equal(flags.Contains("LOWER_UP"), link.IsLowerUp);
            Assert.Equal(flags.Contains("LOOPBACK"), link.Flags.HasFlag(LinkFlags.Loopback));
            string? kind = json.TryGetProperty("linkinfo", out var info) ? info.Text("info_kind") : null;
            Assert.Equal(kind, link.Kind);
        }

        Assert.Equal("bridge", links.Single(l => l.Name == "br-a").Kind);
        Assert.Equal("veth", links.Single(l => l.Name == "vb").Kind);
        Assert.Null(links.Single(l => l.Name == "lo").Kind);
        Assert.Equal(links.Single(l => l.Name == "br-a").Index, index);
        Assert.Equal("br-a", name);
    }

    [Fact]
    public void Up_down_and_mtu_changes_are_visible_to_ip()
    {
        using var ns = new NetNs("rtlinkset");
        ns.Exec("ip link add br-a type bridge");
        var seen = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            var before = rt.GetLink("br-a");
            rt.SetLinkUp("br-a", true);
            rt.SetLinkMtu("br-a", 1400);
            var after = rt.GetLink("br-a");
            return (before, after);
        });
        Assert.False(seen.before.IsUp);
        Assert.True(seen.after.IsUp);
        Assert.Equal(1400, seen.after.Mtu);
        var json = ns.IpJson("link show br-a")[0];
        Assert.Contains("UP", json.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(1400, json.GetProperty("mtu").GetInt32());

        ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            rt.SetLinkUp("br-a", false);
            rt.SetLinkMtu("br-a", 9000);
        });
        json = ns.IpJson("link show br-a")[0];
        Assert.DoesNotContain("UP", json.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(9000, json.GetProperty("mtu").GetInt32());
    }

    [Fact]
    public void Unknown_and_invalid_names_fail_naming_the_interface()
    {
        using var ns = new NetNs("rtlinkerr");
        ns.Exec("ip link add br-a type bridge");
        var errors = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            Assert.Null(rt.FindLink("nosuch0"));
            return (
                lookup: Assert.Throws<NetlinkException>(() => rt.GetLink("nosuch0")),
                byIndex: Assert.Throws<NetlinkException>(() => rt.GetLinkName(99_999)),
                setUp: Assert.Throws<NetlinkException>(() => rt.SetLinkUp("nosuch0", true)),
                mtu: Assert.Throws<NetlinkException>(() => rt.SetLinkMtu("br-a", 10)),
                tooLong: Assert.Throws<ArgumentException>(() => rt.SetLinkUp("a-name-of-16byte", true)),
                slash: Assert.Throws<ArgumentException>(() => rt.GetLink("a/b")));
        });

        Assert.Equal(Errno.ENODEV, errors.lookup.Errno);
        Assert.Equal("link 'nosuch0': No such device", errors.lookup.Message);
        Assert.Equal("link #99999: No such device", errors.byIndex.Message);
        Assert.Equal(Errno.ENODEV, errors.setUp.Errno);
        Assert.StartsWith("link 'nosuch0' set up: No such device", errors.setUp.Message);
        Assert.Equal(Errno.EINVAL, errors.mtu.Errno);
        Assert.StartsWith("link 'br-a' set mtu 10: Invalid argument", errors.mtu.Message);
        Assert.Contains("'a-name-of-16byte' is 16 bytes; Linux allows at most 15", errors.tooLong.Message);
        Assert.Contains("'a/b'", errors.slash.Message);
    }

    [Fact]
    public void A_client_sees_only_the_namespace_it_was_created_in()
    {
        using var a = new NetNs("rtlinkns");
        using var b = new NetNs("rtlinkns");
        a.Exec("ip link add br-only-a type bridge");
        b.Exec("ip link add br-only-b type bridge");
        var inA = a.Run(() =>
        {
            using var rt = new RouteNetlink();
            return rt.ListLinks().Select(l => l.Name).ToList();
        });
        Assert.Equal(["br-only-a", "lo"], inA.Order());
    }
}
