using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Appliance.Config;

/// <summary>
/// Checks a desired state before it is stored or applied: the rules the kernel, `wg` and wg-quick enforce, and the
/// ones that make a config ambiguous (two sites claiming the same range, two interfaces on one port). Every message
/// starts with the object it is about ("interface wg0: ...", "site wg0/branch-b: ..."); the list is sorted, so the same
/// config always gives the same list in the same order whatever the order of its lists.
/// </summary>
public static class ConfigValidator
{
    public const int MinMtu = 1280;
    public const int MaxMtu = 9000;
    public const int MaxSiteNameLength = 64;

    /// <summary>All problems of <paramref name="config"/>; empty when it is valid.</summary>
    public static IReadOnlyList<string> Validate(ApplianceConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var messages = new List<string>();
        var interfaces = config.Interfaces ?? [];
        var sites = config.Sites ?? [];
        foreach (var iface in interfaces)
        {
            ValidateInterface(iface, interfaces, messages);
        }

        foreach (var site in sites)
        {
            ValidateSite(site, config, messages);
        }

        foreach (var group in sites.Where(s => s is not null).GroupBy(s => s.Interface ?? "", StringComparer.Ordinal))
        {
            CheckDuplicates(group.Key, [.. group], messages);
            CheckOverlaps(group.Key, [.. group], messages);
        }

        messages.Sort(StringComparer.Ordinal);
        return messages;
    }

    /// <summary>The kernel's rule (dev_valid_name) plus '%', which would be read as an IPv6 zone separator.</summary>
    public static string? InterfaceNameError(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "the name is empty";
        }

        if (Encoding.UTF8.GetByteCount(name) > 15)
        {
            return "the name is longer than 15 bytes";
        }

        if (name is "." or ".." || name.Any(c => c is '/' or ':' or '%' || char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return "the name may not be '.' or '..' or contain '/', ':', '%', white space or control characters";
        }

        return null;
    }

    /// <summary>1..64 of letters, digits, '.', '_' and '-'.</summary>
    public static bool IsValidSiteName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxSiteNameLength &&
        name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>"auto", "off" or a table number 1..4294967295 in plain decimal (what <see cref="InterfaceConfig.RouteTableId"/> reads).</summary>
    public static bool IsValidTable(string? table) =>
        table is "auto" or "off" ||
        (!string.IsNullOrEmpty(table) && table.Length <= 10 && table.All(char.IsAsciiDigit) && table[0] != '0' &&
            uint.TryParse(table, NumberStyles.None, CultureInfo.InvariantCulture, out _));

    /// <summary>A wg-quick DNS entry: an IPv4 or IPv6 server address (no zone) or a search domain of letters, digits,
    /// '-', '_' and '.' (up to 253 characters).</summary>
    public static bool IsValidDnsEntry(string? entry)
    {
        if (string.IsNullOrEmpty(entry))
        {
            return false;
        }

        // wg-quick's own test: digits and dots, or anything with a colon, is a server address.
        bool isAddress = entry.Contains(':', StringComparison.Ordinal) || entry.All(c => char.IsAsciiDigit(c) || c == '.');
        return isAddress
            ? !entry.Contains('%', StringComparison.Ordinal) && IPAddress.TryParse(entry, out var address) &&
                address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6
            : entry.Length <= 253 && entry.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_');
    }

    private static void ValidateInterface(InterfaceConfig? iface, IReadOnlyList<InterfaceConfig> all, List<string> messages)
    {
        if (iface is null)
        {
            messages.Add("interface: a null entry in the interface list");
            return;
        }

        string who = $"interface {Shown(iface.Name)}";
        if (InterfaceNameError(iface.Name) is { } nameError)
        {
            messages.Add($"{who}: {nameError}");
        }

        var sameName = all.Where(i => i is not null && i.Name == iface.Name).ToList();
        if (sameName.Count > 1 && ReferenceEquals(sameName[0], iface))
        {
            messages.Add($"{who}: the name is used by {sameName.Count} interfaces");
        }

        if (iface.ListenPort != 0)
        {
            var others = all.Where(i => i is not null && !ReferenceEquals(i, iface) && i.ListenPort == iface.ListenPort)
                .Select(i => Shown(i.Name)).Order(StringComparer.Ordinal).ToList();
            if (others.Count > 0)
            {
                messages.Add($"{who}: listen port {iface.ListenPort} is also used by {string.Join(", ", others)}");
            }
        }

        if (iface.Mtu is { } mtu && mtu is < MinMtu or > MaxMtu)
        {
            messages.Add($"{who}: MTU {mtu} is outside {MinMtu}..{MaxMtu}");
        }

        if (!IsValidTable(iface.Table))
        {
            messages.Add($"{who}: table '{SiteEndpoint.Show(iface.Table ?? "")}' is not auto, off or a table number " +
                "1..4294967295 in plain decimal (main is 254)");
        }

        foreach (var entry in (iface.Dns ?? []).Where(e => !IsValidDnsEntry(e)))
        {
            messages.Add($"{who}: DNS entry '{SiteEndpoint.Show(entry ?? "")}' is neither an IP address nor a search domain");
        }

        if (iface.PrivateKey is null)
        {
            messages.Add($"{who}: no private key");
        }
        else if (!iface.PrivateKey.Span.ContainsAnyExcept((byte)0))
        {
            messages.Add($"{who}: the private key is all zeros");
        }
    }

