using Branchgate.Appliance.Api;
using Branchgate.WebUi.Api;
using Branchgate.WebUi.Features.Backup;
using Bunit;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Branchgate.WebUi.Tests.Components;

public sealed class BackupPageTests : IDisposable
{
    private readonly BunitContext _context = new();
    private readonly FakeGatewayApi _api = new();

    public BackupPageTests()
    {
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _context.Services.AddMudServices();
        _context.Services.AddSingleton<IGatewayApi>(_api);
        _context.AddAuthorization();
    }

    public void Dispose() => _context.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Theory]
    [InlineData("short", "short", "at least 12")]
    [InlineData("a long passphrase", "a long passphrasE", "differ")]
    [InlineData("a long passphrase", "a long passphrase", null)]
    public void The_download_needs_a_long_passphrase_typed_twice_alike(string passphrase, string confirm, string? problem)
    {
        var check = BackupPage.DownloadCheck(passphrase, confirm);
        if (problem is null)
        {
            Assert.Null(check);
        }
        else
        {
            Assert.Contains(problem, check, StringComparison.Ordinal);
        }

        var page = _context.Render<BackupPage>();
        page.Find("#backup-passphrase").Input(passphrase);
        page.Find("#backup-confirm").Input(confirm);
        Assert.Equal(problem is not null, page.Find("[data-testid=download-backup]").HasAttribute("disabled"));
    }

    [Fact]
    public void A_restore_sends_the_file_and_passphrase_after_confirming_and_lists_what_changed()
    {
        _api.RestoreAnswer = ApiResult.Ok(200, new ChangeResponse { Changes = ["site wg0/branch-b added", "interface wg1 removed"] });
        var page = _context.Render<BackupPage>();

        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary([1, 2, 3], "b.bgbackup"));
        page.Find("#restore-passphrase").Input("a long passphrase");
        Assert.True(page.Find("[data-testid=restore-backup]").HasAttribute("disabled"));
        page.Find("[data-testid=restore-confirm] input").Change(true);
        page.Find("[data-testid=restore-backup]").Click();

        var sent = Assert.Single(_api.RestoreRequests);
        Assert.Equal("a long passphrase", sent.Passphrase);
        Assert.Equal([1, 2, 3], sent.File);
        Assert.False(sent.Force);
        var changes = page.FindAll("[data-testid=restore-changes] li").Select(li => li.TextContent).ToList();
        Assert.Equal(["site wg0/branch-b added", "interface wg1 removed"], changes);
    }

    [Fact]
    public void A_refused_restore_shows_the_gateways_reason()
    {
        _api.RestoreAnswer = ApiResult.Failed<ChangeResponse>(400,
            new ErrorResponse("the backup was not restored: wrong passphrase, or the file was changed or cut short"));
        var page = _context.Render<BackupPage>();

        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary([9], "b.bgbackup"));
        page.Find("#restore-passphrase").Input("a wrong passphrase");
        page.Find("[data-testid=restore-confirm] input").Change(true);
        page.Find("[data-testid=restore-backup]").Click();

        Assert.Contains("wrong passphrase", page.Find("[data-testid=restore-error]").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=restore-changes]"));
    }
}
