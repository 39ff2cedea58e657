using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Branchgate.WebUi.Security;

/// <summary>
/// The panel's own session: the gateway only verifies a password (POST /v1/login) and issues nothing, so the panel
/// keeps a cookie: HttpOnly, SameSite=Strict, Secure whenever the request was HTTPS, sliding 30 minutes.
/// </summary>
internal static class PanelAuthentication
{
    public const string CookieName = "branchgate-session";

    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(30);

    public static IServiceCollection AddPanelAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(options =>
            {
                options.Cookie.Name = CookieName;
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Strict;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.ExpireTimeSpan = IdleTimeout;
                options.SlidingExpiration = true;
                options.LoginPath = "/login";
                options.LogoutPath = "/logout";
                options.AccessDeniedPath = "/login";
                options.ReturnUrlParameter = "returnUrl";
                options.Events.OnValidatePrincipal = RejectRemovedUserAsync;
            });
        services.AddAuthorization();
        services.AddCascadingAuthenticationState();
        services.AddScoped<CircuitActivity>();
        services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler>(
            provider => provider.GetRequiredService<CircuitActivity>());
        services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, CircuitSessionValidator>();
        return services;
    }

    /// <summary>A cookie of a user the gateway no longer has (removed by another administrator) signs in no more.
    /// An unreachable gateway keeps the session: the pages will say the gateway cannot be reached.</summary>
    private static async Task RejectRemovedUserAsync(CookieValidatePrincipalContext context)
    {
        if (context.Principal?.Identity?.Name is not { } name)
        {
            return;
        }

        var api = context.HttpContext.RequestServices.GetRequiredService<Api.IGatewayApi>();
        var users = await api.ListUsersAsync(context.HttpContext.RequestAborted).ConfigureAwait(false);
        if (users.Succeeded && !users.Value.Users.Any(u => u.Name == name))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
        }
    }

    /// <summary>Signs the user in: the gateway said the password (and TOTP code) are right.</summary>
    public static Task SignInAsync(HttpContext context, string name)
    {
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], CookieAuthenticationDefaults.AuthenticationScheme);
        return context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity),
            new AuthenticationProperties { IsPersistent = false });
    }

    /// <summary>POST /logout: a form with the antiforgery token. The antiforgery middleware checks every endpoint that
    /// asks for it; a missing or wrong token is a plain 400 here (not an exception, which the error page would
    /// re-execute as a POST and fail on again).</summary>
    public static void MapSignOut(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/logout", async (HttpContext context) =>
        {
            if (context.Features.Get<IAntiforgeryValidationFeature>() is not { IsValid: true })
            {
                // With a body, so the status code pages do not re-execute the request (as a POST, failing again).
                return Results.Text("The sign-out form was not valid; reload the page and try again.", statusCode: 400);
            }

            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
            return Results.LocalRedirect("/login?signedOut=1");
        }).WithMetadata(new RequireAntiforgeryTokenAttribute());

    /// <summary>Only a local path is a place to return to after signing in (no open redirect).</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal)
            && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/";
}
