using System.Net;
using System.Net.Sockets;
using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Netlink.Route;

public sealed partial class RouteNetlink
{
    /// <summary>Adds a policy rule (`ip rule add`); EEXIST when an identical rule exists. The kernel compares the
    /// protocol too: a rule `ip rule add` made (protocol unspec) does not clash with the same rule made here (static)
    /// unless <see cref="RoutingRule.Protocol"/> says so.</summary>
    /// <exception cref="ArgumentException">Not IPv4/IPv6, selectors of another family, a to-table rule without a
    /// table, a goto rule without a target, a bad interface name, a suppress length out of range.</exception>
    public void AddRule(RoutingRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        CheckRule(rule, deleting: false);
        Span<byte> buffer = stackalloc byte[Rtnl.RequestBufferLength];
        var request = new NetlinkWriter(buffer, Rtnl.RTM_NEWRULE, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL);
        WriteRule(ref request, rule, rule.Protocol ?? RouteProtocol.Static);
        Execute(request.Message, $"RTM_NEWRULE {rule}");
    }

    /// <summary>
    /// Deletes the first rule matching <paramref name="rule"/> (`ip rule del`): family, action and every selector
    /// given; a null priority, table 0 or null protocol match any. Note the kernel does not compare the invert flag.
    /// </summary>
    /// <exception cref="NetlinkException">ENOENT ("No such file or directory (no such rule)") when nothing matches.</exception>
    public void DeleteRule(RoutingRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        CheckRule(rule, deleting: true);
        Span<byte> buffer = stackalloc byte[Rtnl.RequestBufferLength];
        var request = new NetlinkWriter(buffer, Rtnl.RTM_DELRULE, 0);
        WriteRule(ref request, rule, rule.Protocol);
        Execute(request.Message, $"RTM_DELRULE {rule}", Errno.ENOENT, "no such rule");
    }

    /// <summary>The policy rules of one family or (Unspecified) IPv4 then IPv6, in priority order.</summary>
    public IReadOnlyList<RoutingRule> ListRules(AddressFamily family = AddressFamily.Unspecified)
    {
        FamilyByte(family, nameof(family));
        var rules = new List<RoutingRule>();
        foreach (var f in family == AddressFamily.Unspecified
            ? [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6]
            : new[] { family })
        {
            rules.AddRange(DumpRules(f).OrderBy(r => r.Priority));
        }

        return rules;
    }

    private List<RoutingRule> DumpRules(AddressFamily family)
    {
        Span<byte> buffer = stackalloc byte[64];
        var request = new NetlinkWriter(buffer, Rtnl.RTM_GETRULE, 0);
        request.WriteHeader(new FibRuleHdr { Family = FamilyByte(family, nameof(family)) });
        var rules = new List<RoutingRule>();
        _socket.Dump(request.Message, $"RTM_GETRULE (list {FamilyName(family)} rules)", (type, payload) =>
        {
            if (type == Rtnl.RTM_NEWRULE && TryParseRule(payload, out var rule) && rule.Family == family)
            {
                rules.Add(rule);
            }
        }, rules.Clear);
        return rules;
    }

    private static void CheckRule(RoutingRule rule, bool deleting)
    {
        FamilyByte(rule.Family, nameof(rule));
        if (rule.Family == AddressFamily.Unspecified)
        {
            throw new ArgumentException($"rule {rule}: the family (IPv4 or IPv6) is required", nameof(rule));
        }

        foreach (var selector in new[] { rule.From, rule.To })
        {
            if (selector is { } prefix && prefix.Family != rule.Family)
            {
                throw new ArgumentException($"rule {rule}: {prefix} is not {FamilyName(rule.Family)}", nameof(rule));
            }
        }

        if (rule.InputInterface is not null)
        {
            ValidateLinkName(rule.InputInterface, nameof(rule));
        }

        if (rule.OutputInterface is not null)
        {
            ValidateLinkName(rule.OutputInterface, nameof(rule));
        }

        if (rule.SuppressPrefixLength is < 0 or > 128)
        {
            throw new ArgumentException($"rule {rule}: suppress_prefixlength must be 0 to 128", nameof(rule));
        }

        if (!deleting && rule.Action == RuleAction.ToTable && rule.Table == 0)
        {
            throw new ArgumentException($"rule {rule}: a lookup rule needs a table", nameof(rule));
        }

        if (!deleting && rule.Action == RuleAction.Goto && rule.GotoPriority is null)
        {
            throw new ArgumentException($"rule {rule}: a goto rule needs a target priority", nameof(rule));
        }
    }

