using System.Net;
using System.Net.Sockets;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Udp;
using static Branchgate.Platform.Linux.Tests.Udp.UdpTestKit;

namespace Branchgate.Platform.Linux.Tests.Udp;

public class UdpSocketTests
{
    private const int SOL_SOCKET = 1;
    private const int SO_MARK = 36;

    [Fact]
    public void Port_0_reports_the_port_the_kernel_chose()
    {
        using var ns = new NetNs("udpport");
        ns.Run(() =>
        {
            using var socket = UdpSocket.Open(0);
            Assert.True(socket.IsDualStack);
            Assert.NotEqual(0, socket.Port);
            Assert.Contains($" *:{socket.Port} ", ns.Exec("ss -Huln")); // ss shows a dual-stack socket as *

            using var v4 = UdpSocket.Open(0, new UdpSocketOptions { IPv4Only = true });
            Assert.False(v4.IsDualStack);
            Assert.Contains($"0.0.0.0:{v4.Port} ", ns.Exec("ss -Huln"));

            // The kernel's view of the port: a peer's datagram reaches it and our reply comes from it.
            using var peer = Peer(AddressFamily.InterNetwork, IPAddress.Loopback);
            peer.SendTo([1, 2, 3], new IPEndPoint(IPAddress.Loopback, socket.Port));
            using var batch = new UdpBatch();
            Assert.Equal(1, socket.Receive(batch, 2000));
            var back = batch.Endpoint(0);
            batch.Clear();
            batch.Append(back, [4, 5]);
            socket.Send(batch);
            var (data, from) = PeerReceive(peer);
            Assert.Equal([4, 5], data);
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, socket.Port), from);
        });
    }

    [Fact]
    public void Ipv4_and_ipv6_peers_share_the_dual_stack_socket_and_ipv4_stays_ipv4()
    {
        using var ns = new NetNs("udpdual");
        ns.Run(() =>
        {
            using var socket = UdpSocket.Open(0);
            using var peer4 = Peer(AddressFamily.InterNetwork, IPAddress.Loopback);
            using var peer6 = Peer(AddressFamily.InterNetworkV6, IPAddress.IPv6Loopback);
            peer4.SendTo("four"u8.ToArray(), new IPEndPoint(IPAddress.Loopback, socket.Port));
            peer6.SendTo("six"u8.ToArray(), new IPEndPoint(IPAddress.IPv6Loopback, socket.Port));

            using var batch = new UdpBatch();
            var peers = new List<UdpEndpoint>();
            long deadline = Environment.TickCount64 + 5000;
            while (peers.Count < 2 && Environment.TickCount64 < deadline)
            {
                int n = socket.Receive(batch, 1000);
                for (int i = 0; i < n; i++)
                {
                    var endpoint = batch.Endpoint(i);
                    peers.Add(endpoint);
                    string text = System.Text.Encoding.ASCII.GetString(batch.Data(i));
                    Assert.Equal(endpoint.IsIPv4 ? "four" : "six", text);
                    Assert.Equal(endpoint.IsIPv4 ? 4 : 16, endpoint.Address.Length);
                    Assert.Equal(endpoint.Address.ToArray(), endpoint.SourceAddress.ToArray());
                    Assert.Equal(1, endpoint.SourceIfIndex); // lo
                }
            }

            var four = Assert.Single(peers, p => p.IsIPv4);
            var six = Assert.Single(peers, p => p.IsIPv6);
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, PortOf(peer4)), four.ToIPEndPoint());
            Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, PortOf(peer6)), six.ToIPEndPoint());
            Assert.Equal(AddressFamily.InterNetwork, four.Family);

            batch.Clear();
            batch.Append(four, "to four"u8);
            batch.Append(six, "to six"u8);
            socket.Send(batch);
            Assert.Equal("to four"u8.ToArray(), PeerReceive(peer4).Data);
            Assert.Equal("to six"u8.ToArray(), PeerReceive(peer6).Data);
        });
    }

    [Fact]
    public void Dual_stack_socket_still_serves_ipv4_when_ipv6_is_disabled_by_sysctl()
    {
        using var ns = new NetNs("udpno6");
        ns.Exec("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.lo.disable_ipv6=1");
        ns.Run(() =>
        {
            using var socket = UdpSocket.Open(0);
            Assert.True(socket.IsDualStack);
            using var peer = Peer(AddressFamily.InterNetwork, IPAddress.Loopback);
            peer.SendTo([9], new IPEndPoint(IPAddress.Loopback, socket.Port));
            using var batch = new UdpBatch();
            Assert.Equal(1, socket.Receive(batch, 2000));
            var back = batch.Endpoint(0);
            Assert.True(back.IsIPv4);
            batch.Clear();
            batch.Append(back, [8]);
            socket.Send(batch);
            Assert.Equal([8], PeerReceive(peer).Data);
        });
    }

    [Fact]
    public void Mark_is_set_at_open_and_after_and_steers_routing()
    {
        using var ns = new NetNs("udpmark");
        ns.Exec("ip link add br0 type bridge && ip addr add 10.79.0.1/24 dev br0 && ip link set br0 up");
        ns.Exec("ip rule add pref 100 fwmark 0x1234 prohibit");
        ns.Run(() =>
        {
            using var socket = UdpSocket.Open(0);
            Assert.Equal(0, GetSockOptInt(socket, SOL_SOCKET, SO_MARK));
            using var batch = new UdpBatch(4, 100);
            var beyond = new UdpEndpoint([10, 79, 0, 5], 9);
            batch.Append(beyond, [1]);
            socket.Send(batch);

            socket.Mark = 0x1234;
            Assert.Equal(0x1234u, socket.Mark);
            Assert.Equal(0x1234, GetSockOptInt(socket, SOL_SOCKET, SO_MARK));
            var refused = Assert.Throws<LinuxException>(() => socket.Send(batch));
            Assert.Equal(Errno.EACCES, refused.Errno);

            socket.Mark = 0;
            Assert.Equal(0, GetSockOptInt(socket, SOL_SOCKET, SO_MARK));
            socket.Send(batch);

            using var marked = UdpSocket.Open(0, new UdpSocketOptions { Mark = 0x1234 });
            Assert.Equal(0x1234, GetSockOptInt(marked, SOL_SOCKET, SO_MARK));
        });
    }

    [Fact]
    public void Buffers_are_at_least_what_was_asked_beyond_the_unprivileged_cap()
    {
        using var ns = new NetNs("udpbuf");
        ns.Run(() =>
        {
            const int asked = 16 << 20; // far above the default rmem_max/wmem_max (208 KiB)
            using var socket = UdpSocket.Open(0, new UdpSocketOptions { BufferBytes = asked });
            Assert.True(socket.ReceiveBufferSize >= asked, $"SO_RCVBUF {socket.ReceiveBufferSize}");
            Assert.True(socket.SendBufferSize >= asked, $"SO_SNDBUF {socket.SendBufferSize}");
        });
    }

    [Fact]
    public async Task Dispose_unblocks_a_blocked_receive_within_a_second()
    {
        using var ns = new NetNs("udpdisp");
        using var socket = ns.Run(() => UdpSocket.Open(0));
        using var batch = new UdpBatch();
        var receive = Task.Run(() => socket.Receive(batch));
        await Task.Delay(300);
        Assert.False(receive.IsCompleted);

        long started = Environment.TickCount64;
        socket.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => receive.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(Environment.TickCount64 - started < 1000);
        Assert.True(socket.Handle.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => socket.Receive(batch, 0));
        Assert.Throws<ObjectDisposedException>(() => socket.Mark = 1);
    }

    [Fact]
    public async Task A_full_send_buffer_gives_up_after_the_send_timeout_and_Dispose_ends_the_wait()
    {
        using var ns = new NetNs("udpfull");
        // A slow qdisc keeps sent datagrams charged to the socket's small send buffer, so it fills and stays full.
        ns.Exec("ip link add va type veth peer name vb && ip addr add 10.80.0.1/24 dev va && ip link set va up && ip link set vb up");
        ns.Exec("ip neigh add 10.80.0.2 lladdr 02:00:00:00:00:02 dev va && tc qdisc add dev va root tbf rate 8kbit burst 1600 limit 10000000");
        using var socket = ns.Run(() => UdpSocket.Open(0, new UdpSocketOptions { BufferBytes = 4096, SendTimeoutMilliseconds = 300 }));
        using var batch = new UdpBatch(64, 1500);
        for (int i = 0; i < 64; i++)
        {
            batch.Append(new UdpEndpoint([10, 80, 0, 2], 9), 1400);
        }

        long started = Environment.TickCount64;
        var full = Assert.Throws<LinuxException>(() => socket.Send(batch));
        Assert.Equal(Errno.EAGAIN, full.Errno);
        Assert.Contains("datagrams not sent", full.Message);
        Assert.InRange(Environment.TickCount64 - started, 250, 5000);

        using var patient = ns.Run(() => UdpSocket.Open(0, new UdpSocketOptions { BufferBytes = 4096, SendTimeoutMilliseconds = 60_000 }));
        var send = Task.Run(() => patient.Send(batch));
        await Task.Delay(300);
        Assert.False(send.IsCompleted);
        patient.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => send.WaitAsync(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Receive_times_out_with_zero_datagrams()
    {
        using var ns = new NetNs("udptime");
        ns.Run(() =>
        {
            using var socket = UdpSocket.Open(0);
            using var batch = new UdpBatch();
            long started = Environment.TickCount64;
            Assert.Equal(0, socket.Receive(batch, 200));
            Assert.Equal(0, batch.Count);
            Assert.InRange(Environment.TickCount64 - started, 150, 2000);
        });
    }

    [Fact]
    public void Refused_datagrams_throw_naming_the_request_and_the_rest_of_the_batch_still_goes()
    {
        using var ns = new NetNs("udpbad");
        ns.Run(() =>
        {
            using var socket = UdpSocket.Open(0);
            using var peer = Peer(AddressFamily.InterNetwork, IPAddress.Loopback);
            using var batch = new UdpBatch(4, UdpBatch.MaxDatagramSize);

            // No IPv6 route in a namespace that only has lo.
            batch.Append(UdpEndpoint.Parse("[2001:db8::1]:9"), [1]);
            batch.Append(new UdpEndpoint([127, 0, 0, 1], PortOf(peer)), "after"u8);
            var unreachable = Assert.Throws<LinuxException>(() => socket.Send(batch));
            Assert.Equal(Errno.ENETUNREACH, unreachable.Errno);
            Assert.Contains("sendmmsg 1 bytes to [2001:db8::1]:9", unreachable.Message);
            Assert.Equal("after"u8.ToArray(), PeerReceive(peer).Data);

            // Above the largest IPv4 UDP payload (65507).
            batch.Clear();
            batch.Append(new UdpEndpoint([127, 0, 0, 1], PortOf(peer)), 65_508);
            var oversize = Assert.Throws<LinuxException>(() => socket.Send(batch));
            Assert.Equal(Errno.EMSGSIZE, oversize.Errno);
            Assert.Contains("sendmmsg 65508 bytes to 127.0.0.1:", oversize.Message);

            // An IPv6 peer on the IPv4-only socket.
            using var v4 = UdpSocket.Open(0, new UdpSocketOptions { IPv4Only = true });
            batch.Clear();
            batch.Append(new UdpEndpoint(IPAddress.IPv6Loopback.GetAddressBytes(), 9), [1]);
            var family = Assert.Throws<LinuxException>(() => v4.Send(batch));
            Assert.Equal(Errno.EAFNOSUPPORT, family.Errno);

            // A port in use.
            var taken = Assert.Throws<LinuxException>(() => UdpSocket.Open(socket.Port));
            Assert.Equal(Errno.EADDRINUSE, taken.Errno);
            Assert.Equal($"bind UDP [::]:{socket.Port}", taken.Request);

            // Programmer errors.
            using var small = new UdpBatch(4, 1500);
            Assert.Throws<ArgumentOutOfRangeException>(() => small.Append(UdpTestKit.Loopback4(9), 1501));
            Assert.Throws<ArgumentException>(() => socket.Receive(small, 0));
            Assert.Throws<ArgumentException>(() => small.Append(default, 1));
        });
    }

    [Fact]
    public void Rebind_moves_to_a_new_port_and_ends_the_old_socket()
    {
        using var ns = new NetNs("udprebind");
        ns.Run(() =>
        {
            var first = UdpSocket.Open(0, new UdpSocketOptions { Mark = 7 });
            var same = first.Rebind(first.Port);
            Assert.Same(first, same);

            using var second = first.Rebind(0);
            Assert.NotEqual(first.Port, second.Port);
            Assert.True(first.Handle.IsClosed);
            Assert.Equal(7u, second.Mark);
            Assert.Equal(7, GetSockOptInt(second, SOL_SOCKET, SO_MARK));
            Assert.DoesNotContain($":{first.Port} ", ns.Exec("ss -Huln"));

            // The old port is free again: a new socket can take it.
            using var third = UdpSocket.Open(first.Port);
            Assert.Equal(first.Port, third.Port);

            // A taken port fails and leaves the socket as it was.
            var refused = Assert.Throws<LinuxException>(() => second.Rebind(third.Port));
            Assert.Equal(Errno.EADDRINUSE, refused.Errno);
            Assert.False(second.Handle.IsClosed);
        });
    }
}
