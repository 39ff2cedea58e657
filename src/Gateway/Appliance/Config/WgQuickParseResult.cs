using Branchgate.Appliance.Model;

namespace Branchgate.Appliance.Config;

/// <summary>
/// What <see cref="WgQuickFile.Parse"/> read. <see cref="Interface"/> is null when the file has no usable [Interface]
/// section (none, or no valid PrivateKey); <see cref="Sites"/> holds every peer that could be read. Any error means
/// the file as a whole must not be imported. Warnings describe what was changed or ignored (a normalized range,
/// an unsupported PostUp). Messages name the line and never contain a key.
/// </summary>
public sealed record WgQuickParseResult
{
    public InterfaceConfig? Interface { get; init; }

    public IReadOnlyList<SiteConfig> Sites { get; init; } = [];

    public IReadOnlyList<string> Errors { get; init; } = [];

    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>No errors and an interface: safe to hand to <see cref="ConfigValidator"/> and import.</summary>
    public bool Succeeded => Errors.Count == 0 && Interface is not null;
}
