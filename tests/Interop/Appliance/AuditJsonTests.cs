using System.Text.Json;
using Branchgate.Appliance.Model;
using Branchgate.Appliance.Runtime;

namespace Branchgate.Interop.Tests.Appliance;

/// <summary>The audit Before/After text: only what a change touched, never a secret.</summary>
public sealed class AuditJsonTests
{
    [Fact]
    public void Describes_only_the_changed_objects_and_never_a_secret()
    {
        var iface = ApplianceRuntimeTests.Interface("wg0", "10.90.0.1/24");
        var b = ApplianceRuntimeTests.Site("wg0", "branch-b", "10.2.0.0/24") with { PresharedKey = WireGuardSecret.GeneratePresharedKey() };
        var c = ApplianceRuntimeTests.Site("wg0", "branch-c", "10.3.0.0/24");
        var before = ApplianceConfig.Empty.WithInterface(iface).WithSite(b).WithSite(c);
        var newPsk = WireGuardSecret.GeneratePresharedKey();
        var after = before.WithSite(b with { PresharedKey = newPsk });

        var (beforeJson, afterJson) = AuditJson.Describe(before, after);

        // Only branch-b changed (its preshared key): it alone appears, with "presharedKey": true and no key.
        using var was = JsonDocument.Parse(beforeJson!);
        using var now = JsonDocument.Parse(afterJson!);
        Assert.False(was.RootElement.TryGetProperty("interfaces", out _));
        var site = Assert.Single(now.RootElement.GetProperty("sites").EnumerateArray());
        Assert.Equal("branch-b", site.GetProperty("name").GetString());
        Assert.True(site.GetProperty("presharedKey").GetBoolean());
        foreach (var secret in new[] { iface.PrivateKey, b.PresharedKey!, newPsk })
        {
            Assert.DoesNotContain(secret.RevealBase64(), beforeJson + afterJson, StringComparison.Ordinal);
        }

        // A whole configuration: the interface by its public key only.
        var whole = AuditJson.Write(before);
        Assert.Contains(iface.PublicKey.ToBase64(), whole, StringComparison.Ordinal);
        Assert.DoesNotContain(iface.PrivateKey.RevealBase64(), whole, StringComparison.Ordinal);
        Assert.Equal((null, null), AuditJson.Describe(before, before with { }));
    }
}
