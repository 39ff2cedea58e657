using Branchgate.Appliance.Api;
using Branchgate.WebUi.Api;
using Branchgate.WebUi.Features.Sites;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Branchgate.WebUi.Tests.Components;

public sealed class SiteFormTests : IDisposable
{
    private const string Key = "q0JcDn1DPMOG0K6x4spqMXQvfUMtUjJX9EZSeS0Mjks=";

    private readonly BunitContext _context = new();
    private readonly FakeGatewayApi _api = new();

    public SiteFormTests()
    {
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _context.Services.AddMudServices();
        _context.Services.AddSingleton<IGatewayApi>(_api);
    }

    // MudBlazor's services are only asynchronously disposable.
    public void Dispose() => _context.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private IRenderedComponent<SiteForm> RenderForm(Action<ChangeResponse>? saved = null) =>
        _context.Render<SiteForm>(p => p
            .Add(f => f.InterfaceName, "wg0")
            .Add(f => f.OnSaved, change => saved?.Invoke(change)));

    private static void Fill(IRenderedComponent<SiteForm> form, string name, string allowedIps)
    {
        form.Find("#site-name").Change(name);
        form.Find("#site-public-key").Change(Key);
        form.Find("#site-allowed-ips").Change(allowedIps);
    }

    [Fact]
    public void A_valid_site_is_sent_as_the_api_expects_and_reported_saved()
    {
        ChangeResponse? saved = null;
        _api.SiteAnswers.Enqueue(ApiResult.Ok(201, new ChangeResponse
        {
            Site = new SiteDto { Name = "branch-b", Interface = "wg0", Kind = "site", PublicKey = Key },
        }));
        var form = RenderForm(change => saved = change);

        Fill(form, " branch-b ", "10.2.0.0/24,  fd00:2::/64\n10.20.0.0/16");
        form.Find("#site-endpoint").Change("b.example.net:51820");
        form.Find("[data-testid=save-site]").Click();

        var (iface, request, force) = Assert.Single(_api.SiteRequests);
        Assert.Equal("wg0", iface);
        Assert.False(force);
        Assert.Equal("branch-b", request.Name);
        Assert.Equal(["10.2.0.0/24", "fd00:2::/64", "10.20.0.0/16"], request.AllowedIps);
        Assert.Equal("b.example.net:51820", request.Endpoint);
        Assert.Null(request.PresharedKey);
        Assert.Equal("branch-b", saved?.Site?.Name);
        Assert.Empty(form.FindAll("[data-testid=form-error]"));
    }

    [Fact]
    public void The_apis_400_details_appear_under_the_fields_they_name_and_the_rest_above_the_form()
    {
        _api.SiteAnswers.Enqueue(ApiResult.Failed<ChangeResponse>(400, new ErrorResponse("the site is not valid")
        {
            Details =
            [
                "allowedIps[1]: 10.3.0.1/24 has host bits set",
                "publicKey: not a WireGuard key (44 characters of base64)",
                "site wg0/branch-c: allowed IPs overlap those of site wg0/branch-b",
            ],
        }));
        var form = RenderForm();

        Fill(form, "branch-c", "10.4.0.0/24, 10.3.0.1/24");
        form.Find("[data-testid=save-site]").Click();

        var alert = form.Find("[data-testid=form-error]").TextContent;
        Assert.Contains("the site is not valid", alert, StringComparison.Ordinal);
        Assert.Contains("allowed IPs overlap those of site wg0/branch-b", alert, StringComparison.Ordinal);
        Assert.DoesNotContain("host bits", alert, StringComparison.Ordinal);
        // MudBlazor puts a field's ErrorText in the helper line below that field.
        Assert.Contains("entry 2: 10.3.0.1/24 has host bits set", FieldText(form, "site-allowed-ips"), StringComparison.Ordinal);
        Assert.Contains("not a WireGuard key", FieldText(form, "site-public-key"), StringComparison.Ordinal);
        Assert.DoesNotContain("host bits", FieldText(form, "site-public-key"), StringComparison.Ordinal);
        // A validation error can never be forced.
        Assert.Empty(form.FindAll("[data-testid=force]"));
    }

    [Fact]
    public void Coexistence_errors_block_the_save_and_force_sends_it_again_with_force()
    {
        var finding = new FindingDto
        {
            Severity = "error",
            Code = "lan-overlap",
            Message = "10.1.0.0/24 overlaps the LAN of lan0",
            Objects = ["address 10.1.0.1/24 dev lan0"],
        };
        _api.SiteAnswers.Enqueue(ApiResult.Failed<ChangeResponse>(409, new ErrorResponse("the coexistence check found errors")
        {
            Details = [finding.Message],
            Findings = [finding, finding with { Severity = "warning", Code = "table-220-route", Message = "a table 220 route" }],
        }));
        _api.SiteAnswers.Enqueue(ApiResult.Ok(201, new ChangeResponse { Forced = true }));
        var saved = 0;
        var form = RenderForm(_ => saved++);

        Fill(form, "branch-d", "10.1.0.0/24");
        form.Find("[data-testid=save-site]").Click();

        Assert.Equal(0, saved);
        Assert.Contains("overlaps the LAN of lan0", form.Find("[data-testid=finding-error]").TextContent, StringComparison.Ordinal);
        Assert.Contains("address 10.1.0.1/24 dev lan0", form.Find("[data-testid=finding-error]").TextContent, StringComparison.Ordinal);
        Assert.Single(form.FindAll("[data-testid=finding-warning]"));

        form.Find("[data-testid=force] input").Change(true);
        form.Find("[data-testid=save-site]").Click();

        Assert.Equal([false, true], _api.SiteRequests.Select(r => r.Force));
        Assert.Equal(1, saved);
    }

    // The text of the MudTextField around the input with this id: its label, value and helper/error line.
    private static string FieldText(IRenderedComponent<SiteForm> form, string inputId) =>
        form.Find($"#{inputId}").Closest(".mud-input-control")?.TextContent ?? "";
}
