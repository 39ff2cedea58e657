using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Branchgate.Appliance.Api;
using Microsoft.AspNetCore.Components.Authorization;

namespace Branchgate.WebUi.Api;

/// <summary>
/// The management API over its unix socket (see <see cref="UnixSocketHttp"/>). Every request names the signed-in user
/// in X-Branchgate-User, which the gateway writes to the audit log as the actor of the change.
/// </summary>
internal sealed class GatewayApiClient(HttpClient http, AuthenticationStateProvider authentication) : IGatewayApi
{
    public const string ActorHeader = "X-Branchgate-User";

    private static readonly ApiClientJsonContext Json = ApiClientJsonContext.Default;

    public Task<ApiResult<StatusResponse>> GetStatusAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "v1/status", null, Json.StatusResponse, cancellationToken);

    public Task<ApiResult<CoexistenceResponse>> GetCoexistenceAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "v1/coexistence", null, Json.CoexistenceResponse, cancellationToken);

    public Task<ApiResult<InterfaceListResponse>> ListInterfacesAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "v1/interfaces", null, Json.InterfaceListResponse, cancellationToken);

    public Task<ApiResult<ChangeResponse>> CreateInterfaceAsync(InterfaceRequest request, bool force,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "v1/interfaces" + Force(force), JsonContent.Create(request, Json.InterfaceRequest),
            Json.ChangeResponse, cancellationToken);

    public Task<ApiResult<InterfaceDto>> GetInterfaceAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"v1/interfaces/{Segment(name)}", null, Json.InterfaceDto, cancellationToken);

    public Task<ApiResult<ChangeResponse>> UpdateInterfaceAsync(string name, InterfaceRequest request, bool force,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"v1/interfaces/{Segment(name)}{Force(force)}", JsonContent.Create(request, Json.InterfaceRequest),
            Json.ChangeResponse, cancellationToken);

    public Task<ApiResult<ChangeResponse>> DeleteInterfaceAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"v1/interfaces/{Segment(name)}", null, Json.ChangeResponse, cancellationToken);

    public Task<ApiResult<SiteListResponse>> ListSitesAsync(string interfaceName, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"v1/interfaces/{Segment(interfaceName)}/sites", null, Json.SiteListResponse, cancellationToken);

    public Task<ApiResult<SiteDto>> GetSiteAsync(string interfaceName, string site, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, SitePath(interfaceName, site), null, Json.SiteDto, cancellationToken);

    public Task<ApiResult<ChangeResponse>> CreateSiteAsync(string interfaceName, SiteRequest request, bool force,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"v1/interfaces/{Segment(interfaceName)}/sites{Force(force)}",
            JsonContent.Create(request, Json.SiteRequest), Json.ChangeResponse, cancellationToken);

    public Task<ApiResult<ChangeResponse>> UpdateSiteAsync(string interfaceName, string site, SiteRequest request, bool force,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, SitePath(interfaceName, site) + Force(force),
            JsonContent.Create(request, Json.SiteRequest), Json.ChangeResponse, cancellationToken);

    public Task<ApiResult<ChangeResponse>> DeleteSiteAsync(string interfaceName, string site,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, SitePath(interfaceName, site), null, Json.ChangeResponse, cancellationToken);

    public Task<ApiResult<RemoteWorkerResponse>> CreateRemoteWorkerAsync(string interfaceName, RemoteWorkerRequest request,
        bool force, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"v1/interfaces/{Segment(interfaceName)}/remote-workers{Force(force)}",
            JsonContent.Create(request, Json.RemoteWorkerRequest), Json.RemoteWorkerResponse, cancellationToken);

    public Task<ApiResult<AuditResponse>> GetAuditAsync(long? before, int take, CancellationToken cancellationToken = default)
    {
        var query = before is { } id ? $"?before={id}&take={take}" : $"?take={take}";
        return SendAsync(HttpMethod.Get, "v1/audit" + query, null, Json.AuditResponse, cancellationToken);
    }

    public Task<ApiResult<UserListResponse>> ListUsersAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "v1/users", null, Json.UserListResponse, cancellationToken);

    public Task<ApiResult<UserDto>> CreateUserAsync(CreateUserRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "v1/users", JsonContent.Create(request, Json.CreateUserRequest), Json.UserDto, cancellationToken);

    public async Task<ApiResult<NoContent>> DeleteUserAsync(string name, CancellationToken cancellationToken = default)
    {
        var result = await SendAsync(HttpMethod.Delete, $"v1/users/{Segment(name)}", null, Json.UserDto, cancellationToken)
            .ConfigureAwait(false);
        return result.Error is { } error ? ApiResult.Failed<NoContent>(result.Status, error)
            : ApiResult.Ok<NoContent>(result.Status, NoContent.Instance);
    }

    public Task<ApiResult<UserDto>> ResetPasswordAsync(string name, PasswordRequest request,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"v1/users/{Segment(name)}/password", JsonContent.Create(request, Json.PasswordRequest),
            Json.UserDto, cancellationToken);

    public Task<ApiResult<LoginResponse>> LoginAsync(LoginRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "v1/login", JsonContent.Create(request, Json.LoginRequest), Json.LoginResponse, cancellationToken);

    public Task<ApiResult<UserDto>> SetupAsync(SetupRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "v1/setup", JsonContent.Create(request, Json.SetupRequest), Json.UserDto, cancellationToken);

    public Task<ApiResult<TotpEnrollmentResponse>> BeginTotpAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"v1/users/{Segment(name)}/totp/begin", null, Json.TotpEnrollmentResponse, cancellationToken);

    public Task<ApiResult<UserDto>> ConfirmTotpAsync(string name, string code, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"v1/users/{Segment(name)}/totp/confirm",
            JsonContent.Create(new TotpCodeRequest { Code = code }, Json.TotpCodeRequest), Json.UserDto, cancellationToken);

    public Task<ApiResult<UserDto>> DisableTotpAsync(string name, string code, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"v1/users/{Segment(name)}/totp/disable",
            JsonContent.Create(new TotpCodeRequest { Code = code }, Json.TotpCodeRequest), Json.UserDto, cancellationToken);

    public async Task<ApiResult<byte[]>> DownloadEncryptedBackupAsync(string passphrase, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/backup/encrypted")
        {
            Content = SecretJson(passphrase, null),
        };
        await NameActorAsync(request).ConfigureAwait(false);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? ApiResult.Ok((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false))
                : ApiResult.Failed<byte[]>((int)response.StatusCode, await ReadErrorAsync(response, cancellationToken).ConfigureAwait(false));
        }
        catch (HttpRequestException e)
        {
            return ApiResult.Failed<byte[]>(0, Unreachable(e));
        }
    }

    public Task<ApiResult<ChangeResponse>> RestoreEncryptedBackupAsync(string passphrase, ReadOnlyMemory<byte> file, bool force,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "v1/restore/encrypted" + Force(force), SecretJson(passphrase, file), Json.ChangeResponse,
            cancellationToken);

    /// <summary>{"passphrase": ..., "backup": base64}, written by hand: the API reads these two fields only.</summary>
    private static ByteArrayContent SecretJson(string passphrase, ReadOnlyMemory<byte>? file)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("passphrase", passphrase);
            if (file is { } bytes)
            {
                writer.WriteBase64String("backup", bytes.Span);
            }

            writer.WriteEndObject();
        }

        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private static ErrorResponse Unreachable(HttpRequestException e) =>
        new($"the gateway's management API socket cannot be reached: {e.InnerException?.Message ?? e.Message}");

    private async Task NameActorAsync(HttpRequestMessage request)
    {
        if (await SignedInUserAsync().ConfigureAwait(false) is { } actor)
        {
            request.Headers.TryAddWithoutValidation(ActorHeader, actor);
        }
    }

    private static string Segment(string value) => Uri.EscapeDataString(value);

    private static string SitePath(string interfaceName, string site) =>
        $"v1/interfaces/{Segment(interfaceName)}/sites/{Segment(site)}";

    private static string Force(bool force) => force ? "?force=true" : "";

    private async Task<ApiResult<T>> SendAsync<T>(HttpMethod method, string path, HttpContent? content,
        JsonTypeInfo<T> answer, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        await NameActorAsync(request).ConfigureAwait(false);

        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    // No body (DELETE /v1/users/{name}): neither a value nor an error; the caller knows.
                    return new ApiResult<T> { Status = status };
                }

                var value = await response.Content.ReadFromJsonAsync(answer, cancellationToken).ConfigureAwait(false);
                return value is null ? ApiResult.Failed<T>(status, new ErrorResponse("the gateway sent an empty answer"))
                    : ApiResult.Ok<T>(status, value);
            }

            return ApiResult.Failed<T>(status, await ReadErrorAsync(response, cancellationToken).ConfigureAwait(false));
        }
        catch (HttpRequestException e)
        {
            return ApiResult.Failed<T>(0, Unreachable(e));
        }
        catch (JsonException)
        {
            return ApiResult.Failed<T>(0, new ErrorResponse("the gateway's answer could not be read"));
        }
    }

    private async Task<string?> SignedInUserAsync()
    {
        try
        {
            var state = await authentication.GetAuthenticationStateAsync().ConfigureAwait(false);
            return state.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : null;
        }
        catch (InvalidOperationException)
        {
            // A scope without a user (the session check's own calls): no actor, as for a call before sign-in.
            return null;
        }
    }

    private static async Task<ErrorResponse> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            if (await response.Content.ReadFromJsonAsync(Json.ErrorResponse, cancellationToken).ConfigureAwait(false) is { } error)
            {
                return error;
            }
        }
        catch (JsonException)
        {
        }

        return new ErrorResponse($"the gateway answered {(int)response.StatusCode} {response.ReasonPhrase}");
    }
}
