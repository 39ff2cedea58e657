using Branchgate.Appliance.Api;

namespace Branchgate.WebUi.Features.Sites;

/// <summary>What the site form edits, as text the way a person types it; the gateway validates.</summary>
public sealed class SiteFormModel
{
    public string Name { get; set; } = "";

    public string PublicKey { get; set; } = "";

    /// <summary>A new preshared key (base64); empty keeps the current one on an edit.</summary>
    public string PresharedKey { get; set; } = "";

    public bool HasPresharedKey { get; set; }

    public bool ClearPresharedKey { get; set; }

    public string Endpoint { get; set; } = "";

    /// <summary>Comma, space or line separated CIDRs.</summary>
    public string AllowedIps { get; set; } = "";

    public int PersistentKeepalive { get; set; }

    public bool Enabled { get; set; } = true;

    public string Description { get; set; } = "";

    public string Kind { get; set; } = "site";

    public static SiteFormModel From(SiteDto site) => new()
    {
        Name = site.Name,
        PublicKey = site.PublicKey,
        HasPresharedKey = site.HasPresharedKey,
        Endpoint = site.Endpoint ?? "",
        AllowedIps = string.Join(", ", site.AllowedIps),
        PersistentKeepalive = site.PersistentKeepalive,
        Enabled = site.Enabled,
        Description = site.Description ?? "",
        Kind = site.Kind,
    };

    public static IReadOnlyList<string> SplitList(string text) =>
        text.Split([',', ' ', '\n', '\r', '\t', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public SiteRequest ToRequest() => new()
    {
        Name = Name.Trim(),
        Kind = Kind,
        PublicKey = PublicKey.Trim(),
        PresharedKey = string.IsNullOrWhiteSpace(PresharedKey) || ClearPresharedKey ? null : PresharedKey.Trim(),
        ClearPresharedKey = ClearPresharedKey,
        Endpoint = string.IsNullOrWhiteSpace(Endpoint) ? null : Endpoint.Trim(),
        AllowedIps = SplitList(AllowedIps),
        PersistentKeepalive = (ushort)Math.Clamp(PersistentKeepalive, 0, ushort.MaxValue),
        Enabled = Enabled,
        Description = string.IsNullOrWhiteSpace(Description) ? null : Description.Trim(),
    };
}
