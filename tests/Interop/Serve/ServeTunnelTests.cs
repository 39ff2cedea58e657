using System.Collections.Concurrent;
using System.Diagnostics;
using Branchgate.Interop.Tests.Harness;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Serve;

/// <summary>
/// `branchgate serve` (the published NativeAOT binary) as the appliance of two offices, each in its own namespace
/// with its own store and API socket, configured through the real CLI (`branchgate import`, via the API or into the
/// store file):
/// <list type="bullet">
/// <item>the site-to-site tunnel carries traffic between the offices' LANs; `wg show` sees the peer with a recent
/// handshake; GET /v1/status says online; /metrics counts bytes both ways;</item>
/// <item>kill -9 during traffic and a restart by a supervisor (like systemd's Restart=on-failure, RestartSec=2s):
/// the killed process's TUN goes with it (with its routes), its UAPI and API socket files stay behind and the restarted
/// serve replaces them; it opens the same store, serves the same
/// configuration and carries traffic again within 10 s of its start;</item>
/// <item>SIGHUP re-applies the store at once: a route deleted by hand is back well before the 10 s reconcile loop.</item>
/// </list>
/// </summary>
[Collection("serve")]
public sealed class ServeTunnelTests(ITestOutputHelper output)
{
    private static (ServeLab Lab, Office A, Office B) TwoOffices(bool intoStore)
    {
        var lab = new ServeLab();
        try
        {
            var a = lab.AddOffice(1);
            var b = lab.AddOffice(2);
            var fileA = a.WgQuick((b, $"{b.WanAddress}:{b.ListenPort}", 0));
            var fileB = b.WgQuick((a, $"{a.WanAddress}:{a.ListenPort}", 0));
            if (intoStore)
            {
                a.Import(fileA, intoStore: true);
                b.Import(fileB, intoStore: true);
                a.StartServe();
                b.StartServe();
            }
            else
            {
                a.StartServe();
                b.StartServe();
                a.Import(fileA);
                b.Import(fileB);
            }

            return (lab, a, b);
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    [Fact]
    public void Two_offices_configured_through_import_carry_lan_traffic_and_report_it()
    {
        var (lab, a, b) = TwoOffices(intoStore: false);
        using (lab)
        {
            try
            {
                Assert.NotNull(a.PingUntil(b, TimeSpan.FromSeconds(10)));
                Assert.True(a.PingLan(b, count: 3));
                Assert.True(b.PingLan(a, count: 3));

                foreach (var (office, peer) in new[] { (a, b), (b, a) })
                {
                    Assert.Contains(peer.PublicKey, office.Exec($"wg show {office.Interface} peers"), StringComparison.Ordinal);
                    Assert.InRange(office.HandshakeAge(peer) ?? -1, 0, 30);
                    using var api = new ServeApi(office.ApiSocket);
                    var status = api.StatusPeer(office.Interface, $"office{peer.Number}");
                    Assert.True(status.GetProperty("online").GetBoolean(), status.ToString());
                    Assert.True(api.Metric("branchgate_peer_receive_bytes_total", $"interface=\"{office.Interface}\"",
                        $"peer=\"office{peer.Number}\"") > 0);
                    Assert.True(api.Metric("branchgate_peer_transmit_bytes_total", $"interface=\"{office.Interface}\"",
                        $"peer=\"office{peer.Number}\"") > 0);
                    Assert.Equal(1, api.Metric("branchgate_peer_online", $"interface=\"{office.Interface}\"",
                        $"peer=\"office{peer.Number}\""));
                }
            }
            finally
            {
                output.WriteLine("serve A:\n" + a.Serve?.Log + "\nserve B:\n" + b.Serve?.Log);
            }
        }
    }

    [Fact]
    public void Kill_9_during_traffic_then_a_supervised_restart_restores_the_tunnel_from_the_same_store()
    {
        using var lab = new ServeLab();
        var a = lab.AddOffice(1);
        var b = lab.AddOffice(2);
        a.Import(a.WgQuick((b, $"{b.WanAddress}:{b.ListenPort}", 0)), intoStore: true);
        b.Import(b.WgQuick((a, $"{a.WanAddress}:{a.ListenPort}", 0)), intoStore: true);
        b.StartServe();
        // What the killed process leaves behind, seen by the supervisor before it restarts serve.
        var leftBehind = new List<string>();
        using var supervisor = new Supervisor(a, failed =>
        {
            leftBehind.Add($"exit={failed.Process.ExitCode}");
            leftBehind.Add($"link={a.LinkExists()}");
            leftBehind.Add($"routes={a.Exec("ip route show").Contains(a.Interface, StringComparison.Ordinal)}");
            leftBehind.Add($"uapi-socket={File.Exists($"/var/run/wireguard/{a.Interface}.sock")}");
            leftBehind.Add($"api-socket={File.Exists(a.ApiSocket)}");
        });
        Assert.True(supervisor.Current.WaitForApi(TimeSpan.FromSeconds(20)), supervisor.Current.Log);
        Assert.NotNull(a.PingUntil(b, TimeSpan.FromSeconds(10)));
        string interfacesBefore;
        using (var api = new ServeApi(a.ApiSocket))
        {
            interfacesBefore = api.Get("/v1/interfaces");
        }

        // Traffic from A's LAN to B's LAN all along: every reply is timestamped when the test reads it.
        var replies = new ConcurrentQueue<DateTime>();
        using var ping = Shell.Start("ip", ["netns", "exec", a.Namespace, "ping", "-i", "0.2", "-W", "1", "-w", "40",
            "-I", a.LanAddress, b.LanAddress]);
        ping.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("bytes from", StringComparison.Ordinal) == true)
            {
                replies.Enqueue(DateTime.UtcNow);
            }
        };
        ping.ErrorDataReceived += (_, _) => { };
        ping.BeginOutputReadLine();
        ping.BeginErrorReadLine();
        try
        {
            Assert.True(Shell.WaitFor(() => replies.Count >= 3, TimeSpan.FromSeconds(5)), "no traffic before the kill");

            var killed = supervisor.Current;
            killed.Signal(ServeProcess.SigKill);
            Assert.True(Shell.WaitFor(() => supervisor.Starts.Count == 2, TimeSpan.FromSeconds(10)), "the supervisor did not restart serve");
            var (restartedAt, restarted) = supervisor.Starts[1];

            // The TUN (and the routes on it) died with the killed process's descriptor; its UAPI socket file and API
            // socket file stayed behind (nobody listening), and the new serve replaces both.
            Assert.Equal(["exit=137", "link=False", "routes=False", "uapi-socket=True", "api-socket=True"], leftBehind);

            Assert.True(restarted.WaitForApi(TimeSpan.FromSeconds(10)), "the restarted serve did not come up:\n" + restarted.Log);
            Assert.True(Shell.WaitFor(() => replies.Any(t => t > restartedAt), restartedAt.AddSeconds(10) - DateTime.UtcNow),
                "no reply within 10 s of the restart; serve log:\n" + restarted.Log);
            output.WriteLine($"first reply {(replies.First(t => t > restartedAt) - restartedAt).TotalMilliseconds:F0} ms after the restart");

            using var api = new ServeApi(a.ApiSocket);
            Assert.Equal(interfacesBefore, api.Get("/v1/interfaces"));
            Assert.True(a.LinkExists());
            Assert.Contains(b.PublicKey, a.Exec($"wg show {a.Interface} peers"), StringComparison.Ordinal);
        }
        finally
        {
            if (!ping.HasExited)
            {
                ping.Kill();
            }

            output.WriteLine("serve A (restarted):\n" + a.Serve?.Log);
        }
    }

