using System.Net;
using Branchgate.Appliance.Model;
using Branchgate.Crypto;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Tests.Appliance.Store;

/// <summary>A temporary directory for one test's store files, deleted afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(),
            $"branchgate-store-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal static class StoreTestData
{
    public static NoisePublicKey PublicKey() => WireGuardSecret.GeneratePrivateKey().DerivePublicKey();

    /// <summary>Every field of every record set, to non-default values where there is a choice.</summary>
    public static ApplianceConfig FullConfig() => new()
    {
        Interfaces =
        [
            new InterfaceConfig
            {
                Name = "wg0",
                PrivateKey = WireGuardSecret.GeneratePrivateKey(),
                ListenPort = 51820,
                Addresses = [InterfaceAddress.Parse("10.9.0.1/24"), InterfaceAddress.Parse("fd00:9::1/64")],
                Mtu = 1380,
                FwMark = 0xca6c_0001,
                Table = "1234",
                Dns = ["10.0.0.53", "fd00::53", "corp.example"],
            },
            new InterfaceConfig
            {
                Name = "wg1",
                PrivateKey = WireGuardSecret.GeneratePrivateKey(),
                Table = "off",
            },
        ],
        Sites =
        [
            new SiteConfig
            {
                Name = "branch-b",
                Interface = "wg0",
                Kind = SiteKind.Site,
                PublicKey = PublicKey(),
                PresharedKey = WireGuardSecret.GeneratePresharedKey(),
                Endpoint = "branch-b.example.net:51820",
                AllowedIps = [IPPrefix.Parse("10.2.0.0/24"), IPPrefix.Parse("fd00:2::/48")],
                PersistentKeepalive = 25,
                Enabled = true,
                Description = "Branch B (Lyon) — 2nd floor",
            },
            new SiteConfig
            {
                Name = "alice.laptop",
                Interface = "wg0",
                Kind = SiteKind.RemoteWorker,
                PublicKey = PublicKey(),
                AllowedIps = [IPPrefix.Host(IPAddress.Parse("10.9.0.7")), IPPrefix.Host(IPAddress.Parse("fd00:9::7"))],
                Enabled = false,
            },
            new SiteConfig
            {
                Name = "v6-site",
                Interface = "wg1",
                PublicKey = PublicKey(),
                Endpoint = "[2001:db8::1]:51820",
                AllowedIps = [IPPrefix.Parse("::/0"), IPPrefix.Parse("0.0.0.0/0")],
                PersistentKeepalive = ushort.MaxValue,
            },
        ],
    };

    public static ApplianceConfig WithCounter(int counter) => new()
    {
        Interfaces = [new InterfaceConfig { Name = "wg0", PrivateKey = WireGuardSecret.GeneratePrivateKey(), ListenPort = (ushort)counter }],
    };

    public static AuditEntry Audit(string action = "site.create", string target = "wg0/branch-b") => new()
    {
        Time = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.FromHours(1)).AddTicks(1234567),
        Actor = "admin",
        Action = action,
        Target = target,
        Before = "{\"a\":1}",
        After = "{\"a\":2}",
        Forced = true,
        Succeeded = false,
        Detail = "overlaps an IPsec policy",
    };

    public static void AssertSameConfig(ApplianceConfig expected, ApplianceConfig actual)
    {
        Assert.Equal(expected.Interfaces.Count, actual.Interfaces.Count);
        for (var i = 0; i < expected.Interfaces.Count; i++)
        {
            var e = expected.Interfaces[i];
            var a = actual.Interfaces[i];
            Assert.Equal(e.Name, a.Name);
            Assert.Equal(e.PrivateKey, a.PrivateKey);
            Assert.Equal(e.ListenPort, a.ListenPort);
            Assert.Equal(e.Addresses, a.Addresses);
            Assert.Equal(e.Mtu, a.Mtu);
            Assert.Equal(e.FwMark, a.FwMark);
            Assert.Equal(e.Table, a.Table);
            Assert.Equal(e.Dns, a.Dns);
            Assert.Equal(e with { Addresses = a.Addresses, Dns = a.Dns }, a);
        }

        Assert.Equal(expected.Sites.Count, actual.Sites.Count);
        for (var i = 0; i < expected.Sites.Count; i++)
        {
            var e = expected.Sites[i];
            var a = actual.Sites[i];
            Assert.Equal(e.Name, a.Name);
            Assert.Equal(e.Interface, a.Interface);
            Assert.Equal(e.Kind, a.Kind);
            Assert.Equal(e.PublicKey, a.PublicKey);
            Assert.Equal(e.PresharedKey, a.PresharedKey);
            Assert.Equal(e.Endpoint, a.Endpoint);
            Assert.Equal(e.AllowedIps, a.AllowedIps);
            Assert.Equal(e.PersistentKeepalive, a.PersistentKeepalive);
            Assert.Equal(e.Enabled, a.Enabled);
            Assert.Equal(e.Description, a.Description);
            Assert.Equal(e with { AllowedIps = a.AllowedIps }, a);
        }
    }
}
