using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Branchgate.Appliance.Hosting;

/// <summary>
/// Keeps systemd's watchdog (WatchdogSec=) fed: "WATCHDOG=1" at half the interval systemd asked for in WATCHDOG_USEC,
/// as long as <c>isHealthy</c> says so. When the process stops pinging (hung, or unhealthy), systemd kills and
/// restarts it (Restart=on-failure). Does nothing when systemd did not ask for a watchdog.
/// </summary>
public sealed partial class WatchdogService : IHostedService, IAsyncDisposable
{
    private readonly string? _notifySocket;
    private readonly TimeSpan _interval;
    private readonly Func<bool> _isHealthy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private CancellationTokenSource? _stopping;
    private Task? _loop;

    /// <summary>A watchdog pinging <paramref name="notifySocket"/> (NOTIFY_SOCKET; null: none) at half of
    /// <paramref name="watchdogTimeout"/> (WATCHDOG_USEC; zero: none) while <paramref name="isHealthy"/> (null: always).</summary>
    public WatchdogService(string? notifySocket, TimeSpan watchdogTimeout, Func<bool>? isHealthy, TimeProvider time, ILogger logger)
    {
        _notifySocket = watchdogTimeout > TimeSpan.Zero ? notifySocket : null;
        _interval = watchdogTimeout / 2;
        _isHealthy = isHealthy ?? (() => true);
        _time = time;
        _logger = logger;
    }

    /// <summary>Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (the watchdog is for this process only when it
    /// names this process or is absent).</summary>
    public static WatchdogService FromEnvironment(Func<string, string?> environment, int processId, Func<bool>? isHealthy,
        TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var socket = environment(SystemdNotify.SocketVariable);
        var timeout = TimeSpan.Zero;
        if (ulong.TryParse(environment("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var usec)
            && usec > 0 && usec < (ulong)TimeSpan.MaxValue.TotalMicroseconds)
        {
            timeout = TimeSpan.FromMicroseconds(usec);
        }

        var pidText = environment("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pidText)
            && (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid != processId))
        {
            timeout = TimeSpan.Zero;
        }

        return new WatchdogService(string.IsNullOrEmpty(socket) ? null : socket, timeout, isHealthy, time, logger);
    }

    public bool Enabled => _notifySocket is not null;

    /// <summary>The time between pings.</summary>
    public TimeSpan Interval => _interval;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_notifySocket is null)
        {
            return Task.CompletedTask;
        }

        Log.Enabled(_logger, _interval.TotalSeconds);
        _stopping = new CancellationTokenSource();
        _loop = Task.Run(() => PingAsync(_notifySocket, _stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping is null || _loop is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping?.Dispose();
    }

    private async Task PingAsync(string socket, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        do
        {
            if (!_isHealthy())
            {
                Log.Unhealthy(_logger);
            }
            else if (!SystemdNotify.Send(socket, "WATCHDOG=1"))
            {
                Log.SendFailed(_logger, socket);
            }

            try
            {
                if (!await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        while (!stopping.IsCancellationRequested);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "systemd watchdog: pinging every {Seconds} s")]
        public static partial void Enabled(ILogger logger, double seconds);

        [LoggerMessage(2, LogLevel.Error, "systemd watchdog: not pinging, the appliance reports itself unhealthy")]
        public static partial void Unhealthy(ILogger logger);

        [LoggerMessage(3, LogLevel.Warning, "systemd watchdog: could not notify {Socket}")]
        public static partial void SendFailed(ILogger logger, string socket);
    }
}
