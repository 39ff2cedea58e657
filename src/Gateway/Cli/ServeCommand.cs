using Branchgate.Appliance.Api;
using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Config;
using Branchgate.Appliance.Hosting;
using Branchgate.Appliance.Runtime;
using Branchgate.Appliance.Store;
using Branchgate.Appliance.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Branchgate.Cli;

/// <summary>
/// `branchgate serve`: the appliance. Opens the store, makes it true on WireGuard devices and the kernel (the runtime's
/// reconcile and DNS re-resolve loops), serves the management API on its unix socket, and talks to systemd (READY=1
/// once the stored state was applied and the API listens, the watchdog, SIGHUP = reload the store). Runs until
/// SIGTERM/SIGINT; then the API stops, the interfaces it made are removed, and the store is closed.
/// </summary>
internal static partial class ServeCommand
{
    public const string Usage = """
        Usage: branchgate serve [--db PATH] [--api-socket PATH] [--socket-group GROUP] [--setup-token PATH | --no-setup-token]
                                [--resolve-interval SECONDS] [--log-level debug|info|warning|error]
        """;

    private sealed class Options
    {
        public string Db { get; set; } = ApplianceStore.DefaultPath;

        public string ApiSocket { get; set; } = ManagementApiOptions.DefaultSocketPath;

        public string SocketGroup { get; set; } = "branchgate";

        public string? SetupToken { get; set; }

        public bool NoSetupToken { get; set; }

        public TimeSpan ResolveInterval { get; set; } = TimeSpan.FromSeconds(60);

        public LogLevel LogLevel { get; set; } = LogLevel.Information;
    }

    public static int Run(ReadOnlySpan<string> args, TextWriter stdout, TextWriter stderr)
    {
        if (Parse(args, stderr) is not { } options)
        {
            return 1;
        }

        ApplianceStore store;
        try
        {
            store = ApplianceStore.Open(options.Db);
        }
        catch (StoreException e)
        {
            stderr.WriteLine($"branchgate serve: {e.Message}");
            return 1;
        }

        using (store)
        using (var loggers = LoggerFactory.Create(logging => ConfigureLogging(logging, options.LogLevel)))
        {
            var log = loggers.CreateLogger("branchgate");
            foreach (var note in store.Notes)
            {
                StoreNote(log, note);
            }

            return RunAsync(options, store, loggers, log).GetAwaiter().GetResult();
        }
    }

    private static async Task<int> RunAsync(Options options, ApplianceStore store, ILoggerFactory loggers, ILogger log)
    {
        var users = new UserDirectory(store, TimeProvider.System);
        var runtime = new ApplianceRuntime(store, new ApplianceRuntimeOptions
        {
            Validate = ConfigValidator.Validate,
            Check = CoexistenceChecker.CheckLive,
            ResolveEndpoint = ApplianceRuntimeOptions.ResolveWith(new EndpointResolver(TimeProvider.System)),
            Logger = loggers.CreateLogger("branchgate.runtime"),
            ReResolveInterval = options.ResolveInterval,
        });
        await using (runtime.ConfigureAwait(false))
        {
            // The stored state first, so READY=1 (sent when the host has started) means the tunnels are configured.
            await runtime.StartAsync().ConfigureAwait(false);
            var apiOptions = new ManagementApiOptions
            {
                SocketPath = options.ApiSocket,
                SocketGroup = options.SocketGroup,
                SetupTokenPath = options.NoSetupToken ? null
                    : options.SetupToken ?? Path.Combine(Path.GetDirectoryName(options.ApiSocket) ?? "/run/branchgate", "setup-token"),
                ExportWgQuick = WgQuickFile.Write,
                OpenStore = path => ApplianceStore.Open(path),
            };
            WebApplication app;
            try
            {
                app = ManagementApi.Build(apiOptions, runtime, users, builder =>
                {
                    builder.Logging.ClearProviders();
                    ConfigureLogging(builder.Logging, options.LogLevel);
                    builder.Services.AddBranchgateSystemd(async () => await runtime.ReloadAsync().ConfigureAwait(false),
                        () => runtime.IsHealthy);
                });
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                ApiFailed(log, e.Message);
                return 1;
            }

            await using (app.ConfigureAwait(false))
            {
                try
                {
                    await app.RunAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or InvalidOperationException)
                {
                    // Kestrel could not bind (another serve owns the socket, a read-only directory, ...).
                    ApiFailed(log, e.Message);
                    return 1;
                }
            }

            Stopping(log);
        }

        return 0;
    }

    /// <summary>One line per message, without colours; journald's own format under systemd.</summary>
    private static void ConfigureLogging(ILoggingBuilder logging, LogLevel level)
    {
        logging.SetMinimumLevel(level);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 })
        {
            logging.AddSystemdConsole();
        }
        else
        {
            logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss ";
                console.UseUtcTimestamp = true;
            });
        }
    }

    private static Options? Parse(ReadOnlySpan<string> args, TextWriter stderr)
    {
        var options = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (arg)
            {
                case "--db" when value is not null:
                    options.Db = value;
                    i++;
                    break;
                case "--api-socket" when value is not null:
                    options.ApiSocket = value;
                    i++;
                    break;
                case "--socket-group" when value is not null:
                    options.SocketGroup = value;
                    i++;
                    break;
                case "--setup-token" when value is not null:
                    options.SetupToken = value;
                    i++;
                    break;
                case "--no-setup-token":
                    options.NoSetupToken = true;
                    break;
                case "--resolve-interval" when value is not null && int.TryParse(value, out var seconds) && seconds is >= 5 and <= 86400:
                    options.ResolveInterval = TimeSpan.FromSeconds(seconds);
                    i++;
                    break;
                case "--log-level" when value is not null && ParseLevel(value) is { } level:
                    options.LogLevel = level;
                    i++;
                    break;
                default:
                    stderr.WriteLine($"branchgate serve: unexpected or incomplete argument '{CommandLine.Sanitize(arg)}'" +
                        (arg == "--resolve-interval" ? " (5 to 86400 seconds)" : ""));
                    stderr.WriteLine(Usage);
                    return null;
            }
        }

        return options;
    }

    private static LogLevel? ParseLevel(string text) => text switch
    {
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "store: {Note}")]
    private static partial void StoreNote(ILogger logger, string note);

    [LoggerMessage(Level = LogLevel.Error, Message = "the management API could not run: {Message}")]
    private static partial void ApiFailed(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopping: removing the interfaces this service made")]
    private static partial void Stopping(ILogger logger);
}
