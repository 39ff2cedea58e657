using Branchgate.Appliance.Model;
using Branchgate.Crypto;
using Branchgate.Platform.Linux.Netlink.Route;
using LiteDB;

namespace Branchgate.Appliance.Store.Mapping;

/// <summary>A <see cref="SiteConfig"/> as a document of the "sites" collection; keys as 32 raw bytes.</summary>
internal static class SiteBson
{
    public const string Collection = "sites";

    private const string KindSite = "site";
    private const string KindRemoteWorker = "remote-worker";

    public static BsonDocument ToBson(SiteConfig value, int position) => new()
    {
        ["_id"] = position,
        ["name"] = value.Name,
        ["interface"] = value.Interface,
        ["kind"] = value.Kind == SiteKind.RemoteWorker ? KindRemoteWorker : KindSite,
        ["publicKey"] = value.PublicKey.Span.ToArray(),
        ["presharedKey"] = value.PresharedKey is { } psk ? psk.Span.ToArray() : BsonValue.Null,
        ["endpoint"] = value.Endpoint is { } endpoint ? endpoint : BsonValue.Null,
        ["allowedIps"] = InterfaceBson.TextArray(value.AllowedIps.Select(p => p.ToString())),
        ["persistentKeepalive"] = (int)value.PersistentKeepalive,
        ["enabled"] = value.Enabled,
        ["description"] = value.Description is { } description ? description : BsonValue.Null,
    };

    /// <summary>The site, or null and <paramref name="error"/> naming the document and field that is wrong.</summary>
    public static SiteConfig? FromBson(BsonDocument document, out string? error)
    {
        var f = new BsonFields(Collection, document);
        var name = f.String("name");
        var interfaceName = f.String("interface");
        var kindText = f.String("kind");
        var publicKey = f.Binary("publicKey", NoiseKeySize);
        var presharedKey = f.NullableBinary("presharedKey", WireGuardSecret.Size);
        var endpoint = f.NullableString("endpoint");
        var allowedIps = f.List<IPPrefix>("allowedIps", IPPrefix.TryParse);
        var keepalive = f.Int32("persistentKeepalive");
        var enabled = f.Boolean("enabled");
        var description = f.NullableString("description");
        SiteKind kind = SiteKind.Site;
        switch (kindText)
        {
            case KindSite:
                break;
            case KindRemoteWorker:
                kind = SiteKind.RemoteWorker;
                break;
            default:
                f.Fail("kind", $"'{BsonFields.Shorten(kindText)}' is neither '{KindSite}' nor '{KindRemoteWorker}'");
                break;
        }

        if (keepalive is < 0 or > ushort.MaxValue)
        {
            f.Fail("persistentKeepalive", $"{keepalive} is not 0..65535 seconds");
        }

        error = f.Error;
        if (error is not null)
        {
            return null;
        }

        return new SiteConfig
        {
            Name = name,
            Interface = interfaceName,
            Kind = kind,
            PublicKey = new NoisePublicKey(publicKey),
            PresharedKey = presharedKey is null ? null : new WireGuardSecret(presharedKey),
            Endpoint = endpoint,
            AllowedIps = allowedIps,
            PersistentKeepalive = (ushort)keepalive,
            Enabled = enabled,
            Description = description,
        };
    }

    private const int NoiseKeySize = 32;
}
