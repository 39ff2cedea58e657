using Branchgate.Platform.Linux.Udp;
using static Branchgate.Platform.Linux.Tests.Udp.UdpTestKit;

namespace Branchgate.Platform.Linux.Tests.Udp;

public class UdpBatchingTests
{
    [Fact]
    public void Sendmmsg_and_recvmmsg_move_64_datagrams_in_one_call_each()
    {
        using var ns = new NetNs("udpmm");
        ns.Run(() =>
        {
            using var receiver = UdpSocket.Open(0, new UdpSocketOptions { Gro = false });
            using var sender = UdpSocket.Open(0, new UdpSocketOptions { Gso = false });
            using var outgoing = new UdpBatch(64, 2048);
            using var incoming = new UdpBatch(64, 2048);
            var destination = Loopback4(receiver.Port);
            for (int i = 0; i < 64; i++)
            {
                outgoing.Append(destination, Payload(100 + i, i));
            }

            long sendCalls = sender.SendCalls;
            sender.Send(outgoing);
            Assert.Equal(1, sender.SendCalls - sendCalls);

            // Let loopback finish queueing all 64 before the single receive call.
            Thread.Sleep(200);
            long receiveCalls = receiver.ReceiveCalls;
            int received = receiver.Receive(incoming, 1000);
            Assert.Equal(1, receiver.ReceiveCalls - receiveCalls);
            Assert.Equal(64, received);
            for (int i = 0; i < 64; i++)
            {
                Assert.Equal(Payload(100 + i, i), incoming.Data(i).ToArray());
                Assert.Equal(100 + i, incoming.SegmentSize(i));
                Assert.True(incoming.Endpoint(i).IsIPv4);
                Assert.Equal(sender.Port, incoming.Endpoint(i).Port);
                Assert.Equal([127, 0, 0, 1], incoming.Endpoint(i).SourceAddress.ToArray());
            }
        });
    }

    [Fact]
    public void Gso_send_reaches_a_Gro_receiver_coalesced_and_a_plain_receiver_as_datagrams()
    {
        using var ns = new NetNs("udpgso");
        ns.Run(() =>
        {
            using var coalescing = UdpSocket.Open(0);
            using var plain = UdpSocket.Open(0, new UdpSocketOptions { Gro = false });
            using var sender = UdpSocket.Open(0);
            Assert.True(sender.GsoEnabled, "this kernel takes UDP_SEGMENT");
            Assert.True(coalescing.GroEnabled, "this kernel takes UDP_GRO");
            Assert.False(plain.GroEnabled);
            var message = Payload(64 * 1024, 7);

            foreach (var receiver in new[] { coalescing, plain })
            {
                using var outgoing = new UdpBatch(64, 1200);
                var destination = Loopback4(receiver.Port);
                for (int offset = 0; offset < message.Length; offset += 1200)
                {
                    outgoing.Append(destination, message.AsSpan(offset, Math.Min(1200, message.Length - offset)));
                }

                Assert.Equal(55, outgoing.Count);
                long calls = sender.SendCalls;
                sender.Send(outgoing);
                Assert.Equal(1, sender.SendCalls - calls);

                using var incoming = new UdpBatch();
                var stream = new MemoryStream();
                int entries = 0;
                ReceiveBytes(receiver, incoming, message.Length, (data, segment) =>
                {
                    entries++;
                    stream.Write(data);
                    if (receiver == coalescing && data.Length > 1200)
                    {
                        Assert.Equal(1200, segment);
                    }
                    else
                    {
                        Assert.True(data.Length <= 1200);
                        Assert.Equal(data.Length, segment);
                    }
                });

                Assert.Equal(message, stream.ToArray());
                if (receiver == coalescing)
                {
                    // 54 x 1200 fill one GSO message (the 64 KiB IP limit), the last 736 bytes go in a second.
                    Assert.Equal(2, entries);
                }
                else
                {
                    Assert.Equal(55, entries);
                }
            }

            Assert.True(sender.GsoEnabled);
        });
    }

    [Fact]
    public void Gso_refused_on_first_use_is_switched_off_and_the_run_resent_as_datagrams()
    {
        using var ns = new NetNs("udpgsooff");
        ns.Run(() =>
        {
            using var receiver = UdpSocket.Open(0, new UdpSocketOptions { Gro = false });
            using var sender = UdpSocket.Open(0);
            Assert.True(sender.GsoEnabled);
            // SO_NO_CHECK: UDP without checksums, which the kernel's segmentation refuses with EINVAL.
            SetSockOptInt(sender, 1, 11, 1);
            using var outgoing = new UdpBatch(16, 1000);
            var destination = Loopback4(receiver.Port);
            for (int i = 0; i < 10; i++)
            {
                outgoing.Append(destination, Payload(1000, i));
            }

            sender.Send(outgoing);
            Assert.False(sender.GsoEnabled);

            using var incoming = new UdpBatch(16, 2048);
            int index = 0;
            ReceiveBytes(receiver, incoming, 10_000, (data, _) => Assert.Equal(Payload(1000, index++), data));
        });
    }

