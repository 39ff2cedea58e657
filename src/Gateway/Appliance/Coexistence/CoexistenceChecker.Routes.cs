using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Appliance.Coexistence;

public static partial class CoexistenceChecker
{
    private sealed partial class Run
    {
        /// <summary>How much of the traffic to a range a rule selector matches (unmarked traffic, any source).</summary>
        private enum Match
        {
            Never,
            Partly,
            Always,
        }

        /// <summary>
        /// Error: a policy rule consulted before the rule that reaches the WireGuard route's table finds a route for
        /// the range in its own table (strongSwan's rule 220 and table 220), or drops it. The first table with a
        /// route wins, whatever the prefix lengths. With Table = off the administrator routes: main is assumed.
        /// </summary>
        public void RulePrecedence(InterfaceConfig iface, SiteConfig site, IPPrefix prefix)
        {
            uint wireGuardTable = iface.RouteTableId ?? RouteTable.Main;
            uint? skipBelow = null;
            foreach (var rule in kernel.Rules.Where(r => r.Family == prefix.Family).OrderBy(r => r.Priority ?? 0))
            {
                uint priority = rule.Priority ?? 0;
                if (skipBelow is { } target && priority < target)
                {
                    continue;
                }

                skipBelow = null;
                var match = RuleMatch(rule, prefix);
                if (match == Match.Never)
                {
                    continue;
                }

                switch (rule.Action)
                {
                    case RuleAction.ToTable when rule.Table == wireGuardTable:
                        if (match == Match.Always)
                        {
                            return;
                        }

                        break;
                    case RuleAction.ToTable when rule.Table != RouteTable.Local:
                        bool whole = false;
                        foreach (var route in Capturing(rule.Table, prefix, rule.SuppressPrefixLength, iface.Name))
                        {
                            whole |= route.Destination.Contains(prefix);
                            findings.Add(EarlierTable(iface, site, prefix, rule, route, wireGuardTable, match));
                        }

                        if (whole && match == Match.Always)
                        {
                            return;
                        }

                        break;
                    case RuleAction.Goto when match == Match.Always:
                        skipBelow = rule.GotoPriority;
                        break;
                    case RuleAction.Blackhole or RuleAction.Unreachable or RuleAction.Prohibit:
                        findings.Add(new Finding(FindingSeverity.Error, Codes.EarlierTableRoute,
                            $"Traffic to {prefix} (allowed IPs of peer {site.Name} on {iface.Name}) " +
                            $"{(match == Match.Always ? "is" : "may be")} dropped by policy rule {priority} ({rule.Action.ToString().ToLowerInvariant()}) " +
                            $"before table {TableName(wireGuardTable)}, where the WireGuard route is, is consulted.",
                            [KernelText.AllowedIp(iface.Name, site.Name, prefix), KernelText.Rule(rule)])
                        {
                            Interface = iface.Name,
                            Site = site.Name,
                        });
                        if (match == Match.Always)
                        {
                            return;
                        }

                        break;
                }
            }
        }

        /// <summary>
        /// Warning: in the WireGuard route's own table a route through another interface overlaps the range; the
        /// longest prefix wins, an equal one is decided by metric (and IPv4 refuses a second equal route). Default
        /// routes and the kernel's connected routes are left out (the first is normal, the second is
        /// <see cref="LanOverlap"/>'s).
        /// </summary>
        public void SameTableRoutes(InterfaceConfig iface, SiteConfig site, IPPrefix prefix)
        {
            uint table = iface.RouteTableId ?? RouteTable.Main;
            foreach (var route in kernel.Routes)
            {
                if (route.Table != table || !IsForwarding(route) || route.Device == iface.Name ||
                    route.Protocol == RouteProtocol.Kernel || (route.Destination.IsDefault && !prefix.IsDefault) ||
                    !route.Destination.Overlaps(prefix))
                {
                    continue;
                }

                string via = Via(route);
                string winner = route.Destination.PrefixLength.CompareTo(prefix.PrefixLength) switch
                {
                    > 0 => $"The route is more specific and wins: traffic to {route.Destination} goes {via}, the rest of " +
                        $"{prefix} through {iface.Name}.",
                    < 0 => $"The WireGuard route {prefix} is more specific and wins for all of it; the rest of " +
                        $"{route.Destination} still goes {via}.",
                    _ => $"Both have the same prefix: the one with the lower metric wins and the other is dead (for IPv4 " +
                        "the kernel refuses to add the second route with the same metric).",
                };
                findings.Add(new Finding(FindingSeverity.Warning, Codes.RouteViaOtherInterface,
                    $"{prefix} (allowed IPs of peer {site.Name} on {iface.Name}) overlaps the route {route.Destination} " +
                    $"{via} in table {TableName(table)}. {winner}",
                    [KernelText.AllowedIp(iface.Name, site.Name, prefix), KernelText.Route(route)])
                {
                    Interface = iface.Name,
                    Site = site.Name,
                });
            }
        }

