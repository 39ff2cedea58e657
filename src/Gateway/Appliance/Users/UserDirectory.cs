using Branchgate.Appliance.Model;
using Branchgate.Appliance.Store;
using OtpNet;

namespace Branchgate.Appliance.Users;

/// <summary>
/// The administrators, kept in the store. Passwords are Argon2id hashes (<see cref="PasswordHasher"/>); after
/// <see cref="MaxFailedLogins"/> consecutive failures an account is locked for <see cref="LockoutDuration"/>, and the
/// counters are stored so a restart does not reset them. The optional second factor is TOTP (RFC 6238: HMAC-SHA1,
/// 30-second steps, 6 digits), one step of clock skew either way, and a code is accepted once only.
/// Locking: one lock around each read-modify-write of a user, so two logins cannot lose a failure count.
/// </summary>
public sealed class UserDirectory : IUserDirectory
{
    public const int MaxFailedLogins = 5;

    public static readonly TimeSpan LockoutDuration = TimeSpan.FromMinutes(15);

    public const int MinPasswordLength = 12;

    /// <summary>Bounds the Argon2id input; no one types more.</summary>
    public const int MaxPasswordLength = 1024;

    public const int MaxNameLength = 64;

    public const int TotpStepSeconds = 30;

    public const int TotpDigits = 6;

    private const int TotpSecretBytes = 20;

    /// <summary>How long a begun TOTP enrolment waits for its confirmation.</summary>
    public static readonly TimeSpan PendingEnrollmentLifetime = TimeSpan.FromMinutes(10);

    public const string PasswordRule = "a password needs at least 12 characters (at most 1024), must not be the user "
        + "name, and must mix at least two kinds of characters (lower case, upper case, digits, others)";

    public const string NameRule = "a user name is 1 to 64 characters: letters, digits, '.', '_', '@' and '-'";

    private readonly IApplianceStore _store;
    private readonly TimeProvider _time;
    private readonly PasswordHasher _hasher;
    private readonly Lock _gate = new();

    // Enrolments begun and not yet confirmed: user name -> (secret, expiry). In memory only: a restart asks to begin again.
    private readonly Dictionary<string, (string Secret, DateTimeOffset Expires)> _pending = new(StringComparer.Ordinal);

    // Verified when the user does not exist, so an unknown name takes as long as a wrong password.
    private readonly Lazy<string> _dummyHash;

    public UserDirectory(IApplianceStore store, TimeProvider time, PasswordHasher? hasher = null)
    {
        _store = store;
        _time = time;
        _hasher = hasher ?? PasswordHasher.Default;
        _dummyHash = new(() => _hasher.Hash("not a password of anyone"));
    }

    public bool HasAnyUser => _store.ListUsers().Count > 0;

    public IReadOnlyList<UserRecord> List() =>
        [.. _store.ListUsers().Select(u => u with { PasswordHash = "", TotpSecret = null })];

    public UserResult Create(string name, string password, string actor)
    {
        if (!IsValidName(name))
        {
            return UserResult.Fail(NameRule);
        }

        if (CheckPassword(name, password) is { } weak)
        {
            return UserResult.Fail(weak);
        }

        lock (_gate)
        {
            if (_store.FindUser(name) is not null)
            {
                return UserResult.Fail($"a user named '{name}' already exists");
            }

            var now = _time.GetUtcNow();
            var user = new UserRecord { Name = name, PasswordHash = _hasher.Hash(password), CreatedAt = now };
            _store.SaveUser(user, Audit(actor, "user.create", name));
            return UserResult.Ok;
        }
    }

    public UserResult Delete(string name, string actor)
    {
        lock (_gate)
        {
            var users = _store.ListUsers();
            if (!users.Any(u => u.Name == name))
            {
                return UserResult.Fail($"there is no user named '{name}'");
            }

            if (users.Count == 1)
            {
                return UserResult.Fail($"'{name}' is the last administrator and cannot be deleted (create another first)");
            }

            return _store.DeleteUser(name, Audit(actor, "user.delete", name))
                ? UserResult.Ok
                : UserResult.Fail($"there is no user named '{name}'");
        }
    }

