using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Branchgate.Appliance.Model;

namespace Branchgate.Appliance.Runtime;

/// <summary>
/// The Before/After text of audit entries: the interfaces and sites a change touched, as JSON, with every secret left
/// out (a private key appears only as its public key, a preshared key only as "presharedKey": true).
/// </summary>
public static class AuditJson
{
    /// <summary>The objects that differ between <paramref name="before"/> and <paramref name="after"/>, as each stood
    /// before and after; null for a side with nothing in it.</summary>
    public static (string? Before, string? After) Describe(ApplianceConfig before, ApplianceConfig after)
    {
        var interfacesBefore = before.Interfaces.Where(i => !after.Interfaces.Any(o => SameInterface(i, o))).ToList();
        var interfacesAfter = after.Interfaces.Where(i => !before.Interfaces.Any(o => SameInterface(i, o))).ToList();
        var sitesBefore = before.Sites.Where(s => !after.Sites.Any(o => SameSite(s, o))).ToList();
        var sitesAfter = after.Sites.Where(s => !before.Sites.Any(o => SameSite(s, o))).ToList();
        return (Write(interfacesBefore, sitesBefore), Write(interfacesAfter, sitesAfter));
    }

    /// <summary>The whole configuration without secrets.</summary>
    public static string Write(ApplianceConfig config) => Write(config.Interfaces, config.Sites) ?? "{}";

    private static string? Write(IReadOnlyList<InterfaceConfig> interfaces, IReadOnlyList<SiteConfig> sites)
    {
        if (interfaces.Count == 0 && sites.Count == 0)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps keys readable ("+" and "/" unescaped); the text is data, HTML-encoded where shown.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (interfaces.Count > 0)
            {
                json.WriteStartArray("interfaces");
                foreach (var i in interfaces)
                {
                    WriteInterface(json, i);
                }

                json.WriteEndArray();
            }

            if (sites.Count > 0)
            {
                json.WriteStartArray("sites");
                foreach (var s in sites)
                {
                    WriteSite(json, s);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteInterface(Utf8JsonWriter json, InterfaceConfig i)
    {
        json.WriteStartObject();
        json.WriteString("name", i.Name);
        json.WriteString("publicKey", i.PublicKey.ToBase64());
        json.WriteNumber("listenPort", i.ListenPort);
        WriteStrings(json, "addresses", i.Addresses.Select(a => a.ToString()));
        if (i.Mtu is { } mtu)
        {
            json.WriteNumber("mtu", mtu);
        }

        json.WriteNumber("fwMark", i.FwMark);
        json.WriteString("table", i.Table);
        WriteStrings(json, "dns", i.Dns);
        json.WriteEndObject();
    }

    private static void WriteSite(Utf8JsonWriter json, SiteConfig s)
    {
        json.WriteStartObject();
        json.WriteString("interface", s.Interface);
        json.WriteString("name", s.Name);
        json.WriteString("kind", s.Kind == SiteKind.Site ? "site" : "remoteWorker");
        json.WriteString("publicKey", s.PublicKey.ToBase64());
        json.WriteBoolean("presharedKey", s.PresharedKey is not null);
        if (s.Endpoint is not null)
        {
            json.WriteString("endpoint", s.Endpoint);
        }

        WriteStrings(json, "allowedIps", s.AllowedIps.Select(p => p.ToString()));
        json.WriteNumber("persistentKeepalive", s.PersistentKeepalive);
        json.WriteBoolean("enabled", s.Enabled);
        if (s.Description is not null)
        {
            json.WriteString("description", s.Description);
        }

        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values)
        {
            json.WriteStringValue(v);
        }

        json.WriteEndArray();
    }

    /// <summary>Content equality (records compare their lists by reference); secrets compared in constant time.</summary>
    internal static bool SameInterface(InterfaceConfig a, InterfaceConfig b) =>
        a.Name == b.Name && a.PrivateKey.Equals(b.PrivateKey) && a.ListenPort == b.ListenPort &&
        a.Addresses.SequenceEqual(b.Addresses) && a.Mtu == b.Mtu && a.FwMark == b.FwMark && a.Table == b.Table &&
        a.Dns.SequenceEqual(b.Dns);

    internal static bool SameSite(SiteConfig a, SiteConfig b) =>
        a.Name == b.Name && a.Interface == b.Interface && a.Kind == b.Kind && a.PublicKey.Equals(b.PublicKey) &&
        Equals(a.PresharedKey, b.PresharedKey) && a.Endpoint == b.Endpoint && a.AllowedIps.SequenceEqual(b.AllowedIps) &&
        a.PersistentKeepalive == b.PersistentKeepalive && a.Enabled == b.Enabled && a.Description == b.Description;
}
