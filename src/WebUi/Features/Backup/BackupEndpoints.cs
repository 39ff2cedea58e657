using System.Security.Claims;
using Branchgate.WebUi.Api;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Components.Authorization;

namespace Branchgate.WebUi.Features.Backup;

/// <summary>
/// POST /backup/download: the backup page's form (passphrase twice, antiforgery token) answered with the encrypted
/// backup the gateway made, as a file download. A form post rather than a script: the browser saves the answer, and
/// the content security policy needs no exception.
/// </summary>
public static class BackupEndpoints
{
    public static void MapBackupDownload(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/backup/download", async (HttpContext context, IGatewayApi api,
            AuthenticationStateProvider authentication) =>
        {
            if (context.Features.Get<IAntiforgeryValidationFeature>() is not { IsValid: true })
            {
                return Results.Text("The backup form was not valid; reload the page and try again.", statusCode: 400);
            }

            var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            var passphrase = form["passphrase"].ToString();
            if (Features.Backup.BackupPage.DownloadCheck(passphrase, form["confirm"].ToString()) is { } problem)
            {
                return Back(problem);
            }

            // Outside a circuit the API client learns the signed-in user (the audit log's actor) from here.
            if (authentication is IHostEnvironmentAuthenticationStateProvider host)
            {
                host.SetAuthenticationState(Task.FromResult(new AuthenticationState(context.User ?? new ClaimsPrincipal())));
            }

            var result = await api.DownloadEncryptedBackupAsync(passphrase, context.RequestAborted).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                return Back(result.Error.Error);
            }

            context.Response.Headers.CacheControl = "no-store";
            return Results.File(result.Value, "application/octet-stream",
                $"branchgate-{DateTime.UtcNow:yyyyMMdd-HHmmss}.bgbackup");
        }).RequireAuthorization().WithMetadata(new RequireAntiforgeryTokenAttribute());

    private static IResult Back(string error) => Results.LocalRedirect("/backup?error=" + Uri.EscapeDataString(error));
}
