using Branchgate.Appliance.Api;
using Branchgate.WebUi.Api;
using Branchgate.WebUi.Components;
using Branchgate.WebUi.Features.Backup;
using Branchgate.WebUi.Security;
using MudBlazor.Services;

// branchgate-webui: the admin panel. Listens on 127.0.0.1 unless configured otherwise (Urls), talks only to the
// management API socket (Branchgate:ApiSocket).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // A service is started from anywhere: its files are beside the binary, not in the current directory.
    ContentRootPath = AppContext.BaseDirectory,
});

// Static web assets of packages (_content/MudBlazor/...) are in the publish output's wwwroot; a build output only has
// a manifest pointing into the NuGet cache, which ASP.NET Core reads only in Development. Reading it here as well
// makes a plain build run as published does (tests run the build); published, there is no manifest and this does
// nothing.
builder.WebHost.UseStaticWebAssets();
if (string.IsNullOrEmpty(builder.Configuration["Urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:5080");
}

var socketPath = builder.Configuration["Branchgate:ApiSocket"] is { Length: > 0 } configured ? configured
    : UnixSocketHttp.DefaultSocketPath;
builder.Services.AddHttpClient<IGatewayApi, GatewayApiClient>(client =>
    {
        client.BaseAddress = UnixSocketHttp.BaseAddress;
        client.Timeout = TimeSpan.FromSeconds(30);
    })
    .ConfigurePrimaryHttpMessageHandler(() => UnixSocketHttp.CreateHandler(socketPath));

builder.Services.AddPanelAuthentication();
builder.Services.AddAntiforgery(options =>
{
    options.Cookie.Name = "branchgate-antiforgery";
    options.Cookie.SameSite = SameSiteMode.Strict;
    options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
});
builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddMudServices();
builder.Services.AddSingleton(TimeProvider.System);

var app = builder.Build();
if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/error", createScopeForErrors: true);
}

app.UseSecurityHeaders();
app.UseStatusCodePagesWithReExecute("/not-found");
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.MapStaticAssets();
// frame-ancestors is in our own policy (SecurityHeaders); Blazor would add a second, weaker header.
app.MapRazorComponents<App>().AddInteractiveServerRenderMode(options => options.ContentSecurityFrameAncestorsPolicy = null);
app.MapSignOut();
app.MapBackupDownload();

await app.RunAsync().ConfigureAwait(false);

/// <summary>The entry point, public for WebApplicationFactory-style hosting in tests.</summary>
public partial class Program;
