using System.Runtime.Versioning;
using Branchgate.Appliance.Model;
using static Branchgate.Tests.Appliance.Api.ApiTestHost;

namespace Branchgate.Tests.Appliance.Api;

/// <summary>/v1/users/{user}/totp: a user enrols their own second factor (the secret is shown to them once), confirms
/// it with a code, and disables it with a code; nobody else may.</summary>
[SupportedOSPlatform("linux")]
public sealed class ManagementApiTotpTests
{
    [Fact]
    public async Task A_user_enrols_confirms_and_disables_their_own_second_factor()
    {
        await using var host = await StartAsync(h =>
        {
            h.Store.SaveUser(new UserRecord { Name = "alice", PasswordHash = FakeUserDirectory.HashPrefix + "x" }, null);
            h.Store.SaveUser(new UserRecord { Name = "bob", PasswordHash = FakeUserDirectory.HashPrefix + "y" }, null);
        });

        // Someone else (or nobody) may not see or change alice's factor.
        AssertError(403, await host.PostAsync("/v1/users/alice/totp/begin", "{}", user: "bob"), "only alice");
        AssertError(403, await host.PostAsync("/v1/users/alice/totp/begin", "{}"), "only alice");
        AssertError(404, await host.PostAsync("/v1/users/carol/totp/begin", "{}", user: "carol"), "no such user");

        // Begin is the one answer with a TOTP secret: alice's own, for her app.
        var begin = await host.SendAsync(HttpMethod.Post, "/v1/users/alice/totp/begin", "{}", "alice", mayHoldSecrets: true);
        Assert.Equal(200, begin.Status);
        var enrollment = Json(begin.Body);
        Assert.Equal(FakeUserDirectory.TotpSecret, enrollment.GetProperty("secret").GetString());
        Assert.Equal($"otpauth://totp/Branchgate%3Aalice?secret={FakeUserDirectory.TotpSecret}&issuer=Branchgate&algorithm=SHA1&digits=6&period=30",
            enrollment.GetProperty("otpauthUri").GetString());

        AssertError(400, await host.PostAsync("/v1/users/alice/totp/confirm", """{"code":"000000"}""", user: "alice"), "does not match");
        AssertError(400, await host.PostAsync("/v1/users/alice/totp/confirm", """{"code":"1","x":2}""", user: "alice"), "x: unknown field");
        var confirmed = await host.PostAsync("/v1/users/alice/totp/confirm", """{"code":"123456"}""", user: "alice");
        Assert.Equal(200, confirmed.Status);
        Assert.True(Json(confirmed.Body).GetProperty("hasTotp").GetBoolean());
        Assert.Equal(FakeUserDirectory.TotpSecret, host.Store.FindUser("alice")!.TotpSecret);

        AssertError(409, await host.PostAsync("/v1/users/alice/totp/begin", "{}", user: "alice"), "second factor already");
        AssertError(403, await host.PostAsync("/v1/users/alice/totp/disable", """{"code":"123456"}""", user: "bob"), "only alice");
        var disabled = await host.PostAsync("/v1/users/alice/totp/disable", """{"code":"123456"}""", user: "alice");
        Assert.Equal(200, disabled.Status);
        Assert.False(Json(disabled.Body).GetProperty("hasTotp").GetBoolean());
    }
}