    private static void ValidateSite(SiteConfig? site, ApplianceConfig config, List<string> messages)
    {
        if (site is null)
        {
            messages.Add("site: a null entry in the site list");
            return;
        }

        string who = SiteLabel(site);
        if (!IsValidSiteName(site.Name))
        {
            messages.Add($"{who}: the name must be 1 to {MaxSiteNameLength} letters, digits, '.', '_' or '-'");
        }

        var iface = (config.Interfaces ?? []).FirstOrDefault(i => i is not null && i.Name == site.Interface);
        if (iface is null)
        {
            messages.Add($"{who}: interface {Shown(site.Interface)} does not exist");
        }

        if (site.PublicKey is null)
        {
            messages.Add($"{who}: no public key");
        }
        else if (site.PublicKey.IsZero)
        {
            messages.Add($"{who}: the public key is all zeros");
        }
        else if (iface?.PrivateKey is { } privateKey && privateKey.Span.ContainsAnyExcept((byte)0) &&
            privateKey.DerivePublicKey().Equals(site.PublicKey))
        {
            messages.Add($"{who}: the public key is the interface's own public key");
        }

        if (site.Endpoint is not null && !SiteEndpoint.TryParse(site.Endpoint, out _, out string? endpointError))
        {
            messages.Add($"{who}: {endpointError}");
        }

        // PersistentKeepalive is a ushort, so the wg limit of 65535 seconds holds by type.
    }

    private static void CheckDuplicates(string interfaceName, List<SiteConfig> sites, List<string> messages)
    {
        foreach (var sameName in sites.GroupBy(s => s.Name ?? "", StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            messages.Add($"{SiteLabel(sameName.First())}: the name is used by {sameName.Count()} sites of interface " +
                Shown(interfaceName));
        }

        foreach (var sameKey in sites.Where(s => s.PublicKey is { IsZero: false }).GroupBy(s => s.PublicKey)
            .Where(g => g.Count() > 1))
        {
            var names = sameKey.Select(s => Shown(s.Name)).Order(StringComparer.Ordinal).ToList();
            messages.Add($"site {Shown(interfaceName)}/{names[0]}: the same public key is used by sites " +
                string.Join(", ", names));
        }
    }

    /// <summary>
    /// WireGuard routes by allowed IPs, so a range may belong to one peer of an interface only (wg moves it to the
    /// last peer that claims it). CIDR ranges are nested or disjoint, so after sorting by start (shorter first) every
    /// range that contains the current one is on a stack of open ranges: one pass finds all overlapping pairs.
    /// </summary>
    private static void CheckOverlaps(string interfaceName, List<SiteConfig> sites, List<string> messages)
    {
        var ranges = new List<Range>();
        for (int i = 0; i < sites.Count; i++)
        {
            foreach (var prefix in (sites[i].AllowedIps ?? []).Distinct())
            {
                var (start, end) = Bounds(prefix);
                ranges.Add(new Range(start, end, prefix, i));
            }
        }

        ranges.Sort((a, b) => a.Prefix.IsIPv6 != b.Prefix.IsIPv6 ? a.Prefix.IsIPv6.CompareTo(b.Prefix.IsIPv6)
            : a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.Prefix.PrefixLength.CompareTo(b.Prefix.PrefixLength));

        var conflicts = new SortedDictionary<(int, int), List<string>>();
        var open = new List<Range>();
        foreach (var range in ranges)
        {
            open.RemoveAll(o => o.Prefix.IsIPv6 != range.Prefix.IsIPv6 || o.End < range.Start);
            foreach (var outer in open.Where(o => o.Site != range.Site))
            {
                bool outerFirst = string.CompareOrdinal(sites[outer.Site].Name, sites[range.Site].Name) <= 0;
                var key = (Math.Min(outer.Site, range.Site), Math.Max(outer.Site, range.Site));
                if (!conflicts.TryGetValue(key, out var list))
                {
                    conflicts[key] = list = [];
                }

                list.Add(outerFirst ? $"{outer.Prefix} ~ {range.Prefix}" : $"{range.Prefix} ~ {outer.Prefix}");
            }

            open.Add(range);
        }

        foreach (var ((a, b), pairs) in conflicts)
        {
            var (x, y) = string.CompareOrdinal(sites[a].Name, sites[b].Name) <= 0 ? (sites[a], sites[b]) : (sites[b], sites[a]);
            messages.Add($"{SiteLabel(x)}: allowed IPs overlap those of site {Shown(interfaceName)}/{Shown(y.Name)} " +
                $"({string.Join(", ", pairs.Order(StringComparer.Ordinal))}); a range can belong to one site only");
        }
    }

    private readonly record struct Range(UInt128 Start, UInt128 End, IPPrefix Prefix, int Site);

    private static (UInt128 Start, UInt128 End) Bounds(IPPrefix prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        prefix.Address.TryWriteBytes(bytes, out int written);
        UInt128 start = 0;
        for (int i = 0; i < written; i++)
        {
            start = (start << 8) | bytes[i];
        }

        int hostBits = (written * 8) - prefix.PrefixLength;
        UInt128 size = hostBits >= 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
        return (start, start | size);
    }

    private static string SiteLabel(SiteConfig site) => $"site {Shown(site.Interface)}/{Shown(site.Name)}";

    private static string Shown(string? name) => string.IsNullOrEmpty(name) ? "''" : SiteEndpoint.Show(name);
}
