using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Branchgate.Platform.Linux.Netlink.Route;
using Branchgate.Platform.Linux.Netlink.Xfrm;

namespace Branchgate.Appliance.Coexistence;

/// <summary>Kernel objects as the one-line text `ip xfrm policy`, `ip route` and `ip rule` would show, for the
/// <see cref="Finding.Objects"/> of a finding, and the selector arithmetic the checker needs.</summary>
internal static class KernelText
{
    public static string Policy(XfrmPolicy policy)
    {
        var text = new StringBuilder("xfrm policy src ");
        var selector = policy.Selector;
        text.Append(SourceOf(selector)).Append(" dst ").Append(DestinationOf(selector));
        if (selector.Protocol != 0)
        {
            text.Append(" proto ").Append(ProtocolName(selector.Protocol));
            if (selector.SourcePortMask != 0)
            {
                text.Append(" sport ").Append(selector.SourcePort);
            }

            if (selector.DestinationPortMask != 0)
            {
                text.Append(" dport ").Append(selector.DestinationPort);
            }
        }

        text.Append(" dir ").Append(Direction(policy.Direction));
        text.Append(" priority ").Append(policy.Priority);
        if (policy.Type == XfrmPolicyType.Sub)
        {
            text.Append(" ptype sub");
        }

        if (policy.Action == XfrmPolicyAction.Block)
        {
            text.Append(" action block");
        }

        if (policy.Mark is { } mark)
        {
            text.Append(CultureInfo.InvariantCulture, $" mark 0x{mark.Value:x}/0x{mark.Mask:x}");
        }

        if (policy.InterfaceId != 0)
        {
            text.Append(" if_id ").Append(policy.InterfaceId);
        }

        foreach (var t in policy.Templates)
        {
            text.Append(" tmpl src ").Append(t.Source).Append(" dst ").Append(t.Destination)
                .Append(" proto ").Append(ProtocolName(t.Protocol)).Append(" mode ").Append(ModeName(t.Mode));
            if (t.RequestId != 0)
            {
                text.Append(" reqid ").Append(t.RequestId);
            }
        }

        return text.ToString();
    }

    public static string Route(IPRoute route) => "route " + route;

    public static string Rule(RoutingRule rule) => "rule " + rule;

    public static string Address(AddressInfo address) => $"address {address.Address} dev {address.Link}";

    public static string AllowedIp(string iface, string site, IPPrefix prefix) =>
        $"{iface} peer {site} allowed-ips {prefix}";

    public static string Direction(XfrmDirection direction) => direction switch
    {
        XfrmDirection.In => "in",
        XfrmDirection.Out => "out",
        XfrmDirection.Forward => "fwd",
        _ => ((byte)direction).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The template endpoints in words: "ESP tunnel 192.0.2.1 -> 192.0.2.2".</summary>
    public static string Templates(XfrmPolicy policy) => policy.Templates.Count == 0
        ? "no transformation"
        : string.Join(", ", policy.Templates.Select(t =>
            $"{ProtocolName(t.Protocol).ToUpperInvariant()} {ModeName(t.Mode)} {t.Source} -> {t.Destination}"));

    public static IPPrefix SourceOf(XfrmSelector selector) => Network(selector, selector.Source, selector.SourcePrefixLength);

    public static IPPrefix DestinationOf(XfrmSelector selector) =>
        Network(selector, selector.Destination, selector.DestinationPrefixLength);

    /// <summary>Whether the selector is of this family (a family-less selector matches either).</summary>
    public static bool SameFamily(XfrmSelector selector, AddressFamily family) =>
        selector.Family == AddressFamily.Unspecified || selector.Family == family;

    private static IPPrefix Network(XfrmSelector selector, System.Net.IPAddress address, int length)
    {
        _ = selector;
        int max = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        return IPPrefix.Containing(address, Math.Min(length, max));
    }

    private static string ProtocolName(byte protocol) => protocol switch
    {
        1 => "icmp",
        6 => "tcp",
        17 => "udp",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        108 => "comp",
        _ => protocol.ToString(CultureInfo.InvariantCulture),
    };

    private static string ModeName(XfrmMode mode) => mode switch
    {
        XfrmMode.Transport => "transport",
        XfrmMode.Tunnel => "tunnel",
        XfrmMode.Beet => "beet",
        XfrmMode.RouteOptimization => "ro",
        XfrmMode.InTrigger => "in_trigger",
        _ => ((byte)mode).ToString(CultureInfo.InvariantCulture),
    };
}
