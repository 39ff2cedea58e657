using System.Runtime.Versioning;
using System.Text;
using Branchgate.Appliance.Store;
using Branchgate.Appliance.Users;
using Branchgate.Tests.Appliance.Store;
using Microsoft.Extensions.Time.Testing;
using OtpNet;

namespace Branchgate.Tests.Appliance.Users;

[UnsupportedOSPlatform("windows")]
public sealed class UserDirectoryTests : IDisposable
{
    private const string Password = "Correct-Horse-7";

    // RFC 6238 appendix B: the SHA-1 key is the ASCII text "12345678901234567890".
    private static readonly string RfcSecret = Base32Encoding.ToString(Encoding.ASCII.GetBytes("12345678901234567890"));

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
    private readonly PasswordHasher _fastHasher = new(1024, 1);
    private ApplianceStore _store;
    private UserDirectory _users;

    public UserDirectoryTests()
    {
        _store = ApplianceStore.Open(_dir.File("branchgate.db"));
        _users = new UserDirectory(_store, _time, _fastHasher);
    }

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void Create_list_reset_and_delete_are_audited_and_list_blanks_secrets()
    {
        Assert.False(_users.HasAnyUser);
        Assert.True(_users.Create("admin", Password, "setup").Succeeded);
        Assert.True(_users.Create("ops@branch.example", "another-Password-1", "admin").Succeeded);
        Assert.NotNull(_users.EnrollTotp("admin", "admin"));
        Assert.True(_users.HasAnyUser);

        var listed = _users.List();
        Assert.Equal(["admin", "ops@branch.example"], listed.Select(u => u.Name).Order());
        Assert.All(listed, u => Assert.Equal("", u.PasswordHash));
        Assert.All(listed, u => Assert.Null(u.TotpSecret));
        Assert.Equal(_time.GetUtcNow(), listed[0].CreatedAt);
        Assert.StartsWith("$argon2id$", _store.FindUser("admin")!.PasswordHash, StringComparison.Ordinal);

        Assert.True(_users.ResetPassword("ops@branch.example", "a-New-password-2", "admin").Succeeded);
        Assert.Equal(LoginOutcome.Succeeded, _users.VerifyLogin("ops@branch.example", "a-New-password-2").Outcome);
        Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("ops@branch.example", "another-Password-1").Outcome);
        Assert.True(_users.Delete("ops@branch.example", "admin").Succeeded);
        Assert.Equal("admin", Assert.Single(_users.List()).Name);

