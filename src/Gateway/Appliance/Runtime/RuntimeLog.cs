using Microsoft.Extensions.Logging;

namespace Branchgate.Appliance.Runtime;

/// <summary>The runtime's log lines. Never pass secrets: configuration appears only through names and public data.</summary>
internal static partial class RuntimeLog
{
    [LoggerMessage(1, LogLevel.Information, "interface {Interface} created")]
    public static partial void InterfaceCreated(ILogger logger, string @interface);

    [LoggerMessage(2, LogLevel.Information, "interface {Interface} removed")]
    public static partial void InterfaceRemoved(ILogger logger, string @interface);

    [LoggerMessage(3, LogLevel.Information, "reconcile repaired {Changes} difference(s) between the desired state and the kernel/devices")]
    public static partial void Repaired(ILogger logger, int changes);

    [LoggerMessage(4, LogLevel.Warning, "reconcile failed (retried in {Interval}): {Reason}")]
    public static partial void ReconcileFailed(ILogger logger, TimeSpan interval, string reason);

    [LoggerMessage(5, LogLevel.Information, "site {Interface}/{Site} endpoint {Endpoint} now {Address} (was {Previous})")]
    public static partial void EndpointChanged(ILogger logger, string @interface, string site, string endpoint, string address, string previous);

    [LoggerMessage(6, LogLevel.Warning, "site {Interface}/{Site} endpoint {Endpoint} did not resolve; the site stays configured and the name is tried again")]
    public static partial void EndpointUnresolved(ILogger logger, string @interface, string site, string endpoint);

    [LoggerMessage(7, LogLevel.Information, "change {Action} {Target} by {Actor} applied{Forced}")]
    public static partial void ChangeApplied(ILogger logger, string action, string target, string actor, string forced);

    [LoggerMessage(8, LogLevel.Warning, "change {Action} {Target} by {Actor} not applied: {Reason}")]
    public static partial void ChangeRefused(ILogger logger, string action, string target, string actor, string reason);

    [LoggerMessage(9, LogLevel.Error, "rolling back to the previous state failed: {Reason}")]
    public static partial void RollbackFailed(ILogger logger, string reason);

    [LoggerMessage(10, LogLevel.Error, "applying the stored configuration failed (retried by the reconcile loop): {Reason}")]
    public static partial void InitialApplyFailed(ILogger logger, string reason);

    [LoggerMessage(11, LogLevel.Error, "the audit log could not be written: {Reason}")]
    public static partial void AuditFailed(ILogger logger, string reason);

    [LoggerMessage(12, LogLevel.Warning, "{Message}")]
    public static partial void Device(ILogger logger, string message);

    [LoggerMessage(13, LogLevel.Information, "endpoint {Endpoint} of site {Interface}/{Site} is due early: no handshake for {Seconds} s")]
    public static partial void EarlyResolve(ILogger logger, string endpoint, string @interface, string site, long seconds);
}

/// <summary>Forwards the lines a <see cref="Device.DeviceLog"/> writes to the runtime's logger.</summary>
internal sealed class LoggerTextWriter(ILogger logger) : TextWriter
{
    public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

    public override void WriteLine(string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            RuntimeLog.Device(logger, value);
        }
    }

    public override void Write(char value)
    {
        // DeviceLog writes whole lines only.
    }
}
