using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Branchgate.Platform.Linux.Netlink.Route;

/// <summary>
/// A policy routing rule (FIB rule), as in `ip rule`: which table a lookup consults for traffic matching the
/// selectors. What <see cref="RouteNetlink.ListRules"/> returns and what add/delete take. In requests, null fields
/// mean "no such selector" when adding and "any" when deleting.
/// </summary>
public sealed record RoutingRule
{
    /// <summary>InterNetwork or InterNetworkV6: rules belong to one family.</summary>
    public required AddressFamily Family { get; init; }

    /// <summary>The rule's place in the order (FRA_PRIORITY, `ip rule ... priority`); lower is consulted first. When
    /// adding, null lets the kernel pick one just below the lowest existing non-zero priority.</summary>
    public uint? Priority { get; init; }

    /// <summary>Source selector (FRA_SRC, `from`); null for all.</summary>
    public IPPrefix? From { get; init; }

    /// <summary>Destination selector (FRA_DST, `to`); null for all.</summary>
    public IPPrefix? To { get; init; }

    /// <summary>Firewall mark selector (FRA_FWMARK).</summary>
    public uint? FirewallMark { get; init; }

    /// <summary>Mask applied to the packet's mark before comparing (FRA_FWMASK); the kernel uses 0xffffffff when a
    /// mark is given without one, and lists it that way.</summary>
    public uint? FirewallMask { get; init; }

    /// <summary>Incoming interface selector (FRA_IIFNAME, `iif`).</summary>
    public string? InputInterface { get; init; }

    /// <summary>Outgoing interface selector (FRA_OIFNAME, `oif`), for sockets bound to a device.</summary>
    public string? OutputInterface { get; init; }

    /// <summary>Match the opposite of the selectors (FIB_RULE_INVERT, `ip rule add not ...`).</summary>
    public bool Invert { get; init; }

    public RuleAction Action { get; init; } = RuleAction.ToTable;

    /// <summary>The table to look up for <see cref="RuleAction.ToTable"/> (FRA_TABLE); 0 when none.</summary>
    public uint Table { get; init; }

    /// <summary>Ignore a route found by this rule whose prefix length is this or shorter (FRA_SUPPRESS_PREFIXLEN):
    /// `suppress_prefixlength 0` skips default routes, as wg-quick does for main.</summary>
    public int? SuppressPrefixLength { get; init; }

    /// <summary>The priority to continue at for <see cref="RuleAction.Goto"/> (FRA_GOTO).</summary>
    public uint? GotoPriority { get; init; }

    /// <summary>Who installed the rule (FRA_PROTOCOL). When adding, null means <see cref="RouteProtocol.Static"/>; when
    /// deleting, null matches any.</summary>
    public RouteProtocol? Protocol { get; init; }

    /// <summary>The rule in `ip rule` words: "100: from all fwmark 0x10/0xff lookup 220".</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        if (Priority is { } priority)
        {
            text.Append(priority).Append(": ");
        }

        if (Family == AddressFamily.InterNetworkV6)
        {
            text.Append("-6 ");
        }

        if (Invert)
        {
            text.Append("not ");
        }

        text.Append("from ").Append(From?.ToString() ?? "all");
        if (To is { } to)
        {
            text.Append(" to ").Append(to);
        }

        if (FirewallMark is { } mark)
        {
            text.Append(CultureInfo.InvariantCulture, $" fwmark 0x{mark:x}");
            if (FirewallMask is { } mask && mask != uint.MaxValue)
            {
                text.Append(CultureInfo.InvariantCulture, $"/0x{mask:x}");
            }
        }

        if (InputInterface is not null)
        {
            text.Append(" iif ").Append(InputInterface);
        }

        if (OutputInterface is not null)
        {
            text.Append(" oif ").Append(OutputInterface);
        }

        switch (Action)
        {
            case RuleAction.ToTable:
                text.Append(" lookup ").Append(RouteNames.Table(Table));
                break;
            case RuleAction.Goto:
                text.Append(" goto ").Append(GotoPriority);
                break;
            default:
                text.Append(' ').Append(Enum.IsDefined(Action) ? Action.ToString().ToLowerInvariant() : $"action {(byte)Action}");
                break;
        }

        if (SuppressPrefixLength is { } suppress)
        {
            text.Append(" suppress_prefixlength ").Append(suppress);
        }

        if (Protocol is { } protocol)
        {
            text.Append(" proto ").Append(RouteNames.Protocol(protocol));
        }

        return text.ToString();
    }
}

/// <summary>What a matching rule does (fib_rule_hdr.action, FR_ACT_*).</summary>
public enum RuleAction : byte
{
    Unspecified = 0,

    /// <summary>Look up <see cref="RoutingRule.Table"/>; if it has no route (or throws), continue with the next rule.</summary>
    ToTable = 1,

    /// <summary>Continue at the rule with priority <see cref="RoutingRule.GotoPriority"/>.</summary>
    Goto = 2,
    Nop = 3,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
}
