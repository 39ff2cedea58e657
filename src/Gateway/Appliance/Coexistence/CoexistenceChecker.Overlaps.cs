using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Appliance.Coexistence;

public static partial class CoexistenceChecker
{
    private sealed partial class Run
    {
        /// <summary>
        /// Error: an allowed-IP range overlaps a subnet connected to another link (a LAN). The connected route and the
        /// tunnel route fight over those addresses, and the peer may send packets claiming LAN sources. Host- and
        /// link-scope addresses (loopback, fe80::) and allowed IPs of /0 (a default route never beats a connected
        /// one) are left out.
        /// </summary>
        public void LanOverlap(InterfaceConfig iface, SiteConfig site, IPPrefix prefix)
        {
            if (prefix.IsDefault)
            {
                return;
            }

            foreach (var (address, network) in ConnectedSubnets(iface.Name))
            {
                if (!network.Overlaps(prefix))
                {
                    continue;
                }

                string detail = network.Contains(prefix)
                    ? prefix == network
                        ? "They are the same range: one route wins and the other side becomes unreachable."
                        : $"The tunnel route {prefix} is more specific, so LAN hosts in it become unreachable."
                    : $"The connected route {network} is more specific, so traffic for those addresses stays on " +
                        $"{address.Link} and the peer's hosts there are unreachable.";
                findings.Add(new Finding(FindingSeverity.Error, Codes.LanOverlap,
                    $"{prefix} (allowed IPs of peer {site.Name} on {iface.Name}) overlaps the connected subnet {network} " +
                    $"of {address.Link}. {detail}",
                    [KernelText.AllowedIp(iface.Name, site.Name, prefix), KernelText.Address(address)])
                {
                    Interface = iface.Name,
                    Site = site.Name,
                });
            }

        }

        /// <summary>Warning: two peers' allowed IPs overlap (any interfaces). On one interface WireGuard routes to the
        /// longest match and gives an identical range to the last peer set; across interfaces the routes decide.</summary>
        public void PeerOverlaps()
        {
            var claims = config.Sites.Where(s => s.Enabled)
                .SelectMany(s => s.AllowedIps.Select(p => (Site: s, Prefix: p))).ToList();
            for (int i = 0; i < claims.Count; i++)
            {
                for (int j = i + 1; j < claims.Count; j++)
                {
                    var (a, pa) = claims[i];
                    var (b, pb) = claims[j];
                    if ((a.Interface == b.Interface && a.Name == b.Name) || !pa.Overlaps(pb))
                    {
                        continue;
                    }

                    string outcome = a.Interface == b.Interface
                        ? pa == pb
                            ? $"WireGuard gives a range to one peer only: whichever is configured last takes {pa} from the other."
                            : $"WireGuard sends to the longest match: {(pa.PrefixLength > pb.PrefixLength ? pa : pb)} goes to " +
                                $"{(pa.PrefixLength > pb.PrefixLength ? a.Name : b.Name)}, the rest to the other peer."
                        : pa == pb
                            ? $"Both interfaces route {pa}: only one route can win, the other peer gets nothing."
                            : $"The more specific route {(pa.PrefixLength > pb.PrefixLength ? pa : pb)} wins for its addresses " +
                                $"(through {(pa.PrefixLength > pb.PrefixLength ? a.Interface : b.Interface)}).";
                    findings.Add(new Finding(FindingSeverity.Warning, Codes.PeerOverlap,
                        $"{pa} of peer {a.Name} on {a.Interface} overlaps {pb} of peer {b.Name} on {b.Interface}. {outcome}",
                        [KernelText.AllowedIp(a.Interface, a.Name, pa), KernelText.AllowedIp(b.Interface, b.Name, pb)])
                    {
                        Interface = a.Interface,
                        Site = a.Name,
                    });
                }
            }

            // The tunnel's own subnet against a LAN: the same fight as an allowed IP.
            foreach (var iface in config.Interfaces)
            {
                foreach (var own in iface.Addresses)
                {
                    foreach (var (address, network) in ConnectedSubnets(iface.Name))
                    {
                        if (network.Overlaps(own.Network))
                        {
                            findings.Add(new Finding(FindingSeverity.Error, Codes.LanOverlap,
                                $"The subnet {own.Network} of {iface.Name} overlaps the connected subnet {network} of " +
                                $"{address.Link}: the two connected routes fight over the same addresses.",
                                [$"{iface.Name} address {own}", KernelText.Address(address)])
                            {
                                Interface = iface.Name,
                            });
                        }
                    }
                }
            }
        }

        private IEnumerable<(AddressInfo Address, IPPrefix Network)> ConnectedSubnets(string exceptLink) =>
            kernel.Addresses
                .Where(a => a.Link != exceptLink && a.Link != "lo" && a.Scope is RouteScope.Global or RouteScope.Site)
                .Select(a => (a, a.Peer is null ? a.Address.Network : IPPrefix.Host(a.Peer)));
    }
}
