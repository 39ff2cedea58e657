namespace Branchgate.WebUi.Security;

/// <summary>
/// The headers every answer of the panel carries. The content security policy is what Blazor Server and MudBlazor
/// need and no more: scripts only from the panel itself (blazor.web.js, MudBlazor.min.js; no inline script, so no
/// import map is rendered), its circuit over a same-origin WebSocket, inline styles (MudBlazor's theme provider
/// writes a style element and components set style attributes), images from the panel or data: URIs (QR codes), and
/// no framing by anyone.
/// </summary>
internal static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; " +
        "frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        return next(context);
    });
}