    private static void WriteRule(ref NetlinkWriter request, RoutingRule rule, RouteProtocol? protocol)
    {
        request.WriteHeader(new FibRuleHdr
        {
            Family = FamilyByte(rule.Family, nameof(rule)),
            DestinationLength = (byte)(rule.To?.PrefixLength ?? 0),
            SourceLength = (byte)(rule.From?.PrefixLength ?? 0),
            Table = rule.Table < 256 ? (byte)rule.Table : (byte)RouteTable.Unspecified,
            Action = (byte)rule.Action,
            Flags = rule.Invert ? Rtnl.FIB_RULE_INVERT : 0,
        });
        if (rule.Table != 0)
        {
            request.AttributeU32(Rtnl.FRA_TABLE, rule.Table);
        }

        if (rule.Priority is { } priority)
        {
            request.AttributeU32(Rtnl.FRA_PRIORITY, priority);
        }

        if (rule.From is { } from)
        {
            request.AttributeAddress(Rtnl.FRA_SRC, from.Address);
        }

        if (rule.To is { } to)
        {
            request.AttributeAddress(Rtnl.FRA_DST, to.Address);
        }

        if (rule.FirewallMark is { } mark)
        {
            request.AttributeU32(Rtnl.FRA_FWMARK, mark);
        }

        if (rule.FirewallMask is { } mask)
        {
            request.AttributeU32(Rtnl.FRA_FWMASK, mask);
        }

        if (rule.InputInterface is not null)
        {
            request.AttributeString(Rtnl.FRA_IIFNAME, rule.InputInterface);
        }

        if (rule.OutputInterface is not null)
        {
            request.AttributeString(Rtnl.FRA_OIFNAME, rule.OutputInterface);
        }

        if (rule.SuppressPrefixLength is { } suppress)
        {
            request.AttributeU32(Rtnl.FRA_SUPPRESS_PREFIXLEN, (uint)suppress);
        }

        if (rule.GotoPriority is { } target)
        {
            request.AttributeU32(Rtnl.FRA_GOTO, target);
        }

        if (protocol is { } p)
        {
            request.AttributeU8(Rtnl.FRA_PROTOCOL, (byte)p);
        }
    }

    internal static bool TryParseRule(ReadOnlySpan<byte> payload, out RoutingRule rule)
    {
        rule = null!;
        if (!TryReadHeader<FibRuleHdr>(payload, out var header, out var attributes) ||
            FamilyOf(header.Family) is not { } family)
        {
            return false;
        }

        IPAddress? source = null, destination = null;
        uint priority = 0, table = header.Table;
        uint? mark = null, mask = null, gotoPriority = null;
        int? suppress = null;
        string? iif = null, oif = null;
        RouteProtocol? protocol = null;
        foreach (var attribute in attributes)
        {
            switch (attribute.Type)
            {
                case Rtnl.FRA_SRC:
                    source = attribute.AsAddress();
                    break;
                case Rtnl.FRA_DST:
                    destination = attribute.AsAddress();
                    break;
                case Rtnl.FRA_PRIORITY:
                    priority = attribute.U32;
                    break;
                case Rtnl.FRA_TABLE:
                    table = attribute.U32;
                    break;
                case Rtnl.FRA_FWMARK:
                    mark = attribute.U32;
                    break;
                case Rtnl.FRA_FWMASK:
                    mask = attribute.U32;
                    break;
                case Rtnl.FRA_SUPPRESS_PREFIXLEN:
                    // The kernel keeps -1 for "unset" and omits the attribute then; guard anyway.
                    suppress = (int)attribute.U32 is var s and >= 0 ? s : null;
                    break;
                case Rtnl.FRA_GOTO:
                    gotoPriority = attribute.U32;
                    break;
                case Rtnl.FRA_IIFNAME:
                    iif = attribute.AsString();
                    break;
                case Rtnl.FRA_OIFNAME:
                    oif = attribute.AsString();
                    break;
                case Rtnl.FRA_PROTOCOL:
                    protocol = (RouteProtocol)attribute.U8;
                    break;
            }
        }

        IPPrefix? from = null, to = null;
        if (source is not null && TryMakePrefix(source, header.SourceLength, family, out var f))
        {
            from = f;
        }

        if (destination is not null && TryMakePrefix(destination, header.DestinationLength, family, out var t))
        {
            to = t;
        }

        rule = new RoutingRule
        {
            Family = family,
            Priority = priority,
            From = from,
            To = to,
            FirewallMark = mark,
            FirewallMask = mask,
            InputInterface = iif,
            OutputInterface = oif,
            Invert = (header.Flags & Rtnl.FIB_RULE_INVERT) != 0,
            Action = (RuleAction)header.Action,
            Table = table,
            SuppressPrefixLength = suppress,
            GotoPriority = gotoPriority,
            Protocol = protocol,
        };
        return true;
    }
}
