using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests;

/// <summary>
/// 130 seconds of pings across REKEY_AFTER_TIME (120 s): the initiator renews the session and not one ping is lost.
/// Two classes so xunit runs the two pairs in parallel.
/// </summary>
public class RekeyWithWireGuardGoTests
{
    [Fact]
    public void Traffic_flows_across_a_rekey_without_loss() => RekeyRun.Run(Implementation.Branchgate, Implementation.WireGuardGo);
}

public class RekeyBetweenBranchgatesTests
{
    [Fact]
    public void Traffic_flows_across_a_rekey_without_loss() => RekeyRun.Run(Implementation.Branchgate, Implementation.Branchgate);
}

internal static class RekeyRun
{
    public static void Run(Implementation a, Implementation b)
    {
        using var sites = new WireGuardSites(a, b);
        sites.Configure();
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4, count: 1));
        var first = Handshake(sites.A, sites.B);
        var output = sites.A.Exec($"ping -c 1300 -i 0.1 -W 2 {sites.B.TunnelV4}", check: false, timeoutMs: 200_000);
        Assert.Contains("1300 packets transmitted, 1300 received", output, StringComparison.Ordinal);
        var second = Handshake(sites.A, sites.B);
        Assert.True(second >= first + 120, $"no rekey seen: handshakes at {first} and {second}");
    }

    private static long Handshake(Site site, Site peer)
    {
        var text = site.Wg($"show {site.Interface} latest-handshakes");
        var line = text.Split('\n').First(l => l.StartsWith(peer.PublicKey, StringComparison.Ordinal));
        return long.Parse(line.Split('\t')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
