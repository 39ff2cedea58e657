using System.Runtime.Versioning;
using Branchgate.Appliance.Api;
using Microsoft.Extensions.Logging.Abstractions;
using static Branchgate.Tests.Appliance.Api.ApiTestHost;

namespace Branchgate.Tests.Appliance.Api;

/// <summary>The first administrator: only with the token logged and written at start, once.</summary>
[SupportedOSPlatform("linux")]
public sealed class SetupTokenTests
{
    [Fact]
    public async Task The_token_is_written_0600_and_logged_a_wrong_one_is_refused_the_right_one_works_once()
    {
        await using var host = await StartAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(host.SetupTokenPath));
        var token = File.ReadAllText(host.SetupTokenPath).Trim();
        host.AddSecret(token);
        Assert.Matches("^[A-Z2-9]{5}(-[A-Z2-9]{5}){4}$", token);
        Assert.Single(host.Log.Lines, l => l.Contains(token, StringComparison.Ordinal));

        AssertError(403, await host.PostAsync("/v1/setup", """{"token":"AAAAA-AAAAA-AAAAA-AAAAA-AAAAA","name":"admin","password":"correct horse battery"}"""), "wrong setup token");
        AssertError(400, await host.PostAsync("/v1/setup", $$"""{"token":"{{token}}","name":"admin","password":"short"}"""), "12 characters");
        Assert.False(host.Users.HasAnyUser);

        // Typed by hand: lower case, without dashes.
        var typed = token.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
        var created = await host.PostAsync("/v1/setup", $$"""{"token":"{{typed}}","name":"admin","password":"correct horse battery"}""");
        Assert.Equal(201, created.Status);
        Assert.Equal("admin", Json(created.Body).GetProperty("name").GetString());
        Assert.Equal("setup", host.Store.ReadAudit(take: 1)[0].Actor);
        Assert.False(File.Exists(host.SetupTokenPath));

        AssertError(409, await host.PostAsync("/v1/setup", $$"""{"token":"{{token}}","name":"mallory","password":"correct horse battery"}"""), "setup is done");
        Assert.Null(host.Store.FindUser("mallory"));
    }

    [Fact]
    public async Task No_token_when_an_administrator_exists()
    {
        await using var host = await StartAsync(h => h.Users.Create("admin", "correct horse battery", "setup"));

        Assert.False(File.Exists(host.SetupTokenPath));
        AssertError(409, await host.PostAsync("/v1/setup", """{"token":"x","name":"b","password":"correct horse battery"}"""), "setup is done");
    }

    [Fact]
    public void Tokens_compare_ignoring_case_and_dashes_and_are_spent_once()
    {
        var token = new SetupToken("ABCDE-FGHJK", path: null);

        Assert.True(token.Matches("abcdefghjk"));
        Assert.True(token.Matches("ABCDE FGHJK"));
        Assert.False(token.Matches("ABCDE-FGHJ"));
        Assert.False(token.Matches(null));
        token.Consume();
        Assert.False(token.Matches("ABCDE-FGHJK"));
        Assert.True(token.IsConsumed);
    }

    [Fact]
    public void Two_tokens_differ()
    {
        var directory = Directory.CreateTempSubdirectory("bgtoken");
        try
        {
            var users = new FakeUserDirectory(new FakeStore());
            var a = File.ReadAllText(SetupToken.CreateIfNeeded(users, Path.Combine(directory.FullName, "a"), NullLogger.Instance)!.FilePath!);
            var b = File.ReadAllText(SetupToken.CreateIfNeeded(users, Path.Combine(directory.FullName, "b"), NullLogger.Instance)!.FilePath!);
            Assert.NotEqual(a, b);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
