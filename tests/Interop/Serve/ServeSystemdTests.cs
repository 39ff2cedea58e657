using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Branchgate.Interop.Tests.Harness;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Serve;

/// <summary>
/// `branchgate serve` under a stand-in for systemd (Type=notify, WatchdogSec=2): the test binds the NOTIFY_SOCKET
/// datagram socket and reads what serve sends.
/// <list type="bullet">
/// <item>READY=1 arrives only once the interfaces in the store exist (checked with `ip link` when it arrives) and the
/// API answers;</item>
/// <item>WATCHDOG=1 arrives at about half of WATCHDOG_USEC (every ~1 s for 2 s), with WATCHDOG_PID naming serve's
/// PID as systemd sets it;</item>
/// <item>SIGTERM: STOPPING=1 arrives, serve exits 0 within the shutdown timeout, and its interfaces, its UAPI socket and
/// its API socket are gone.</item>
/// </list>
/// Microsoft.Extensions.Hosting.Systemd (which sends READY=1 and STOPPING=1) only acts when the process's parent is
/// named "systemd" (or the process is PID 1), so the test starts serve from a copy of bash named "systemd" that forks,
/// sets WATCHDOG_PID to the child's PID and execs serve, as systemd does. Our WatchdogService reads the environment
/// itself: it pings whenever NOTIFY_SOCKET and WATCHDOG_USEC are set and WATCHDOG_PID is absent or names the process.
/// </summary>
[Collection("serve-systemd")]
public sealed class ServeSystemdTests(ITestOutputHelper output)
{
    private sealed record Message(TimeSpan At, string Text, bool LinkExisted);

    [Fact]
    public void Notify_socket_gets_ready_after_the_interfaces_watchdog_pings_and_stopping_on_sigterm()
    {
        using var lab = new ServeLab();
        var a = lab.AddOffice(1);
        var b = lab.AddOffice(2);
        a.Import(a.WgQuick((b, $"{b.WanAddress}:{b.ListenPort}", 0)), intoStore: true);

        var notifyPath = Path.Combine(lab.Directory, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        notify.ReceiveTimeout = 200;
        var messages = new ConcurrentQueue<Message>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var reader = new Thread(() =>
        {
            var buffer = new byte[4096];
            while (!stop.IsCancellationRequested)
            {
                int n;
                try
                {
                    n = notify.Receive(buffer);
                }
                catch (SocketException)
                {
                    continue; // the receive timeout: look at the stop flag again
                }

                var text = Encoding.UTF8.GetString(buffer, 0, n);
                var at = clock.Elapsed;
                // At the moment READY=1 arrives, the interface from the store must already exist.
                bool link = text.Contains("READY=1", StringComparison.Ordinal) && a.LinkExists();
                messages.Enqueue(new Message(at, text, link));
            }
        });
        reader.Start();

        var systemd = Path.Combine(lab.Directory, "systemd");
        File.Copy("/bin/bash", systemd);
        File.SetUnixFileMode(systemd, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var pidFile = Path.Combine(lab.Directory, "serve.pid");
        var script = $"( export WATCHDOG_PID=$BASHPID; exec {ServeLab.Binary} serve --db {a.Db} --api-socket {a.ApiSocket} " +
            $"--no-setup-token --resolve-interval 10 ) & echo $! > {pidFile}; wait $!";
        var env = new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notifyPath, ["WATCHDOG_USEC"] = "2000000" };
        var log = new StringBuilder();
        using var parent = Shell.Start("ip", ["netns", "exec", a.Namespace, systemd, "-c", script], env: env);
        parent.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        parent.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        parent.BeginOutputReadLine();
        parent.BeginErrorReadLine();
        int servePid = 0;
        try
        {
            Assert.True(Shell.WaitFor(() => File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0, TimeSpan.FromSeconds(5)));
            servePid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
            var parentPid = File.ReadAllText($"/proc/{servePid}/stat").Split(' ')[3];
            Assert.Equal("systemd\n", File.ReadAllText($"/proc/{parentPid}/comm"));

            Assert.True(Shell.WaitFor(() => messages.Any(m => m.Text.Contains("READY=1", StringComparison.Ordinal)), TimeSpan.FromSeconds(20)),
                "no READY=1; serve log:\n" + log);
            var ready = messages.First(m => m.Text.Contains("READY=1", StringComparison.Ordinal));
            Assert.True(ready.LinkExisted, "READY=1 came before the stored interface existed");
            using (var api = new ServeApi(a.ApiSocket))
            {
                Assert.Contains(a.Interface, api.Get("/v1/interfaces"), StringComparison.Ordinal);
            }

            // The watchdog: at half of WATCHDOG_USEC, i.e. about every second.
            Thread.Sleep(3_500);
            var pings = messages.Where(m => m.Text.Contains("WATCHDOG=1", StringComparison.Ordinal)).Select(m => m.At).ToList();
            output.WriteLine("watchdog pings at: " + string.Join(", ", pings.Select(p => $"{p.TotalSeconds:F2}")));
            Assert.True(pings.Count >= 3, $"{pings.Count} watchdog pings");
            var gaps = pings.Zip(pings.Skip(1), (x, y) => (y - x).TotalSeconds).ToList();
            Assert.All(gaps, g => Assert.InRange(g, 0.5, 1.6));

            // SIGTERM: STOPPING=1, exit 0 within the shutdown timeout (20 s), nothing left behind.
            var stopClock = Stopwatch.StartNew();
            Shell.Run("kill", ["-TERM", servePid.ToString(CultureInfo.InvariantCulture)]);
            Assert.True(parent.WaitForExit(25_000), "serve did not stop within the shutdown timeout");
            parent.WaitForExit();
            output.WriteLine($"stopped in {stopClock.ElapsedMilliseconds} ms; log:\n{log}");
            Assert.Equal(0, parent.ExitCode); // the stand-in exits with serve's status
            Assert.True(Shell.WaitFor(() => messages.Any(m => m.Text.Contains("STOPPING=1", StringComparison.Ordinal)), TimeSpan.FromSeconds(2)),
                "no STOPPING=1: " + string.Join(" | ", messages.Select(m => m.Text)));
            Assert.False(a.LinkExists(), "the interface is still there");
            Assert.False(File.Exists($"/var/run/wireguard/{a.Interface}.sock"), "the UAPI socket is still there");
            Assert.False(File.Exists(a.ApiSocket), "the API socket is still there");
        }
        finally
        {
            stop.Cancel();
            reader.Join(2_000);
            if (!parent.HasExited)
            {
                if (servePid > 0)
                {
                    Shell.Run("kill", ["-KILL", servePid.ToString(CultureInfo.InvariantCulture)], check: false);
                }

                parent.Kill();
                parent.WaitForExit(5_000);
            }
        }
    }
}
