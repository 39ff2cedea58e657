using Branchgate.WebUi.Api;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace Branchgate.WebUi.Security;

/// <summary>
/// When the person last did something in this circuit (a click, a key, a navigation): every inbound message of the
/// circuit passes here. The dashboard's own timer does not, so an open but untouched dashboard goes idle.
/// </summary>
internal sealed class CircuitActivity(TimeProvider clock) : CircuitHandler
{
    public DateTimeOffset LastActivity { get; private set; } = clock.GetUtcNow();

    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(
        Func<CircuitInboundActivityContext, Task> next) => context =>
        {
            LastActivity = clock.GetUtcNow();
            return next(context);
        };
}

/// <summary>
/// The cookie is checked on every HTTP request, but an open circuit (a WebSocket) outlives it. This re-checks the
/// signed-in user of each circuit every minute: after <see cref="PanelAuthentication.IdleTimeout"/> without activity,
/// or once the user no longer exists on the gateway, the circuit's user becomes anonymous and the page goes to the
/// sign-in page; there the cookie has expired (it slides only with HTTP requests) or, for a removed user, is refused
/// by <see cref="PanelAuthentication"/>'s per-request check.
/// </summary>
internal sealed class CircuitSessionValidator(ILoggerFactory loggers, IServiceScopeFactory scopes, CircuitActivity activity,
    TimeProvider clock) : RevalidatingServerAuthenticationStateProvider(loggers)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState,
        CancellationToken cancellationToken)
    {
        if (authenticationState.User.Identity is not { IsAuthenticated: true, Name: { } name })
        {
            return true;
        }

        if (IsIdle(activity.LastActivity, clock.GetUtcNow()))
        {
            return false;
        }

        await using var scope = scopes.CreateAsyncScope();
        var users = await scope.ServiceProvider.GetRequiredService<IGatewayApi>().ListUsersAsync(cancellationToken);
        // An unreachable gateway is no reason to end a session; an answer without this user is.
        return !users.Succeeded || users.Value.Users.Any(u => u.Name == name);
    }

    public static bool IsIdle(DateTimeOffset lastActivity, DateTimeOffset now) => now - lastActivity > PanelAuthentication.IdleTimeout;
}
