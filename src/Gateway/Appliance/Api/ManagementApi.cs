using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Branchgate.Appliance.Model;
using Branchgate.Appliance.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Branchgate.Appliance.Api;

/// <summary>
/// The management API of `branchgate serve`: JSON over HTTP/1.1 on a unix socket (docs/management-api.md).
/// The socket's mode (0660, group branchgate) is the trust boundary: whoever can connect may change the appliance;
/// the admin panel names its signed-in user in <see cref="UserHeader"/> for the audit log. Secrets (the gateway's
/// private keys, the store file) are handed only to root, recognised by the kernel's peer credentials.
/// </summary>
public sealed partial class ManagementApi
{
    /// <summary>The audit actor: the admin panel's signed-in user.</summary>
    public const string UserHeader = "X-Branchgate-User";

    private const string ActorItem = "branchgate.actor";

    private readonly ManagementApiOptions _options;
    private readonly IApplianceService _service;
    private readonly IUserDirectory _users;
    private readonly ILogger _logger;
    private readonly Lock _setupLock = new();
    private SetupToken? _setupToken;

    private ManagementApi(ManagementApiOptions options, IApplianceService service, IUserDirectory users, ILogger logger)
    {
        _options = options;
        _service = service;
        _users = users;
        _logger = logger;
    }