        var actions = _store.ReadAudit().Reverse().Select(a => (a.Actor, a.Action, a.Target)).ToList();
        Assert.Equal(
        [
            ("setup", "user.create", "admin"),
            ("admin", "user.create", "ops@branch.example"),
            ("admin", "user.totp.enroll", "admin"),
            ("admin", "user.password.reset", "ops@branch.example"),
            ("ops@branch.example", "login.failed", "ops@branch.example"),
            ("admin", "user.delete", "ops@branch.example"),
        ], actions);
        AssertNoSecretInAudit(Password, "another-Password-1", "a-New-password-2");
    }

    [Theory]
    [InlineData("admin", "short-1A", "at least 12 characters")]
    [InlineData("administrator1", "Administrator1", "must not be the user name")]
    [InlineData("admin", "aaaaaaaaaaaaaaaa", "two kinds of characters")]
    [InlineData("admin", "1234567890123", "two kinds of characters")]
    [InlineData("admin", "ABCDEFGHIJKLMN", "two kinds of characters")]
    public void Weak_passwords_are_refused_with_the_rule(string name, string password, string rule)
    {
        var result = _users.Create(name, password, "setup");
        Assert.False(result.Succeeded);
        Assert.Contains(rule, result.Error, StringComparison.Ordinal);
        Assert.False(_users.HasAnyUser);
        Assert.Empty(_store.ReadAudit());
    }

    [Theory]
    [InlineData("")]
    [InlineData("two words")]
    [InlineData("ümlaut")]
    [InlineData("semi;colon")]
    [InlineData("a/b")]
    public void Bad_names_are_refused(string name)
    {
        var result = _users.Create(name, Password, "setup");
        Assert.False(result.Succeeded);
        Assert.Equal(UserDirectory.NameRule, result.Error);
        Assert.False(_users.Create(new string('a', 65), Password, "setup").Succeeded);
        Assert.True(_users.Create(new string('a', 64), Password, "setup").Succeeded);
        Assert.True(_users.Create("A.b_c@d-e.9", Password, "setup").Succeeded);
    }

    [Fact]
    public void Duplicates_unknown_users_and_the_last_administrator_are_refused()
    {
        Assert.True(_users.Create("admin", Password, "setup").Succeeded);
        Assert.Contains("already exists", _users.Create("admin", Password, "setup").Error, StringComparison.Ordinal);
        Assert.Contains("no user", _users.Delete("nobody", "admin").Error, StringComparison.Ordinal);
        Assert.Contains("no user", _users.ResetPassword("nobody", Password, "admin").Error, StringComparison.Ordinal);
        Assert.Contains("last administrator", _users.Delete("admin", "admin").Error, StringComparison.Ordinal);
        Assert.Null(_users.EnrollTotp("nobody", "admin"));
        Assert.False(_users.RemoveTotp("admin", "admin").Succeeded);
        Assert.Single(_users.List());
    }

    [Fact]
    public void Five_failures_lock_the_account_for_fifteen_minutes_and_the_counters_survive_a_restart()
    {
        Assert.True(_users.Create("admin", Password, "setup").Succeeded);
        for (var i = 1; i <= 4; i++)
        {
            Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("admin", "Guess-number-" + i).Outcome);
            Assert.Equal(i, _store.FindUser("admin")!.FailedLogins);
        }

        _time.Advance(TimeSpan.FromMinutes(1));
        var locked = _users.VerifyLogin("admin", "Guess-number-5");
        Assert.Equal(LoginOutcome.LockedOut, locked.Outcome);
        var until = _time.GetUtcNow() + TimeSpan.FromMinutes(15);
        Assert.Equal(until, locked.LockedUntil);
        Assert.Equal(LoginOutcome.LockedOut, _users.VerifyLogin("admin", Password).Outcome);

        // A restart (a new store and directory over the same file) keeps the lock.
        Restart();
        _time.Advance(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(1));
        var stillLocked = _users.VerifyLogin("admin", Password);
        Assert.Equal(LoginOutcome.LockedOut, stillLocked.Outcome);
        Assert.Equal(until, stillLocked.LockedUntil);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(LoginOutcome.Succeeded, _users.VerifyLogin("admin", Password).Outcome);
        var user = _store.FindUser("admin")!;
        Assert.Equal(0, user.FailedLogins);
        Assert.Null(user.LockedUntil);

        var audit = _store.ReadAudit().Reverse().Select(a => a.Action).ToList();
        Assert.Equal(["user.create", "login.failed", "login.failed", "login.failed", "login.failed", "user.lockout", "login.failed", "login.failed"], audit);
        Assert.All(_store.ReadAudit().Where(a => a.Action != "user.create"), a => Assert.False(a.Succeeded));
        AssertNoSecretInAudit(Password, "Guess-number");
    }

    [Fact]
    public void A_success_resets_the_count_and_an_expired_lock_starts_a_fresh_count()
    {
        Assert.True(_users.Create("admin", Password, "setup").Succeeded);
        for (var i = 0; i < 4; i++)
        {
            _users.VerifyLogin("admin", "nope");
        }

        Assert.True(_users.VerifyLogin("admin", Password).Succeeded);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("admin", "nope").Outcome);
        }

        Assert.Equal(LoginOutcome.LockedOut, _users.VerifyLogin("admin", "nope").Outcome);
        _time.Advance(UserDirectory.LockoutDuration);
        Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("admin", "nope").Outcome);
        Assert.Equal(1, _store.FindUser("admin")!.FailedLogins);

        // A password reset by another administrator lifts a lock.
        for (var i = 0; i < 4; i++)
        {
            _users.VerifyLogin("admin", "nope");
        }

        Assert.Equal(LoginOutcome.LockedOut, _users.VerifyLogin("admin", Password).Outcome);
        Assert.True(_users.ResetPassword("admin", "Fresh-password-9", "root").Succeeded);
        Assert.True(_users.VerifyLogin("admin", "Fresh-password-9").Succeeded);
    }

    [Fact]
    public void An_unknown_user_is_refused_like_a_wrong_password_and_audited()
    {
        Assert.True(_users.Create("admin", Password, "setup").Succeeded);
        Assert.Equal(new LoginResult(LoginOutcome.Refused), _users.VerifyLogin("mallory", Password));
        Assert.Equal(new LoginResult(LoginOutcome.Refused), _users.VerifyLogin("admin", Password + "x"));
        Assert.Equal(new LoginResult(LoginOutcome.Refused), _users.VerifyLogin("'; drop table users; --", Password));
        var audit = _store.ReadAudit(take: 3);
        Assert.Equal("(not a valid user name)", audit[0].Target);
        Assert.Equal("admin", audit[1].Target);
        Assert.Equal("mallory", audit[2].Target);
        Assert.Contains("unknown user", audit[2].Detail, StringComparison.Ordinal);
    }

    [Theory]
    // RFC 6238 appendix B, SHA-1, the last six of the eight digits.
    [InlineData(59L, "287082")]
    [InlineData(1111111109L, "081804")]
    [InlineData(1111111111L, "050471")]
    [InlineData(1234567890L, "005924")]
    [InlineData(2000000000L, "279037")]
    public void The_second_factor_accepts_the_RFC_6238_codes(long unixSeconds, string code)
    {
        CreateWithSecret(RfcSecret);
        _time.AdjustTime(DateTimeOffset.FromUnixTimeSeconds(unixSeconds));
        Assert.Equal(LoginOutcome.TotpRequired, _users.VerifyLogin("admin", Password).Outcome);
        Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("admin", "wrong password", code).Outcome);
        Assert.Equal(LoginOutcome.Succeeded, _users.VerifyLogin("admin", Password, code).Outcome);
    }

    [Fact]
    public void A_code_is_accepted_once_within_one_step_of_skew_and_never_again()
    {
        CreateWithSecret(RfcSecret);
        var totp = new Totp(Encoding.ASCII.GetBytes("12345678901234567890"));
        var t0 = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000); // a step boundary (divisible by 30)
        string Code(int steps) => totp.ComputeTotp(t0.AddSeconds(30 * steps).UtcDateTime);

        _time.AdjustTime(t0.AddSeconds(10));
        Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("admin", Password, Code(-2)).Outcome);
        Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("admin", Password, Code(2)).Outcome);
        Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("admin", Password, "12345").Outcome);
        Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("admin", Password, "abcdef").Outcome);
        Assert.Equal(LoginOutcome.Succeeded, _users.VerifyLogin("admin", Password, Code(-1)).Outcome);
        Assert.Equal(LoginOutcome.Succeeded, _users.VerifyLogin("admin", Password, Code(0)).Outcome);

        // Replays: the same code, or an older one after a newer was used.
        Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("admin", Password, Code(0)).Outcome);
        Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("admin", Password, Code(-1)).Outcome);
        Assert.Equal(LoginOutcome.Succeeded, _users.VerifyLogin("admin", Password, Code(1)).Outcome);

        // The replay guard is in the store: a restart does not reopen the window.
        Restart();
        Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("admin", Password, Code(1)).Outcome);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(LoginOutcome.Succeeded, _users.VerifyLogin("admin", Password, Code(2)).Outcome);
        Assert.Equal(t0.AddSeconds(60).ToUnixTimeSeconds() / 30, _store.FindUser("admin")!.LastTotpStep);
    }

    [Fact]
    public void Enrolling_then_removing_the_second_factor()
    {
        Assert.True(_users.Create("admin", Password, "setup").Succeeded);
        var secret = _users.EnrollTotp("admin", "admin");
        Assert.NotNull(secret);
        Assert.Equal(32, secret.Length);
        Assert.Equal(LoginOutcome.TotpRequired, _users.VerifyLogin("admin", Password).Outcome);
        var code = new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(_time.GetUtcNow().UtcDateTime);
        Assert.Equal(LoginOutcome.Succeeded, _users.VerifyLogin("admin", Password, code).Outcome);
        Assert.True(_users.RemoveTotp("admin", "admin").Succeeded);
        Assert.Equal(LoginOutcome.Succeeded, _users.VerifyLogin("admin", Password).Outcome);
        AssertNoSecretInAudit(secret, Password);
    }

    [Fact]
    public void A_begun_enrolment_is_in_force_only_after_a_right_code_and_is_disabled_with_a_code()
    {
        Assert.True(_users.Create("admin", Password, "setup").Succeeded);
        var secret = _users.BeginTotpEnrollment("admin");
        Assert.NotNull(secret);
        var totp = new Totp(Base32Encoding.ToBytes(secret));
        string Code(int steps) => totp.ComputeTotp(_time.GetUtcNow().AddSeconds(30 * steps).UtcDateTime);

        // Not yet in force: the password alone still signs in.
        Assert.Equal(LoginOutcome.Succeeded, _users.VerifyLogin("admin", Password).Outcome);
        Assert.Null(_store.FindUser("admin")!.TotpSecret);
        Assert.False(_users.ConfirmTotpEnrollment("admin", Code(3), "admin").Succeeded);
        Assert.False(_users.ConfirmTotpEnrollment("nobody", Code(0), "admin").Succeeded);
        Assert.True(_users.ConfirmTotpEnrollment("admin", Code(0), "admin").Succeeded);
        Assert.Null(_users.BeginTotpEnrollment("admin"));

        // In force; the confirming code cannot sign in again (replay), the next one can.
        Assert.Equal(LoginOutcome.TotpRequired, _users.VerifyLogin("admin", Password).Outcome);
        Assert.Equal(LoginOutcome.Refused, _users.VerifyLogin("admin", Password, Code(0)).Outcome);
        Assert.Equal(LoginOutcome.Succeeded, _users.VerifyLogin("admin", Password, Code(1)).Outcome);

        _time.Advance(TimeSpan.FromSeconds(90));
        Assert.False(_users.DisableTotp("admin", "000000", "admin").Succeeded);
        Assert.True(_users.DisableTotp("admin", Code(0), "admin").Succeeded);
        Assert.Equal(LoginOutcome.Succeeded, _users.VerifyLogin("admin", Password).Outcome);
        AssertNoSecretInAudit(secret, Password);
        Assert.Contains(_store.ReadAudit(), a => a is { Action: "user.totp.enroll", Succeeded: true });
        Assert.Contains(_store.ReadAudit(), a => a is { Action: "user.totp.remove", Succeeded: true });
    }

    [Fact]
    public void A_begun_enrolment_expires()
    {
        Assert.True(_users.Create("admin", Password, "setup").Succeeded);
        var secret = _users.BeginTotpEnrollment("admin")!;
        _time.Advance(UserDirectory.PendingEnrollmentLifetime + TimeSpan.FromSeconds(1));
        var code = new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(_time.GetUtcNow().UtcDateTime);
        var result = _users.ConfirmTotpEnrollment("admin", code, "admin");
        Assert.False(result.Succeeded);
        Assert.Contains("begin again", result.Error, StringComparison.Ordinal);
    }

    private void CreateWithSecret(string secret)
    {
        Assert.True(_users.Create("admin", Password, "setup").Succeeded);
        _store.SaveUser(_store.FindUser("admin")! with { TotpSecret = secret }, null);
    }

    private void Restart()
    {
        _store.Dispose();
        _store = ApplianceStore.Open(_dir.File("branchgate.db"));
        _users = new UserDirectory(_store, _time, _fastHasher);
    }

    private void AssertNoSecretInAudit(params string[] secrets)
    {
        foreach (var entry in _store.ReadAudit(take: 1000))
        {
            var text = string.Join("|", entry.Actor, entry.Action, entry.Target, entry.Before, entry.After, entry.Detail);
            Assert.DoesNotContain("argon2", text, StringComparison.Ordinal);
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            }
        }
    }
}
