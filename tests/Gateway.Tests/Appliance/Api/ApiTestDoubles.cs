using System.Text;
using Branchgate.Appliance;
using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Model;
using Branchgate.Appliance.Store;
using Branchgate.Appliance.Users;

namespace Branchgate.Tests.Appliance.Api;

// Test-only stand-ins for the appliance runtime, the store and the user directory: they keep state in memory and
// record what the API asked of them, so the HTTP layer is tested on its own (the real end to end comes with `serve`).

internal sealed record RecordedChange(string Action, string Target, ChangeOptions Options);

internal sealed class FakeApplianceService(FakeStore store) : IApplianceService
{
    private readonly Lock _lock = new();

    public ApplianceConfig Current { get; set; } = ApplianceConfig.Empty;

    public IApplianceStore Store => store;

    /// <summary>What the next changes are checked against (errors refuse unless forced).</summary>
    public CoexistenceReport NextCheck { get; set; } = CoexistenceReport.Clean;

    public IReadOnlyList<string> NextValidationErrors { get; set; } = [];

    public string? NextFailure { get; set; }

    public IReadOnlyList<InterfaceStatus> StatusToReport { get; set; } = [];

    public List<RecordedChange> Changes { get; } = [];

    public Task<ChangeResult> ChangeAsync(string action, string target, Func<ApplianceConfig, ApplianceConfig> change,
        ChangeOptions options, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            Changes.Add(new RecordedChange(action, target, options));
            var proposed = change(Current);
            if (NextValidationErrors.Count > 0)
            {
                return Task.FromResult(new ChangeResult { Applied = false, ValidationErrors = NextValidationErrors });
            }

            if (NextCheck.HasErrors && !options.Force)
            {
                return Task.FromResult(new ChangeResult { Applied = false, Check = NextCheck, Failure = "coexistence errors" });
            }

            if (NextFailure is not null)
            {
                return Task.FromResult(new ChangeResult { Applied = false, Check = NextCheck, Failure = NextFailure });
            }

            Current = proposed;
            store.AppendAudit(new AuditEntry
            {
                Time = DateTimeOffset.UnixEpoch,
                Actor = options.Actor,
                Action = action,
                Target = target,
                Forced = options.Force && NextCheck.HasErrors,
            });
            return Task.FromResult(new ChangeResult { Applied = true, Check = NextCheck, Config = proposed });
        }
    }

    public CoexistenceReport Check(ApplianceConfig? proposed = null) => NextCheck;

    public IReadOnlyList<InterfaceStatus> Status() => StatusToReport;
}

internal sealed class FakeStore : IApplianceStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, UserRecord> _users = new(StringComparer.Ordinal);
    private readonly List<AuditEntry> _audit = [];

    public string Path { get; init; } = "/nonexistent/branchgate.db";

    public ApplianceConfig Config { get; set; } = ApplianceConfig.Empty;

    /// <summary>What Backup writes: stands for the store file with its keys.</summary>
    public byte[] BackupBytes { get; set; } = Encoding.ASCII.GetBytes("LiteDB backup bytes");

    public ApplianceConfig LoadConfig() => Config;

    public void Commit(ApplianceConfig config, AuditEntry audit)
    {
        Config = config;
        AppendAudit(audit);
    }

    public AuditEntry AppendAudit(AuditEntry entry)
    {
        lock (_lock)
        {
            var stored = entry with { Id = _audit.Count + 1 };
            _audit.Add(stored);
            return stored;
        }
    }

    public IReadOnlyList<AuditEntry> ReadAudit(long? beforeId = null, int take = 100)
    {
        lock (_lock)
        {
            return [.. _audit.Where(e => beforeId is null || e.Id < beforeId).OrderByDescending(e => e.Id).Take(take)];
        }
    }

    public IReadOnlyList<UserRecord> ListUsers()
    {
        lock (_lock)
        {
            return [.. _users.Values.OrderBy(u => u.Name, StringComparer.Ordinal)];
        }
    }

    public UserRecord? FindUser(string name)
    {
        lock (_lock)
        {
            return _users.GetValueOrDefault(name);
        }
    }

    public void SaveUser(UserRecord user, AuditEntry? audit)
    {
        lock (_lock)
        {
            _users[user.Name] = user;
        }

        if (audit is not null)
        {
            AppendAudit(audit);
        }
    }

    public bool DeleteUser(string name, AuditEntry audit)
    {
        bool removed;
        lock (_lock)
        {
            removed = _users.Remove(name);
        }

        AppendAudit(audit);
        return removed;
    }

    public void Backup(Stream destination) => destination.Write(BackupBytes);

    public void Dispose()
    {
    }
}

