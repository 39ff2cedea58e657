using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Branchgate.Interop.Tests.Harness;
using Branchgate.Interop.Tests.Security;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Faults;

/// <summary>
/// The soak: a branchgate hub (`branchgate -f`, configured with wg) with two peers, a wireguard-go branch and a
/// branchgate branch, carries for BRANCHGATE_SOAK_SECONDS (default 600) at once:
/// <list type="bullet">
/// <item>iperf3 to each branch at a fixed 20 Mbit/s each way, one client (and server) per direction (80 Mbit/s through
/// the hub in all: moderate on two shared cores, far below what the tunnel carries);</item>
/// <item>`ping -i 0.01` over each tunnel, and the same over the bare underlay (hub WAN to each branch's WAN address,
/// the same veths and bridge) at the same time, so both see the same machine load.</item>
/// </list>
/// Asserted: at least four rekeys per peer in 600 s (REKEY_AFTER_TIME is 120 s; seen as `wg show latest-handshakes`
/// changing, sampled every 10 s); every 1 s iperf3 interval of every stream moved data; each tunnel's ping loss is at
/// most its underlay's plus <see cref="LossTolerancePercent"/> plus what the peer's own UDP socket dropped (the
/// kernel's Udp RcvbufErrors in the peer's namespace: wireguard-go falls behind on a loaded machine; nothing on the
/// hub's side is excused); the hub daemon's VmRSS and descriptors sampled every 10 s show no growth after the warm-up
/// (see <see cref="RssGrowthMiB"/>). The kernel's drop counters of each namespace are printed.
/// </summary>
[Collection("soak")]
public sealed partial class SoakTests(ITestOutputHelper output)
{
    private const string RatePerDirection = "20M";

    /// <summary>
    /// Tunnel loss may exceed the underlay's by this many percentage points (0.1 % of 60,000 pings is 60 pings, 0.6 s
    /// of them). The tunnel path crosses two userspace daemons, each a process the shared machine's scheduler can
    /// hold off; a datagram arriving while its queue (TUN txqueue, UDP receive buffer) is full is dropped there and
    /// not on the veth. A real loss (a rekey dropping packets, a stalled session) costs far more: the session
    /// takes 5 s to retry a handshake, 500 pings.
    /// </summary>
    private const double LossTolerancePercent = 0.1;

    /// <summary>
    /// The last minute's average VmRSS may exceed the second minute's by this much. The runtime's heap settles in the
    /// first minute; a leak of one small object per packet (~10,000 packets/s here) would grow it by tens of MiB over
    /// eight minutes. Measured: +1.6 MiB (hub) and +0.6 MiB (peer) over the 600 s run, a slow steady rise (about
    /// 0.2 MiB a minute) that this bound tolerates 2.5 times over; see docs/security.md.
    /// </summary>
    private const double RssGrowthMiB = 4;

    private sealed record Sample(double At, double RssMiB, int Fds, double PeerRssMiB, long HandshakeB, long HandshakeC);

    [Fact]
    public void Bidirectional_traffic_across_rekeys_loses_no_more_than_the_underlay_and_does_not_grow()
    {
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("BRANCHGATE_SOAK_SECONDS"), out var s) && s > 0 ? s : 600;
        int requiredRekeys = seconds >= 600 ? 4 : Math.Max(1, (seconds - 10) / 125);
        using var sites = new WireGuardSites(Implementation.Branchgate, Implementation.WireGuardGo, Implementation.Branchgate);
        Site hub = sites.A, b = sites.B, c = sites.C!;
        hub.Wg($"set {hub.Interface} listen-port 51820 private-key {hub.PrivateKeyFile} " +
            $"peer {b.PublicKey} allowed-ips {b.TunnelV4}/32 endpoint {b.WanV4}:51821 " +
            $"peer {c.PublicKey} allowed-ips {c.TunnelV4}/32 endpoint {c.WanV4}:51822");
        foreach (var (branch, port) in new[] { (b, 51821), (c, 51822) })
        {
            branch.Wg($"set {branch.Interface} listen-port {port} private-key {branch.PrivateKeyFile} " +
                $"peer {hub.PublicKey} endpoint {hub.WanV4}:51820 allowed-ips {hub.TunnelV4}/32");
        }

