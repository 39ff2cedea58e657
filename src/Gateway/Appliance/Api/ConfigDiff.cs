using Branchgate.Appliance.Model;

namespace Branchgate.Appliance.Api;

/// <summary>
/// What replacing one configuration by another changes, in lines an administrator reads after a restore: interfaces and
/// sites added, removed, and changed with the names of the fields that differ. Keys are compared but never shown.
/// </summary>
internal static class ConfigDiff
{
    public static IReadOnlyList<string> Describe(ApplianceConfig before, ApplianceConfig after)
    {
        var lines = new List<string>();
        foreach (var name in Names(before.Interfaces.Select(i => i.Name), after.Interfaces.Select(i => i.Name)))
        {
            var (old, now) = (before.FindInterface(name), after.FindInterface(name));
            if (old is null || now is null)
            {
                lines.Add($"interface {name} {(old is null ? "added" : "removed")}");
                continue;
            }

            var fields = new List<string>();
            Compare(fields, "privateKey", old.PrivateKey.Equals(now.PrivateKey));
            Compare(fields, "listenPort", old.ListenPort == now.ListenPort);
            Compare(fields, "addresses", old.Addresses.Select(a => a.ToString()).SequenceEqual(now.Addresses.Select(a => a.ToString())));
            Compare(fields, "mtu", old.Mtu == now.Mtu);
            Compare(fields, "fwMark", old.FwMark == now.FwMark);
            Compare(fields, "table", old.Table == now.Table);
            Compare(fields, "dns", old.Dns.SequenceEqual(now.Dns));
            Changed(lines, $"interface {name}", fields);
        }

        var oldSites = before.Sites.Select(Key);
        var newSites = after.Sites.Select(Key);
        foreach (var key in Names(oldSites, newSites))
        {
            var (iface, site) = (key[..key.IndexOf('/', StringComparison.Ordinal)], key[(key.IndexOf('/', StringComparison.Ordinal) + 1)..]);
            var (old, now) = (before.FindSite(iface, site), after.FindSite(iface, site));
            if (old is null || now is null)
            {
                lines.Add($"site {key} {(old is null ? "added" : "removed")}");
                continue;
            }

            var fields = new List<string>();
            Compare(fields, "kind", old.Kind == now.Kind);
            Compare(fields, "publicKey", old.PublicKey.Equals(now.PublicKey));
            Compare(fields, "presharedKey", Equals(old.PresharedKey, now.PresharedKey));
            Compare(fields, "endpoint", old.Endpoint == now.Endpoint);
            Compare(fields, "allowedIps", old.AllowedIps.SequenceEqual(now.AllowedIps));
            Compare(fields, "persistentKeepalive", old.PersistentKeepalive == now.PersistentKeepalive);
            Compare(fields, "enabled", old.Enabled == now.Enabled);
            Compare(fields, "description", old.Description == now.Description);
            Changed(lines, $"site {key}", fields);
        }

        return lines;
    }

    private static string Key(SiteConfig site) => $"{site.Interface}/{site.Name}";

    private static IEnumerable<string> Names(IEnumerable<string> before, IEnumerable<string> after) =>
        before.Union(after, StringComparer.Ordinal).Order(StringComparer.Ordinal);

    private static void Compare(List<string> fields, string name, bool same)
    {
        if (!same)
        {
            fields.Add(name);
        }
    }

    private static void Changed(List<string> lines, string what, List<string> fields)
    {
        if (fields.Count > 0)
        {
            lines.Add($"{what} changed: {string.Join(", ", fields)}");
        }
    }
}
