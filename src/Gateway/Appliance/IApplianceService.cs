using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Model;
using Branchgate.Appliance.Store;

namespace Branchgate.Appliance;

/// <summary>Who asks for a change and whether coexistence errors are overridden.</summary>
public sealed record ChangeOptions(string Actor, bool Force = false);

/// <summary>
/// What happened to a requested change. <see cref="Applied"/> false: nothing changed (validation errors, coexistence
/// errors without force, or a failure while applying that was rolled back; <see cref="Failure"/> says which).
/// </summary>
public sealed record ChangeResult
{
    public required bool Applied { get; init; }

    /// <summary>Validation problems (invalid keys, CIDRs, duplicate names, overlapping subnets between sites).</summary>
    public IReadOnlyList<string> ValidationErrors { get; init; } = [];

    /// <summary>The coexistence check of the proposed state (errors refused it unless forced; warnings do not).</summary>
    public CoexistenceReport Check { get; init; } = CoexistenceReport.Clean;

    /// <summary>Why it was not applied, in one sentence.</summary>
    public string? Failure { get; init; }

    public ApplianceConfig? Config { get; init; }
}

/// <summary>Live state of one peer as the device reports it.</summary>
public sealed record PeerStatus
{
    public required string Interface { get; init; }

    public required string Name { get; init; }

    public required string PublicKey { get; init; }

    public bool Enabled { get; init; }

    /// <summary>The endpoint in use (configured, resolved or roamed to), "ip:port"; null when none.</summary>
    public string? Endpoint { get; init; }

    /// <summary>The endpoint as configured (may be a DNS name).</summary>
    public string? ConfiguredEndpoint { get; init; }

    public DateTimeOffset? LastHandshake { get; init; }

    public ulong ReceivedBytes { get; init; }

    public ulong TransmittedBytes { get; init; }

    /// <summary>A handshake within the last 180 s (REJECT_AFTER_TIME).</summary>
    public bool Online { get; init; }

    public long HandshakeFailures { get; init; }

    public IReadOnlyList<string> AllowedIps { get; init; } = [];
}

public sealed record InterfaceStatus
{
    public required string Name { get; init; }

    public required string PublicKey { get; init; }

    public ushort ListenPort { get; init; }

    public bool Up { get; init; }

    public IReadOnlyList<string> Addresses { get; init; } = [];

    /// <summary>Dropped packets by reason (the device's DropReason names).</summary>
    public IReadOnlyDictionary<string, long> Drops { get; init; } = new Dictionary<string, long>();

    public IReadOnlyList<PeerStatus> Peers { get; init; } = [];
}

/// <summary>
/// The appliance as the management API and the CLI see it: desired state, changes through validation, the coexistence
/// check and the reconciler (all or nothing, audited), and live status. Implemented by the running `branchgate serve`.
/// </summary>
public interface IApplianceService
{
    ApplianceConfig Current { get; }

    IApplianceStore Store { get; }

    /// <summary>
    /// Validates <paramref name="change"/>(current), runs the coexistence check, applies it to devices and kernel
    /// (rolling back on failure), commits it to the store with an audit entry naming <paramref name="action"/> and
    /// <paramref name="target"/>. Changes are serialized.
    /// </summary>
    Task<ChangeResult> ChangeAsync(string action, string target, Func<ApplianceConfig, ApplianceConfig> change,
        ChangeOptions options, CancellationToken cancellationToken = default);

    /// <summary>The coexistence check of the current state, or of <paramref name="proposed"/> before applying it.</summary>
    CoexistenceReport Check(ApplianceConfig? proposed = null);

    IReadOnlyList<InterfaceStatus> Status();
}