        foreach (var site in sites.Sites)
        {
            site.Exec($"ip addr add {site.TunnelV4}/24 dev {site.Interface} && ip link set {site.Interface} up");
        }

        Assert.True(WireGuardSites.Ping(hub, b.TunnelV4), "hub -> wireguard-go branch");
        Assert.True(WireGuardSites.Ping(hub, c.TunnelV4), "hub -> branchgate branch");
        int hubPid = hub.Daemon!.Id, peerPid = c.Daemon!.Id;
        Assert.Equal("branchgate", File.ReadAllText($"/proc/{hubPid}/comm").Trim());
        // One iperf3 server per direction and peer: iperf3 (3.12) is single-threaded, and with --bidir one blocked
        // stream stalls the other (seen in the 600 s runs: both directions at 0 for 170 s while pings crossed the same
        // tunnel), so each direction is its own client and server process.
        using var servers = new DisposableList(
            StartIperfServer(b, 5201), StartIperfServer(b, 5202), StartIperfServer(c, 5201), StartIperfServer(c, 5202));

        var runs = new List<(string Name, Process Process, Task<string> Stdout)>();
        void Launch(string name, string command)
        {
            var p = Shell.Start("ip", ["netns", "exec", hub.Namespace, "bash", "-c", command]);
            runs.Add((name, p, p.StandardOutput.ReadToEndAsync()));
            _ = p.StandardError.ReadToEndAsync();
        }

        var countersBefore = sites.Sites.Select(Counters).ToList();
        var samples = new List<Sample>();
        var clock = Stopwatch.StartNew();
        try
        {
            Launch("iperf3 hub->wireguard-go", $"iperf3 -J -c {b.TunnelV4} -p 5201 -b {RatePerDirection} -t {seconds} -i 1");
            Launch("iperf3 wireguard-go->hub", $"iperf3 -J -c {b.TunnelV4} -p 5202 -R -b {RatePerDirection} -t {seconds} -i 1");
            Launch("iperf3 hub->branchgate", $"iperf3 -J -c {c.TunnelV4} -p 5201 -b {RatePerDirection} -t {seconds} -i 1");
            Launch("iperf3 branchgate->hub", $"iperf3 -J -c {c.TunnelV4} -p 5202 -R -b {RatePerDirection} -t {seconds} -i 1");
            Launch("ping tunnel wireguard-go", $"ping -n -i 0.01 -w {seconds} {b.TunnelV4}");
            Launch("ping underlay wireguard-go", $"ping -n -i 0.01 -w {seconds} {b.WanV4}");
            Launch("ping tunnel branchgate", $"ping -n -i 0.01 -w {seconds} {c.TunnelV4}");
            Launch("ping underlay branchgate", $"ping -n -i 0.01 -w {seconds} {c.WanV4}");

            var deadline = TimeSpan.FromSeconds(seconds * 1.2 + 60);
            while (runs.Any(r => !r.Process.HasExited) && clock.Elapsed < deadline)
            {
                var handshakes = hub.Wg($"show {hub.Interface} latest-handshakes");
                samples.Add(new Sample(clock.Elapsed.TotalSeconds, ProcessUsage.RssMiB(hubPid), ProcessUsage.Descriptors(hubPid),
                    ProcessUsage.RssMiB(peerPid), Handshake(handshakes, b), Handshake(handshakes, c)));
                Assert.False(hub.Daemon.HasExited, "the hub daemon exited");
                var next = TimeSpan.FromSeconds(10 * samples.Count);
                while (clock.Elapsed < next && runs.Any(r => !r.Process.HasExited))
                {
                    Thread.Sleep(200);
                }
            }

            Assert.True(runs.All(r => r.Process.HasExited), "traffic did not finish in time");
        }
        finally
        {
            foreach (var (_, p, _) in runs)
            {
                Shell.Kill(p, entireProcessTree: true);
            }
        }

