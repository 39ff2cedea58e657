using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Model;
using Branchgate.Appliance.Store;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Appliance.Runtime;

/// <summary>
/// The running appliance: makes the desired state in the store true on devices and in the kernel, and keeps it true.
/// <list type="bullet">
/// <item>Changes (<see cref="ChangeAsync"/>) are serialized: validated, checked for coexistence, applied (device, then
/// kernel), then committed with an audit entry; any failure on the way re-applies the previous state.</item>
/// <item>A reconcile pass runs every <see cref="ApplianceRuntimeOptions.ReconcileInterval"/> and after every change,
/// repairing drift (a route deleted by hand comes back).</item>
/// <item>Endpoints given as DNS names are resolved when applied, every <see cref="ApplianceRuntimeOptions.ReResolveInterval"/>,
/// and early when a peer that should have a session has had no handshake for 150 s.</item>
/// </list>
/// Everything that touches the kernel runs on one control thread started by the constructor, in the network
/// namespace of the thread that constructed the runtime. Dispose removes the interfaces it created.
/// </summary>
public sealed partial class ApplianceRuntime : IApplianceService, IDisposable, IAsyncDisposable
{
    private readonly ApplianceRuntimeOptions _options;
    private readonly ControlThread _control;
    private readonly SemaphoreSlim _changes = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private volatile ApplianceConfig _current = ApplianceConfig.Empty;
    private ITimer? _reconcileTimer;
    private Task? _resolveLoop;
    private int _reconcileQueued;
    private long _lastPass;
    private int _disposed;

    public ApplianceRuntime(IApplianceStore store, ApplianceRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        Store = store;
        _options = options;
        _control = new ControlThread("appliance control");
        // The netlink socket belongs to the namespace of the thread that opens it: open it on the control thread.
        _control.Run(() => _netlink = new RouteNetlink()).GetAwaiter().GetResult();
    }

    /// <summary>The committed desired state.</summary>
    public ApplianceConfig Current => _current;

    public IApplianceStore Store { get; }

    /// <summary>The route protocol number that marks the appliance's routes (0x62; `ip route` prints "proto 98").</summary>
    public static byte RouteProtocolNumber => (byte)KernelReconciler.RouteProtocol;