        /// <summary>The routes of <paramref name="table"/> that take some of the traffic to <paramref name="range"/>:
        /// the longest route containing the range (unless it is a throw route or suppressed) and every more specific
        /// route inside it. Routes through <paramref name="ownInterface"/> are ours and left out.</summary>
        private List<IPRoute> Capturing(uint table, IPPrefix range, int? suppressPrefixLength, string ownInterface)
        {
            var candidates = kernel.Routes.Where(r => r.Table == table && r.Family == range.Family &&
                (IsForwarding(r) || r.Type == RouteType.Throw) && r.Device != ownInterface &&
                r.Destination.Overlaps(range)).ToList();
            bool Suppressed(IPRoute r) => suppressPrefixLength is { } s && r.Destination.PrefixLength <= s;
            var result = new List<IPRoute>();
            var best = candidates.Where(r => r.Destination.Contains(range))
                .OrderByDescending(r => r.Destination.PrefixLength).ThenBy(r => r.Metric ?? 0).FirstOrDefault();
            if (best is not null && best.Type != RouteType.Throw && !Suppressed(best))
            {
                result.Add(best);
            }

            result.AddRange(candidates.Where(r => r != best && range.Contains(r.Destination) && r.Destination != range &&
                r.Type != RouteType.Throw && !Suppressed(r)));
            return result;
        }

        private static bool IsForwarding(IPRoute route) =>
            route.Type is RouteType.Unicast or RouteType.Blackhole or RouteType.Unreachable or RouteType.Prohibit;

        private static Match RuleMatch(RoutingRule rule, IPPrefix prefix)
        {
            var match = Match.Always;
            if (rule.To is { } to)
            {
                match = Min(match, to.Contains(prefix) ? Match.Always : to.Overlaps(prefix) ? Match.Partly : Match.Never);
            }

            if (rule.From is { IsDefault: false } || rule.InputInterface is not null || rule.OutputInterface is not null)
            {
                match = Min(match, Match.Partly);
            }

            if (rule.FirewallMark is { } mark && (0 & (rule.FirewallMask ?? uint.MaxValue)) != mark)
            {
                match = Match.Never;
            }

            return !rule.Invert ? match : match switch
            {
                Match.Always => Match.Never,
                Match.Never => Match.Always,
                _ => Match.Partly,
            };
        }

        private static Match Min(Match a, Match b) => a < b ? a : b;

        private static Finding EarlierTable(InterfaceConfig iface, SiteConfig site, IPPrefix prefix, RoutingRule rule,
            IPRoute route, uint wireGuardTable, Match match)
        {
            bool strongSwan = route.Table == RouteTable.StrongSwan;
            string who = strongSwan
                ? route.Device is "ipsec0"
                    ? " Table 220 is strongSwan's; this route sends the traffic into its kernel-libipsec tunnel (ipsec0)."
                    : " Table 220 is strongSwan's; this route belongs to an IPsec tunnel."
                : "";
            string scope = match == Match.Always ? "" : " (for the traffic the rule's selectors match)";
            return new Finding(FindingSeverity.Error, strongSwan ? Codes.Table220Route : Codes.EarlierTableRoute,
                $"Traffic to {prefix} (allowed IPs of peer {site.Name} on {iface.Name}) is routed by {route.Destination} " +
                $"{Via(route)} in table {TableName(route.Table)}{scope}: policy rule {rule.Priority ?? 0} consults that table " +
                $"before table {TableName(wireGuardTable)}, where the WireGuard route is, and the first table with a " +
                $"matching route wins whatever the prefix length.{who}",
                [KernelText.AllowedIp(iface.Name, site.Name, prefix), KernelText.Rule(rule), KernelText.Route(route)])
            {
                Interface = iface.Name,
                Site = site.Name,
            };
        }

        private static string Via(IPRoute route) => route.Type switch
        {
            RouteType.Unicast when route.Gateway is not null && route.Device is not null => $"via {route.Gateway} dev {route.Device}",
            RouteType.Unicast when route.Gateway is not null => $"via {route.Gateway}",
            RouteType.Unicast => $"dev {route.Device ?? "?"}",
            _ => $"({route.Type.ToString().ToLowerInvariant()})",
        };

        private static string TableName(uint table) => table switch
        {
            RouteTable.Main => "main",
            RouteTable.Local => "local",
            RouteTable.Default => "default",
            _ => table.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }
}
