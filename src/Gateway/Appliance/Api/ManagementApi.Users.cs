using Microsoft.AspNetCore.Http;

namespace Branchgate.Appliance.Api;

// /v1/users, /v1/login and /v1/setup: administrators. Password hashes and TOTP secrets never leave; a login answers
// with its outcome only (the panel keeps its own session).
public sealed partial class ManagementApi
{
    private Task ListUsersAsync(HttpContext context) =>
        Json(context, StatusCodes.Status200OK, new UserListResponse([.. _service.Store.ListUsers().Select(ApiMapping.ToDto)]),
            ApiJsonContext.Default.UserListResponse);

    private async Task CreateUserAsync(HttpContext context)
    {
        if (await ReadJsonAsync(context, ApiJsonContext.Default.CreateUserRequest).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        if (_service.Store.FindUser(request.Name) is not null)
        {
            await Error(context, StatusCodes.Status409Conflict, $"user {request.Name} exists").ConfigureAwait(false);
            return;
        }

        var result = _users.Create(request.Name, request.Password, Actor(context));
        await UserAnswerAsync(context, result, request.Name, StatusCodes.Status201Created).ConfigureAwait(false);
    }

    private async Task DeleteUserAsync(HttpContext context)
    {
        var name = Route(context, "user");
        if (_service.Store.FindUser(name) is null)
        {
            await NotFound(context, "user").ConfigureAwait(false);
            return;
        }

        var result = _users.Delete(name, Actor(context));
        if (result.Succeeded)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        await Error(context, StatusCodes.Status400BadRequest, result.Error ?? "the user was not deleted").ConfigureAwait(false);
    }

    private async Task ResetPasswordAsync(HttpContext context)
    {
        var name = Route(context, "user");
        if (_service.Store.FindUser(name) is null)
        {
            await NotFound(context, "user").ConfigureAwait(false);
            return;
        }

        if (await ReadJsonAsync(context, ApiJsonContext.Default.PasswordRequest).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        var result = _users.ResetPassword(name, request.Password, Actor(context));
        await UserAnswerAsync(context, result, name, StatusCodes.Status200OK).ConfigureAwait(false);
    }

    private async Task LoginAsync(HttpContext context)
    {
        if (await ReadJsonAsync(context, ApiJsonContext.Default.LoginRequest).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        var result = _users.VerifyLogin(request.Name, request.Password, request.TotpCode);
        await Json(context, StatusCodes.Status200OK,
            new LoginResponse { Outcome = ApiMapping.ToText(result.Outcome), LockedUntil = result.LockedUntil },
            ApiJsonContext.Default.LoginResponse).ConfigureAwait(false);
    }

    /// <summary>The first administrator, once, with the setup token the gateway logged at start.</summary>
    private async Task SetupAsync(HttpContext context)
    {
        if (await ReadJsonAsync(context, ApiJsonContext.Default.SetupRequest).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        int status;
        string? error;
        lock (_setupLock)
        {
            (status, error) = Setup(request);
        }

        if (error is not null)
        {
            await Error(context, status, error).ConfigureAwait(false);
            return;
        }

        ManagementApiLog.SetupDone(_logger, request.Name);
        await Json(context, status, ToUserDto(request.Name), ApiJsonContext.Default.UserDto).ConfigureAwait(false);
    }

    private (int Status, string? Error) Setup(SetupRequest request)
    {
        if (_setupToken is null || _setupToken.IsConsumed || _users.HasAnyUser)
        {
            return (StatusCodes.Status409Conflict, "setup is done: an administrator exists (sign in instead)");
        }

        if (!_setupToken.Matches(request.Token))
        {
            ManagementApiLog.SetupTokenWrong(_logger);
            return (StatusCodes.Status403Forbidden, "wrong setup token (see the gateway's console or journal)");
        }

        var result = _users.Create(request.Name, request.Password, "setup");
        if (!result.Succeeded)
        {
            return (StatusCodes.Status400BadRequest, result.Error ?? "the user was not created");
        }

        _setupToken.Consume();
        return (StatusCodes.Status201Created, null);
    }

    private Task UserAnswerAsync(HttpContext context, Users.UserResult result, string name, int success) =>
        result.Succeeded
            ? Json(context, success, ToUserDto(name), ApiJsonContext.Default.UserDto)
            : Error(context, StatusCodes.Status400BadRequest, result.Error ?? "refused");

    private UserDto ToUserDto(string name) =>
        _service.Store.FindUser(name) is { } user ? ApiMapping.ToDto(user) : new UserDto { Name = name, Role = "admin" };
}
