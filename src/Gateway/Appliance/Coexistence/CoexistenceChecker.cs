using System.Net;
using Branchgate.Appliance.Model;

namespace Branchgate.Appliance.Coexistence;

/// <summary>
/// Finds what in the kernel would steal, drop or misroute the traffic of an intended WireGuard configuration: IPsec
/// policies over allowed IPs or endpoints, routes in tables that policy rules consult first (strongSwan's table 220),
/// connected subnets, overlapping peers and competing routes. I/O-free: it reads a <see cref="KernelView"/> and an
/// <see cref="ApplianceConfig"/>; <see cref="CheckLive(ApplianceConfig)"/> is the one call that captures the kernel first.
/// </summary>
public static partial class CoexistenceChecker
{
    /// <summary>Finding codes, stable for scripts and the admin panel.</summary>
    public static class Codes
    {
        public const string IpsecPolicyOverlap = "ipsec-policy-overlap";
        public const string EndpointInIpsecSelector = "endpoint-in-ipsec-selector";
        public const string Table220Route = "table-220-route";
        public const string EarlierTableRoute = "policy-rule-route";
        public const string LanOverlap = "lan-overlap";
        public const string PeerOverlap = "peer-overlap";
        public const string RouteViaOtherInterface = "route-via-other-interface";
        public const string IpsecCoversInterface = "ipsec-covers-interface";
    }

    /// <summary>
    /// Checks <paramref name="intended"/> against <paramref name="kernel"/>. Routes through the intended interfaces
    /// themselves are taken as the configuration's own. <paramref name="resolvedEndpoints"/> maps endpoint host names
    /// (as written in <see cref="SiteConfig.Endpoint"/>, without the port) to the address they resolve to; an endpoint
    /// whose host is a name not in the map is not checked against IPsec selectors.
    /// </summary>
    public static CoexistenceReport Check(
        KernelView kernel, ApplianceConfig intended, IReadOnlyDictionary<string, IPAddress>? resolvedEndpoints = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(intended);
        var findings = new List<Finding>();
        var check = new Run(kernel, intended, findings);
        foreach (var iface in intended.Interfaces)
        {
            foreach (var site in intended.SitesOf(iface.Name).Where(s => s.Enabled))
            {
                foreach (var prefix in site.AllowedIps)
                {
                    check.PolicyOverlaps(iface, site, prefix);
                    check.RulePrecedence(iface, site, prefix);
                    check.SameTableRoutes(iface, site, prefix);
                    check.LanOverlap(iface, site, prefix);
                }

                if (EndpointAddress(site.Endpoint, resolvedEndpoints) is { } endpoint)
                {
                    check.EndpointInSelector(iface, site, endpoint.Address, (ushort)endpoint.Port);
                }
            }

            check.InterfaceSubnet(iface);
        }

        check.PeerOverlaps();
        return new CoexistenceReport(findings, kernel.Unreadable);
    }

    /// <summary>
    /// Captures the kernel of the calling thread's namespace and checks <paramref name="intended"/> against it, leaving
    /// out the routes through the configuration's own interfaces (they are ours, not conflicts). What the capture could
    /// not read is in <see cref="CoexistenceReport.Unreadable"/>. For the reconciler of `branchgate serve`.
    /// </summary>
    public static CoexistenceReport CheckLive(ApplianceConfig intended) => CheckLive(intended, null);

    /// <summary>As <see cref="CheckLive(ApplianceConfig)"/>, with endpoint names already resolved (see
    /// <see cref="Check"/>).</summary>
    public static CoexistenceReport CheckLive(ApplianceConfig intended, IReadOnlyDictionary<string, IPAddress>? resolvedEndpoints)
    {
        ArgumentNullException.ThrowIfNull(intended);
        return Check(WithoutOwnRoutes(KernelView.Capture(), intended), intended, resolvedEndpoints);
    }

    /// <summary>The view without the routes through the configuration's interfaces.</summary>
    public static KernelView WithoutOwnRoutes(KernelView kernel, ApplianceConfig config)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(config);
        var own = config.Interfaces.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        return kernel with { Routes = [.. kernel.Routes.Where(r => r.Device is null || !own.Contains(r.Device))] };
    }

    /// <summary>The endpoint's address and port: an IP literal ("192.0.2.1:51820", "[2001:db8::1]:51820") or a name
    /// found in <paramref name="resolved"/>; null otherwise.</summary>
    internal static IPEndPoint? EndpointAddress(string? endpoint, IReadOnlyDictionary<string, IPAddress>? resolved)
    {
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return null;
        }

        int colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(endpoint.AsSpan(colon + 1), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out ushort port))
        {
            return null;
        }

        string host = endpoint[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        if (IPAddress.TryParse(host, out var literal) && (host.Contains(':') || host.Count(c => c == '.') == 3))
        {
            return new IPEndPoint(literal, port);
        }

        return resolved is not null && resolved.TryGetValue(host, out var address) ? new IPEndPoint(address, port) : null;
    }
}
