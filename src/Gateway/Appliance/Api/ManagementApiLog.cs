using Microsoft.Extensions.Logging;

namespace Branchgate.Appliance.Api;

internal static partial class ManagementApiLog
{
    [LoggerMessage(1, LogLevel.Warning,
        "No administrator exists yet. Setup token (give it to the admin panel once): {Token} (also in {Path}, readable by root only)")]
    public static partial void SetupTokenCreated(ILogger logger, string token, string path);

    [LoggerMessage(2, LogLevel.Information, "Management API listening on {SocketPath} (mode 0660, group {Group})")]
    public static partial void Listening(ILogger logger, string socketPath, string group);

    [LoggerMessage(3, LogLevel.Warning,
        "Group {Group} does not exist: the management socket {SocketPath} keeps root's group, so only root can use it")]
    public static partial void GroupMissing(ILogger logger, string group, string socketPath);

    [LoggerMessage(4, LogLevel.Error, "{Method} {Path} failed")]
    public static partial void RequestFailed(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(5, LogLevel.Warning, "{Method} {Path} refused: uid {Uid} is not root")]
    public static partial void NotRoot(ILogger logger, string method, string path, uint uid);

    [LoggerMessage(6, LogLevel.Information, "First administrator {Name} created with the setup token")]
    public static partial void SetupDone(ILogger logger, string name);

    [LoggerMessage(7, LogLevel.Warning, "Setup refused: wrong setup token")]
    public static partial void SetupTokenWrong(ILogger logger);

    [LoggerMessage(8, LogLevel.Warning, "Removed a stale management socket at {SocketPath}")]
    public static partial void StaleSocketRemoved(ILogger logger, string socketPath);
}
