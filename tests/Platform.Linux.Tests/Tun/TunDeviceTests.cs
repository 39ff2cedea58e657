using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Tun;

namespace Branchgate.Platform.Linux.Tests.Tun;

/// <summary>A real TUN in a namespace of its own, with real sockets on the other side of it.</summary>
public class TunDeviceTests
{
    private const int Offset = 32;

    [Fact]
    public void A_name_pattern_is_resolved_by_the_kernel()
    {
        using var ns = new NetNs("tunname");
        using var tun = ns.Run(() => TunDevice.Open("bg%d"));

        Assert.Equal("bg0", tun.Name);
        Assert.Equal("bg0", ns.IpJson("link show bg0")[0].GetProperty("ifname").GetString());
        Assert.Equal(TunOffloads.None, tun.Offloads);
        Assert.True(tun.IsAttached());
    }

    [Theory]
    [InlineData("abcdefghijklmnop")] // 16 bytes
    [InlineData("ääääääää")] // 8 characters, 16 bytes of UTF-8
    [InlineData("")]
    [InlineData("bg/0")]
    [InlineData("bg 0")]
    [InlineData("..")]
    public void Bad_names_are_refused_before_any_system_call(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => TunDevice.Open(name));
        Assert.Equal("name", e.ParamName);
        if (name.Length > 10)
        {
            Assert.Contains("16 bytes", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Attaching_with_conflicting_flags_or_to_a_busy_or_foreign_interface_fails_clearly()
    {
        using var ns = new NetNs("tunflags");
        ns.Exec("ip link add bgbr type bridge");
        var foreign = Assert.Throws<LinuxException>(() => ns.Run(() => TunDevice.Open("bgbr")));
        Assert.Equal(Errno.EINVAL, foreign.Errno);
        Assert.Contains("TUNSETIFF bgbr", foreign.Message, StringComparison.Ordinal);
        Assert.Contains("not a TUN", foreign.Message, StringComparison.Ordinal);

        using var queue1 = ns.Run(() => TunDevice.Open("bgq", TunOptions.MultiQueue | TunOptions.VnetHeader));
        using var queue2 = ns.Run(() => TunDevice.Open("bgq", TunOptions.MultiQueue | TunOptions.VnetHeader));
        var info = ns.IpJson("-d link show bgq")[0].GetProperty("linkinfo").GetProperty("info_data");
        Assert.True(info.GetProperty("multi_queue").GetBoolean());
        Assert.Equal(2, info.GetProperty("numqueues").GetInt32());
        var single = Assert.Throws<LinuxException>(() => ns.Run(() => TunDevice.Open("bgq", TunOptions.VnetHeader)));
        Assert.Equal(Errno.EINVAL, single.Errno);
        Assert.Contains("multi-queue", single.Message, StringComparison.Ordinal);

        using var owner = ns.Run(() => TunDevice.Open("bgs"));
        var busy = Assert.Throws<LinuxException>(() => ns.Run(() => TunDevice.Open("bgs")));
        Assert.Equal(Errno.EBUSY, busy.Errno);
        Assert.Contains("already attached", busy.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mtu_and_link_state_are_set_by_ioctl()
    {
        using var ns = new NetNs("tunlink");
        using var tun = ns.Run(() => TunDevice.Open("bgl"));

        Assert.Equal(1500, tun.GetMtu());
        tun.SetMtu(1420);
        Assert.Equal(1420, tun.GetMtu());
        Assert.Equal(1420, ns.IpJson("link show bgl")[0].GetProperty("mtu").GetInt32());
        Assert.Throws<ArgumentOutOfRangeException>(() => tun.SetMtu(67));

        Assert.False(tun.IsLinkUp());
        tun.SetLinkUp(true);
        Assert.True(tun.IsLinkUp());
        Assert.Contains("UP", Flags(ns, "bgl"));
        tun.SetLinkUp(false);
        Assert.False(tun.IsLinkUp());
        Assert.DoesNotContain("UP", Flags(ns, "bgl"));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Udp_from_a_socket_is_read_from_the_tun_and_a_written_reply_reaches_the_socket(bool vnet, bool ipv6)
    {
        using var ns = new NetNs("tunudp");
        using var tun = ns.Run(() => TunDevice.Open("bgu", vnet ? TunOptions.VnetHeader : TunOptions.None));
        if (vnet)
        {
            Assert.True(tun.Offloads.HasFlag(TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6), tun.Offloads.ToString());
        }

        var (local, remote) = Configure(ns, "bgu", ipv6, "66");
        UdpRoundTrip(ns, tun, local, remote);
        if (vnet)
        {
            // The local stack leaves the checksum to the "hardware": we completed it.
            Assert.True(tun.Counters.ChecksumsCompleted > 0);
        }
    }

    [Fact]
    public void A_tun_moved_to_another_namespace_keeps_working_through_the_same_descriptor()
    {
        using var home = new NetNs("tunhome");
        using var away = new NetNs("tunaway");
        using var tun = home.Run(() => TunDevice.Open("bgm", TunOptions.VnetHeader));

        home.Exec($"ip link set bgm netns {away.Name}");

        Assert.DoesNotContain(home.IpJson("link show").EnumerateArray(), l => l.GetProperty("ifname").GetString() == "bgm");
        var (local, remote) = Configure(away, "bgm", ipv6: false, "67");
        UdpRoundTrip(away, tun, local, remote);
        Assert.True(tun.IsAttached());

        // Link control stays in the namespace the device was opened in, where the interface no longer is.
        var e = Assert.Throws<LinuxException>(() => tun.GetMtu());
        Assert.Equal(Errno.ENODEV, e.Errno);
        Assert.Contains("namespace", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_the_interface_is_reported_to_a_blocked_reader_and_to_writers()
    {
        using var ns = new NetNs("tundel");
        using var tun = ns.Run(() => TunDevice.Open("bgd", TunOptions.VnetHeader));
        var reader = BlockedRead(tun, 30_000);
        await Task.Delay(200);

        ns.Exec("ip link del bgd");

        var e = await reader.WaitAsync(TimeSpan.FromSeconds(5));
        var removed = Assert.IsType<TunRemovedException>(e);
        Assert.Contains("bgd", removed.Message, StringComparison.Ordinal);
        Assert.False(tun.IsAttached());
        var packet = Packets.Udp(Packets.V4A, Packets.V4B, 1, 2, [1, 2, 3]);
        Assert.Throws<TunRemovedException>(() => tun.WriteBatch([packet], [packet.Length], 0));
        Assert.Throws<TunRemovedException>(() => tun.ReadBatch(Buffers(1), new int[1], 0, 0));
    }

    [Fact]
    public async Task Deleting_the_namespace_the_interface_was_moved_to_is_reported()
    {
        using var home = new NetNs("tunhome");
        var away = new NetNs("tunaway");
        using var tun = home.Run(() => TunDevice.Open("bgn"));
        home.Exec($"ip link set bgn netns {away.Name}");
        var reader = BlockedRead(tun, 30_000);
        await Task.Delay(200);

        away.Dispose();

        Assert.IsType<TunRemovedException>(await reader.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Dispose_unblocks_a_blocked_read()
    {
        using var ns = new NetNs("tundisp");
        var tun = ns.Run(() => TunDevice.Open("bgx"));
        var reader = BlockedRead(tun, -1);
        await Task.Delay(200);

        tun.Dispose();

        Assert.IsType<ObjectDisposedException>(await reader.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.DoesNotContain(ns.IpJson("link show").EnumerateArray(), l => l.GetProperty("ifname").GetString() == "bgx");
    }

    [Fact]
    public void A_packet_larger_than_the_read_buffer_is_dropped_and_counted()
    {
        using var ns = new NetNs("tuntrunc");
        using var tun = ns.Run(() => TunDevice.Open("bgt"));
        var (_, remote) = Configure(ns, "bgt", ipv6: false, "69");
        using var socket = ns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        socket.SendTo(new byte[1000], new IPEndPoint(remote, 6000));
        socket.SendTo(new byte[100], new IPEndPoint(remote, 6000));

        // read(2) on a TUN truncates silently; the IP length field gives it away.
        var received = ReadUdp(tun, remote, 6000, 1, out _, batch: 4, size: Offset + 500);

        Assert.Equal(128, Assert.Single(received).Length);
        Assert.Equal(1, tun.Counters.ReadDrops);
    }

    [Fact]
    public void Deleting_the_namespace_a_tun_was_opened_in_does_not_remove_it_while_the_descriptor_is_open()
    {
        // The descriptor's socket holds a reference to the namespace it was opened in: the namespace (and the TUN
        // in it) lives on, nameless, until the descriptor is closed. A device must not count on being told.
        var ns = new NetNs("tunpin");
        using var tun = ns.Run(() => TunDevice.Open("bgp"));

        ns.Dispose();
        Thread.Sleep(500);

        Assert.True(tun.IsAttached());
        Assert.Equal(0, tun.ReadBatch(Buffers(1), new int[1], 0, 0));
    }

    [Fact]
    public void Writes_to_a_down_interface_are_dropped_and_counted_not_thrown()
    {
        using var ns = new NetNs("tundown");
        using var tun = ns.Run(() => TunDevice.Open("bgw", TunOptions.VnetHeader));
        var payload = new byte[1000];
        var flow = Enumerable.Range(0, 5)
            .Select(i => Packets.Tcp(Packets.V4A, Packets.V4B, 1000, 2000, (uint)(i * 1000), 1, Packets.FlagAck, payload, id: (ushort)i))
            .ToArray();
        var buffers = flow.Select(p => new Memory<byte>(p)).ToArray();

        // The kernel answers EIO while the link is down: the coalesced super-packet is refused, then each packet.
        Assert.Equal(0, tun.WriteBatch(buffers, flow.Select(p => p.Length).ToArray(), 0));

        Assert.Equal(5, tun.Counters.WriteDrops);
        Assert.Equal(0, tun.Counters.CoalescedWrites);
        Assert.True(tun.IsAttached());
    }

    [Fact]
    public void A_udp_gso_send_arrives_as_a_super_packet_and_is_read_as_datagrams()
    {
        using var ns = new NetNs("tunuso");
        using var tun = ns.Run(() => TunDevice.Open("bgg", TunOptions.VnetHeader));
        Assert.True(tun.Offloads.HasFlag(TunOffloads.Uso4 | TunOffloads.Uso6), tun.Offloads.ToString());
        var (local, remote) = Configure(ns, "bgg", ipv6: false, "68");
        using var socket = ns.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(local, 5000));
            s.SetRawSocketOption(17, 103, BitConverter.GetBytes(1200)); // SOL_UDP, UDP_SEGMENT
            return s;
        });
        var payload = new byte[(10 * 1200) + 100];
        new Random(5).NextBytes(payload);

        socket.SendTo(payload, new IPEndPoint(remote, 6000));

        // Batches of 4: the 11 segments of the one super-packet are handed out over three calls.
        var received = ReadUdp(tun, remote, 6000, 11, out int largestBatch, batch: 4);
        Assert.Equal(4, largestBatch);
        Assert.Equal(11, received.Count);
        Assert.All(received, p => Assert.True(Packets.TransportChecksumValid(p) && Packets.IPv4HeaderValid(p)));
        Assert.Equal(payload, received.SelectMany(Packets.Payload).ToArray());
        Assert.Equal(1, tun.Counters.SuperPacketsRead);
        Assert.Equal(11, tun.Counters.SegmentsSplit);
    }

    internal static (IPAddress Local, IPAddress Remote) Configure(NetNs ns, string name, bool ipv6, string net)
    {
        if (ipv6)
        {
            ns.Exec($"ip addr add fd{net}::1/64 dev {name} nodad && ip link set {name} up");
            return (IPAddress.Parse($"fd{net}::1"), IPAddress.Parse($"fd{net}::2"));
        }

        ns.Exec($"ip addr add 10.{net}.0.1/24 dev {name} && ip link set {name} up");
        return (IPAddress.Parse($"10.{net}.0.1"), IPAddress.Parse($"10.{net}.0.2"));
    }

    internal static Memory<byte>[] Buffers(int count, int size = 2048) =>
        Enumerable.Range(0, count).Select(_ => new Memory<byte>(new byte[size])).ToArray();

    private static void UdpRoundTrip(NetNs ns, TunDevice tun, IPAddress local, IPAddress remote)
    {
        using var socket = ns.Run(() =>
        {
            var s = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(local, 5000));
            return s;
        });
        var sent = Enumerable.Range(0, 8).Select(i => Encoding.ASCII.GetBytes($"ping {i} " + new string('x', i * 100))).ToList();
        foreach (var datagram in sent)
        {
            socket.SendTo(datagram, new IPEndPoint(remote, 6000));
        }

        var received = ReadUdp(tun, remote, 6000, sent.Count, out int largestBatch);

        Assert.True(largestBatch > 1, "one ReadBatch should return several queued packets");
        for (int i = 0; i < sent.Count; i++)
        {
            var p = received[i];
            Assert.Equal(p.Length, Packets.IpLength(p));
            Assert.Equal(17, Packets.Protocol(p));
            int ip = Packets.IpHeaderLength(p);
            var (source, destination) = Packets.IsIPv6(p)
                ? (new IPAddress(p.AsSpan(8, 16)), new IPAddress(p.AsSpan(24, 16)))
                : (new IPAddress(p.AsSpan(12, 4)), new IPAddress(p.AsSpan(16, 4)));
            Assert.Equal(local, source);
            Assert.Equal(remote, destination);
            Assert.Equal(5000, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(ip)));
            Assert.Equal(8 + sent[i].Length, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(ip + 4)));
            Assert.True(Packets.TransportChecksumValid(p), "UDP checksum");
            Assert.True(Packets.IsIPv6(p) || Packets.IPv4HeaderValid(p), "IPv4 header checksum");
            Assert.Equal(sent[i], Packets.Payload(p));
        }

        var reply = Packets.Udp(remote, local, 6000, 5000, "pong"u8);
        var buffers = Buffers(1);
        reply.CopyTo(buffers[0][Offset..]);
        Assert.Equal(1, tun.WriteBatch(buffers, [reply.Length], Offset));

        socket.ReceiveTimeout = 5000;
        var answer = new byte[100];
        EndPoint from = new IPEndPoint(local.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        int n = socket.ReceiveFrom(answer, ref from);
        Assert.Equal("pong", Encoding.ASCII.GetString(answer, 0, n));
        Assert.Equal(new IPEndPoint(remote, 6000), from);
    }

    /// <summary>Reads until <paramref name="want"/> UDP packets to destination:port came (other traffic, e.g. IPv6 multicast, is skipped).</summary>
    private static List<byte[]> ReadUdp(TunDevice tun, IPAddress destination, int port, int want, out int largestBatch, int batch = 64, int size = 2048)
    {
        var buffers = Buffers(batch, size);
        var sizes = new int[batch];
        var result = new List<byte[]>();
        largestBatch = 0;
        long deadline = Environment.TickCount64 + 10_000;
        while (result.Count < want && Environment.TickCount64 < deadline)
        {
            int n = tun.ReadBatch(buffers, sizes, Offset, 1000);
            largestBatch = Math.Max(largestBatch, n);
            for (int i = 0; i < n; i++)
            {
                var p = buffers[i].Slice(Offset, sizes[i]).ToArray();
                bool ipv6 = Packets.IsIPv6(p);
                var to = ipv6 ? new IPAddress(p.AsSpan(24, 16)) : new IPAddress(p.AsSpan(16, 4));
                int ip = Packets.IpHeaderLength(p);
                if (Packets.Protocol(p) == 17 && to.Equals(destination) && BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(ip + 2)) == port)
                {
                    result.Add(p);
                }
            }
        }

        return result;
    }

    private static Task<Exception?> BlockedRead(TunDevice tun, int timeout) => Task.Factory.StartNew(
        () =>
        {
            try
            {
                var buffers = Buffers(4);
                var sizes = new int[4];
                long deadline = Environment.TickCount64 + 30_000;
                while (Environment.TickCount64 < deadline)
                {
                    tun.ReadBatch(buffers, sizes, 0, timeout);
                }

                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        },
        TaskCreationOptions.LongRunning);

    private static List<string?> Flags(NetNs ns, string name) =>
        [.. ns.IpJson("link show " + name)[0].GetProperty("flags").EnumerateArray().Select(f => f.GetString())];
}
