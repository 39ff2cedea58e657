using Branchgate.Appliance.Api;
using Branchgate.WebUi.Api;

namespace Branchgate.WebUi.Tests.Components;

/// <summary>
/// The management API as the component tests script it: each call answers what the test queued (or a 500), and the
/// requests the components sent are kept for the test to check.
/// </summary>
internal sealed class FakeGatewayApi : IGatewayApi
{
    public Queue<ApiResult<ChangeResponse>> SiteAnswers { get; } = new();

    public List<(string Interface, SiteRequest Request, bool Force)> SiteRequests { get; } = [];

    public StatusResponse Status { get; set; } = new([]);

    public Task<ApiResult<ChangeResponse>> CreateSiteAsync(string interfaceName, SiteRequest request, bool force,
        CancellationToken cancellationToken = default) => NextSite(interfaceName, request, force);

    public Task<ApiResult<ChangeResponse>> UpdateSiteAsync(string interfaceName, string site, SiteRequest request, bool force,
        CancellationToken cancellationToken = default) => NextSite(interfaceName, request, force);

    public Task<ApiResult<StatusResponse>> GetStatusAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(ApiResult.Ok(200, Status));

    private Task<ApiResult<ChangeResponse>> NextSite(string interfaceName, SiteRequest request, bool force)
    {
        SiteRequests.Add((interfaceName, request, force));
        return Task.FromResult(SiteAnswers.Count > 0 ? SiteAnswers.Dequeue()
            : ApiResult.Failed<ChangeResponse>(500, new ErrorResponse("no answer queued")));
    }

    private static Task<ApiResult<T>> NotScripted<T>() =>
        Task.FromResult(ApiResult.Failed<T>(500, new ErrorResponse("not scripted in this test")));

    public Task<ApiResult<CoexistenceResponse>> GetCoexistenceAsync(CancellationToken cancellationToken = default) =>
        NotScripted<CoexistenceResponse>();

    public Task<ApiResult<InterfaceListResponse>> ListInterfacesAsync(CancellationToken cancellationToken = default) =>
        NotScripted<InterfaceListResponse>();

    public Task<ApiResult<ChangeResponse>> CreateInterfaceAsync(InterfaceRequest request, bool force,
        CancellationToken cancellationToken = default) => NotScripted<ChangeResponse>();

    public Task<ApiResult<SiteListResponse>> ListSitesAsync(string interfaceName, CancellationToken cancellationToken = default) =>
        NotScripted<SiteListResponse>();

    public Task<ApiResult<SiteDto>> GetSiteAsync(string interfaceName, string site, CancellationToken cancellationToken = default) =>
        NotScripted<SiteDto>();

    public Task<ApiResult<ChangeResponse>> DeleteSiteAsync(string interfaceName, string site,
        CancellationToken cancellationToken = default) => NotScripted<ChangeResponse>();

    public Task<ApiResult<RemoteWorkerResponse>> CreateRemoteWorkerAsync(string interfaceName, RemoteWorkerRequest request,
        bool force, CancellationToken cancellationToken = default) => NotScripted<RemoteWorkerResponse>();

    public Task<ApiResult<AuditResponse>> GetAuditAsync(long? before, int take, CancellationToken cancellationToken = default) =>
        NotScripted<AuditResponse>();

    public Task<ApiResult<UserListResponse>> ListUsersAsync(CancellationToken cancellationToken = default) =>
        NotScripted<UserListResponse>();

    public Task<ApiResult<UserDto>> CreateUserAsync(CreateUserRequest request, CancellationToken cancellationToken = default) =>
        NotScripted<UserDto>();

    public Task<ApiResult<NoContent>> DeleteUserAsync(string name, CancellationToken cancellationToken = default) =>
        NotScripted<NoContent>();

    public Task<ApiResult<UserDto>> ResetPasswordAsync(string name, PasswordRequest request,
        CancellationToken cancellationToken = default) => NotScripted<UserDto>();

    public Task<ApiResult<LoginResponse>> LoginAsync(LoginRequest request, CancellationToken cancellationToken = default) =>
        NotScripted<LoginResponse>();

    public Task<ApiResult<UserDto>> SetupAsync(SetupRequest request, CancellationToken cancellationToken = default) =>
        NotScripted<UserDto>();

    public Task<ApiResult<InterfaceDto>> GetInterfaceAsync(string name, CancellationToken cancellationToken = default) =>
        NotScripted<InterfaceDto>();

    public Task<ApiResult<ChangeResponse>> UpdateInterfaceAsync(string name, InterfaceRequest request, bool force,
        CancellationToken cancellationToken = default) => NotScripted<ChangeResponse>();

    public Task<ApiResult<ChangeResponse>> DeleteInterfaceAsync(string name, CancellationToken cancellationToken = default) =>
        NotScripted<ChangeResponse>();

    public Task<ApiResult<TotpEnrollmentResponse>> BeginTotpAsync(string name, CancellationToken cancellationToken = default) =>
        NotScripted<TotpEnrollmentResponse>();

    public Task<ApiResult<UserDto>> ConfirmTotpAsync(string name, string code, CancellationToken cancellationToken = default) =>
        NotScripted<UserDto>();

    public Task<ApiResult<UserDto>> DisableTotpAsync(string name, string code, CancellationToken cancellationToken = default) =>
        NotScripted<UserDto>();

    public Task<ApiResult<byte[]>> DownloadEncryptedBackupAsync(string passphrase, CancellationToken cancellationToken = default) =>
        NotScripted<byte[]>();

    /// <summary>What the next restore answers.</summary>
    public ApiResult<ChangeResponse>? RestoreAnswer { get; set; }

    public List<(string Passphrase, byte[] File, bool Force)> RestoreRequests { get; } = [];

    public Task<ApiResult<ChangeResponse>> RestoreEncryptedBackupAsync(string passphrase, ReadOnlyMemory<byte> file, bool force,
        CancellationToken cancellationToken = default)
    {
        RestoreRequests.Add((passphrase, file.ToArray(), force));
        return RestoreAnswer is { } answer ? Task.FromResult(answer) : NotScripted<ChangeResponse>();
    }
}
