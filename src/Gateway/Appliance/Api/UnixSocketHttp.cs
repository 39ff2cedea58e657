using System.Net.Sockets;

namespace Branchgate.Appliance.Api;

/// <summary>
/// HTTP to the management API's unix socket: every connection, whatever host the request names, goes to the socket.
/// The socket's file mode and group are the permission (docs/management-api.md). One piece for every client of the
/// API: the CLI, the admin panel (which compiles this file in, as it does ApiDtos.cs) and the tests.
/// </summary>
public static class UnixSocketHttp
{
    /// <summary>Where `branchgate serve` listens unless told otherwise.</summary>
    public const string DefaultSocketPath = "/run/branchgate/api.sock";

    /// <summary>The host name in the request line; the socket ignores it.</summary>
    public static readonly Uri BaseAddress = new("http://branchgate/");

    /// <summary>A handler whose every connection is a new stream on <paramref name="socketPath"/>.</summary>
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
