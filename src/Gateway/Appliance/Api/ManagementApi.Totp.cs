using Branchgate.Appliance.Users;
using Microsoft.AspNetCore.Http;

namespace Branchgate.Appliance.Api;

// /v1/users/{user}/totp/...: a signed-in user enrols or removes their own second factor. Begin is the one answer that
// holds a TOTP secret: the user's own, once, for the authenticator app (like a remote worker's file). Only the user
// named in X-Branchgate-User may act on their own factor; an administrator who lost the device has the user removed
// and added again, or the factor reset from the command line.
public sealed partial class ManagementApi
{
    private const string TotpIssuer = "Branchgate";

    private async Task BeginTotpAsync(HttpContext context)
    {
        if (await RequireSelfAsync(context).ConfigureAwait(false) is not { } name)
        {
            return;
        }

        if (_users.BeginTotpEnrollment(name) is not { } secret)
        {
            await Error(context, StatusCodes.Status409Conflict,
                $"{name} has a second factor already (disable it first)").ConfigureAwait(false);
            return;
        }

        var label = Uri.EscapeDataString($"{TotpIssuer}:{name}");
        await Json(context, StatusCodes.Status200OK, new TotpEnrollmentResponse
        {
            Secret = secret,
            OtpauthUri = $"otpauth://totp/{label}?secret={secret}&issuer={TotpIssuer}&algorithm=SHA1"
                + $"&digits={UserDirectory.TotpDigits}&period={UserDirectory.TotpStepSeconds}",
            ExpiresAt = DateTimeOffset.UtcNow + UserDirectory.PendingEnrollmentLifetime,
        }, ApiJsonContext.Default.TotpEnrollmentResponse).ConfigureAwait(false);
    }

    private Task ConfirmTotpAsync(HttpContext context) =>
        TotpCodeAsync(context, (name, code) => _users.ConfirmTotpEnrollment(name, code, name));

    private Task DisableTotpAsync(HttpContext context) =>
        TotpCodeAsync(context, (name, code) => _users.DisableTotp(name, code, name));

    private async Task TotpCodeAsync(HttpContext context, Func<string, string, UserResult> act)
    {
        if (await RequireSelfAsync(context).ConfigureAwait(false) is not { } name)
        {
            return;
        }

        if (await ReadJsonAsync(context, ApiJsonContext.Default.TotpCodeRequest).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        await UserAnswerAsync(context, act(name, request.Code.Trim()), name, StatusCodes.Status200OK).ConfigureAwait(false);
    }

    /// <summary>The route's user when it exists and is the one named in <see cref="UserHeader"/>; else null after 404
    /// or 403.</summary>
    private async Task<string?> RequireSelfAsync(HttpContext context)
    {
        var name = Route(context, "user");
        if (_service.Store.FindUser(name) is null)
        {
            await NotFound(context, "user").ConfigureAwait(false);
            return null;
        }

        var named = context.Request.Headers[UserHeader];
        if (named.Count != 1 || !string.Equals(named[0], name, StringComparison.Ordinal))
        {
            await Error(context, StatusCodes.Status403Forbidden,
                $"only {name} may change their own second factor ({UserHeader}: {name})").ConfigureAwait(false);
            return null;
        }

        return name;
    }
}
