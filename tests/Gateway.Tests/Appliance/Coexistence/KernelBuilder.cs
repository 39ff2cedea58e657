using System.Net;
using System.Net.Sockets;
using Branchgate.Appliance.Model;
using Branchgate.Crypto;
using Branchgate.Platform.Linux.Netlink.Route;
using Branchgate.Platform.Linux.Netlink.Xfrm;

namespace Branchgate.Tests.Appliance.Coexistence;

/// <summary>Hand-built kernel objects and configurations for the checker tests.</summary>
internal static class KernelBuilder
{
    public const string LocalGateway = "192.0.2.1";
    public const string RemoteGateway = "198.51.100.2";

    public static XfrmPolicy Policy(
        XfrmDirection direction, string source, string destination, uint priority = 375423, XfrmMark? mark = null,
        uint interfaceId = 0, bool templates = true, bool optional = false, XfrmPolicyAction action = XfrmPolicyAction.Allow,
        byte protocol = 0, ushort destinationPort = 0, ushort destinationPortMask = 0)
    {
        var src = IPPrefix.Parse(source);
        var dst = IPPrefix.Parse(destination);
        var family = src.Family;
        var (outer1, outer2) = direction == XfrmDirection.Out ? (LocalGateway, RemoteGateway) : (RemoteGateway, LocalGateway);
        return new XfrmPolicy
        {
            Selector = new XfrmSelector
            {
                Family = family,
                Source = src.Address,
                SourcePrefixLength = src.PrefixLength,
                Destination = dst.Address,
                DestinationPrefixLength = dst.PrefixLength,
                Protocol = protocol,
                SourcePort = 0,
                SourcePortMask = 0,
                DestinationPort = destinationPort,
                DestinationPortMask = destinationPortMask,
                InterfaceIndex = 0,
                User = 0,
            },
            Direction = direction,
            Action = action,
            Priority = priority,
            Index = 0,
            Flags = XfrmPolicyFlags.None,
            Share = XfrmShare.Any,
            Type = XfrmPolicyType.Main,
            Mark = mark,
            InterfaceId = interfaceId,
            Templates = templates
                ?
                [
                    new XfrmTemplate
                    {
                        Family = AddressFamily.InterNetwork,
                        Source = IPAddress.Parse(outer1),
                        Destination = IPAddress.Parse(outer2),
                        Spi = 0,
                        Protocol = 50,
                        Mode = XfrmMode.Tunnel,
                        RequestId = 1,
                        Share = XfrmShare.Any,
                        Optional = optional,
                        AuthenticationAlgorithms = uint.MaxValue,
                        EncryptionAlgorithms = uint.MaxValue,
                        CompressionAlgorithms = uint.MaxValue,
                    },
                ]
                : [],
            Limits = default,
            Current = default,
        };
    }

    public static IPRoute Route(string destination, string? device, uint table = RouteTable.Main,
        RouteType type = RouteType.Unicast, RouteProtocol protocol = RouteProtocol.Static) => new()
        {
            Destination = IPPrefix.Parse(destination),
            Device = device,
            Table = table,
            Type = type,
            Protocol = protocol,
            Metric = 0,
        };

    /// <summary>The rules every Linux namespace starts with, plus strongSwan's rule 220 (both families).</summary>
    public static IReadOnlyList<RoutingRule> StandardRules(bool strongSwan = true)
    {
        var rules = new List<RoutingRule>();
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            rules.Add(new RoutingRule { Family = family, Priority = 0, Table = RouteTable.Local });
            if (strongSwan)
            {
                rules.Add(new RoutingRule { Family = family, Priority = 220, Table = RouteTable.StrongSwan });
            }

            rules.Add(new RoutingRule { Family = family, Priority = 32766, Table = RouteTable.Main });
            rules.Add(new RoutingRule { Family = family, Priority = 32767, Table = RouteTable.Default });
        }

        return rules;
    }

    public static AddressInfo Address(string link, string address, RouteScope scope = RouteScope.Global) =>
        new(1, link, InterfaceAddress.Parse(address), null, null, scope, AddressFlags.Permanent, null);

    public static InterfaceConfig Interface(string name = "wg0", string table = "auto", uint fwMark = 0,
        params string[] addresses) => new()
        {
            Name = name,
            PrivateKey = WireGuardSecret.GeneratePrivateKey(),
            Table = table,
            FwMark = fwMark,
            Addresses = [.. addresses.Select(InterfaceAddress.Parse)],
        };

    public static SiteConfig Site(string name, string iface = "wg0", string? endpoint = null, params string[] allowedIps) => new()
    {
        Name = name,
        Interface = iface,
        PublicKey = WireGuardSecret.GeneratePrivateKey().DerivePublicKey(),
        Endpoint = endpoint,
        AllowedIps = [.. allowedIps.Select(IPPrefix.Parse)],
    };

    public static ApplianceConfig ConfigOf(InterfaceConfig iface, params SiteConfig[] sites) =>
        new() { Interfaces = [iface], Sites = sites };

    /// <summary>wg0 (10.9.0.1/24, table auto) with one peer "branch2" whose allowed IPs are given.</summary>
    public static ApplianceConfig OnePeer(params string[] allowedIps) =>
        ConfigOf(Interface(addresses: "10.9.0.1/24"), Site("branch2", allowedIps: allowedIps));

    public static NoisePublicKey AnyKey() => WireGuardSecret.GeneratePrivateKey().DerivePublicKey();
}