        var final = hub.Wg($"show {hub.Interface} latest-handshakes");
        samples.Add(new Sample(clock.Elapsed.TotalSeconds, ProcessUsage.RssMiB(hubPid), ProcessUsage.Descriptors(hubPid),
            ProcessUsage.RssMiB(peerPid), Handshake(final, b), Handshake(final, c)));
        foreach (var x in samples)
        {
            output.WriteLine(FormattableString.Invariant(
                $"t={x.At,5:0} s hub RSS {x.RssMiB:0.0} MiB fds {x.Fds} | branchgate peer RSS {x.PeerRssMiB:0.0} MiB | handshakes wg-go {x.HandshakeB} branchgate {x.HandshakeC}"));
        }

        var countersAfter = sites.Sites.Select(Counters).ToList();
        foreach (var (site, i) in sites.Sites.Select((x, i) => (x, i)))
        {
            output.WriteLine($"{site.Implementation} {site.Interface}: drops during the run " +
                string.Join(", ", countersAfter[i].Select(kv => $"{kv.Key} {kv.Value - countersBefore[i].GetValueOrDefault(kv.Key)}")));
        }

        foreach (var site in sites.Sites.Where(x => x.Implementation == Implementation.Branchgate))
        {
            // The -f daemon logs its drop counters by reason every 10 s (LOG_LEVEL=verbose).
            var drops = DropPattern().Matches(site.Log).GroupBy(m => m.Groups[1].Value)
                .Select(g => $"{g.Key} {g.Sum(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))}");
            output.WriteLine($"{site.Interface} (branchgate) dropped, by reason: {string.Join(", ", drops)}");
        }

        var texts = runs.ToDictionary(r => r.Name, r => r.Stdout.Result);
        foreach (var peer in new[] { "wireguard-go", "branchgate" })
        {
            output.WriteLine($"tunnel ping to the {peer} peer, lost icmp_seq runs: {LostRuns(texts["ping tunnel " + peer])}");
        }

        foreach (var (name, _, _) in runs)
        {
            if (name.StartsWith("iperf3", StringComparison.Ordinal))
            {
                var stalls = new List<string>();
                var (intervals, zero, mbps, error) = IperfIntervals(texts[name], stalls);
                if (stalls.Count > 0)
                {
                    output.WriteLine($"{name}: intervals without data (first 20): {string.Join(", ", stalls)}");
                }

                output.WriteLine(FormattableString.Invariant(
                    $"{name}: {intervals} stream-intervals of 1 s, {zero} without data; {mbps:0.0} Mbit/s a stream (mean){(error is null ? "" : "; iperf3 error at the end: " + error)}"));
                Assert.True(intervals >= seconds - 2, $"{name}: only {intervals} intervals");
                Assert.True(zero == 0, $"{name}: {zero} one-second intervals moved no data (a stall)");
            }
        }

        // Sites: 0 the hub, 1 the wireguard-go peer, 2 the branchgate peer.
        foreach (var (peer, index) in new[] { ("wireguard-go", 1), ("branchgate", 2) })
        {
            var (tunnelSent, tunnelCounted, tunnelLoss, tunnelRtt) = PingLoss(texts["ping tunnel " + peer]);
            var (underlaySent, underlayCounted, underlayLoss, underlayRtt) = PingLoss(texts["ping underlay " + peer]);
            long peerSocketDrops = countersAfter[index]["UdpRcvbufErrors"] - countersBefore[index]["UdpRcvbufErrors"];
            double excused = 100.0 * peerSocketDrops / tunnelCounted;
            output.WriteLine(FormattableString.Invariant(
                $"ping -i 0.01 to the {peer} peer: tunnel {tunnelLoss:0.000}% of {tunnelCounted} lost (sent {tunnelSent}, RTT {tunnelRtt:0.00} ms), bare underlay {underlayLoss:0.000}% of {underlayCounted} (sent {underlaySent}, RTT {underlayRtt:0.00} ms); the peer's UDP socket overflowed {peerSocketDrops} times"));
            // ping paces itself by timers: on a loaded machine it sends fewer than 100 a second; at least half.
            Assert.True(tunnelSent >= seconds * 50, $"{peer}: ping sent only {tunnelSent}");
            // What the peer's own receive buffer dropped (the kernel counts it in the peer's namespace) is the peer
            // implementation falling behind, not the hub: such losses are excused, one per counted overflow.
            Assert.True(tunnelLoss <= underlayLoss + LossTolerancePercent + excused,
                $"{peer}: tunnel loss {tunnelLoss:0.000}% > underlay {underlayLoss:0.000}% + {LossTolerancePercent} + {excused:0.000} (peer socket overflows)");
        }