    public UserResult ResetPassword(string name, string newPassword, string actor)
    {
        if (CheckPassword(name, newPassword) is { } weak)
        {
            return UserResult.Fail(weak);
        }

        lock (_gate)
        {
            if (_store.FindUser(name) is not { } user)
            {
                return UserResult.Fail($"there is no user named '{name}'");
            }

            // A new password also lifts a lockout: the administrator who set it has vouched for the account.
            var updated = user with { PasswordHash = _hasher.Hash(newPassword), FailedLogins = 0, LockedUntil = null };
            _store.SaveUser(updated, Audit(actor, "user.password.reset", name));
            return UserResult.Ok;
        }
    }

    public LoginResult VerifyLogin(string name, string password, string? totpCode = null)
    {
        ArgumentNullException.ThrowIfNull(password);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var user = IsValidName(name) ? _store.FindUser(name) : null;
            if (user is null)
            {
                _ = PasswordHasher.Verify(password, _dummyHash.Value);
                var shown = IsValidName(name) ? name : "(not a valid user name)";
                _store.AppendAudit(Audit(shown, "login.failed", shown, succeeded: false, detail: "unknown user"));
                return new LoginResult(LoginOutcome.Refused);
            }

            var stored = user;
            if (user.LockedUntil is { } until)
            {
                if (until > now)
                {
                    _store.AppendAudit(Audit(user.Name, "login.failed", user.Name, succeeded: false,
                        detail: $"account locked until {until:u}"));
                    return new LoginResult(LoginOutcome.LockedOut, until);
                }

                // The lockout has run out: a fresh start of the failure count.
                user = user with { FailedLogins = 0, LockedUntil = null };
            }

            if (password.Length > MaxPasswordLength || !PasswordHasher.Verify(password, user.PasswordHash))
            {
                return Failure(user, now, "wrong password");
            }

            long? usedStep = null;
            if (user.TotpSecret is { } secret)
            {
                if (string.IsNullOrEmpty(totpCode))
                {
                    return new LoginResult(LoginOutcome.TotpRequired);
                }

                usedStep = MatchTotp(secret, totpCode, now, user.LastTotpStep);
                if (usedStep is null)
                {
                    return Failure(user, now, "wrong or reused second-factor code");
                }
            }

            var updated = user with { FailedLogins = 0, LockedUntil = null, LastTotpStep = usedStep ?? user.LastTotpStep };
            if (updated != stored)
            {
                _store.SaveUser(updated, null);
            }

            return new LoginResult(LoginOutcome.Succeeded);
        }
    }

    public string? EnrollTotp(string name, string actor)
    {
        lock (_gate)
        {
            if (_store.FindUser(name) is not { } user)
            {
                return null;
            }

            var secret = Base32Encoding.ToString(KeyGeneration.GenerateRandomKey(TotpSecretBytes));
            _store.SaveUser(user with { TotpSecret = secret, LastTotpStep = null }, Audit(actor, "user.totp.enroll", name));
            return secret;
        }
    }

    public UserResult RemoveTotp(string name, string actor)
    {
        lock (_gate)
        {
            if (_store.FindUser(name) is not { } user)
            {
                return UserResult.Fail($"there is no user named '{name}'");
            }

            if (user.TotpSecret is null)
            {
                return UserResult.Fail($"'{name}' has no second factor");
            }

            _store.SaveUser(user with { TotpSecret = null, LastTotpStep = null }, Audit(actor, "user.totp.remove", name));
            return UserResult.Ok;
        }
    }

    public string? BeginTotpEnrollment(string name)
    {
        lock (_gate)
        {
            if (_store.FindUser(name) is not { TotpSecret: null })
            {
                return null;
            }

            var secret = Base32Encoding.ToString(KeyGeneration.GenerateRandomKey(TotpSecretBytes));
            _pending[name] = (secret, _time.GetUtcNow() + PendingEnrollmentLifetime);
            return secret;
        }
    }

    public UserResult ConfirmTotpEnrollment(string name, string code, string actor)
    {
        ArgumentNullException.ThrowIfNull(code);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_store.FindUser(name) is not { } user)
            {
                return UserResult.Fail($"there is no user named '{name}'");
            }

            if (!_pending.TryGetValue(name, out var pending) || pending.Expires <= now)
            {
                _pending.Remove(name);
                return UserResult.Fail("no enrolment is waiting for a code (begin again)");
            }

            if (MatchTotp(pending.Secret, code, now, null) is not { } step)
            {
                _store.AppendAudit(Audit(actor, "user.totp.enroll", name, succeeded: false, detail: "wrong code"));
                return UserResult.Fail("the code does not match: check the authenticator app's clock and type the current code");
            }

            _pending.Remove(name);
            _store.SaveUser(user with { TotpSecret = pending.Secret, LastTotpStep = step }, Audit(actor, "user.totp.enroll", name));
            return UserResult.Ok;
        }
    }

    public UserResult DisableTotp(string name, string code, string actor)
    {
        ArgumentNullException.ThrowIfNull(code);
        lock (_gate)
        {
            if (_store.FindUser(name) is not { } user)
            {
                return UserResult.Fail($"there is no user named '{name}'");
            }

            if (user.TotpSecret is not { } secret)
            {
                return UserResult.Fail($"'{name}' has no second factor");
            }

            if (MatchTotp(secret, code, _time.GetUtcNow(), user.LastTotpStep) is null)
            {
                _store.AppendAudit(Audit(actor, "user.totp.remove", name, succeeded: false, detail: "wrong or reused code"));
                return UserResult.Fail("the code does not match (or was used already): type the current code");
            }

            _store.SaveUser(user with { TotpSecret = null, LastTotpStep = null }, Audit(actor, "user.totp.remove", name));
            return UserResult.Ok;
        }
    }

    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxNameLength
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '@' or '-');

    /// <summary>Null when <paramref name="password"/> is acceptable for <paramref name="name"/>, else the rule.</summary>
    public static string? CheckPassword(string name, string? password)
    {
        if (password is null || password.Length < MinPasswordLength || password.Length > MaxPasswordLength
            || string.Equals(password, name, StringComparison.OrdinalIgnoreCase))
        {
            return PasswordRule;
        }

        var kinds = (password.Any(char.IsLower) ? 1 : 0) + (password.Any(char.IsUpper) ? 1 : 0)
            + (password.Any(char.IsDigit) ? 1 : 0) + (password.Any(c => !char.IsLetterOrDigit(c)) ? 1 : 0);
        return kinds >= 2 ? null : PasswordRule;
    }

    /// <summary>
    /// The time step the code belongs to (now, one before or one after), or null when it matches none or its step is
    /// not later than the last one accepted (a replay, or an older code seen after a newer one).
    /// </summary>
    private static long? MatchTotp(string secret, string code, DateTimeOffset now, long? lastStep)
    {
        if (code.Length != TotpDigits || !code.All(char.IsAsciiDigit))
        {
            return null;
        }

        byte[] key;
        try
        {
            key = Base32Encoding.ToBytes(secret);
        }
        catch (ArgumentException)
        {
            return null;
        }

        var totp = new Totp(key, TotpStepSeconds, OtpHashMode.Sha1, TotpDigits);
        if (!totp.VerifyTotp(now.UtcDateTime, code, out var step, new VerificationWindow(previous: 1, future: 1)))
        {
            return null;
        }

        return lastStep is { } last && step <= last ? null : step;
    }

    private LoginResult Failure(UserRecord user, DateTimeOffset now, string why)
    {
        var failures = user.FailedLogins + 1;
        if (failures >= MaxFailedLogins)
        {
            var until = now + LockoutDuration;
            _store.SaveUser(user with { FailedLogins = failures, LockedUntil = until },
                Audit(user.Name, "user.lockout", user.Name, succeeded: false,
                    detail: $"{failures} failed logins in a row ({why}); locked until {until:u}"));
            return new LoginResult(LoginOutcome.LockedOut, until);
        }

        _store.SaveUser(user with { FailedLogins = failures },
            Audit(user.Name, "login.failed", user.Name, succeeded: false, detail: $"{why} ({failures} in a row)"));
        return new LoginResult(LoginOutcome.Refused);
    }

    private AuditEntry Audit(string actor, string action, string target, bool succeeded = true, string? detail = null) => new()
    {
        Time = _time.GetUtcNow(),
        Actor = actor,
        Action = action,
        Target = target,
        Succeeded = succeeded,
        Detail = detail,
    };
}
