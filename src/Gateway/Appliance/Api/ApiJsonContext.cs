using System.Text.Json.Serialization;

namespace Branchgate.Appliance.Api;

/// <summary>
/// Source-generated JSON for every management API shape (no reflection: NativeAOT). camelCase names, nulls left out,
/// and a request with a field the API does not know is refused rather than half understood.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(InterfaceDto))]
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
public sealed partial class ApiJsonContext : JsonSerializerContext;
