using System.Net;
using System.Net.Sockets;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Udp;

namespace Branchgate.Platform.Linux.Tests.Udp;

/// <summary>Shared pieces of the UDP tests: peers, payloads and bounded receive loops.</summary>
internal static class UdpTestKit
{
    public static UdpEndpoint Loopback4(ushort port) => new([127, 0, 0, 1], port);

    public static UdpEndpoint Loopback6(ushort port) => new(IPAddress.IPv6Loopback.GetAddressBytes(), port);

    /// <summary>Deterministic bytes that differ per datagram, so reordering or mixing shows.</summary>
    public static byte[] Payload(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A plain .NET socket as the peer (the kernel's own view, independent of our code).</summary>
    public static Socket Peer(AddressFamily family, IPAddress bindTo)
    {
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        socket.Bind(new IPEndPoint(bindTo, 0));
        return socket;
    }

    public static ushort PortOf(Socket socket) => (ushort)((IPEndPoint)socket.LocalEndPoint!).Port;

    /// <summary>Receives one datagram at the peer; returns the data and who sent it.</summary>
    public static (byte[] Data, IPEndPoint From) PeerReceive(Socket socket)
    {
        var buffer = new byte[70_000];
        EndPoint from = socket.AddressFamily == AddressFamily.InterNetwork
            ? new IPEndPoint(IPAddress.Any, 0)
            : new IPEndPoint(IPAddress.IPv6Any, 0);
        int n = socket.ReceiveFrom(buffer, ref from);
        var sender = (IPEndPoint)from;
        if (sender.Address.IsIPv4MappedToIPv6)
        {
            sender = new IPEndPoint(sender.Address.MapToIPv4(), sender.Port);
        }

        return (buffer[..n], sender);
    }

    /// <summary>
    /// Receives until <paramref name="bytes"/> bytes arrived (bounded to 5 s); calls <paramref name="entry"/> for each
    /// received entry with its data and segment size.
    /// </summary>
    public static void ReceiveBytes(UdpSocket socket, UdpBatch batch, int bytes, Action<byte[], int> entry)
    {
        long deadline = Environment.TickCount64 + 5000;
        int total = 0;
        while (total < bytes)
        {
            int wait = (int)(deadline - Environment.TickCount64);
            Assert.True(wait > 0, $"received {total} of {bytes} bytes before the deadline");
            int n = socket.Receive(batch, wait);
            for (int i = 0; i < n; i++)
            {
                Assert.False(batch.IsTruncated(i));
                entry(batch.Data(i).ToArray(), batch.SegmentSize(i));
                total += batch.Data(i).Length;
            }
        }

        Assert.Equal(bytes, total);
    }

    public static unsafe int GetSockOptInt(UdpSocket socket, int level, int option)
    {
        int value = 0;
        uint length = sizeof(int);
        Assert.Equal(0, Libc.GetSockOpt(socket.Handle.Value, level, option, &value, &length));
        return value;
    }

    public static unsafe void SetSockOptInt(UdpSocket socket, int level, int option, int value) =>
        Assert.Equal(0, Libc.SetSockOpt(socket.Handle.Value, level, option, &value, sizeof(int)));
}
