using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Netlink;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Platform.Linux.Tests.Netlink.Route;

/// <summary>Policy rules through rtnetlink against the real kernel, checked with `ip -j rule show`.</summary>
public class RuleTests
{
    private const AddressFamily V4 = AddressFamily.InterNetwork;
    private const AddressFamily V6 = AddressFamily.InterNetworkV6;

    [Fact]
    public void Rules_are_added_listed_as_ip_shows_them_and_deleted()
    {
        using var ns = new NetNs("rtrule");
        ns.Exec("ip link add br-a type bridge");
        var (v4, v6) = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            rt.AddRule(new RoutingRule { Family = V4, Priority = 100, FirewallMark = 0x10, FirewallMask = 0xff, Table = 220 });
            rt.AddRule(new RoutingRule
            {
                Family = V4,
                Priority = 200,
                From = P("10.1.0.0/24"),
                To = P("10.8.0.0/16"),
                Table = RouteTable.Main,
                SuppressPrefixLength = 0,
            });
            rt.AddRule(new RoutingRule { Family = V4, Priority = 300, Invert = true, FirewallMark = 0x1, Table = 70000 });
            rt.AddRule(new RoutingRule { Family = V4, Priority = 400, Action = RuleAction.Blackhole, InputInterface = "br-a" });
            rt.AddRule(new RoutingRule { Family = V4, Priority = 410, Action = RuleAction.Prohibit, To = P("10.66.0.1/32") });
            rt.AddRule(new RoutingRule { Family = V4, Priority = 500, OutputInterface = "br-a", Table = 1000 });
            rt.AddRule(new RoutingRule { Family = V4, Table = 1001 }); // the kernel picks the priority
            rt.AddRule(new RoutingRule { Family = V6, Priority = 50, From = P("fd00::/8"), Table = 300 });
            rt.AddRule(new RoutingRule { Family = V6, Priority = 60, FirewallMark = 0xca6c, Table = 51820, SuppressPrefixLength = 0 });
            return (rt.ListRules(V4), rt.ListRules(V6));
        });

        Assert.Equal(Shown(ns, "-4"), v4.Select(Describe));
        Assert.Equal(Shown(ns, "-6"), v6.Select(Describe));
        var marked = v4.Single(r => r.Priority == 100);
        Assert.Equal((0x10u, 0xffu, 220u, RouteProtocol.Static), (marked.FirewallMark, marked.FirewallMask, marked.Table, marked.Protocol));
        Assert.Equal(0xffffffffu, v4.Single(r => r.Priority == 300).FirewallMask); // the kernel's default mask
        Assert.True(v4.Single(r => r.Priority == 300).Invert);
        Assert.Equal(70000u, v4.Single(r => r.Priority == 300).Table);
        Assert.Equal(0, v4.Single(r => r.Priority == 200).SuppressPrefixLength);
        Assert.Null(v4.Single(r => r.Priority == 100).SuppressPrefixLength);
        Assert.Contains(v4, r => r.Priority == 0 && r.Table == RouteTable.Local && r.Protocol == RouteProtocol.Kernel);
        Assert.Contains(v4, r => r.Table == 1001 && r.Priority is > 0 and < 32766);

        var after = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            rt.DeleteRule(new RoutingRule { Family = V4, Priority = 100, FirewallMark = 0x10, FirewallMask = 0xff, Table = 220 });
            rt.DeleteRule(new RoutingRule { Family = V4, Table = 1001 }); // any priority
            rt.DeleteRule(v4.Single(r => r.Priority == 200)); // every field from the dump
            rt.DeleteRule(new RoutingRule { Family = V4, Action = RuleAction.Blackhole, InputInterface = "br-a" });
            rt.DeleteRule(new RoutingRule { Family = V6, Priority = 50, Table = 300 });
            return rt.ListRules();
        });
        Assert.Equal(Shown(ns, "-4").Concat(Shown(ns, "-6")), after.Select(Describe));
        Assert.DoesNotContain(after, r => r.Priority is 100 or 200 or 400 or 50 || r.Table == 1001);
        Assert.Contains(after, r => r.Priority == 60 && r.Family == V6);
    }

    [Fact]
    public void Refusals_name_the_rule_and_bad_arguments_fail_before_any_request()
    {
        using var ns = new NetNs("rtruleerr");
        // The kernel treats rules differing only in protocol as distinct: `ip rule` adds "unspec", we add "static".
        ns.Exec("ip rule add priority 100 fwmark 0x10/0xff table 220 proto static");
        var rule = new RoutingRule { Family = V4, Priority = 100, FirewallMark = 0x10, FirewallMask = 0xff, Table = 220 };
        var e = ns.Run(() =>
        {
            using var rt = new RouteNetlink();
            return (
                exists: Assert.Throws<NetlinkException>(() => rt.AddRule(rule)),
                absent: Assert.Throws<NetlinkException>(() => rt.DeleteRule(rule with { Table = 221 })),
                noTable: Assert.Throws<ArgumentException>(() => rt.AddRule(new RoutingRule { Family = V4, Priority = 5 })),
                mixed: Assert.Throws<ArgumentException>(() => rt.AddRule(new RoutingRule { Family = V6, From = P("10.0.0.0/8"), Table = 5 })),
                noFamily: Assert.Throws<ArgumentException>(() => rt.AddRule(new RoutingRule { Family = AddressFamily.Unspecified, Table = 5 })),
                tooLong: Assert.Throws<ArgumentException>(() => rt.AddRule(new RoutingRule { Family = V4, InputInterface = "a-name-of-16byte", Table = 5 })));
        });

        Assert.Equal(Errno.EEXIST, e.exists.Errno);
        Assert.StartsWith("RTM_NEWRULE 100: from all fwmark 0x10/0xff lookup 220: File exists", e.exists.Message);
        Assert.Equal(Errno.ENOENT, e.absent.Errno);
        Assert.StartsWith("RTM_DELRULE 100: from all fwmark 0x10/0xff lookup 221: No such file or directory (", e.absent.Message);
        Assert.Contains("needs a table", e.noTable.Message);
        Assert.Contains("10.0.0.0/8 is not IPv6", e.mixed.Message);
        Assert.Contains("family", e.noFamily.Message);
        Assert.Contains("a-name-of-16byte", e.tooLong.Message);
        Assert.Equal(4, ns.IpJson("-4 rule show").GetArrayLength());
    }

    private static IPPrefix P(string text) => IPPrefix.Parse(text);

    /// <summary>The fields compared with `ip -j rule show`, one line per rule.</summary>
    private static string Describe(RoutingRule r)
    {
        bool toTable = r.Action == RuleAction.ToTable;
        return $"{r.Priority} not={r.Invert} from={r.From?.ToString() ?? "all"} to={r.To} " +
            $"mark={Hex(r.FirewallMark)}/{Hex(r.FirewallMark is null ? null : r.FirewallMask)} iif={r.InputInterface} " +
            $"oif={r.OutputInterface} action={(toTable ? "lookup" : r.Action.ToString().ToLowerInvariant())} " +
            $"table={(toTable ? r.Table : 0)} suppress={r.SuppressPrefixLength}";
    }

    private static IEnumerable<string> Shown(NetNs ns, string family)
    {
        bool v6 = family == "-6";
        return ns.IpJson(family + " rule show").EnumerateArray().Select(j =>
        {
            string action = j.Text("action") ?? "lookup";
            string? mark = j.Text("fwmark");
            string? mask = mark is null ? null : j.Text("fwmask") ?? "0xffffffff";
            return $"{j.Text("priority")} not={j.Has("not")} from={Selector(j, "src", "srclen", v6) ?? "all"} " +
                $"to={Selector(j, "dst", "dstlen", v6)} mark={Hex(mark)}/{Hex(mask)} iif={j.Text("iif")} oif={j.Text("oif")} " +
                $"action={action} table={(action == "lookup" ? IpJson.Table(j.Text("table")) : 0)} " +
                $"suppress={j.Text("suppress_prefixlen")}";
        });
    }

    private static string? Selector(JsonElement j, string address, string length, bool v6)
    {
        string? text = j.Text(address);
        return text is null or "all" ? null : $"{text}/{j.Text(length) ?? (v6 ? "128" : "32")}";
    }

    private static string? Hex(uint? value) => value is { } v ? "0x" + v.ToString("x", CultureInfo.InvariantCulture) : null;

    private static string? Hex(string? text) =>
        text is null ? null : Hex(uint.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
}
