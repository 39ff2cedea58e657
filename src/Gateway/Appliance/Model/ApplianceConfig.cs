using Branchgate.Crypto;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Appliance.Model;

/// <summary>
/// The whole desired state of the appliance: what the store holds and the reconciler makes true. Immutable: a change
/// is a new instance (use <c>with</c>), validated (<c>Config.ConfigValidator</c>) and checked before it is applied.
/// </summary>
public sealed record ApplianceConfig
{
    public static readonly ApplianceConfig Empty = new();

    public IReadOnlyList<InterfaceConfig> Interfaces { get; init; } = [];

    /// <summary>Every site or remote worker of every interface (<see cref="SiteConfig.Interface"/> says which).</summary>
    public IReadOnlyList<SiteConfig> Sites { get; init; } = [];

    public InterfaceConfig? FindInterface(string name) =>
        Interfaces.FirstOrDefault(i => string.Equals(i.Name, name, StringComparison.Ordinal));

    public SiteConfig? FindSite(string interfaceName, string siteName) =>
        Sites.FirstOrDefault(s => string.Equals(s.Interface, interfaceName, StringComparison.Ordinal)
            && string.Equals(s.Name, siteName, StringComparison.Ordinal));

    public IEnumerable<SiteConfig> SitesOf(string interfaceName) =>
        Sites.Where(s => string.Equals(s.Interface, interfaceName, StringComparison.Ordinal));

    /// <summary>This config with <paramref name="site"/> added, or replacing the site of the same interface and name.</summary>
    public ApplianceConfig WithSite(SiteConfig site) => this with
    {
        Sites = [.. Sites.Where(s => !(s.Interface == site.Interface && s.Name == site.Name)), site],
    };

    public ApplianceConfig WithoutSite(string interfaceName, string siteName) => this with
    {
        Sites = [.. Sites.Where(s => !(s.Interface == interfaceName && s.Name == siteName))],
    };

    /// <summary>This config with <paramref name="config"/> added or replacing the interface of the same name.</summary>
    public ApplianceConfig WithInterface(InterfaceConfig config) => this with
    {
        Interfaces = [.. Interfaces.Where(i => i.Name != config.Name), config],
    };

    /// <summary>Removes the interface and all its sites.</summary>
    public ApplianceConfig WithoutInterface(string name) => this with
    {
        Interfaces = [.. Interfaces.Where(i => i.Name != name)],
        Sites = [.. Sites.Where(s => s.Interface != name)],
    };
}

/// <summary>
/// A WireGuard interface of the gateway: the [Interface] section of a wg-quick file plus the routing table its site
/// routes go into.
/// </summary>
public sealed record InterfaceConfig
{
    /// <summary>Kernel interface name (1..15 bytes, no '/', no whitespace), e.g. "wg0".</summary>
    public required string Name { get; init; }

    public required WireGuardSecret PrivateKey { get; init; }

    /// <summary>UDP port; 0 = any free port.</summary>
    public ushort ListenPort { get; init; }

    /// <summary>Addresses of the tunnel interface (wg-quick Address), host bits allowed (10.9.0.1/24).</summary>
    public IReadOnlyList<InterfaceAddress> Addresses { get; init; } = [];

    /// <summary>Null: the default (1420, as wg-quick without a route lookup).</summary>
    public int? Mtu { get; init; }

    /// <summary>0: none.</summary>
    public uint FwMark { get; init; }

    /// <summary>
    /// wg-quick Table: "auto" (routes for each site's allowed IPs in the main table), "off" (no routes), or a table
    /// number as decimal text ("main" is normalized to "254"). See <see cref="RouteTableId"/>.
    /// </summary>
    public string Table { get; init; } = "auto";

    /// <summary>wg-quick DNS: stored and exported, not applied by the gateway.</summary>
    public IReadOnlyList<string> Dns { get; init; } = [];

    /// <summary>The table site routes go into, or null when <see cref="Table"/> is "off".</summary>
    public uint? RouteTableId => Table switch
    {
        "off" => null,
        "auto" => RouteTable.Main,
        _ => uint.Parse(Table, System.Globalization.CultureInfo.InvariantCulture),
    };

    public NoisePublicKey PublicKey => PrivateKey.DerivePublicKey();

    public const int DefaultMtu = 1420;
}

/// <summary>What a peer is to the office: another site's gateway, or one remote worker's device.</summary>
public enum SiteKind
{
    Site,
    RemoteWorker,
}

/// <summary>A peer of an interface: a branch site (its LAN subnets as allowed IPs) or a remote worker.</summary>
public sealed record SiteConfig
{
    /// <summary>Unique per interface; letters, digits, '-', '_', '.', 1..64 characters.</summary>
    public required string Name { get; init; }

    /// <summary>The <see cref="InterfaceConfig.Name"/> this peer belongs to.</summary>
    public required string Interface { get; init; }

    public SiteKind Kind { get; init; } = SiteKind.Site;

    public required NoisePublicKey PublicKey { get; init; }

    public WireGuardSecret? PresharedKey { get; init; }

    /// <summary>"host:port" as the administrator wrote it; host is an IPv4 address, [IPv6] or a DNS name. Null: none
    /// (the peer will be learned from its authenticated packets).</summary>
    public string? Endpoint { get; init; }

    /// <summary>The remote site's subnets (or a remote worker's /32 and /128).</summary>
    public IReadOnlyList<IPPrefix> AllowedIps { get; init; } = [];

    /// <summary>Seconds; 0 = off.</summary>
    public ushort PersistentKeepalive { get; init; }

    public bool Enabled { get; init; } = true;

    /// <summary>Free text for the administrator.</summary>
    public string? Description { get; init; }
}
