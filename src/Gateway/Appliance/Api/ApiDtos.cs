namespace Branchgate.Appliance.Api;

// The management API's wire shapes. They are kept apart from the model on purpose: the model holds secrets and
// kernel types, these hold text and presence flags. Requests reject unknown fields (see ApiJsonContext).

/// <summary>Every error answer: a sentence, and the fields or findings involved.</summary>
public sealed record ErrorResponse(string Error)
{
    public IReadOnlyList<string> Details { get; init; } = [];

    /// <summary>The coexistence findings that refused a change (409 only).</summary>
    public IReadOnlyList<FindingDto>? Findings { get; init; }
}

public sealed record InterfaceDto
{
    public required string Name { get; init; }

    public required string PublicKey { get; init; }

    /// <summary>Always true: the private key exists and stays on the gateway.</summary>
    public bool HasPrivateKey { get; init; } = true;

    public ushort ListenPort { get; init; }

    public IReadOnlyList<string> Addresses { get; init; } = [];

    public int? Mtu { get; init; }

    public uint FwMark { get; init; }

    public string Table { get; init; } = "auto";

    public IReadOnlyList<string> Dns { get; init; } = [];

    public int SiteCount { get; init; }
}

public sealed record InterfaceListResponse(IReadOnlyList<InterfaceDto> Interfaces);

/// <summary>POST /v1/interfaces (name required; no private key: one is generated) and PUT (name optional; no private
/// key: the current one is kept).</summary>
public sealed record InterfaceRequest
{
    public string? Name { get; init; }

    public string? PrivateKey { get; init; }

    public ushort ListenPort { get; init; }

    public IReadOnlyList<string>? Addresses { get; init; }

    public int? Mtu { get; init; }

    public uint FwMark { get; init; }

    public string? Table { get; init; }

    public IReadOnlyList<string>? Dns { get; init; }
}

public sealed record SiteDto
{
    public required string Name { get; init; }

    public required string Interface { get; init; }

    /// <summary>"site" or "remoteWorker".</summary>
    public required string Kind { get; init; }

    public required string PublicKey { get; init; }

    public bool HasPresharedKey { get; init; }

    public string? Endpoint { get; init; }

    public IReadOnlyList<string> AllowedIps { get; init; } = [];

    public ushort PersistentKeepalive { get; init; }

    public bool Enabled { get; init; }

    public string? Description { get; init; }
}

public sealed record SiteListResponse(IReadOnlyList<SiteDto> Sites);

/// <summary>POST /v1/interfaces/{name}/sites and PUT .../sites/{site}. On PUT, a missing preshared key keeps the
/// current one; <see cref="ClearPresharedKey"/> removes it.</summary>
public sealed record SiteRequest
{
    public string? Name { get; init; }

    public string? Kind { get; init; }

    public string? PublicKey { get; init; }

    public string? PresharedKey { get; init; }

    public bool ClearPresharedKey { get; init; }

    public string? Endpoint { get; init; }

    public IReadOnlyList<string>? AllowedIps { get; init; }

    public ushort PersistentKeepalive { get; init; }

    public bool? Enabled { get; init; }

    public string? Description { get; init; }
}

/// <summary>POST /v1/interfaces/{name}/remote-workers: the gateway makes the worker's key pair (and a preshared key)
/// and returns the worker's wg-quick file once.</summary>
public sealed record RemoteWorkerRequest
{
    public required string Name { get; init; }

    /// <summary>The worker's tunnel addresses ("10.9.0.5/32"); they become its allowed IPs on the gateway.</summary>
    public required IReadOnlyList<string> Addresses { get; init; }

    /// <summary>"host:port" the worker reaches the gateway at (its public name or address).</summary>
    public required string GatewayEndpoint { get; init; }

    /// <summary>What the worker routes into the tunnel; default: the networks of the interface's addresses.</summary>
    public IReadOnlyList<string>? ClientAllowedIps { get; init; }

    /// <summary>DNS servers for the worker's file; default: the interface's DNS.</summary>
    public IReadOnlyList<string>? Dns { get; init; }

    // Settable, not init: the JSON source generator would overwrite an init-only default with false/0 when the field
    // is absent.
    public ushort PersistentKeepalive { get; set; } = 25;

    public bool PresharedKey { get; set; } = true;

    public string? Description { get; init; }
}

public sealed record RemoteWorkerResponse
{
    public required SiteDto Site { get; init; }

    /// <summary>The worker's wg-quick file, holding the worker's private key: shown once, stored nowhere.</summary>
    public required string WgQuick { get; init; }

    public bool Forced { get; init; }

    public IReadOnlyList<FindingDto> Findings { get; init; } = [];

    /// <summary>An import's notes: keys that were ignored (PostUp, ...), values that were normalized.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>The answer to an applied change: the object as it is now (absent after a delete), whether coexistence
/// errors were overridden, and the warnings it was applied with.</summary>
public sealed record ChangeResponse
{
    public InterfaceDto? Interface { get; init; }

