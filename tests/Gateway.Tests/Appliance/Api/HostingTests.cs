using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Branchgate.Appliance.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Branchgate.Tests.Appliance.Api;

/// <summary>The systemd pieces of `branchgate serve`: the watchdog's datagrams, SIGHUP as reload, the unit file.</summary>
[SupportedOSPlatform("linux")]
public sealed class HostingTests
{
    [Fact]
    public async Task The_watchdog_sends_WATCHDOG_1_to_NOTIFY_SOCKET_at_half_of_WATCHDOG_USEC()
    {
        var directory = Directory.CreateTempSubdirectory("bgnotify");
        try
        {
            var path = Path.Combine(directory.FullName, "notify");
            using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            systemd.Bind(new UnixDomainSocketEndPoint(path));
            var environment = new Dictionary<string, string>
            {
                ["NOTIFY_SOCKET"] = path,
                ["WATCHDOG_USEC"] = "200000",
                ["WATCHDOG_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            await using var watchdog = WatchdogService.FromEnvironment(environment.GetValueOrDefault, Environment.ProcessId, null,
                TimeProvider.System, NullLogger.Instance);
            Assert.True(watchdog.Enabled);
            Assert.Equal(TimeSpan.FromMilliseconds(100), watchdog.Interval);

            await watchdog.StartAsync(CancellationToken.None);
            var buffer = new byte[256];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            for (var i = 0; i < 3; i++)
            {
                var length = await systemd.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                Assert.Equal("WATCHDOG=1", Encoding.UTF8.GetString(buffer, 0, length));
            }

            await watchdog.StopAsync(CancellationToken.None);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_watchdog_reaches_an_abstract_notify_socket()
    {
        var name = $"branchgate-test-{Environment.ProcessId}-{Guid.NewGuid():N}";
        using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        systemd.Bind(new UnixDomainSocketEndPoint("\0" + name));

        Assert.True(SystemdNotify.Send("@" + name, "WATCHDOG=1"));
        var buffer = new byte[64];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var length = await systemd.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        Assert.Equal("WATCHDOG=1", Encoding.UTF8.GetString(buffer, 0, length));
    }

    [Theory]
    [InlineData(null, "1000000", null)] // no NOTIFY_SOCKET
    [InlineData("/run/x", null, null)] // no WATCHDOG_USEC
    [InlineData("/run/x", "0", null)]
    [InlineData("/run/x", "junk", null)]
    [InlineData("/run/x", "1000000", "1")] // another process's watchdog
    public void No_watchdog_unless_systemd_asked_this_process_for_one(string? socket, string? usec, string? pid)
    {
        var environment = new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = socket, ["WATCHDOG_USEC"] = usec, ["WATCHDOG_PID"] = pid };

        var watchdog = WatchdogService.FromEnvironment(environment.GetValueOrDefault, Environment.ProcessId, null,
            TimeProvider.System, NullLogger.Instance);

        Assert.False(watchdog.Enabled);
    }

    [Fact]
    public async Task An_unhealthy_appliance_stops_feeding_the_watchdog()
    {
        var directory = Directory.CreateTempSubdirectory("bgnotify");
        try
        {
            var path = Path.Combine(directory.FullName, "notify");
            using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            systemd.Bind(new UnixDomainSocketEndPoint(path));
            var healthy = true;
            await using var watchdog = new WatchdogService(path, TimeSpan.FromMilliseconds(100), () => healthy,
                TimeProvider.System, NullLogger.Instance);
            await watchdog.StartAsync(CancellationToken.None);
            var buffer = new byte[64];
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            {
                await systemd.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }

            healthy = false;
            await Task.Delay(200);
            while (systemd.Available > 0)
            {
                systemd.Receive(buffer);
            }

            await Task.Delay(300);
            Assert.Equal(0, systemd.Available);
            await watchdog.StopAsync(CancellationToken.None);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task SIGHUP_runs_the_reload_instead_of_ending_the_process()
    {
        var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hangup = new ReloadOnHangup(() =>
        {
            reloaded.TrySetResult();
            return Task.CompletedTask;
        }, NullLogger.Instance);
        await hangup.StartAsync(CancellationToken.None);
        try
        {
            var kill = ManagementApiAccessTests.Run("kill", "-HUP", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(0, kill.ExitCode);
            await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            await hangup.StopAsync(CancellationToken.None);
        }

        Assert.Equal(1, hangup.Reloads);
    }

    [Fact]
    public async Task Reloads_never_overlap_and_one_asked_for_during_a_reload_runs_after_it()
    {
        var running = 0;
        var maximum = 0;
        var calls = 0;
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hangup = new ReloadOnHangup(async () =>
        {
            maximum = Math.Max(maximum, Interlocked.Increment(ref running));
            if (Interlocked.Increment(ref calls) == 1)
            {
                first.SetResult();
                await release.Task;
            }

            Interlocked.Decrement(ref running);
        }, NullLogger.Instance);

        hangup.Request();
        await first.Task.WaitAsync(TimeSpan.FromSeconds(10));
        hangup.Request();
        hangup.Request();
        release.SetResult();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (hangup.Reloads < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await hangup.StopAsync(CancellationToken.None);
        Assert.Equal(2, hangup.Reloads);
        Assert.Equal(1, maximum);
    }

    [Fact]
    public void The_unit_file_passes_systemd_analyze_verify()
    {
        var unit = File.ReadAllText(Path.Combine(RepositoryRoot(), "image", "systemd", "branchgate.service"));
        Assert.Contains("Type=notify", unit, StringComparison.Ordinal);
        Assert.Contains("WatchdogSec=30", unit, StringComparison.Ordinal);
        Assert.Contains("ExecStart=/usr/bin/branchgate serve", unit, StringComparison.Ordinal);

        // verify wants the binary to exist: point ExecStart at one that does, keep everything else as shipped.
        var directory = Directory.CreateTempSubdirectory("bgunit");
        try
        {
            var copy = Path.Combine(directory.FullName, "branchgate.service");
            File.WriteAllText(copy, unit.Replace("/usr/bin/branchgate serve", "/bin/true serve", StringComparison.Ordinal)
                );
            var result = ManagementApiAccessTests.Run("systemd-analyze", "verify", copy);
            var complaints = (result.Stdout + result.Stderr).Split('\n')
                .Where(l => l.Contains("branchgate.service", StringComparison.Ordinal)).ToList();
            Assert.True(result.ExitCode == 0 && complaints.Count == 0,
                $"systemd-analyze verify exit {result.ExitCode}:\n{result.Stdout}\n{result.Stderr}");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new DirectoryNotFoundException("Gateway.sln not found above the test binaries");
    }
}
