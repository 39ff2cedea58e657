using System.Text.Json.Serialization;
using Branchgate.Appliance.Api;

namespace Branchgate.WebUi.Api;

/// <summary>
/// Source-generated JSON for the panel's side of the management API. Unlike the API's own context, answers with fields
/// this panel does not know are accepted: a newer gateway may add fields without breaking an older panel.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(InterfaceListResponse))]
[JsonSerializable(typeof(InterfaceRequest))]
[JsonSerializable(typeof(SiteDto))]
[JsonSerializable(typeof(SiteListResponse))]
[JsonSerializable(typeof(SiteRequest))]
[JsonSerializable(typeof(RemoteWorkerRequest))]
[JsonSerializable(typeof(RemoteWorkerResponse))]
[JsonSerializable(typeof(ChangeResponse))]
[JsonSerializable(typeof(CoexistenceResponse))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(UserListResponse))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(PasswordRequest))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(LoginResponse))]
[JsonSerializable(typeof(SetupRequest))]
[JsonSerializable(typeof(AuditResponse))]
[JsonSerializable(typeof(TotpEnrollmentResponse))]
[JsonSerializable(typeof(TotpCodeRequest))]
internal sealed partial class ApiClientJsonContext : JsonSerializerContext;
