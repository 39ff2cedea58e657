using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Branchgate.Appliance.Api;

/// <summary>
/// The management socket's file around Kestrel's bind: before it, the directory exists (0750, the API's group) and no
/// stale socket is left; after it, the socket is 0660 and belongs to the group. A live socket means another
/// `branchgate serve` runs: start fails rather than take its socket away. Then <c>prepared</c> runs (the setup token
/// goes into that directory).
/// </summary>
internal sealed class SocketAccess(string socketPath, string groupName, ILogger logger, Action prepared) : IHostedLifecycleService
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;

    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite
        | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException();
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(socketPath))!;
        var groupId = UnixGroupAccess.FindGroupId(groupName);
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, DirectoryMode);
            if (groupId is { } gid)
            {
                UnixGroupAccess.SetGroup(directory, gid);
            }
        }

        if (File.Exists(socketPath) || Directory.Exists(socketPath))
        {
            if (IsLive(socketPath))
            {
                throw new IOException($"{socketPath}: another process serves the management API there");
            }

            File.Delete(socketPath);
            ManagementApiLog.StaleSocketRemoved(logger, socketPath);
        }

        prepared();

        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException();
        }

        File.SetUnixFileMode(socketPath, SocketMode);
        if (UnixGroupAccess.FindGroupId(groupName) is { } gid)
        {
            UnixGroupAccess.SetGroup(socketPath, gid);
            ManagementApiLog.Listening(logger, socketPath, groupName);
        }
        else
        {
            ManagementApiLog.GroupMissing(logger, groupName, socketPath);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static bool IsLive(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
