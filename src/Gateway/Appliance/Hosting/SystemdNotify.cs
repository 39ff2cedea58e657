using System.Net.Sockets;
using System.Text;

namespace Branchgate.Appliance.Hosting;

/// <summary>
/// sd_notify(3) without libsystemd: one datagram of "KEY=VALUE" lines to the unix socket systemd named in
/// NOTIFY_SOCKET (a path, or "@name" for an abstract socket).
/// </summary>
public static class SystemdNotify
{
    public const string SocketVariable = "NOTIFY_SOCKET";

    /// <summary>Sends <paramref name="state"/>; false when the socket is gone or refuses (systemd restarting).</summary>
    public static bool Send(string socketPath, string state)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        var path = socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return socket.Send(Encoding.UTF8.GetBytes(state)) > 0;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
