using System.Net.Sockets;

namespace Branchgate.WebUi.Api;

/// <summary>
/// HTTP to the management API's unix socket: every connection, whatever host the request names, goes to the socket.
/// The socket's file mode and group are the permission (docs/management-api.md); the panel's user must be in the group.
/// </summary>
internal static class UnixSocketHttp
{
    public const string DefaultSocketPath = "/run/branchgate/api.sock";

    /// <summary>The host name in the request line; the socket ignores it.</summary>
    public static readonly Uri BaseAddress = new("http://branchgate/");

    public static SocketsHttpHandler CreateHandler(string socketPath) => new()
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };
}
