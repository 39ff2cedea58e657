using System.Net;
using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Netlink.Route;
using Branchgate.Platform.Linux.Netlink.Xfrm;

namespace Branchgate.Appliance.Coexistence;

public static partial class CoexistenceChecker
{
    /// <summary>One check over one view and one configuration, collecting findings.</summary>
    private sealed partial class Run(KernelView kernel, ApplianceConfig config, List<Finding> findings)
    {
        /// <summary>Which side of a policy's selector a range is compared with.</summary>
        private enum Side
        {
            Source,
            Destination,
        }

        /// <summary>
        /// Error: an allowed-IP range meets an IPsec policy with templates that unmarked traffic matches. Out: our
        /// packets to the range would be encrypted (the SPD is looked up after routing). In and fwd: decrypted packets
        /// from the range, or LAN packets forwarded to it, did not come through IPsec and are dropped.
        /// </summary>
        public void PolicyOverlaps(InterfaceConfig iface, SiteConfig site, IPPrefix prefix)
        {
            foreach (var policy in kernel.Policies)
            {
                if (!Protects(policy, packetMark: 0) || !KernelText.SameFamily(policy.Selector, prefix.Family))
                {
                    continue;
                }

                foreach (var side in SidesOf(policy.Direction))
                {
                    var selectorSide = side == Side.Source ? KernelText.SourceOf(policy.Selector) : KernelText.DestinationOf(policy.Selector);
                    // Prefixes overlap by nesting: the shared addresses are the longer of the two.
                    if (!selectorSide.Overlaps(prefix) ||
                        IsBypassed(policy, side, selectorSide.PrefixLength > prefix.PrefixLength ? selectorSide : prefix) ||
                        (policy.Direction != XfrmDirection.Out && policy.Templates.All(t => t.Optional)))
                    {
                        continue;
                    }

                    findings.Add(new Finding(FindingSeverity.Error, Codes.IpsecPolicyOverlap,
                        PolicyMessage(iface, site, prefix, policy, side),
                        [KernelText.AllowedIp(iface.Name, site.Name, prefix), KernelText.Policy(policy)])
                    {
                        Interface = iface.Name,
                        Site = site.Name,
                    });
                }
            }
        }

        /// <summary>Error: the peer's endpoint lies in an out-policy selector, so the tunnel's own UDP packets would be
        /// ESP-encapsulated (or dropped while no SA exists).</summary>
        public void EndpointInSelector(InterfaceConfig iface, SiteConfig site, IPAddress endpoint, ushort port)
        {
            var host = IPPrefix.Host(endpoint);
            foreach (var policy in kernel.Policies)
            {
                var selector = policy.Selector;
                if (policy.Direction != XfrmDirection.Out || !Protects(policy, iface.FwMark) ||
                    !KernelText.SameFamily(selector, endpoint.AddressFamily) ||
                    !KernelText.DestinationOf(selector).Contains(endpoint) ||
                    selector.Protocol is not (0 or 17) ||
                    (selector.DestinationPort & selector.DestinationPortMask) != (port & selector.DestinationPortMask) ||
                    !MayBeLocalSource(KernelText.SourceOf(selector)) ||
                    IsBypassed(policy, Side.Destination, host))
                {
                    continue;
                }

                findings.Add(new Finding(FindingSeverity.Error, Codes.EndpointInIpsecSelector,
                    $"The endpoint {endpoint} of peer {site.Name} on {iface.Name} lies inside the IPsec out policy " +
                    $"{KernelText.SourceOf(selector)} -> {KernelText.DestinationOf(selector)} (priority {policy.Priority}, " +
                    $"{KernelText.Templates(policy)}): the tunnel's own UDP packets to {endpoint}:{port} would be " +
                    "encrypted into IPsec (or dropped while no SA exists) instead of going out as plain UDP, so the " +
                    "handshake never completes. Exclude the endpoint from the IPsec selector or add a bypass policy for it.",
                    [$"{iface.Name} peer {site.Name} endpoint {site.Endpoint} ({endpoint})", KernelText.Policy(policy)])
                {
                    Interface = iface.Name,
                    Site = site.Name,
                });
            }
        }

        /// <summary>Warning: an IPsec policy whose selector covers a whole subnet of the WireGuard interface.</summary>
        public void InterfaceSubnet(InterfaceConfig iface)
        {
            foreach (var address in iface.Addresses)
            {
                var network = address.Network;
                foreach (var policy in kernel.Policies)
                {
                    if (!Protects(policy, 0) || !KernelText.SameFamily(policy.Selector, network.Family))
                    {
                        continue;
                    }

                    bool covered = SidesOf(policy.Direction).Any(side =>
                        (side == Side.Source ? KernelText.SourceOf(policy.Selector) : KernelText.DestinationOf(policy.Selector))
                            .Contains(network) && !IsBypassed(policy, side, network));
                    if (!covered)
                    {
                        continue;
                    }

                    findings.Add(new Finding(FindingSeverity.Warning, Codes.IpsecCoversInterface,
                        $"The IPsec {KernelText.Direction(policy.Direction)} policy {KernelText.SourceOf(policy.Selector)} -> " +
                        $"{KernelText.DestinationOf(policy.Selector)} (priority {policy.Priority}) covers the whole subnet " +
                        $"{network} of {iface.Name}: traffic to and from the tunnel addresses themselves is IPsec's, " +
                        "which is rarely what the selector's author meant.",
                        [$"{iface.Name} address {address}", KernelText.Policy(policy)])
                    {
                        Interface = iface.Name,
                    });
                }
            }
        }

