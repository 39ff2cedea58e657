using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Branchgate.Appliance.Hosting;

/// <summary>
/// SIGHUP (systemctl reload, ExecReload=kill -HUP $MAINPID) runs the supplied reload (re-read the store, reconcile)
/// instead of ending the process. Reloads never overlap: a SIGHUP during a reload asks for one more afterwards.
/// </summary>
public sealed partial class ReloadOnHangup(Func<Task> reload, ILogger logger) : IHostedService, IDisposable
{
    private readonly Lock _lock = new();
    private PosixSignalRegistration? _registration;
    private Task _running = Task.CompletedTask;
    private bool _again;

    /// <summary>Completed reloads (for tests and the journal).</summary>
    public int Reloads { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            Request();
        });
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        Task running;
        lock (_lock)
        {
            _again = false;
            running = _running;
        }

        await running.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _registration?.Dispose();
        _registration = null;
    }

    /// <summary>Asks for a reload, as a SIGHUP does.</summary>
    public void Request()
    {
        lock (_lock)
        {
            if (!_running.IsCompleted)
            {
                _again = true;
                return;
            }

            _running = Task.Run(RunAsync);
        }
    }

    private async Task RunAsync()
    {
        while (true)
        {
            Log.Reloading(logger);
            try
            {
                await reload().ConfigureAwait(false);
                Reloads++;
            }
            catch (Exception e)
            {
                Log.Failed(logger, e);
            }

            lock (_lock)
            {
                if (!_again)
                {
                    return;
                }

                _again = false;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "SIGHUP: reloading the configuration")]
        public static partial void Reloading(ILogger logger);

        [LoggerMessage(2, LogLevel.Error, "SIGHUP: reload failed")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
