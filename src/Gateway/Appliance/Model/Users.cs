namespace Branchgate.Appliance.Model;

/// <summary>An administrator of the appliance. The password is kept only as an Argon2id hash (PHC string form).</summary>
public sealed record UserRecord
{
    /// <summary>Login name; letters, digits, '-', '_', '.', '@', 1..64 characters; unique.</summary>
    public required string Name { get; init; }

    /// <summary>"$argon2id$v=19$m=...,t=...,p=1$SALT$HASH" (see <c>PasswordHasher</c>).</summary>
    public required string PasswordHash { get; init; }

    /// <summary>Base32 TOTP secret when a second factor is enrolled (a secret: never logged or returned).</summary>
    public string? TotpSecret { get; init; }

    public string Role { get; init; } = "admin";

    /// <summary>Consecutive failed logins since the last success.</summary>
    public int FailedLogins { get; init; }

    /// <summary>Login refused until then (after too many failures).</summary>
    public DateTimeOffset? LockedUntil { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The TOTP time step (Unix time / 30 s) of the last code accepted, so that a code cannot be used twice;
    /// null when none was used yet.</summary>
    public long? LastTotpStep { get; init; }

    public override string ToString() => $"user {Name} ({Role})";
}

/// <summary>
/// One line of the append-only audit log: who changed what, when, and the state before and after (as JSON text with
/// every secret removed).
/// </summary>
public sealed record AuditEntry
{
    /// <summary>Assigned by the store (increasing); 0 before it is stored.</summary>
    public long Id { get; init; }

    public required DateTimeOffset Time { get; init; }

    /// <summary>The user name, "system" (the reconciler, DNS re-resolve), "cli" or "setup".</summary>
    public required string Actor { get; init; }

    /// <summary>A short verb: "site.create", "site.update", "site.delete", "interface.create", "user.create",
    /// "login.failed", "restore", "force" ...</summary>
    public required string Action { get; init; }

    /// <summary>What it was done to ("wg0/branch-b", a user name).</summary>
    public string Target { get; init; } = "";

    public string? Before { get; init; }

    public string? After { get; init; }

    /// <summary>True when coexistence errors were overridden.</summary>
    public bool Forced { get; init; }

    public bool Succeeded { get; init; } = true;

    /// <summary>Why it failed, or the warnings it was applied with.</summary>
    public string? Detail { get; init; }
}