    public SiteDto? Site { get; init; }

    public bool Forced { get; init; }

    public IReadOnlyList<FindingDto> Findings { get; init; } = [];

    /// <summary>An import's notes: keys that were ignored (PostUp, ...), values that were normalized.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>A restore's effect, one line per interface or site added, removed or changed ("site wg0/branch-b
    /// changed: endpoint, allowedIps"); absent for other changes.</summary>
    public IReadOnlyList<string>? Changes { get; init; }
}

public sealed record FindingDto
{
    /// <summary>"warning" or "error".</summary>
    public required string Severity { get; init; }

    public required string Code { get; init; }

    public required string Message { get; init; }

    public IReadOnlyList<string> Objects { get; init; } = [];

    public string? Interface { get; init; }

    public string? Site { get; init; }
}

public sealed record CoexistenceResponse
{
    public IReadOnlyList<FindingDto> Findings { get; init; } = [];

    public IReadOnlyList<string> Unreadable { get; init; } = [];

    public bool HasErrors { get; init; }

    /// <summary>As `branchgate check`: 0 clean, 1 warnings or unreadable, 2 errors.</summary>
    public int ExitStatus { get; init; }
}

public sealed record PeerStatusDto
{
    public required string Name { get; init; }

    public required string PublicKey { get; init; }

    public bool Enabled { get; init; }

    public string? Endpoint { get; init; }

    public string? ConfiguredEndpoint { get; init; }

    public DateTimeOffset? LastHandshake { get; init; }

    public ulong ReceivedBytes { get; init; }

    public ulong TransmittedBytes { get; init; }

    public bool Online { get; init; }

    public long HandshakeFailures { get; init; }

    public IReadOnlyList<string> AllowedIps { get; init; } = [];
}

public sealed record InterfaceStatusDto
{
    public required string Name { get; init; }

    public required string PublicKey { get; init; }

    public ushort ListenPort { get; init; }

    public bool Up { get; init; }

    public IReadOnlyList<string> Addresses { get; init; } = [];

    public IReadOnlyDictionary<string, long> Drops { get; init; } = new Dictionary<string, long>();

    public IReadOnlyList<PeerStatusDto> Peers { get; init; } = [];
}

public sealed record StatusResponse(IReadOnlyList<InterfaceStatusDto> Interfaces);

public sealed record UserDto
{
    public required string Name { get; init; }

    public required string Role { get; init; }

    public bool HasTotp { get; init; }

    public int FailedLogins { get; init; }

    public DateTimeOffset? LockedUntil { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}

public sealed record UserListResponse(IReadOnlyList<UserDto> Users);

public sealed record CreateUserRequest
{
    public required string Name { get; init; }

    public required string Password { get; init; }
}

public sealed record PasswordRequest
{
    public required string Password { get; init; }
}

public sealed record LoginRequest
{
    public required string Name { get; init; }

    public required string Password { get; init; }

    public string? TotpCode { get; init; }
}

public sealed record LoginResponse
{
    /// <summary>"succeeded", "refused", "lockedOut" or "totpRequired".</summary>
    public required string Outcome { get; init; }

    public DateTimeOffset? LockedUntil { get; init; }
}

public sealed record SetupRequest
{
    public required string Token { get; init; }

    public required string Name { get; init; }

    public required string Password { get; init; }
}

public sealed record AuditEntryDto
{
    public long Id { get; init; }

    public DateTimeOffset Time { get; init; }

    public required string Actor { get; init; }

    public required string Action { get; init; }

    public string Target { get; init; } = "";

    public string? Before { get; init; }

    public string? After { get; init; }

    public bool Forced { get; init; }

    public bool Succeeded { get; init; }

    public string? Detail { get; init; }
}

public sealed record AuditResponse
{
    public IReadOnlyList<AuditEntryDto> Entries { get; init; } = [];

    /// <summary>Pass as ?before= for the next (older) page; null when this page is the last.</summary>
    public long? NextBefore { get; init; }
}

/// <summary>POST /v1/users/{user}/totp/begin: the user's own new TOTP secret, shown once for the authenticator app.
/// It becomes the user's second factor only after /totp/confirm with a current code.</summary>
public sealed record TotpEnrollmentResponse
{
    /// <summary>Base32, as authenticator apps accept it typed in.</summary>
    public required string Secret { get; init; }

    /// <summary>otpauth://totp/Branchgate:NAME?secret=...&amp;issuer=Branchgate (what the QR code holds).</summary>
    public required string OtpauthUri { get; init; }

    /// <summary>Confirm before then, or begin again.</summary>
    public DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>POST /v1/users/{user}/totp/confirm and /totp/disable: a current code of the authenticator app.</summary>
public sealed record TotpCodeRequest
{
    public required string Code { get; init; }
}
