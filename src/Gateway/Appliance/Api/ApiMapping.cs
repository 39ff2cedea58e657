using System.Globalization;
using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Model;
using Branchgate.Appliance.Users;
using Branchgate.Crypto;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Appliance.Api;

/// <summary>
/// Model to wire shapes (secrets become presence flags) and wire shapes to model (every problem named by its field,
/// "allowedIps[1]: ..."). Parsing never throws on what a client sends.
/// </summary>
internal static class ApiMapping
{
    public const string SiteKindSite = "site";
    public const string SiteKindRemoteWorker = "remoteWorker";

    public static InterfaceDto ToDto(InterfaceConfig config, ApplianceConfig all) => new()
    {
        Name = config.Name,
        PublicKey = config.PublicKey.ToBase64(),
        ListenPort = config.ListenPort,
        Addresses = [.. config.Addresses.Select(a => a.ToString())],
        Mtu = config.Mtu,
        FwMark = config.FwMark,
        Table = config.Table,
        Dns = [.. config.Dns],
        SiteCount = all.SitesOf(config.Name).Count(),
    };

    public static SiteDto ToDto(SiteConfig site) => new()
    {
        Name = site.Name,
        Interface = site.Interface,
        Kind = site.Kind == SiteKind.RemoteWorker ? SiteKindRemoteWorker : SiteKindSite,
        PublicKey = site.PublicKey.ToBase64(),
        HasPresharedKey = site.PresharedKey is not null,
        Endpoint = site.Endpoint,
        AllowedIps = [.. site.AllowedIps.Select(p => p.ToString())],
        PersistentKeepalive = site.PersistentKeepalive,
        Enabled = site.Enabled,
        Description = site.Description,
    };

    public static FindingDto ToDto(Finding finding) => new()
    {
        Severity = finding.Severity == FindingSeverity.Error ? "error" : "warning",
        Code = finding.Code,
        Message = finding.Message,
        Objects = [.. finding.Objects],
        Interface = finding.Interface,
        Site = finding.Site,
    };

    public static CoexistenceResponse ToDto(CoexistenceReport report) => new()
    {
        Findings = [.. report.Findings.Select(ToDto)],
        Unreadable = [.. report.Unreadable],
        HasErrors = report.HasErrors,
        ExitStatus = report.ExitStatus,
    };

    public static InterfaceStatusDto ToDto(InterfaceStatus status) => new()
    {
        Name = status.Name,
        PublicKey = status.PublicKey,
        ListenPort = status.ListenPort,
        Up = status.Up,
        Addresses = [.. status.Addresses],
        Drops = new Dictionary<string, long>(status.Drops, StringComparer.Ordinal),
        Peers = [.. status.Peers.Select(p => new PeerStatusDto
        {
            Name = p.Name,
            PublicKey = p.PublicKey,
            Enabled = p.Enabled,
            Endpoint = p.Endpoint,
            ConfiguredEndpoint = p.ConfiguredEndpoint,
            LastHandshake = p.LastHandshake,
            ReceivedBytes = p.ReceivedBytes,
            TransmittedBytes = p.TransmittedBytes,
            Online = p.Online,
            HandshakeFailures = p.HandshakeFailures,
            AllowedIps = [.. p.AllowedIps],
        })],
    };

    public static UserDto ToDto(UserRecord user) => new()
    {
        Name = user.Name,
        Role = user.Role,
        HasTotp = !string.IsNullOrEmpty(user.TotpSecret),
        FailedLogins = user.FailedLogins,
        LockedUntil = user.LockedUntil,
        CreatedAt = user.CreatedAt,
    };

    public static AuditEntryDto ToDto(AuditEntry entry) => new()
    {
        Id = entry.Id,
        Time = entry.Time,
        Actor = entry.Actor,
        Action = entry.Action,
        Target = entry.Target,
        Before = entry.Before,
        After = entry.After,
        Forced = entry.Forced,
        Succeeded = entry.Succeeded,
        Detail = entry.Detail,
    };

    public static string ToText(LoginOutcome outcome) => outcome switch
    {
        LoginOutcome.Succeeded => "succeeded",
        LoginOutcome.LockedOut => "lockedOut",
        LoginOutcome.TotpRequired => "totpRequired",
        _ => "refused",
    };

    /// <summary>Letters, digits, '-', '_', '.'; 1..64 characters (the model's rule for site names).</summary>
    public static bool IsValidSiteName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    public static bool IsValidInterfaceName(string? name) => Uapi.UapiServer.IsValidInterfaceName(name);