    /// <summary>Loads the store, applies it (a failure is logged and retried by the reconcile loop) and starts the
    /// reconcile and re-resolve loops.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        // The same load-resolve-apply as a reload; a failure is logged there and the reconcile loop keeps trying.
        await ReloadAsync(cancellationToken).ConfigureAwait(false);
        _reconcileTimer = _options.Time.CreateTimer(_ => QueueReconcile(), null, _options.ReconcileInterval, _options.ReconcileInterval);
        _resolveLoop = Task.Run(() => ResolveLoopAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>
    /// For the systemd watchdog: false when the control thread has not finished a reconcile pass for three intervals
    /// and 30 s more after the start (it hangs, e.g. in a kernel call), so systemd restarts the service.
    /// </summary>
    public bool IsHealthy =>
        _disposed == 0 && (_reconcileTimer is null ||
            _options.Time.GetElapsedTime(Interlocked.Read(ref _lastPass)) < (_options.ReconcileInterval * 3) + TimeSpan.FromSeconds(30));

    /// <summary>Synchronous <see cref="StartAsync"/> (for hosts that start services synchronously).</summary>
    public void Start() => StartAsync().GetAwaiter().GetResult();

    /// <summary>SIGHUP: rereads the store and makes it true. Not applied when applying fails (the reconcile loop keeps
    /// trying; the store stays the truth).</summary>
    public async Task<ChangeResult> ReloadAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var config = Store.LoadConfig();
            _current = config;
            await ResolveNewEndpointsAsync(config, cancellationToken).ConfigureAwait(false);
            try
            {
                await _control.Run(() => Apply(config)).ConfigureAwait(false);
                return new ChangeResult { Applied = true, Config = config };
            }
            catch (ApplyException e)
            {
                RuntimeLog.InitialApplyFailed(_options.Logger, e.Message);
                return new ChangeResult { Applied = false, Failure = $"applying the stored configuration failed: {e.Message}", Config = config };
            }
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>One reconcile pass now (what the periodic loop does); returns the number of changes it had to make to
    /// devices and kernel, 0 when everything already matched.</summary>
    /// <exception cref="ApplyException">A step failed.</exception>
    public Task<int> ReconcileAsync() => _control.Run(() => Apply(_target));

    public async Task<ChangeResult> ChangeAsync(string action, string target, Func<ApplianceConfig, ApplianceConfig> change,
        ChangeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ChangeLockedAsync(action, target, change, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _changes.Release();
        }
    }

    private async Task<ChangeResult> ChangeLockedAsync(string action, string target,
        Func<ApplianceConfig, ApplianceConfig> change, ChangeOptions options, CancellationToken cancellationToken)
    {
        var before = _current;
        ApplianceConfig proposed;
        try
        {
            proposed = change(before);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            return Refuse(action, target, options, new ChangeResult { Applied = false, Failure = $"the change could not be made: {e.Message}" });
        }

        IReadOnlyList<string> errors;
        try
        {
            errors = _options.Validate(proposed);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            errors = [$"the validator failed: {e.Message}"];
        }

        if (errors.Count > 0)
        {
            return Refuse(action, target, options, new ChangeResult
            {
                Applied = false,
                ValidationErrors = errors,
                Failure = $"the configuration is not valid ({errors.Count} problem{(errors.Count == 1 ? "" : "s")}): {errors[0]}",
            });
        }

        CoexistenceReport report;
        try
        {
            report = await _control.Run(() => _options.Check(proposed)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not ObjectDisposedException)
        {
            return Refuse(action, target, options, new ChangeResult { Applied = false, Failure = $"the coexistence check failed: {e.Message}" });
        }

        // Errors the running state already has (accepted earlier, by force) do not block every later change: only
        // errors this change brings do.
        var newErrors = report.HasErrors ? await NewErrorsAsync(before, report).ConfigureAwait(false) : [];
        var forced = newErrors.Count > 0 && options.Force;
        if (newErrors.Count > 0 && !options.Force)
        {
            return Refuse(action, target, options, new ChangeResult
            {
                Applied = false,
                Check = report,
                Failure = $"refused by the coexistence check ({newErrors.Count} error(s); force applies anyway): {newErrors[0].Message}",
            });
        }

        await ResolveNewEndpointsAsync(proposed, cancellationToken).ConfigureAwait(false);
        try
        {
            await _control.Run(() => Apply(proposed)).ConfigureAwait(false);
        }
        catch (ApplyException e)
        {
            var failure = "applying failed and was rolled back: " + e.Message + await RollbackAsync(before).ConfigureAwait(false);
            return Refuse(action, target, options, new ChangeResult { Applied = false, Check = report, Failure = failure });
        }

        var (beforeJson, afterJson) = AuditJson.Describe(before, proposed);
        var audit = new AuditEntry
        {
            Time = _options.Time.GetUtcNow(),
            Actor = options.Actor,
            Action = action,
            Target = target,
            Before = beforeJson,
            After = afterJson,
            Forced = forced,
            Detail = Detail(report, newErrors, forced),
        };
        try
        {
            Store.Commit(proposed, audit);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var failure = "saving to the store failed and the change was rolled back: " + e.Message +
                await RollbackAsync(before).ConfigureAwait(false);
            return Refuse(action, target, options, new ChangeResult { Applied = false, Check = report, Failure = failure });
        }

        _current = proposed;
        RuntimeLog.ChangeApplied(_options.Logger, action, target, options.Actor, forced ? " (forced over coexistence errors)" : "");
        return new ChangeResult { Applied = true, Check = report, Config = proposed };
    }

    /// <summary>The errors of <paramref name="report"/> that the check of <paramref name="before"/> does not have
    /// (same code, interface, site and objects).</summary>
    private async Task<List<Finding>> NewErrorsAsync(ApplianceConfig before, CoexistenceReport report)
    {
        CoexistenceReport baseline;
        try
        {
            baseline = await _control.Run(() => _options.Check(before)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not ObjectDisposedException)
        {
            return [.. report.Errors];
        }

        return [.. report.Errors.Where(e => !baseline.Errors.Any(b => b.Code == e.Code && b.Interface == e.Interface &&
            b.Site == e.Site && b.Objects.SequenceEqual(e.Objects)))];
    }

    /// <summary>Re-applies <paramref name="previous"/>; returns "" or the sentence saying the rollback failed too.</summary>
    private async Task<string> RollbackAsync(ApplianceConfig previous)
    {
        try
        {
            await _control.Run(() => Apply(previous)).ConfigureAwait(false);
            return "";
        }
        catch (ApplyException e)
        {
            RuntimeLog.RollbackFailed(_options.Logger, e.Message);
            return "; rolling back also failed (the reconcile loop keeps trying): " + e.Message;
        }
    }

    private ChangeResult Refuse(string action, string target, ChangeOptions options, ChangeResult result)
    {
        RuntimeLog.ChangeRefused(_options.Logger, action, target, options.Actor, result.Failure ?? "");
        try
        {
            Store.AppendAudit(new AuditEntry
            {
                Time = _options.Time.GetUtcNow(),
                Actor = options.Actor,
                Action = action,
                Target = target,
                Succeeded = false,
                Forced = options.Force && result.Check.HasErrors,
                Detail = result.Failure,
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            RuntimeLog.AuditFailed(_options.Logger, e.Message);
        }

        return result;
    }

    private static string? Detail(CoexistenceReport report, List<Finding> newErrors, bool forced)
    {
        var lines = (forced ? newErrors : []).Concat(report.Warnings)
            .Select(f => $"{f.Severity.ToString().ToLowerInvariant()} {f.Code}: {f.Message}").ToList();
        return lines.Count == 0 ? null : string.Join("\n", lines);
    }

    public CoexistenceReport Check(ApplianceConfig? proposed = null)
    {
        var config = proposed ?? _current;
        return _control.Run(() => _options.Check(config)).GetAwaiter().GetResult();
    }

    private void QueueReconcile()
    {
        if (_disposed != 0 || Interlocked.Exchange(ref _reconcileQueued, 1) != 0)
        {
            return;
        }

        _ = _control.Run(() =>
        {
            Volatile.Write(ref _reconcileQueued, 0);
            try
            {
                int changes = Apply(_target);
                if (changes > 0)
                {
                    RuntimeLog.Repaired(_options.Logger, changes);
                }
            }
            catch (ApplyException e)
            {
                RuntimeLog.ReconcileFailed(_options.Logger, _options.ReconcileInterval, e.Message);
            }
        });
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Stops the loops and removes the interfaces this runtime created.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_reconcileTimer is not null)
        {
            await _reconcileTimer.DisposeAsync().ConfigureAwait(false);
        }

        if (_resolveLoop is not null)
        {
            await _resolveLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // Let a change in progress finish (bounded) before the interfaces go.
        bool idle = await _changes.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        await _control.Run(RemoveAll).ConfigureAwait(false);
        _control.Dispose();
        _stopping.Dispose();
        if (idle)
        {
            _changes.Release();
        }
    }
}
