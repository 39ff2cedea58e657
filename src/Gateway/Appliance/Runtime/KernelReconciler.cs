using System.Net.Sockets;
using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Appliance.Runtime;

/// <summary>
/// Makes the kernel match one interface's desired state through rtnetlink: the link up with its MTU, exactly the
/// configured addresses on it (IPv6 link-local ones, which the kernel manages, are left alone), and, unless the table
/// is "off", one route per allowed IP of every enabled site in the configured table via the interface. Routes are
/// marked with <see cref="RouteProtocol"/> (<c>proto 98</c> in `ip route`); drift repair and removal touch only
/// routes that carry that mark and leave through this interface, so routes of others, even to the same prefix in
/// another table or via another interface, are never touched. A route to the same prefix via another interface in
/// the same table is not replaced: the add fails (EEXIST) and the change is rolled back.
/// </summary>
internal static class KernelReconciler
{
    /// <summary>The route protocol number marking Branchgate's routes: 0x62, 'b'.</summary>
    public const RouteProtocol RouteProtocol = (RouteProtocol)0x62;

    /// <summary>Returns the number of netlink changes made (0 when the kernel already matched).</summary>
    /// <exception cref="ApplyException">The kernel refused a change; the message names it.</exception>
    public static int Reconcile(RouteNetlink netlink, DeviceHost host, InterfaceConfig config, IReadOnlyList<SiteConfig> sites)
    {
        try
        {
            int changes = ReconcileLink(netlink, config);
            changes += ReconcileAddresses(netlink, host, config);
            changes += ReconcileRoutes(netlink, config, sites);
            return changes;
        }
        catch (LinuxException e)
        {
            throw new ApplyException($"{config.Name}: {e.Message}", e);
        }
    }

    /// <summary>The routes this interface should have (empty when its table is "off").</summary>
    public static IEnumerable<IPRoute> DesiredRoutes(InterfaceConfig config, IEnumerable<SiteConfig> sites)
    {
        if (config.RouteTableId is not { } table)
        {
            yield break;
        }

        var seen = new HashSet<IPPrefix>();
        foreach (var prefix in sites.SelectMany(s => s.AllowedIps))
        {
            if (seen.Add(prefix))
            {
                yield return new IPRoute
                {
                    Destination = prefix,
                    Table = table,
                    Device = config.Name,
                    Protocol = RouteProtocol,
                };
            }
        }
    }

    private static int ReconcileLink(RouteNetlink netlink, InterfaceConfig config)
    {
        var link = netlink.GetLink(config.Name);
        int changes = 0;
        int mtu = config.Mtu ?? InterfaceConfig.DefaultMtu;
        if (link.Mtu != mtu)
        {
            netlink.SetLinkMtu(config.Name, mtu);
            changes++;
        }

        if (!link.IsUp)
        {
            netlink.SetLinkUp(config.Name, true);
            changes++;
        }

        return changes;
    }

    private static int ReconcileAddresses(RouteNetlink netlink, DeviceHost host, InterfaceConfig config)
    {
        int changes = 0;
        var present = netlink.ListAddresses(config.Name);
        foreach (var address in present.Where(a => !IsKernelLinkLocal(a) && !config.Addresses.Contains(a.Address)))
        {
            netlink.DeleteAddress(address);
            changes++;
        }

        foreach (var address in config.Addresses.Where(c => !present.Any(a => a.Address == c)))
        {
            netlink.AddAddress(config.Name, address,
                address.Family == AddressFamily.InterNetworkV6 ? AddressFlags.NoDad : AddressFlags.None);
            changes++;
        }

        if (changes > 0)
        {
            present = netlink.ListAddresses(config.Name);
        }

        host.ObservedAddresses = [.. present.Select(a => a.Address.ToString())];
        return changes;
    }

    private static bool IsKernelLinkLocal(AddressInfo address) =>
        address.Address.Family == AddressFamily.InterNetworkV6 && address.Address.Address.IsIPv6LinkLocal;

    private static int ReconcileRoutes(RouteNetlink netlink, InterfaceConfig config, IReadOnlyList<SiteConfig> sites)
    {
        int index = netlink.GetLinkIndex(config.Name);
        var ours = netlink.ListRoutes().Where(r => r.Protocol == RouteProtocol && r.DeviceIndex == index).ToList();
        var desired = DesiredRoutes(config, sites).ToList();
        int changes = 0;
        foreach (var route in ours.Where(r => !desired.Any(d => d.Destination == r.Destination && d.Table == r.Table)))
        {
            netlink.DeleteRoute(route with { Device = null });
            changes++;
        }

        foreach (var route in desired.Where(d => !ours.Any(r => r.Destination == d.Destination && r.Table == d.Table)))
        {
            netlink.AddRoute(route);
            changes++;
        }

        return changes;
    }
}
