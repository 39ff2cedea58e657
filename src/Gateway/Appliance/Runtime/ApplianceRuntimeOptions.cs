using System.Net;
using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Config;
using Branchgate.Appliance.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Branchgate.Appliance.Runtime;

/// <summary>
/// What <see cref="ApplianceRuntime"/> needs from the rest of the appliance: the validator, the coexistence check and
/// the endpoint resolver are injected so the runtime can be tested with simple ones and hosted with the real ones.
/// </summary>
public sealed record ApplianceRuntimeOptions
{
    /// <summary>Validation of a proposed configuration; an empty list means valid.</summary>
    public required Func<ApplianceConfig, IReadOnlyList<string>> Validate { get; init; }

    /// <summary>The coexistence check of a proposed configuration. Runs on the runtime's control thread (inside the
    /// runtime's network namespace), so it may read the kernel's tables.</summary>
    public required Func<ApplianceConfig, CoexistenceReport> Check { get; init; }

    /// <summary>"host:port" as configured (IPv4, [IPv6] or a DNS name) to an address; null when it did not resolve.</summary>
    public required Func<string, CancellationToken, Task<IPEndPoint?>> ResolveEndpoint { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>How often a site endpoint given as a DNS name is resolved again (a branch with a dynamic IP).</summary>
    public TimeSpan ReResolveInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A peer that should have a session (persistent keepalive, or handshake attempts going unanswered) and
    /// has had no handshake for this long has its endpoint name resolved early, without waiting for
    /// <see cref="ReResolveInterval"/>. The default, 150 s, is more than a healthy tunnel ever goes without one
    /// (REKEY_AFTER_TIME 120 s) and within the REKEY_ATTEMPT window.</summary>
    public TimeSpan EarlyResolveAfter { get; init; } = TimeSpan.FromSeconds(150);

    /// <summary>How often the kernel and devices are compared with the desired state and repaired (besides after
    /// every change).</summary>
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The most one resolution may take before it counts as "did not resolve".</summary>
    public TimeSpan ResolveTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>What the WireGuard devices log (their lines go to <see cref="Logger"/>).</summary>
    public Branchgate.Device.LogLevel DeviceLogLevel { get; init; } = Branchgate.Device.LogLevel.Error;

    /// <summary>Where the UAPI sockets go (`wg show` looks in /var/run/wireguard).</summary>
    public string UapiSocketDirectory { get; init; } = "/var/run/wireguard";

    /// <summary><see cref="ResolveEndpoint"/> backed by an <see cref="EndpointResolver"/> (text that is no endpoint, and
    /// lookups that fail, give null).</summary>
    public static Func<string, CancellationToken, Task<IPEndPoint?>> ResolveWith(EndpointResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        return async (text, cancellationToken) => SiteEndpoint.TryParse(text, out var endpoint, out _)
            ? (await resolver.ResolveAsync(endpoint, cancellationToken).ConfigureAwait(false)).EndPoint
            : null;
    }
}