    /// <summary>The interface a request describes, or the problems with it. <paramref name="current"/> is the
    /// interface being replaced (PUT): its private key is kept when the request has none.</summary>
    public static InterfaceConfig? ToModel(InterfaceRequest request, string name, InterfaceConfig? current, List<string> errors)
    {
        WireGuardSecret? privateKey = current?.PrivateKey;
        if (request.PrivateKey is not null)
        {
            if (!WireGuardSecret.TryParseBase64(request.PrivateKey, out privateKey))
            {
                errors.Add("privateKey: not a WireGuard key (44 characters of base64)");
            }
        }

        var addresses = new List<InterfaceAddress>();
        foreach (var (text, i) in (request.Addresses ?? []).Select((t, i) => (t, i)))
        {
            if (InterfaceAddress.TryParse(text, out var address, out var error))
            {
                addresses.Add(address);
            }
            else
            {
                errors.Add($"addresses[{i}]: {error}");
            }
        }

        if (request.Mtu is { } mtu && (mtu < 576 || mtu > 65535))
        {
            errors.Add("mtu: between 576 and 65535, or absent for the default");
        }

        var table = NormalizeTable(request.Table, errors);
        foreach (var (text, i) in (request.Dns ?? []).Select((t, i) => (t, i)))
        {
            if (string.IsNullOrWhiteSpace(text) || text.Length > 253 || text.Any(c => char.IsWhiteSpace(c) || c == ','))
            {
                errors.Add($"dns[{i}]: an address or a search domain, without spaces or commas");
            }
        }

        if (errors.Count > 0)
        {
            return null;
        }

        return new InterfaceConfig
        {
            Name = name,
            PrivateKey = privateKey ?? WireGuardSecret.GeneratePrivateKey(),
            ListenPort = request.ListenPort,
            Addresses = addresses,
            Mtu = request.Mtu,
            FwMark = request.FwMark,
            Table = table,
            Dns = [.. request.Dns ?? []],
        };
    }

    private static string NormalizeTable(string? table, List<string> errors)
    {
        switch (table)
        {
            case null or "auto":
                return "auto";
            case "off":
                return "off";
            case "main":
                return RouteTable.Main.ToString(CultureInfo.InvariantCulture);
            default:
                if (uint.TryParse(table, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
                {
                    return id.ToString(CultureInfo.InvariantCulture);
                }

                errors.Add("table: \"auto\", \"off\", \"main\" or a routing table number");
                return "auto";
        }
    }

    /// <summary>The site a request describes. <paramref name="current"/> is the site being replaced (PUT): its
    /// preshared key is kept unless the request sets or clears it.</summary>
    public static SiteConfig? ToModel(SiteRequest request, string interfaceName, string name, SiteConfig? current, List<string> errors)
    {
        var kind = request.Kind switch
        {
            null => current?.Kind ?? SiteKind.Site,
            SiteKindSite => SiteKind.Site,
            SiteKindRemoteWorker => SiteKind.RemoteWorker,
            _ => (SiteKind?)null,
        };
        if (kind is null)
        {
            errors.Add("kind: \"site\" or \"remoteWorker\"");
        }

        NoisePublicKey? publicKey = null;
        if (request.PublicKey is null)
        {
            errors.Add("publicKey: required");
        }
        else if (!NoisePublicKey.TryParseBase64(request.PublicKey, out publicKey))
        {
            errors.Add("publicKey: not a WireGuard key (44 characters of base64)");
        }

        var presharedKey = request.ClearPresharedKey ? null : current?.PresharedKey;
        if (request.PresharedKey is not null)
        {
            if (request.ClearPresharedKey)
            {
                errors.Add("presharedKey: give a key or clearPresharedKey, not both");
            }
            else if (!WireGuardSecret.TryParseBase64(request.PresharedKey, out presharedKey))
            {
                errors.Add("presharedKey: not a WireGuard key (44 characters of base64)");
            }
        }

        if (request.Endpoint is not null && EndpointError(request.Endpoint) is { } endpointError)
        {
            errors.Add("endpoint: " + endpointError);
        }

        var allowedIps = ParsePrefixes(request.AllowedIps, "allowedIps", errors);
        if (request.Description is { Length: > 256 })
        {
            errors.Add("description: at most 256 characters");
        }

        if (errors.Count > 0 || kind is null || publicKey is null)
        {
            return null;
        }

        return new SiteConfig
        {
            Name = name,
            Interface = interfaceName,
            Kind = kind.Value,
            PublicKey = publicKey,
            PresharedKey = presharedKey,
            Endpoint = request.Endpoint,
            AllowedIps = allowedIps,
            PersistentKeepalive = request.PersistentKeepalive,
            Enabled = request.Enabled ?? current?.Enabled ?? true,
            Description = request.Description,
        };
    }

    public static List<IPPrefix> ParsePrefixes(IReadOnlyList<string>? texts, string field, List<string> errors)
    {
        var prefixes = new List<IPPrefix>();
        foreach (var (text, i) in (texts ?? []).Select((t, i) => (t, i)))
        {
            if (IPPrefix.TryParse(text, out var prefix, out var error))
            {
                prefixes.Add(prefix);
            }
            else
            {
                errors.Add($"{field}[{i}]: {error}");
            }
        }

        return prefixes;
    }

    /// <summary>"host:port" with an IPv4 address, [IPv6] or a DNS name; null when it is one, else why not.</summary>
    public static string? EndpointError(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port == 0)
        {
            return "\"host:port\" with a port from 1 to 65535";
        }

        var host = endpoint.AsSpan(0, colon);
        if (host.StartsWith('['))
        {
            return host.EndsWith(']') && System.Net.IPAddress.TryParse(host[1..^1], out var v6)
                && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? null : "an IPv6 address in brackets, e.g. [2001:db8::1]:51820";
        }

        if (host.Length > 253 || host.ContainsAnyExcept(s_hostCharacters))
        {
            return "the host is not an IPv4 address or a DNS name";
        }

        return null;
    }

    private static readonly System.Buffers.SearchValues<char> s_hostCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");
}