    /// <summary>
    /// The API as a web application, not started: Kestrel on <see cref="ManagementApiOptions.SocketPath"/> only. On
    /// start it makes the socket's directory, removes a stale socket, writes and logs a setup token when no
    /// administrator exists, and after binding sets the socket to 0660 and its group. <paramref name="configure"/> adds
    /// more to the host (systemd integration, logging) before it is built.
    /// </summary>
    public static WebApplication Build(ManagementApiOptions options, IApplianceService service, IUserDirectory users,
        Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(users);

        // No configuration file is read, so nothing may watch the content root ("/": a recursive inotify watch of the
        // whole file system otherwise, taking minutes before the API starts).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = "/",
        });
        // Nothing from appsettings or ASPNETCORE_URLS may add an endpoint: the unix socket is the only way in.
        builder.Configuration.Sources.Clear();
        // One line per request is noise in the journal; the API logs what matters itself.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            kestrel.Limits.MaxConcurrentConnections = 64;
            kestrel.ListenUnixSocket(options.SocketPath, listen => listen.Use(next => connection =>
            {
                var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
                connection.Features.Set(socket is null ? PeerCredentials.Unknown : PeerCredentials.Read(socket));
                return next(connection);
            }));
        });
        ManagementApi? api = null;
        builder.Services.AddSingleton<IHostedService>(provider => new SocketAccess(options.SocketPath, options.SocketGroup,
            provider.GetRequiredService<ILoggerFactory>().CreateLogger<ManagementApi>(), () => api!.PrepareSetup()));
        configure?.Invoke(builder);

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<ManagementApi>();
        api = new ManagementApi(options, service, users, logger);
        app.Use(api.GuardAsync);
        api.MapRoutes(app);
        return app;
    }

    /// <summary>At start, once the socket's directory exists: the setup token when no administrator exists yet.</summary>
    private void PrepareSetup()
    {
        if (_options.SetupTokenPath is not null)
        {
            _setupToken = SetupToken.CreateIfNeeded(_users, _options.SetupTokenPath, _logger);
        }
    }

    private void MapRoutes(WebApplication app)
    {
        Map(app, "GET", "/v1/status", GetStatusAsync);
        Map(app, "GET", "/v1/coexistence", GetCoexistenceAsync);
        Map(app, "GET", "/metrics", GetMetricsAsync);

        Map(app, "GET", "/v1/interfaces", ListInterfacesAsync);
        Map(app, "POST", "/v1/interfaces", CreateInterfaceAsync);
        Map(app, "GET", "/v1/interfaces/{name}", GetInterfaceAsync);
        Map(app, "PUT", "/v1/interfaces/{name}", UpdateInterfaceAsync);
        Map(app, "DELETE", "/v1/interfaces/{name}", DeleteInterfaceAsync);
        Map(app, "GET", "/v1/interfaces/{name}/export", ExportInterfaceAsync);
        Map(app, "POST", "/v1/interfaces/{name}/import", ImportInterfaceAsync);

        Map(app, "GET", "/v1/interfaces/{name}/sites", ListSitesAsync);
        Map(app, "POST", "/v1/interfaces/{name}/sites", CreateSiteAsync);
        Map(app, "GET", "/v1/interfaces/{name}/sites/{site}", GetSiteAsync);
        Map(app, "PUT", "/v1/interfaces/{name}/sites/{site}", UpdateSiteAsync);
        Map(app, "DELETE", "/v1/interfaces/{name}/sites/{site}", DeleteSiteAsync);
        Map(app, "POST", "/v1/interfaces/{name}/remote-workers", CreateRemoteWorkerAsync);

        Map(app, "GET", "/v1/users", ListUsersAsync);
        Map(app, "POST", "/v1/users", CreateUserAsync);
        Map(app, "DELETE", "/v1/users/{user}", DeleteUserAsync);
        Map(app, "POST", "/v1/users/{user}/password", ResetPasswordAsync);
        Map(app, "POST", "/v1/users/{user}/totp/begin", BeginTotpAsync);
        Map(app, "POST", "/v1/users/{user}/totp/confirm", ConfirmTotpAsync);
        Map(app, "POST", "/v1/users/{user}/totp/disable", DisableTotpAsync);
        Map(app, "POST", "/v1/login", LoginAsync);
        Map(app, "POST", "/v1/setup", SetupAsync);

        Map(app, "GET", "/v1/audit", GetAuditAsync);
        Map(app, "GET", "/v1/backup", BackupAsync);
        Map(app, "POST", "/v1/restore", RestoreAsync);
        Map(app, "POST", "/v1/backup/encrypted", EncryptedBackupAsync);
        Map(app, "POST", "/v1/restore/encrypted", EncryptedRestoreAsync);

        app.MapFallback(new RequestDelegate(context =>
            Error(context, StatusCodes.Status404NotFound, $"no such endpoint: {context.Request.Method} {context.Request.Path}")));
    }

    // RequestDelegate handlers only: no parameter binding, so nothing for reflection (or the request delegate
    // generator) to do under NativeAOT.
    private static void Map(WebApplication app, string method, string pattern, RequestDelegate handler) =>
        app.MapMethods(pattern, [method], handler);

    /// <summary>Names the caller for the audit log and turns what escapes a handler into a JSON error.</summary>
    private async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        var caller = Caller(context);
        var named = context.Request.Headers[UserHeader];
        if (named.Count > 1 || (named.Count == 1 && !IsValidActor(named[0])))
        {
            await Error(context, StatusCodes.Status400BadRequest,
                $"{UserHeader}: one user name (letters, digits, '-', '_', '.', '@'; 1 to 64 characters)").ConfigureAwait(false);
            return;
        }

        context.Items[ActorItem] = named.Count == 1 ? named[0]! : caller.IsRoot ? "root" : $"uid:{caller.UserId}";
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await Error(context, e.StatusCode, e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested && e is not OperationCanceledException)
        {
            ManagementApiLog.RequestFailed(_logger, e, context.Request.Method, context.Request.Path);
            if (!context.Response.HasStarted)
            {
                await Error(context, StatusCodes.Status500InternalServerError, "internal error (see the journal)").ConfigureAwait(false);
            }
        }
    }

    private static bool IsValidActor(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 64
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@');

    private static PeerCredentials Caller(HttpContext context) =>
        context.Features.Get<PeerCredentials>() ?? PeerCredentials.Unknown;

    private static string Actor(HttpContext context) => (string)context.Items[ActorItem]!;

    /// <summary>True for root; otherwise answers 403 and returns false.</summary>
    private async Task<bool> RequireRootAsync(HttpContext context, string what)
    {
        var caller = Caller(context);
        if (caller.IsRoot)
        {
            return true;
        }

        ManagementApiLog.NotRoot(_logger, context.Request.Method, context.Request.Path, caller.UserId);
        await Error(context, StatusCodes.Status403Forbidden,
            $"{what} holds private keys: only root may have it (uid {caller.UserId} asked)").ConfigureAwait(false);
        return false;
    }

    private static string Route(HttpContext context, string key) => context.GetRouteValue(key) as string ?? "";

    private static bool Force(HttpContext context)
    {
        var value = context.Request.Query["force"].ToString();
        return value is "true" or "1" or "yes";
    }

    private static Task Json<T>(HttpContext context, int status, T value, JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(value, type, contentType: null, context.RequestAborted);
    }

    private static Task Error(HttpContext context, int status, string error, IReadOnlyList<string>? details = null,
        IReadOnlyList<FindingDto>? findings = null) =>
        Json(context, status, new ErrorResponse(error) { Details = details ?? [], Findings = findings },
            ApiJsonContext.Default.ErrorResponse);

    private static Task NotFound(HttpContext context, string what) =>
        Error(context, StatusCodes.Status404NotFound, "no such " + what);

    /// <summary>The request body as <typeparamref name="T"/>, or null after answering 400 with what is wrong.</summary>
    private static async Task<T?> ReadJsonAsync<T>(HttpContext context, JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync(context.Request.Body, type, context.RequestAborted).ConfigureAwait(false);
            if (value is not null)
            {
                return value;
            }

            await Error(context, StatusCodes.Status400BadRequest, "the body must be a JSON object").ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            await Error(context, StatusCodes.Status400BadRequest, "the body is not a valid request",
                [DescribeJsonError(e)]).ConfigureAwait(false);
        }

        return null;
    }

    private static string DescribeJsonError(JsonException e)
    {
        // System.Text.Json names the .NET type in its messages; the client knows only the JSON, so keep the path and
        // the gist.
        var message = e.Message;
        var path = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : e.Path.TrimStart('$', '.') + ": ";
        if (message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            var start = message.IndexOf('\'', StringComparison.Ordinal);
            var end = start < 0 ? -1 : message.IndexOf('\'', start + 1);
            return end > start ? $"{message[(start + 1)..end]}: unknown field" : "unknown field";
        }

        if (message.Contains("missing required properties", StringComparison.Ordinal))
        {
            var at = message.IndexOf("including:", StringComparison.Ordinal);
            var names = at < 0 ? "" : message[(at + "including:".Length)..].Trim().TrimEnd('.');
            return $"required field missing: {names}";
        }

        return path + (e.InnerException?.Message is { } inner ? "wrong type or value (" + inner + ")" : "wrong type or value");
    }

    /// <summary>
    /// Runs a change through the appliance service and answers: <paramref name="success"/> with the result when applied,
    /// 400 with the validation errors, 409 with the coexistence findings (unless forced), 500 with the failure.
    /// </summary>
    private async Task ChangeAsync(HttpContext context, string action, string target,
        Func<ApplianceConfig, ApplianceConfig> change, int success, Func<ApplianceConfig, ChangeResponse> describe)
    {
        var force = Force(context);
        var result = await _service.ChangeAsync(action, target, change, new ChangeOptions(Actor(context), force),
            context.RequestAborted).ConfigureAwait(false);
        if (result.Applied)
        {
            var response = describe(result.Config ?? _service.Current) with
            {
                Forced = force && result.Check.HasErrors,
                Findings = [.. result.Check.Findings.Select(ApiMapping.ToDto)],
            };
            await Json(context, success, response, ApiJsonContext.Default.ChangeResponse).ConfigureAwait(false);
            return;
        }

        await RefusedAsync(context, result, force).ConfigureAwait(false);
    }

    private static Task RefusedAsync(HttpContext context, ChangeResult result, bool force)
    {
        if (result.ValidationErrors.Count > 0)
        {
            return Error(context, StatusCodes.Status400BadRequest, "the change is not valid", result.ValidationErrors);
        }

        if (result.Check.HasErrors && !force)
        {
            return Error(context, StatusCodes.Status409Conflict,
                "the coexistence check found errors; nothing was changed (repeat with ?force=true to apply it anyway)",
                [.. result.Check.Errors.Select(f => f.Message)], [.. result.Check.Findings.Select(ApiMapping.ToDto)]);
        }

        return Error(context, StatusCodes.Status500InternalServerError,
            result.Failure ?? "the change was not applied (nothing was changed)");
    }

    private Task GetCoexistenceAsync(HttpContext context) =>
        Json(context, StatusCodes.Status200OK, ApiMapping.ToDto(_service.Check()), ApiJsonContext.Default.CoexistenceResponse);

    private Task GetStatusAsync(HttpContext context) =>
        Json(context, StatusCodes.Status200OK, new StatusResponse([.. _service.Status().Select(ApiMapping.ToDto)]),
            ApiJsonContext.Default.StatusResponse);
}
