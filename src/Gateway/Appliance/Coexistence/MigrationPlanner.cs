using System.Globalization;
using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Netlink.Route;
using Branchgate.Platform.Linux.Netlink.Xfrm;

namespace Branchgate.Appliance.Coexistence;

/// <summary>One step of a migration: what to do (exact commands where they can be exact) and what the check of the
/// target configuration will say once it is done (simulated on the kernel view).</summary>
public sealed record MigrationStep(string Title, string Explanation, IReadOnlyList<string> Commands, CoexistenceReport CheckAfter);

/// <summary>
/// How to move <see cref="Subnet"/> from IPsec to a WireGuard peer: the IPsec objects that carry it today, what the
/// check of the target configuration (the peer with the subnet added) says now, and the ordered steps.
/// </summary>
public sealed record MigrationPlan(
    string Interface,
    string Peer,
    IPPrefix Subnet,
    IReadOnlyList<string> IpsecObjects,
    CoexistenceReport CheckNow,
    IReadOnlyList<MigrationStep> Steps);

/// <summary>Plans the move of one subnet from IPsec to WireGuard and simulates each step with the checker.</summary>
public static class MigrationPlanner
{
    /// <summary>
    /// The plan for moving <paramref name="subnet"/> to peer <paramref name="peer"/> (its name or base64 public key)
    /// of <paramref name="interfaceName"/> (null: the interface that has such a peer). Null with
    /// <paramref name="error"/> set when the peer is unknown or ambiguous.
    /// </summary>
    public static MigrationPlan? Plan(KernelView kernel, ApplianceConfig current, string? interfaceName, string peer,
        IPPrefix subnet, out string? error)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(peer);
        var matches = current.Sites.Where(s => (interfaceName is null || s.Interface == interfaceName) &&
            (s.Name == peer || s.PublicKey.ToBase64() == peer)).ToList();
        if (matches.Count != 1)
        {
            error = matches.Count == 0
                ? $"no peer '{peer}'{(interfaceName is null ? "" : $" on {interfaceName}")}; peers: " +
                    (current.Sites.Count == 0 ? "(none)" : string.Join(", ", current.Sites.Select(s => $"{s.Interface}/{s.Name}")))
                : $"peer '{peer}' is on several interfaces ({string.Join(", ", matches.Select(s => s.Interface))}); name one with --interface";
            return null;
        }

        error = null;
        var site = matches[0];
        var iface = current.FindInterface(site.Interface)!;
        var target = current.WithSite(site with { AllowedIps = [.. site.AllowedIps.Where(p => p != subnet), subnet] });
        uint table = iface.RouteTableId ?? RouteTable.Main;

        var policies = kernel.Policies.Where(p => Carries(p, subnet)).ToList();
        var routes = kernel.Routes.Where(r => r.Table is not (RouteTable.Main or RouteTable.Local or RouteTable.Default) &&
            r.Table != table && r.Device != iface.Name && r.Type == RouteType.Unicast && r.Family == subnet.Family &&
            r.Destination.Overlaps(subnet)).ToList();
        var objects = policies.Select(KernelText.Policy).Concat(routes.Select(KernelText.Route)).ToList();
        var now = CoexistenceChecker.Check(kernel, target);

        var afterIpsec = StopIpsec(kernel, policies, routes, subnet, out var ipsecCommands);
        var checkIpsec = CoexistenceChecker.Check(afterIpsec, target);
        var steps = new List<MigrationStep>
        {
            new($"Stop IPsec from carrying {subnet}",
                objects.Count == 0
                    ? $"No IPsec policy or strongSwan route carries {subnet} here: nothing to do on the IPsec side."
                    : $"In swanctl.conf, take {subnet} out of the child SA's remote_ts here (and out of local_ts on the " +
                        "other site), or remove the child if that was all it carried; then `swanctl --load-conns` and " +
                        "`swanctl --terminate --child NAME` (`swanctl --initiate --child NAME` for a narrowed child): " +
                        "strongSwan removes its policies and table-220 routes for it. Where a selector is wider than " +
                        $"{subnet} and stays, exempt {subnet} with the commands below (pass policies win by their lower " +
                        "priority number, the throw route hands the lookup from table 220 on to the next rule). Do the " +
                        "mirror image on the other site.",
                ipsecCommands, checkIpsec),
        };

        var existing = string.Join(',', target.FindSite(site.Interface, site.Name)!.AllowedIps);
        var wgCommands = new List<string> { $"wg set {iface.Name} peer {site.PublicKey.ToBase64()} allowed-ips {existing}" };
        if (iface.RouteTableId is { } t)
        {
            wgCommands.Add($"ip route add {subnet} dev {iface.Name}{(t == RouteTable.Main ? "" : $" table {t}")}");
        }