    [Fact]
    public void Gso_run_above_the_path_mtu_is_split_and_Gso_stays_on()
    {
        using var a = new NetNs("udpmtua");
        using var b = new NetNs("udpmtub");
        a.Exec($"ip link add va type veth peer name vb netns {b.Name} && ip addr add 10.78.0.1/24 dev va && ip link set va up");
        b.Exec("ip addr add 10.78.0.2/24 dev vb && ip link set vb up");
        using var receiver = b.Run(() => UdpSocket.Open(0, new UdpSocketOptions { Gro = false }));
        using var sender = a.Run(() => UdpSocket.Open(0));
        var destination = new UdpEndpoint([10, 78, 0, 2], receiver.Port);
        using var outgoing = new UdpBatch(16, 2000);

        // Confirm GSO with a run that fits the 1500-byte MTU, then send one that does not.
        for (int i = 0; i < 4; i++)
        {
            outgoing.Append(destination, Payload(1400, i));
        }

        sender.Send(outgoing);
        outgoing.Clear();
        for (int i = 0; i < 4; i++)
        {
            outgoing.Append(destination, Payload(1800, 10 + i));
        }

        sender.Send(outgoing);
        Assert.True(sender.GsoEnabled);

        using var incoming = new UdpBatch(16, 2048);
        var seen = new List<byte[]>();
        ReceiveBytes(receiver, incoming, (4 * 1400) + (4 * 1800), (data, _) => seen.Add(data));
        var expected = Enumerable.Range(0, 4).Select(i => Payload(1400, i))
            .Concat(Enumerable.Range(10, 4).Select(i => Payload(1800, i)));
        Assert.Equal(expected.Select(Convert.ToHexString).Order(), seen.Select(Convert.ToHexString).Order());
    }

    [Fact]
    public void Send_and_receive_batches_do_not_allocate()
    {
        using var ns = new NetNs("udpalloc");
        ns.Run(() =>
        {
            using var receiver = UdpSocket.Open(0);
            using var sender = UdpSocket.Open(0);
            using var outgoing = new UdpBatch(32, 1500);
            using var incoming = new UdpBatch(64);
            var destination = Loopback4(receiver.Port);

            void Round()
            {
                outgoing.Clear();
                for (int i = 0; i < 32; i++)
                {
                    outgoing.Append(destination, 1420).Fill((byte)i);
                }

                sender.Send(outgoing);
                int bytes = 0;
                while (bytes < 32 * 1420)
                {
                    int n = receiver.Receive(incoming, 2000);
                    if (n == 0)
                    {
                        throw new TimeoutException("datagrams lost on loopback");
                    }

                    for (int i = 0; i < n; i++)
                    {
                        bytes += incoming.Data(i).Length;
                    }
                }
            }

            for (int i = 0; i < 20; i++)
            {
                Round();
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++)
            {
                Round();
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        });
    }

    [Fact]
    public void Runs_group_only_equal_sizes_to_one_endpoint_with_the_same_source()
    {
        using var batch = new UdpBatch(16, 1500);
        var peer = new UdpEndpoint([192, 0, 2, 1], 51820);
        var pinned = peer;
        pinned.SetSource([10, 0, 0, 2], 3);
        int[] sizes = [1200, 1200, 800, 1200, 1200, 1300, 1300];
        foreach (int size in sizes)
        {
            batch.Append(peer, size);
        }

        batch.Append(pinned, 1300);
        batch.Append(pinned, 1300);

        int messages = batch.ComposeSend(0, 0, gso: true, noGsoBefore: 0, dualStack: true);
        int[] runs = [.. Enumerable.Range(0, messages).Select(batch.MessageEntries)];
        // [1200 1200 800]: a shorter datagram closes a run; [1200 1200]: a longer one starts the next;
        // [1300 1300] [1300 1300]: a different pinned source is a different message.
        Assert.Equal([3, 2, 2, 2], runs);

        int plain = batch.ComposeSend(0, 0, gso: false, noGsoBefore: 0, dualStack: true);
        Assert.Equal(batch.Count, plain);
    }
}
