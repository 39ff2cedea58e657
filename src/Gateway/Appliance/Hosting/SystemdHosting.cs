using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Branchgate.Appliance.Hosting;

/// <summary>
/// What `branchgate serve` needs from systemd (image/systemd/branchgate.service): Type=notify (READY=1 once the API
/// listens, STOPPING=1 on the way out) with journald-friendly console logs, the watchdog, SIGHUP as reload, and a
/// bounded clean stop on SIGTERM (the host's lifetime turns SIGTERM into an orderly shutdown of every hosted service).
/// Outside systemd only the SIGHUP hook and the clean stop are active.
/// </summary>
public static class SystemdHosting
{
    /// <summary>How long hosted services get to stop after SIGTERM (systemd's TimeoutStopSec is longer).</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(20);

    /// <param name="services">The host's services (e.g. a WebApplicationBuilder's).</param>
    /// <param name="reload">Runs on SIGHUP.</param>
    /// <param name="isHealthy">Asked before each watchdog ping; null: always healthy.</param>
    public static IServiceCollection AddBranchgateSystemd(this IServiceCollection services, Func<Task> reload,
        Func<bool>? isHealthy = null)
    {
        ArgumentNullException.ThrowIfNull(reload);
        services.AddSystemd();
        services.Configure<HostOptions>(options => options.ShutdownTimeout = ShutdownTimeout);
        services.AddSingleton<IHostedService>(provider => WatchdogService.FromEnvironment(Environment.GetEnvironmentVariable,
            Environment.ProcessId, isHealthy, TimeProvider.System,
            provider.GetRequiredService<ILoggerFactory>().CreateLogger<WatchdogService>()));
        services.AddSingleton<IHostedService>(provider => new ReloadOnHangup(reload,
            provider.GetRequiredService<ILoggerFactory>().CreateLogger<ReloadOnHangup>()));
        return services;
    }
}