        /// <summary>An IPsec policy (templates, no xfrm interface) that a packet with this firewall mark matches.</summary>
        private static bool Protects(XfrmPolicy policy, uint packetMark) =>
            policy.Action == XfrmPolicyAction.Allow && policy.Templates.Count > 0 && policy.InterfaceId == 0 &&
            MarkMatches(policy.Mark, packetMark);

        /// <summary>The kernel's test: (packet mark &amp; mask) == value. Note a mark of 0 matches unmarked packets.</summary>
        private static bool MarkMatches(XfrmMark? mark, uint packetMark) =>
            mark is not { } m || (packetMark & m.Mask) == m.Value;

        private static Side[] SidesOf(XfrmDirection direction) => direction switch
        {
            XfrmDirection.Out => [Side.Destination],
            XfrmDirection.In => [Side.Source],
            _ => [Side.Source, Side.Destination],
        };

        /// <summary>
        /// Whether a plain allow policy (no templates) that takes precedence over <paramref name="policy"/> (a sub
        /// policy, or a lower priority number) lets all of <paramref name="range"/> (the addresses the policy and the
        /// allowed IPs share) pass on that side, whatever the other side: the "pass" policy of a migration.
        /// </summary>
        private bool IsBypassed(XfrmPolicy policy, Side side, IPPrefix range) => Bypasses.Any(q =>
            q.Direction == policy.Direction &&
            KernelText.SameFamily(q.Selector, range.Family) &&
            ((q.Type == XfrmPolicyType.Sub && policy.Type == XfrmPolicyType.Main) ||
                (q.Type == policy.Type && q.Priority < policy.Priority)) &&
            (side == Side.Source
                ? KernelText.SourceOf(q.Selector).Contains(range) && KernelText.DestinationOf(q.Selector).Contains(KernelText.DestinationOf(policy.Selector))
                : KernelText.DestinationOf(q.Selector).Contains(range) && KernelText.SourceOf(q.Selector).Contains(KernelText.SourceOf(policy.Selector))));

        /// <summary>The plain allow policies (no templates) that unmarked traffic of any protocol matches; few, so
        /// that a large SPD is scanned once, not once per overlap.</summary>
        private List<XfrmPolicy> Bypasses => _bypasses ??= [.. kernel.Policies.Where(q =>
            q.Action == XfrmPolicyAction.Allow && q.Templates.Count == 0 && q.InterfaceId == 0 && MarkMatches(q.Mark, 0) &&
            q.Selector.Protocol == 0)];

        private List<XfrmPolicy>? _bypasses;

        /// <summary>Whether packets this host sends could carry a source in <paramref name="source"/> (true when no
        /// address of the family is known, so nothing is missed).</summary>
        private bool MayBeLocalSource(IPPrefix source)
        {
            var local = kernel.Addresses.Where(a => a.Address.Family == source.Family).ToList();
            return local.Count == 0 || local.Any(a => source.Contains(a.Address.Address));
        }

        private static string PolicyMessage(InterfaceConfig iface, SiteConfig site, IPPrefix prefix, XfrmPolicy policy, Side side)
        {
            var selector = $"{KernelText.SourceOf(policy.Selector)} -> {KernelText.DestinationOf(policy.Selector)}";
            var named = $"the IPsec {KernelText.Direction(policy.Direction)} policy {selector} (priority {policy.Priority}, " +
                $"{KernelText.Templates(policy)})";
            var whose = $"{prefix} (allowed IPs of peer {site.Name} on {iface.Name})";
            return (policy.Direction, side) switch
            {
                (XfrmDirection.Out, _) =>
                    $"Traffic to {whose} matches {named}. Linux consults the IPsec policies after routing, so these packets " +
                    $"would be encrypted into the IPsec tunnel even though the route points at {iface.Name}.",
                (XfrmDirection.In, _) =>
                    $"Traffic from {whose} matches {named}. Packets that arrive decrypted through {iface.Name} did not come " +
                    "through IPsec, so the kernel's inbound policy check drops them.",
                (_, Side.Source) =>
                    $"Traffic from {whose} forwarded to the LAN matches {named}. It did not come through IPsec, so the " +
                    "kernel's forward policy check drops it.",
                _ =>
                    $"Traffic to {whose} forwarded by this gateway matches {named}. The forward policy demands IPsec for it, " +
                    "so the kernel drops what the LAN sends towards the WireGuard peer.",
            };
        }
    }
}
