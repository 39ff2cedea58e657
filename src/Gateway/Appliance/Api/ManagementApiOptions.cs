using Branchgate.Appliance.Model;
using Branchgate.Appliance.Store;

namespace Branchgate.Appliance.Api;

/// <summary>How <see cref="ManagementApi.Build"/> sets the management API up.</summary>
public sealed record ManagementApiOptions
{
    public const string DefaultSocketPath = UnixSocketHttp.DefaultSocketPath;
    public const string DefaultSetupTokenPath = "/run/branchgate/setup-token";

    /// <summary>The unix socket the API listens on (mode 0660, group <see cref="SocketGroup"/>); no TCP, ever.</summary>
    public string SocketPath { get; init; } = DefaultSocketPath;

    /// <summary>Members of this group may use the API (the admin panel's user). Missing group: root only.</summary>
    public string SocketGroup { get; init; } = "branchgate";

    /// <summary>Where the one-time setup token is written when no administrator exists; null: no setup token (then
    /// POST /v1/setup always refuses).</summary>
    public string? SetupTokenPath { get; init; } = DefaultSetupTokenPath;

    /// <summary>Writes a wg-quick file for an interface and its peers (the real one is WgQuickFile.Write).</summary>
    public required Func<InterfaceConfig, IEnumerable<SiteConfig>, string> ExportWgQuick { get; init; }

    /// <summary>Opens a store file (a backup being restored) read for its configuration; null: restore is not offered.</summary>
    public Func<string, IApplianceStore>? OpenStore { get; init; }

    /// <summary>Largest JSON request body.</summary>
    public long MaxRequestBytes { get; init; } = 1 << 20;

    /// <summary>Largest backup accepted by POST /v1/restore.</summary>
    public long MaxRestoreBytes { get; init; } = 256L << 20;
}
