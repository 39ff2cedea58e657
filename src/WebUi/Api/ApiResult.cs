using System.Diagnostics.CodeAnalysis;
using Branchgate.Appliance.Api;

namespace Branchgate.WebUi.Api;

/// <summary>
/// One answer of the management API: the value on success, else the status and the API's error (its sentence, the
/// fields involved and, for a refused change, the coexistence findings). A socket that cannot be reached is status 0.
/// </summary>
public sealed record ApiResult<T>
{
    public int Status { get; init; }

    public T? Value { get; init; }

    public ErrorResponse? Error { get; init; }

    [MemberNotNullWhen(true, nameof(Value))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Succeeded => Value is not null && Error is null;
}

/// <summary>Makes <see cref="ApiResult{T}"/> values.</summary>
public static class ApiResult
{
    public static ApiResult<T> Ok<T>(int status, T value) => new() { Status = status, Value = value };

    public static ApiResult<T> Failed<T>(int status, ErrorResponse error) => new() { Status = status, Error = error };
}

/// <summary>The answer to a request whose success has no body (DELETE /v1/users/{name}).</summary>
public sealed record NoContent
{
    public static NoContent Instance { get; } = new();
}
