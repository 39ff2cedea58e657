using System.Diagnostics;
using Branchgate.Interop.Tests.Harness;
using Branchgate.Interop.Tests.Security;
using Branchgate.Interop.Tests.Serve;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Faults;

/// <summary>
/// The gateway's WAN link goes down (`ip link set wan0 down` in its namespace) for <see cref="Outage"/> while pings
/// cross the tunnel, then up again. The session outlives the outage (it is far shorter than REJECT_AFTER_TIME), so
/// traffic must come back in both directions within <see cref="Recovery"/> of the link coming up; meanwhile the
/// daemon keeps running, logs a bounded number of lines, and ends with the descriptors it started with. Two gateways:
/// `branchgate serve` (peer: serve) and `branchgate -f` (peer: wireguard-go).
/// </summary>
public sealed class WanLinkTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);

    /// <summary>ARP for the peer's WAN address and one round trip; the session itself needs no handshake.</summary>
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(5);

    /// <summary>Lines the daemon may log over the outage: a few about the link, not one per failed send.</summary>
    private const int MaxLogLines = 40;

    [Fact]
    public void Serve_gateway_carries_traffic_again_after_the_wan_link_went_down_and_up()
    {
        using var lab = new ServeLab();
        var a = lab.AddOffice(1);
        var b = lab.AddOffice(2);
        a.Import(a.WgQuick((b, $"{b.WanAddress}:{b.ListenPort}", 0)), intoStore: true);
        b.Import(b.WgQuick((a, $"{a.WanAddress}:{a.ListenPort}", 0)), intoStore: true);
        a.StartServe();
        b.StartServe();
        Assert.NotNull(a.PingUntil(b, TimeSpan.FromSeconds(10)));
        Run(a.Serve!.Process, () => a.Serve.Log,
            c => a.Exec(c, check: false),
            () => a.PingUntil(b, Recovery), () => b.PingUntil(a, Recovery),
            $"ping -i 0.05 -W 1 -I {a.LanAddress} {b.LanAddress}", a.Namespace, "serve");
    }

    [Fact]
    public void Foreground_gateway_with_a_wireguard_go_peer_carries_traffic_again_after_the_wan_link_went_down_and_up()
    {
        using var sites = new WireGuardSites(Implementation.Branchgate, Implementation.WireGuardGo);
        sites.Configure();
        Site a = sites.A, b = sites.B;
        Assert.True(WireGuardSites.Ping(a, b.TunnelV4));
        Run(a.Daemon!, () => a.Log,
            c => a.Exec(c, check: false),
            () => Until(a, b.TunnelV4), () => Until(b, a.TunnelV4),
            $"ping -i 0.05 -W 1 {b.TunnelV4}", a.Namespace, "-f (LOG_LEVEL=verbose)");
    }

    private void Run(Process daemon, Func<string> log, Func<string, string> exec, Func<TimeSpan?> forward, Func<TimeSpan?> back,
        string pingCommand, string ns, string what)
    {
        int pid = daemon.Id;
        Assert.Equal("branchgate", File.ReadAllText($"/proc/{pid}/comm").Trim());
        int fdsBefore = ProcessUsage.Descriptors(pid);
        using var ping = new StartedProcess(Shell.Start("ip", ["netns", "exec", ns, "bash", "-c", pingCommand]));
        _ = ping.Process.StandardOutput.ReadToEndAsync();
        _ = ping.Process.StandardError.ReadToEndAsync();
        Thread.Sleep(1000);

        int linesBefore = Lines(log());
        exec("ip link set wan0 down");
        Thread.Sleep(Outage);
        Assert.False(daemon.HasExited, "the daemon exited while the link was down");
        exec("ip link set wan0 up");
        var clock = Stopwatch.StartNew();
        var forwardAfter = forward();
        var backAfter = back();
        var total = clock.Elapsed;
        int linesOutage = Lines(log()) - linesBefore;
        Thread.Sleep(1000);
        int fdsAfter = ProcessUsage.Descriptors(pid);
        output.WriteLine($"{what}: WAN down {Outage.TotalSeconds:0} s; traffic back after {Describe(forwardAfter)} (gateway -> peer), " +
            $"{Describe(backAfter)} (peer -> gateway, {total.TotalSeconds:0.0} s after link up for both); " +
            $"{linesOutage} log lines over the outage; fds {fdsBefore} -> {fdsAfter}");
        Assert.True(forwardAfter is not null, $"gateway -> peer: no traffic within {Recovery.TotalSeconds} s of the link coming up");
        Assert.True(backAfter is not null, $"peer -> gateway: no traffic within {Recovery.TotalSeconds} s");
        Assert.False(daemon.HasExited, "the daemon exited");
        Assert.True(linesOutage <= MaxLogLines, $"{linesOutage} log lines over the outage:\n{log()[^Math.Min(log().Length, 4000)..]}");
        Assert.True(fdsAfter <= fdsBefore + 1, $"descriptors {fdsBefore} -> {fdsAfter}");
    }

    private static TimeSpan? Until(Site from, string to)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Recovery)
        {
            if (from.Exec($"ping -c 1 -W 1 {to}", check: false).Contains("1 received", StringComparison.Ordinal))
            {
                return clock.Elapsed;
            }
        }

        return null;
    }

    private static int Lines(string text) => text.Count(ch => ch == '\n');

    private static string Describe(TimeSpan? t) => t is null ? "never" : $"{t.Value.TotalSeconds:0.00} s";
}
