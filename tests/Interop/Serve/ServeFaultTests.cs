using System.Diagnostics;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Serve;

/// <summary>
/// Bad input when `branchgate serve` starts:
/// <list type="bullet">
/// <item>a store file of random bytes: serve exits non-zero within seconds with a message naming the file, and the
/// file is byte-for-byte what it was (nothing "repairs" or truncates it);</item>
/// <item>a site whose endpoint name does not resolve (a real resolver, dnsmasq, that does not know it): that site
/// stays configured (`wg show` lists its peer, GET /v1/status shows it), the failure is logged, and the other site
/// carries traffic.</item>
/// </list>
/// </summary>
[Collection("serve-faults")]
public sealed class ServeFaultTests(ITestOutputHelper output)
{
    [Fact]
    public void A_corrupted_store_stops_serve_with_a_clear_message_and_stays_untouched()
    {
        using var lab = new ServeLab();
        var a = lab.AddOffice(1);
        var garbage = new byte[64 * 1024];
        new Random(20251126).NextBytes(garbage);
        File.WriteAllBytes(a.Db, garbage);

        var clock = Stopwatch.StartNew();
        var serve = a.StartServe(waitForApi: false);
        Assert.True(serve.WaitForExit(TimeSpan.FromSeconds(10)), "serve kept running on a corrupted store:\n" + serve.Log);
        output.WriteLine($"exit {serve.Process.ExitCode} after {clock.ElapsedMilliseconds} ms:\n{serve.Log}");
        Assert.NotEqual(0, serve.Process.ExitCode);
        Assert.Contains(a.Db, serve.Log, StringComparison.Ordinal);
        Assert.Equal(garbage, File.ReadAllBytes(a.Db));
        Assert.False(File.Exists(a.ApiSocket));
        Assert.DoesNotContain("sv", a.Exec("ip -br link show"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_site_whose_name_does_not_resolve_stays_configured_and_the_other_site_works()
    {
        using var lab = new ServeLab();
        var a = lab.AddOffice(1, useLabDns: true);
        var b = lab.AddOffice(2);
        var c = lab.AddOffice(3); // never started: only its key and LAN subnet are used
        lab.StartDns("branch-b.test", b.WanAddress);
        a.Import(a.WgQuick((b, $"{b.WanAddress}:{b.ListenPort}", 0), (c, $"nowhere.test:{c.ListenPort}", 25)), intoStore: true);
        b.Import(b.WgQuick((a, null, 0)), intoStore: true);
        a.StartServe();
        b.StartServe();
        try
        {
            Assert.NotNull(a.PingUntil(b, TimeSpan.FromSeconds(10)));
            var peers = a.Exec($"wg show {a.Interface} peers");
            Assert.Contains(b.PublicKey, peers, StringComparison.Ordinal);
            Assert.Contains(c.PublicKey, peers, StringComparison.Ordinal);
            Assert.Contains(c.LanSubnet, a.Exec($"wg show {a.Interface} allowed-ips"), StringComparison.Ordinal);
            Assert.Contains($"{c.LanSubnet} dev {a.Interface}", a.Exec("ip route show"), StringComparison.Ordinal);
            Assert.Contains($"site {a.Interface}/office3 endpoint nowhere.test:{c.ListenPort} did not resolve", a.Serve!.Log,
                StringComparison.Ordinal);
            using var api = new ServeApi(a.ApiSocket);
            var status = api.StatusPeer(a.Interface, "office3");
            Assert.False(status.GetProperty("online").GetBoolean());
            Assert.True(api.StatusPeer(a.Interface, "office2").GetProperty("online").GetBoolean());
            Assert.False(a.Serve.HasExited);
        }
        finally
        {
            output.WriteLine("serve A:\n" + a.Serve?.Log);
        }
    }
}