        var afterWireGuard = afterIpsec with
        {
            Routes = [.. afterIpsec.Routes, new IPRoute { Destination = subnet, Device = iface.Name, Table = table }],
        };
        var checkWireGuard = CoexistenceChecker.Check(afterWireGuard, target);
        steps.Add(new MigrationStep($"Add {subnet} to peer {site.Name} on {iface.Name}",
            "`wg set` replaces the peer's whole list, so it names the ranges it keeps too (in `branchgate serve`, add the " +
            "range to the site in the admin panel or the API instead: it routes it)." +
            (iface.RouteTableId is null ? " Table = off: the route is yours to add." : ""),
            wgCommands, checkWireGuard));
        steps.Add(new MigrationStep("Verify",
            $"The check must now be clean for {subnet}; traffic to a host in it must cross {iface.Name} (its transfer " +
            "counters grow) and no longer the IPsec SA.",
            [$"branchgate check --interface {iface.Name}", $"wg show {iface.Name} transfer", $"ip route get {FirstHost(subnet)}"],
            checkWireGuard));
        return new MigrationPlan(iface.Name, site.Name, subnet, objects, now, steps);
    }

    /// <summary>The first host address of the subnet (10.2.0.0/24 -> 10.2.0.1), or its address when it has no room.</summary>
    private static System.Net.IPAddress FirstHost(IPPrefix subnet)
    {
        var bytes = subnet.Address.GetAddressBytes();
        int max = bytes.Length * 8;
        if (subnet.PrefixLength < max - 1)
        {
            bytes[^1] |= 1;
        }

        return new System.Net.IPAddress(bytes);
    }

    /// <summary>Whether an IPsec policy (templates, no mark or if_id restricting it) takes traffic of the subnet.</summary>
    private static bool Carries(XfrmPolicy policy, IPPrefix subnet)
    {
        if (policy.Action != XfrmPolicyAction.Allow || policy.Templates.Count == 0 || policy.InterfaceId != 0 ||
            (policy.Mark is { } mark && mark.Value != 0) || !KernelText.SameFamily(policy.Selector, subnet.Family))
        {
            return false;
        }

        bool source = KernelText.SourceOf(policy.Selector).Overlaps(subnet);
        bool destination = KernelText.DestinationOf(policy.Selector).Overlaps(subnet);
        return policy.Direction switch
        {
            XfrmDirection.Out => destination,
            XfrmDirection.In => source,
            _ => source || destination,
        };
    }

    /// <summary>The kernel once IPsec no longer carries the subnet: objects entirely within it are gone (the child
    /// was narrowed), wider ones stay and get pass policies and a throw route, whose commands are returned.</summary>
    private static KernelView StopIpsec(KernelView kernel, List<XfrmPolicy> policies, List<IPRoute> routes, IPPrefix subnet,
        out List<string> commands)
    {
        commands = [];
        var any = IPPrefix.DefaultRoute(subnet.Family);
        var removedPolicies = policies.Where(p => Within(p, subnet)).ToHashSet();
        var wider = policies.Where(p => !removedPolicies.Contains(p)).ToList();
        var added = new List<XfrmPolicy>();
        if (wider.Count > 0)
        {
            uint priority = wider.Min(p => p.Priority) is var min && min > 0 ? min - 1 : 0;
            foreach (var (direction, src, dst) in wider.SelectMany(p => Exemptions(p, subnet, any)).Distinct())
            {
                commands.Add($"ip xfrm policy add src {src} dst {dst} dir {KernelText.Direction(direction)} priority " +
                    priority.ToString(CultureInfo.InvariantCulture));
                added.Add(Bypass(direction, src, dst, priority));
            }
        }

        var removedRoutes = routes.Where(r => subnet.Contains(r.Destination)).ToHashSet();
        var addedRoutes = new List<IPRoute>();
        foreach (var table in routes.Where(r => !removedRoutes.Contains(r)).Select(r => r.Table).Distinct())
        {
            commands.Add($"ip route add throw {subnet} table {table.ToString(CultureInfo.InvariantCulture)}");
            addedRoutes.Add(new IPRoute { Destination = subnet, Table = table, Type = RouteType.Throw });
        }

        return kernel with
        {
            Policies = [.. kernel.Policies.Where(p => !removedPolicies.Contains(p)), .. added],
            Routes = [.. kernel.Routes.Where(r => !removedRoutes.Contains(r)), .. addedRoutes],
        };
    }

    /// <summary>Whether the policy's side(s) that meet the subnet lie entirely within it.</summary>
    private static bool Within(XfrmPolicy policy, IPPrefix subnet) => policy.Direction switch
    {
        XfrmDirection.Out => subnet.Contains(KernelText.DestinationOf(policy.Selector)),
        XfrmDirection.In => subnet.Contains(KernelText.SourceOf(policy.Selector)),
        _ => subnet.Contains(KernelText.SourceOf(policy.Selector)) || subnet.Contains(KernelText.DestinationOf(policy.Selector)),
    };

    private static IEnumerable<(XfrmDirection, IPPrefix, IPPrefix)> Exemptions(XfrmPolicy policy, IPPrefix subnet, IPPrefix any)
    {
        if (policy.Direction != XfrmDirection.In && KernelText.DestinationOf(policy.Selector).Overlaps(subnet))
        {
            yield return (policy.Direction, any, subnet);
        }

        if (policy.Direction != XfrmDirection.Out && KernelText.SourceOf(policy.Selector).Overlaps(subnet))
        {
            yield return (policy.Direction, subnet, any);
        }
    }

    private static XfrmPolicy Bypass(XfrmDirection direction, IPPrefix source, IPPrefix destination, uint priority) => new()
    {
        Selector = new XfrmSelector
        {
            Family = source.Family,
            Source = source.Address,
            SourcePrefixLength = source.PrefixLength,
            Destination = destination.Address,
            DestinationPrefixLength = destination.PrefixLength,
            Protocol = 0,
            SourcePort = 0,
            SourcePortMask = 0,
            DestinationPort = 0,
            DestinationPortMask = 0,
            InterfaceIndex = 0,
            User = 0,
        },
        Direction = direction,
        Action = XfrmPolicyAction.Allow,
        Priority = priority,
        Index = 0,
        Flags = XfrmPolicyFlags.None,
        Share = XfrmShare.Any,
        Type = XfrmPolicyType.Main,
        Mark = null,
        InterfaceId = 0,
        Templates = [],
        Limits = default,
        Current = default,
    };

}
