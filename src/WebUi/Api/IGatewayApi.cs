using Branchgate.Appliance.Api;

namespace Branchgate.WebUi.Api;

/// <summary>
/// What the panel asks of the gateway, one method per management API call (docs/management-api.md). The real one talks
/// to the unix socket; component tests give a fake.
/// </summary>
public interface IGatewayApi
{
    Task<ApiResult<StatusResponse>> GetStatusAsync(CancellationToken cancellationToken = default);

    Task<ApiResult<CoexistenceResponse>> GetCoexistenceAsync(CancellationToken cancellationToken = default);

    Task<ApiResult<InterfaceListResponse>> ListInterfacesAsync(CancellationToken cancellationToken = default);

    Task<ApiResult<ChangeResponse>> CreateInterfaceAsync(InterfaceRequest request, bool force,
        CancellationToken cancellationToken = default);

    Task<ApiResult<InterfaceDto>> GetInterfaceAsync(string name, CancellationToken cancellationToken = default);

    Task<ApiResult<ChangeResponse>> UpdateInterfaceAsync(string name, InterfaceRequest request, bool force,
        CancellationToken cancellationToken = default);

    Task<ApiResult<ChangeResponse>> DeleteInterfaceAsync(string name, CancellationToken cancellationToken = default);

    Task<ApiResult<SiteListResponse>> ListSitesAsync(string interfaceName, CancellationToken cancellationToken = default);

    Task<ApiResult<SiteDto>> GetSiteAsync(string interfaceName, string site, CancellationToken cancellationToken = default);

    Task<ApiResult<ChangeResponse>> CreateSiteAsync(string interfaceName, SiteRequest request, bool force,
        CancellationToken cancellationToken = default);

    Task<ApiResult<ChangeResponse>> UpdateSiteAsync(string interfaceName, string site, SiteRequest request, bool force,
        CancellationToken cancellationToken = default);

    Task<ApiResult<ChangeResponse>> DeleteSiteAsync(string interfaceName, string site,
        CancellationToken cancellationToken = default);

    Task<ApiResult<RemoteWorkerResponse>> CreateRemoteWorkerAsync(string interfaceName, RemoteWorkerRequest request,
        bool force, CancellationToken cancellationToken = default);

    Task<ApiResult<AuditResponse>> GetAuditAsync(long? before, int take, CancellationToken cancellationToken = default);

    Task<ApiResult<UserListResponse>> ListUsersAsync(CancellationToken cancellationToken = default);

    Task<ApiResult<UserDto>> CreateUserAsync(CreateUserRequest request, CancellationToken cancellationToken = default);

    Task<ApiResult<NoContent>> DeleteUserAsync(string name, CancellationToken cancellationToken = default);

    Task<ApiResult<UserDto>> ResetPasswordAsync(string name, PasswordRequest request,
        CancellationToken cancellationToken = default);

    Task<ApiResult<LoginResponse>> LoginAsync(LoginRequest request, CancellationToken cancellationToken = default);

    Task<ApiResult<UserDto>> SetupAsync(SetupRequest request, CancellationToken cancellationToken = default);

    /// <summary>The signed-in user's own new TOTP secret (shown once); in force after <see cref="ConfirmTotpAsync"/>.</summary>
    Task<ApiResult<TotpEnrollmentResponse>> BeginTotpAsync(string name, CancellationToken cancellationToken = default);

    Task<ApiResult<UserDto>> ConfirmTotpAsync(string name, string code, CancellationToken cancellationToken = default);

    Task<ApiResult<UserDto>> DisableTotpAsync(string name, string code, CancellationToken cancellationToken = default);

    /// <summary>The store sealed by the gateway under <paramref name="passphrase"/>: only ciphertext reaches the panel.</summary>
    Task<ApiResult<byte[]>> DownloadEncryptedBackupAsync(string passphrase, CancellationToken cancellationToken = default);

    /// <summary>Restores an encrypted backup's configuration; the answer's <c>Changes</c> says what it changed.</summary>
    Task<ApiResult<ChangeResponse>> RestoreEncryptedBackupAsync(string passphrase, ReadOnlyMemory<byte> file, bool force,
        CancellationToken cancellationToken = default);
}