/// <summary>Passwords "hashed" by a visible prefix, so a test can look for the hash in every answer.</summary>
internal sealed class FakeUserDirectory(FakeStore store) : IUserDirectory
{
    public const string HashPrefix = "$argon2id$FAKEHASH$";
    public const string TotpSecret = "JBSWY3DPEHPK3PXPTOTPSECRET";

    public bool HasAnyUser => store.ListUsers().Count > 0;

    public IReadOnlyList<UserRecord> List() => [.. store.ListUsers().Select(u => u with { PasswordHash = "", TotpSecret = null })];

    public UserResult Create(string name, string password, string actor)
    {
        if (password.Length < 12)
        {
            return UserResult.Fail("the password needs at least 12 characters");
        }

        store.SaveUser(new UserRecord { Name = name, PasswordHash = HashPrefix + password, CreatedAt = DateTimeOffset.UnixEpoch },
            Audit(actor, "user.create", name));
        return UserResult.Ok;
    }

    public UserResult Delete(string name, string actor) =>
        store.DeleteUser(name, Audit(actor, "user.delete", name)) ? UserResult.Ok : UserResult.Fail("no such user");

    public UserResult ResetPassword(string name, string newPassword, string actor)
    {
        if (store.FindUser(name) is not { } user)
        {
            return UserResult.Fail("no such user");
        }

        if (newPassword.Length < 12)
        {
            return UserResult.Fail("the password needs at least 12 characters");
        }

        store.SaveUser(user with { PasswordHash = HashPrefix + newPassword }, Audit(actor, "user.password", name));
        return UserResult.Ok;
    }

    public LoginResult VerifyLogin(string name, string password, string? totpCode = null)
    {
        if (store.FindUser(name) is not { } user || user.PasswordHash != HashPrefix + password)
        {
            return new LoginResult(LoginOutcome.Refused);
        }

        return user.TotpSecret is not null && totpCode != "123456"
            ? new LoginResult(LoginOutcome.TotpRequired)
            : new LoginResult(LoginOutcome.Succeeded);
    }

    public string? EnrollTotp(string name, string actor)
    {
        if (store.FindUser(name) is not { } user)
        {
            return null;
        }

        store.SaveUser(user with { TotpSecret = TotpSecret }, Audit(actor, "user.totp", name));
        return TotpSecret;
    }

    public UserResult RemoveTotp(string name, string actor) => UserResult.Ok;

    public string? BeginTotpEnrollment(string name) => store.FindUser(name) is { TotpSecret: null } ? TotpSecret : null;

    public UserResult ConfirmTotpEnrollment(string name, string code, string actor)
    {
        if (store.FindUser(name) is not { } user || code != "123456")
        {
            return UserResult.Fail("the code does not match");
        }

        store.SaveUser(user with { TotpSecret = TotpSecret }, Audit(actor, "user.totp.enroll", name));
        return UserResult.Ok;
    }

    public UserResult DisableTotp(string name, string code, string actor)
    {
        if (store.FindUser(name) is not { TotpSecret: not null } user || code != "123456")
        {
            return UserResult.Fail("the code does not match");
        }

        store.SaveUser(user with { TotpSecret = null }, Audit(actor, "user.totp.remove", name));
        return UserResult.Ok;
    }

    private static AuditEntry Audit(string actor, string action, string target) =>
        new() { Time = DateTimeOffset.UnixEpoch, Actor = actor, Action = action, Target = target };
}
