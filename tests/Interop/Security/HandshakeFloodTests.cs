using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Branchgate.Interop.Tests.Harness;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Security;

/// <summary>
/// A branchgate gateway (site B, `branchgate -f`, configured with wg) attacked from a third namespace on the same
/// "internet" while site A (branchgate too) keeps a tunnel to it busy: garbage of every size, then a flood of
/// initiations with valid and invalid mac1 mixed with garbage.
/// </summary>
public sealed partial class HandshakeFloodTests(ITestOutputHelper output)
{
    private const int FloodPerSecond = 40_000;
    private static readonly TimeSpan FloodDuration = TimeSpan.FromSeconds(16);

    [Fact]
    public void Garbage_is_ignored_and_a_handshake_flood_gets_cookie_replies_while_the_real_peer_keeps_flowing()
    {
        using var sites = new WireGuardSites(Implementation.Branchgate, Implementation.Branchgate, Implementation.WireGuardGo);
        sites.Configure();
        Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4), "tunnel before the attack");
        var target = sites.B;
        int pid = target.Daemon!.Id;
        Assert.Equal("branchgate", File.ReadAllText($"/proc/{pid}/comm").Trim());
        var endpoint = new IPEndPoint(IPAddress.Parse(target.WanV4), 51821);
        var attacker = sites.C!.Namespace;
        var random = new Random(10);

        using var iperf = WireGuardSites.StartIperfServer(target);
        double baseline = Throughput(sites);

        // 1. Garbage, one datagram of every size 0..1500, three times: no answer, daemon alive, tunnel up.
        var garbage = Flooder.Garbage(random);
        var cpuBefore = ProcessUsage.CpuSeconds(pid);
        var fdBefore = ProcessUsage.Descriptors(pid);
        for (int round = 0; round < 3; round++)
        {
            var sent = Flooder.Run(attacker, endpoint, garbage, 20_000, TimeSpan.Zero);
            Assert.Equal(0, sent.CookieReplies + sent.OtherReplies);
        }

        Assert.False(target.Daemon.HasExited, "the daemon exited on garbage");
        Assert.True(WireGuardSites.Ping(sites.A, target.TunnelV4), "tunnel after garbage");
        output.WriteLine($"garbage: 3 x 1501 datagrams (sizes 0..1500): no reply; daemon CPU {ProcessUsage.CpuSeconds(pid) - cpuBefore:0.00} s");

        // 2. The flood: valid-mac1 initiations, invalid-mac1 initiations and garbage, interleaved.
        var valid = Flooder.ValidMac1Initiations(target.PublicKey, 512, random);
        var invalid = Flooder.InvalidMac1Initiations(256, random);
        var mix = new List<byte[]>();
        for (int i = 0; i < valid.Length; i++)
        {
            mix.Add(valid[i]);
            if (i % 2 == 0)
            {
                mix.Add(invalid[i / 2]);
            }

            if (i % 4 == 0)
            {
                mix.Add(garbage[random.Next(garbage.Length)]);
            }
        }

        double rssBefore = ProcessUsage.RssMiB(pid);
        double rssPeak = rssBefore;
        using var sampling = new CancellationTokenSource();
        var sampler = new Thread(() =>
        {
            while (!sampling.IsCancellationRequested)
            {
                rssPeak = Math.Max(rssPeak, ProcessUsage.RssMiB(pid));
                Thread.Sleep(100);
            }
        });
        sampler.Start();
        var cpuStart = ProcessUsage.CpuSeconds(pid);
        FloodResult? result = null;
        Exception? floodFailure = null;
        var flood = new Thread(() =>
        {
            try
            {
                result = Flooder.Run(attacker, endpoint, [.. mix], FloodPerSecond, FloodDuration);
            }
            catch (Exception e)
            {
                floodFailure = e;
            }
        });
        flood.Start();
        Thread.Sleep(1500);
        var ping = sites.A.Exec($"ping -c 40 -i 0.1 -W 1 {target.TunnelV4}", check: false, timeoutMs: 30_000);
        double during = Throughput(sites);
        Assert.True(flood.Join(TimeSpan.FromSeconds(90)), "the flood did not end");
        Assert.Null(floodFailure);
        Assert.NotNull(result);
        var cpuFlood = ProcessUsage.CpuSeconds(pid) - cpuStart;
        sampling.Cancel();
        sampler.Join();

        // Afterwards the daemon goes quiet again and keeps its tunnel.
        var cpuIdleStart = ProcessUsage.CpuSeconds(pid);
        Thread.Sleep(3000);
        var cpuIdle = ProcessUsage.CpuSeconds(pid) - cpuIdleStart;
        int fdAfter = ProcessUsage.Descriptors(pid);
        double rate = result.Sent / result.Elapsed.TotalSeconds;
        int loss = PingLoss(ping);
        output.WriteLine($"flood: {result.Sent} datagrams in {result.Elapsed.TotalSeconds:0.0} s ({rate:0} /s; " +
            $"{valid.Length}:{invalid.Length}:{valid.Length / 4} valid-mac1:invalid-mac1:garbage); " +
            $"cookie replies {result.CookieReplies}, other replies {result.OtherReplies}");
        output.WriteLine($"daemon: CPU {cpuFlood:0.00} s over the flood ({cpuFlood / result.Elapsed.TotalSeconds * 100:0}% of one core), " +
            $"{cpuIdle:0.00} s in the 3 s after; RSS {rssBefore:0.0} -> peak {rssPeak:0.0} MiB; fds {fdBefore} -> {fdAfter}");
        output.WriteLine($"real peer: ping loss {loss}% during the flood; iperf3 A->B {baseline / 1e6:0.0} Mbit/s without, " +
            $"{during / 1e6:0.0} Mbit/s during ({during / baseline:0.00} of without)");

        Assert.True(rate > 10_000, $"the flood reached only {rate:0}/s");
        Assert.True(result.CookieReplies > 0, "no cookie replies: the gateway never went under load");
        Assert.Equal(0, result.OtherReplies);
        Assert.False(target.Daemon.HasExited, "the daemon exited during the flood");
        Assert.True(loss <= 20, $"ping loss {loss}% during the flood");
        Assert.True(during > 0, "no throughput during the flood");
        Assert.True(rssPeak < 512, $"RSS peak {rssPeak:0} MiB");
        Assert.True(rssPeak - rssBefore < 256, $"RSS grew {rssPeak - rssBefore:0} MiB during the flood");
        Assert.True(cpuFlood < 2.0 * result.Elapsed.TotalSeconds + 5, $"CPU {cpuFlood:0.0} s over {result.Elapsed.TotalSeconds:0} s");
        Assert.True(cpuIdle < 1.0, $"the daemon kept using CPU after the flood: {cpuIdle:0.00} s in 3 s");
        Assert.True(fdAfter <= fdBefore + 4, $"descriptors {fdBefore} -> {fdAfter}");
        Assert.True(WireGuardSites.Ping(sites.A, target.TunnelV4), "tunnel after the flood");
    }

    private static double Throughput(WireGuardSites sites) =>
        Iperf.ReceivedBitsPerSecond(sites.A.Exec($"iperf3 -J -c {sites.B.TunnelV4} -t 4", timeoutMs: 60_000));

    private static int PingLoss(string ping)
    {
        var match = LossPattern().Match(ping);
        return match.Success ? (int)double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 100;
    }

    [GeneratedRegex(@"([\d.]+)% packet loss")]
    private static partial Regex LossPattern();
}