    /// <summary>systemd's Restart=on-failure with RestartSec=2s, in a loop: serve is started again whenever it exits
    /// with a failure (a signal is one), after <c>onFailure</c> had a look at what it left behind.</summary>
    private sealed class Supervisor : IDisposable
    {
        private readonly Thread _thread;
        private readonly List<(DateTime StartedAt, ServeProcess Serve)> _starts = [];
        private volatile bool _stopping;

        public Supervisor(Office office, Action<ServeProcess> onFailure)
        {
            Start(office);
            _thread = new Thread(() =>
            {
                while (!_stopping)
                {
                    var serve = Current;
                    serve.Process.WaitForExit();
                    if (_stopping || serve.Process.ExitCode == 0)
                    {
                        return;
                    }

                    onFailure(serve);
                    Thread.Sleep(2_000);
                    if (!_stopping)
                    {
                        Start(office);
                    }
                }
            });
            _thread.Start();
        }

        public IReadOnlyList<(DateTime StartedAt, ServeProcess Serve)> Starts
        {
            get
            {
                lock (_starts)
                {
                    return [.. _starts];
                }
            }
        }

        public ServeProcess Current => Starts[^1].Serve;

        private void Start(Office office)
        {
            var at = DateTime.UtcNow;
            var serve = office.StartServe(waitForApi: false);
            lock (_starts)
            {
                _starts.Add((at, serve));
            }
        }

        public void Dispose()
        {
            _stopping = true;
            Current.Dispose(); // kills it (by PID) if it still runs; the lab would too
            _thread.Join(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public void Sighup_reapplies_the_store_before_the_reconcile_loop_would()
    {
        var (lab, a, b) = TwoOffices(intoStore: true);
        using (lab)
        {
            Assert.NotNull(a.PingUntil(b, TimeSpan.FromSeconds(10)));
            var route = $"{b.LanSubnet} dev {a.Interface}";
            Assert.Contains(route, a.Exec("ip route show"), StringComparison.Ordinal);

            a.Exec($"ip route del {b.LanSubnet} dev {a.Interface}");
            var clock = Stopwatch.StartNew();
            a.Serve!.Signal(ServeProcess.SigHup);
            Assert.True(Shell.WaitFor(() => a.Exec("ip route show").Contains(route, StringComparison.Ordinal), TimeSpan.FromSeconds(3)),
                "the route did not come back after SIGHUP:\n" + a.Serve.Log);
            output.WriteLine($"route back {clock.ElapsedMilliseconds} ms after SIGHUP (the reconcile loop runs every 10 s)");
            Assert.InRange(clock.ElapsedMilliseconds, 0, 3_000);
            Assert.True(Shell.WaitFor(() => a.Serve.Log.Contains("SIGHUP: reloading the configuration", StringComparison.Ordinal),
                TimeSpan.FromSeconds(2)), a.Serve.Log);
            Assert.False(a.Serve.HasExited, "SIGHUP ended serve");
            Assert.True(a.PingLan(b));
        }
    }
}
