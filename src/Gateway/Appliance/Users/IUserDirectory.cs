using Branchgate.Appliance.Model;

namespace Branchgate.Appliance.Users;

/// <summary>The outcome of a user operation: <see cref="Error"/> is a sentence for the administrator when it failed.</summary>
public sealed record UserResult(bool Succeeded, string? Error = null)
{
    public static readonly UserResult Ok = new(true);

    public static UserResult Fail(string error) => new(false, error);
}

public enum LoginOutcome
{
    Succeeded,

    /// <summary>Unknown user or wrong password (the two are not distinguished to the caller).</summary>
    Refused,

    /// <summary>Too many failures: refused until <see cref="LoginResult.LockedUntil"/>, even with the right password.</summary>
    LockedOut,

    /// <summary>The password was right and the user has a second factor: ask for the TOTP code.</summary>
    TotpRequired,
}

public sealed record LoginResult(LoginOutcome Outcome, DateTimeOffset? LockedUntil = null)
{
    public bool Succeeded => Outcome == LoginOutcome.Succeeded;
}

/// <summary>
/// Administrators: Argon2id password hashes (NSec), password rules, lockout after repeated failures, optional TOTP
/// second factor. Every change and every failed login is written to the audit log. Implemented over the store.
/// </summary>
public interface IUserDirectory
{
    bool HasAnyUser { get; }

    /// <summary>The users without their secrets (PasswordHash and TotpSecret blanked).</summary>
    IReadOnlyList<UserRecord> List();

    /// <summary>Refuses a weak password (say why), a bad or duplicate name.</summary>
    UserResult Create(string name, string password, string actor);

    UserResult Delete(string name, string actor);

    UserResult ResetPassword(string name, string newPassword, string actor);

    /// <summary>Checks the password (and <paramref name="totpCode"/> when the user has a second factor); counts
    /// failures and locks the account after too many.</summary>
    LoginResult VerifyLogin(string name, string password, string? totpCode = null);

    /// <summary>Enrolls a new TOTP secret and returns it (base32) once, for the QR code; the caller shows it only to
    /// that user. Null when the user does not exist.</summary>
    string? EnrollTotp(string name, string actor);

    UserResult RemoveTotp(string name, string actor);

    /// <summary>
    /// Starts the user's own enrolment: a new TOTP secret (base32) kept aside, not yet in force, for
    /// <see cref="UserDirectory.PendingEnrollmentLifetime"/>; a second call replaces it. Null when the user does not exist
    /// or already has a second factor (disable it first).
    /// </summary>
    string? BeginTotpEnrollment(string name);

    /// <summary>Makes the pending secret the user's second factor when <paramref name="code"/> is a current code of
    /// it (and marks that code as used).</summary>
    UserResult ConfirmTotpEnrollment(string name, string code, string actor);

    /// <summary>Removes the user's second factor when <paramref name="code"/> is a current, unused code of it.</summary>
    UserResult DisableTotp(string name, string code, string actor);
}