        int rekeysB = samples.Select(x => x.HandshakeB).Where(h => h > 0).Distinct().Count() - 1;
        int rekeysC = samples.Select(x => x.HandshakeC).Where(h => h > 0).Distinct().Count() - 1;
        output.WriteLine($"rekeys over {seconds} s: wireguard-go peer {rekeysB}, branchgate peer {rekeysC} (required {requiredRekeys})");
        Assert.True(rekeysB >= requiredRekeys, $"wireguard-go peer: {rekeysB} rekeys");
        Assert.True(rekeysC >= requiredRekeys, $"branchgate peer: {rekeysC} rekeys");

        // Growth after the warm-up: the second minute against the last minute.
        var second = samples.Where(x => x.At >= 60 && x.At < 120).ToList();
        var last = samples.Where(x => x.At >= clock.Elapsed.TotalSeconds - 60).ToList();
        Assert.NotEmpty(second);
        double rssSecond = second.Average(x => x.RssMiB), rssLast = last.Average(x => x.RssMiB);
        double peerSecond = second.Average(x => x.PeerRssMiB), peerLast = last.Average(x => x.PeerRssMiB);
        int fdsSecond = second.Max(x => x.Fds), fdsLast = last.Max(x => x.Fds);
        output.WriteLine(FormattableString.Invariant(
            $"hub RSS: second minute {rssSecond:0.0} MiB, last minute {rssLast:0.0} MiB, peak {samples.Max(x => x.RssMiB):0.0} MiB; fds {fdsSecond} -> {fdsLast}; branchgate peer RSS {peerSecond:0.0} -> {peerLast:0.0} MiB"));
        Assert.True(rssLast - rssSecond <= RssGrowthMiB, $"hub RSS grew {rssLast - rssSecond:0.0} MiB after the warm-up");
        Assert.True(peerLast - peerSecond <= RssGrowthMiB, $"branchgate peer RSS grew {peerLast - peerSecond:0.0} MiB");
        // Descriptors: the same count (a `wg show` connection open at sampling time may add one).
        Assert.True(fdsLast <= fdsSecond + 1, $"hub descriptors {fdsSecond} -> {fdsLast}");
        Assert.True(WireGuardSites.Ping(hub, b.TunnelV4) && WireGuardSites.Ping(hub, c.TunnelV4), "tunnels after the soak");
    }

    private static StartedProcess StartIperfServer(Site site, int port)
    {
        var started = new StartedProcess(Shell.Start("ip", ["netns", "exec", site.Namespace, "iperf3", "-s", "-B", site.TunnelV4, "-p", $"{port}"]));
        if (!Shell.WaitFor(() => site.Exec("ss -ltn", check: false).Contains($"{site.TunnelV4}:{port}", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10)))
        {
            started.Dispose();
            throw new InvalidOperationException("iperf3 server did not start");
        }

        return started;
    }

    private sealed class DisposableList(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items)
            {
                item.Dispose();
            }
        }
    }

    private static long Handshake(string latestHandshakes, Site peer)
    {
        var line = latestHandshakes.Split('\n').FirstOrDefault(l => l.StartsWith(peer.PublicKey, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split('\t')[1], CultureInfo.InvariantCulture);
    }

    /// <summary>Stream-intervals of at least half a second, how many of them moved no bytes, the mean rate of a stream
    /// (Mbit/s; from the intervals, so that it does not depend on the final results exchange), and iperf3's "error" if
    /// it reported one.</summary>
    private static (int Intervals, int Zero, double Mbps, string? Error) IperfIntervals(string json, List<string> stalls)
    {
        using var doc = JsonDocument.Parse(json);
        int intervals = 0, zero = 0;
        double bytes = 0, seconds = 0;
        foreach (var interval in doc.RootElement.GetProperty("intervals").EnumerateArray())
        {
            foreach (var stream in interval.GetProperty("streams").EnumerateArray())
            {
                double length = stream.GetProperty("seconds").GetDouble();
                if (length < 0.5)
                {
                    continue;
                }

                intervals++;
                long moved = stream.GetProperty("bytes").GetInt64();
                bytes += moved;
                seconds += length;
                if (moved <= 0)
                {
                    zero++;
                    if (stalls.Count < 20)
                    {
                        stalls.Add(FormattableString.Invariant(
                            $"{stream.GetProperty("start").GetDouble():0}s {(stream.GetProperty("sender").GetBoolean() ? "hub->peer" : "peer->hub")}"));
                    }
                }
            }
        }

        var error = doc.RootElement.TryGetProperty("error", out var e) ? e.GetString() : null;
        return (intervals, zero, seconds == 0 ? 0 : bytes * 8 / seconds / 1e6, error);
    }

    /// <summary>
    /// Packets transmitted, the ones that count (all but the last second's: `ping -w` ends without waiting for the
    /// replies in flight, and the tunnel's RTT under load is longer than the bare veth's), the loss among those in
    /// percent, and the mean RTT in ms.
    /// </summary>
    private static (int Sent, int Counted, double LossPercent, double RttMs) PingLoss(string ping)
    {
        var line = ping.Split('\n').First(l => l.Contains("packets transmitted", StringComparison.Ordinal));
        int sent = int.Parse(line.Split(' ')[0], CultureInfo.InvariantCulture);
        int counted = sent - 100;
        int replies = 0, previous = -1;
        long wraps = 0;
        double rtt = 0;
        foreach (Match m in ReplyPattern().Matches(ping))
        {
            int seq = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            if (seq < previous - 30_000)
            {
                wraps += 65_536; // icmp_seq is 16 bits
            }

            previous = seq;
            rtt += double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            if (seq + wraps <= counted)
            {
                replies++; // icmp_seq starts at 1
            }
        }

        int all = ReplyPattern().Count(ping);
        return (sent, counted, 100.0 * (counted - replies) / counted, all == 0 ? 0 : rtt / all);
    }

    /// <summary>The kernel's drop counters in a site's namespace: UDP receive-buffer overflows, and the WireGuard
    /// interface's and the WAN veth's RX/TX drops.</summary>
    private static Dictionary<string, long> Counters(Site site)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        var snmp = site.Exec("cat /proc/net/snmp").Split('\n').Where(l => l.StartsWith("Udp:", StringComparison.Ordinal)).ToList();
        var names = snmp[0].Split(' ');
        var values = snmp[1].Split(' ');
        result["UdpRcvbufErrors"] = long.Parse(values[Array.IndexOf(names, "RcvbufErrors")], CultureInfo.InvariantCulture);
        using var links = JsonDocument.Parse(site.Exec("ip -s -j link show"));
        foreach (var link in links.RootElement.EnumerateArray())
        {
            var name = link.GetProperty("ifname").GetString()!;
            if (name == "lo" || !link.TryGetProperty("stats64", out var stats))
            {
                continue;
            }

            var tag = name == site.Interface ? "wg" : name;
            result[tag + " rx_dropped"] = stats.GetProperty("rx").GetProperty("dropped").GetInt64();
            result[tag + " tx_dropped"] = stats.GetProperty("tx").GetProperty("dropped").GetInt64();
        }

        return result;
    }

    /// <summary>The missing icmp_seq values of a ping run as ranges ("120-131, 4005"), at most 30 of them.</summary>
    private static string LostRuns(string ping)
    {
        var seen = new HashSet<int>(ReplyPattern().Matches(ping).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
        int max = seen.Count == 0 ? 0 : seen.Max();
        var runs = new List<string>();
        for (int seq = 1; seq <= max && runs.Count < 30; seq++)
        {
            if (!seen.Contains(seq))
            {
                int end = seq;
                while (end + 1 <= max && !seen.Contains(end + 1))
                {
                    end++;
                }

                runs.Add(end == seq ? $"{seq}" : $"{seq}-{end}");
                seq = end;
            }
        }

        return runs.Count == 0 ? "none" : string.Join(", ", runs);
    }

    [GeneratedRegex(@"(?:Dropped: |, )([A-Za-z]+) (\d+)")]
    private static partial Regex DropPattern();

    [GeneratedRegex(@"icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms")]
    private static partial Regex ReplyPattern();
}
