using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Netlink.Route;
using LiteDB;

namespace Branchgate.Appliance.Store.Mapping;

/// <summary>An <see cref="InterfaceConfig"/> as a document of the "interfaces" collection. The private key is stored
/// as 32 raw bytes (the file is 0600).</summary>
internal static class InterfaceBson
{
    public const string Collection = "interfaces";

    public static BsonDocument ToBson(InterfaceConfig value, int position) => new()
    {
        ["_id"] = position,
        ["name"] = value.Name,
        ["privateKey"] = value.PrivateKey.Span.ToArray(),
        ["listenPort"] = (int)value.ListenPort,
        ["addresses"] = TextArray(value.Addresses.Select(a => a.ToString())),
        ["mtu"] = value.Mtu is { } mtu ? mtu : BsonValue.Null,
        ["fwMark"] = (long)value.FwMark,
        ["table"] = value.Table,
        ["dns"] = TextArray(value.Dns),
    };

    /// <summary>The interface, or null and <paramref name="error"/> naming the document and field that is wrong.</summary>
    public static InterfaceConfig? FromBson(BsonDocument document, out string? error)
    {
        var f = new BsonFields(Collection, document);
        var name = f.String("name");
        var privateKey = f.Binary("privateKey", WireGuardSecret.Size);
        var listenPort = f.Int32("listenPort");
        var addresses = f.List<InterfaceAddress>("addresses", InterfaceAddress.TryParse);
        var mtu = f.NullableInt32("mtu");
        var fwMark = f.Int64("fwMark");
        var table = f.String("table");
        var dns = f.List<string>("dns", AnyText);
        if (listenPort is < 0 or > ushort.MaxValue)
        {
            f.Fail("listenPort", $"{listenPort} is not a UDP port");
        }

        if (fwMark is < 0 or > uint.MaxValue)
        {
            f.Fail("fwMark", $"{fwMark} is not a 32-bit mark");
        }

        error = f.Error;
        if (error is not null)
        {
            return null;
        }

        return new InterfaceConfig
        {
            Name = name,
            PrivateKey = new WireGuardSecret(privateKey),
            ListenPort = (ushort)listenPort,
            Addresses = addresses,
            Mtu = mtu,
            FwMark = (uint)fwMark,
            Table = table,
            Dns = dns,
        };
    }

    internal static BsonArray TextArray(IEnumerable<string> items) => new(items.Select(i => new BsonValue(i)));

    internal static bool AnyText(string text, out string value, out string? error)
    {
        value = text;
        error = null;
        return true;
    }
}
