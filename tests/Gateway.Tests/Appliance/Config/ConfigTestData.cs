using Branchgate.Appliance.Model;
using Branchgate.Crypto;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Tests.Appliance.Config;

/// <summary>Builders for configs and content comparison (the model's records compare lists by reference).</summary>
internal static class ConfigTestData
{
    public static string CorpusDirectory => Path.Combine(AppContext.BaseDirectory, "TestData", "wg-quick");

    public static IEnumerable<string> CorpusFiles() =>
        Directory.GetFiles(CorpusDirectory, "*.conf").Order(StringComparer.Ordinal);

    public static NoisePublicKey NewPublicKey() => WireGuardSecret.GeneratePrivateKey().DerivePublicKey();

    public static InterfaceConfig Interface(string name = "wg0", ushort port = 51820, params string[] addresses) => new()
    {
        Name = name,
        PrivateKey = WireGuardSecret.GeneratePrivateKey(),
        ListenPort = port,
        Addresses = [.. addresses.Select(InterfaceAddress.Parse)],
    };

    public static SiteConfig Site(string name, string iface = "wg0", params string[] allowedIps) => new()
    {
        Name = name,
        Interface = iface,
        PublicKey = NewPublicKey(),
        AllowedIps = [.. allowedIps.Select(IPPrefix.Parse)],
    };

    public static ApplianceConfig ApplianceOf(IEnumerable<InterfaceConfig> interfaces, IEnumerable<SiteConfig> sites) => new()
    {
        Interfaces = [.. interfaces],
        Sites = [.. sites],
    };

    /// <summary>Every field, lists by contents; a readable description of the first difference.</summary>
    public static void AssertSameInterface(InterfaceConfig expected, InterfaceConfig actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.True(expected.PrivateKey.Equals(actual.PrivateKey), "private key differs");
        Assert.Equal(expected.ListenPort, actual.ListenPort);
        Assert.Equal(expected.Addresses, actual.Addresses);
        Assert.Equal(expected.Mtu, actual.Mtu);
        Assert.Equal(expected.FwMark, actual.FwMark);
        Assert.Equal(expected.Table, actual.Table);
        Assert.Equal(expected.Dns, actual.Dns);
    }

    public static void AssertSameSites(IReadOnlyList<SiteConfig> expected, IReadOnlyList<SiteConfig> actual)
    {
        Assert.Equal(expected.Select(s => s.Name), actual.Select(s => s.Name));
        for (int i = 0; i < expected.Count; i++)
        {
            var e = expected[i];
            var a = actual[i];
            Assert.Equal(e.Interface, a.Interface);
            Assert.Equal(e.Kind, a.Kind);
            Assert.Equal(e.PublicKey, a.PublicKey);
            Assert.Equal(e.PresharedKey, a.PresharedKey);
            Assert.Equal(e.Endpoint, a.Endpoint);
            Assert.Equal(e.AllowedIps, a.AllowedIps);
            Assert.Equal(e.PersistentKeepalive, a.PersistentKeepalive);
            Assert.Equal(e.Enabled, a.Enabled);
            Assert.Equal(e.Description, a.Description);
        }
    }
}
