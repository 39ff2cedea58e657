using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Branchgate.Interop.Tests.Faults;

/// <summary>
/// A UDP socket created inside a network namespace the test made (a thread enters it with setns, creates and binds
/// the socket, and leaves; the socket stays in that namespace whichever thread uses it).
/// </summary>
public static class NamespaceUdp
{
    public static Socket Bind(string ns, IPEndPoint local)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using (var handle = File.OpenHandle("/var/run/netns/" + ns))
                {
                    if (SetNs(handle.DangerousGetHandle().ToInt32(), 0x40000000) != 0)
                    {
                        throw new InvalidOperationException($"setns {ns} failed: errno {Marshal.GetLastPInvokeError()}");
                    }
                }

                socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                socket.Bind(local);
            }
            catch (Exception e)
            {
                socket?.Dispose();
                failure = e;
            }
        });
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException("binding a socket in " + ns + " did not finish");
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        return socket!;
    }

    /// <summary>Every datagram that arrives within <paramref name="window"/> (the socket is read until it is quiet).</summary>
    public static List<byte[]> ReceiveAll(Socket socket, TimeSpan window)
    {
        var received = new List<byte[]>();
        var buffer = new byte[2048];
        socket.ReceiveTimeout = 100;
        var deadline = DateTime.UtcNow + window;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                int n = socket.Receive(buffer);
                received.Add(buffer[..n]);
            }
            catch (SocketException)
            {
                // the receive timeout: look at the deadline again
            }
        }

        return received;
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetNs(int fd, int type);
}
