using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Branchgate.Platform.Linux.Tun;
using Xunit.Abstractions;

namespace Branchgate.Platform.Linux.Tests.Tun;

/// <summary>
/// The proof that the kernel accepts what we split and coalesce: two namespaces, each with a TUN opened with
/// virtio headers and offloads, joined only by this test forwarding packets between the two descriptors (split on
/// read, coalesce on write). A TCP transfer of several MB goes from A to B and must arrive byte for byte.
/// </summary>
public class TunOffloadEndToEndTests(ITestOutputHelper output)
{
    private const int Offset = 16;
    private const int Batch = 128;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Tcp_through_a_tun_to_tun_loop_with_offloads_arrives_intact(bool ipv6)
    {
        using var nsA = new NetNs("tcpa");
        using var nsB = new NetNs("tcpb");
        using var tunA = nsA.Run(() => TunDevice.Open("bga", TunOptions.VnetHeader));
        using var tunB = nsB.Run(() => TunDevice.Open("bgb", TunOptions.VnetHeader));
        var (addressA, addressB) = ipv6
            ? (IPAddress.Parse("fd81::1"), IPAddress.Parse("fd81::2"))
            : (IPAddress.Parse("10.81.0.1"), IPAddress.Parse("10.81.0.2"));
        int prefix = ipv6 ? 64 : 24;
        string nodad = ipv6 ? " nodad" : string.Empty;
        nsA.Exec($"ip addr add {addressA}/{prefix} dev bga{nodad} && ip link set bga up");
        nsB.Exec($"ip addr add {addressB}/{prefix} dev bgb{nodad} && ip link set bgb up");

        using var aToB = new Forwarder(tunA, tunB);
        using var bToA = new Forwarder(tunB, tunA);
        var data = RandomNumberGenerator.GetBytes(8 << 20);
        using var listener = nsB.Run(() =>
        {
            var s = new Socket(addressB.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(addressB, 7000));
            s.Listen(1);
            return s;
        });
        using var client = nsA.Run(() => new Socket(addressA.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        var receive = Receive(listener, timeout.Token);
        await client.ConnectAsync(new IPEndPoint(addressB, 7000), timeout.Token);
        await client.SendAsync(data, SocketFlags.None, timeout.Token);
        client.Shutdown(SocketShutdown.Send);
        var (hash, length) = await receive;

        Assert.Equal(data.Length, length);
        Assert.Equal(SHA256.HashData(data), hash);
        aToB.Stop();
        bToA.Stop();
        Assert.Null(aToB.Failure);
        Assert.Null(bToA.Failure);

        output.WriteLine($"offloads A {tunA.Offloads}, B {tunB.Offloads}");
        output.WriteLine(Describe("A", tunA.Counters));
        output.WriteLine(Describe("B", tunB.Counters));

        // A's TCP stack handed us super-packets (several segments each) and B's accepted coalesced ones.
        Assert.True(tunA.Counters.SuperPacketsRead > 0, "no TSO super-packet was read from A");
        Assert.True(tunA.Counters.SegmentsSplit >= 2 * tunA.Counters.SuperPacketsRead);
        Assert.True(tunB.Counters.CoalescedWrites > 0, "nothing was coalesced into B");
        Assert.True(tunB.Counters.CoalescedSegments >= 2 * tunB.Counters.CoalescedWrites);
        Assert.Equal(0, tunB.Counters.WriteDrops);
        Assert.Equal(0, tunA.Counters.ReadDrops);

        // After warm-up the forwarding loops (ReadBatch + WriteBatch) allocated nothing.
        Assert.Equal(0, aToB.SteadyStateAllocatedBytes);
        Assert.Equal(0, bToA.SteadyStateAllocatedBytes);
    }

    private static string Describe(string name, TunCounters c) =>
        $"{name}: read {c.PacketsRead} (super-packets {c.SuperPacketsRead} -> {c.SegmentsSplit} segments, checksums completed "
        + $"{c.ChecksumsCompleted}, drops {c.ReadDrops}); written {c.PacketsWritten} (coalesced {c.CoalescedSegments} into "
        + $"{c.CoalescedWrites}, drops {c.WriteDrops})";

    private static async Task<(byte[] Hash, long Length)> Receive(Socket listener, CancellationToken cancel)
    {
        using var connection = await listener.AcceptAsync(cancel);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = await connection.ReceiveAsync(buffer, SocketFlags.None, cancel)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            total += n;
        }

        return (sha.GetHashAndReset(), total);
    }

    /// <summary>Moves packets from one TUN to another on its own thread, as the device's data path would.</summary>
    private sealed class Forwarder : IDisposable
    {
        private readonly TunDevice _from;
        private readonly TunDevice _to;
        private readonly Thread _thread;
        private volatile bool _stop;

        public Forwarder(TunDevice from, TunDevice to)
        {
            _from = from;
            _to = to;
            _thread = new Thread(Run) { IsBackground = true, Name = $"{from.Name}->{to.Name}" };
            _thread.Start();
        }

        public Exception? Failure { get; private set; }

        /// <summary>Bytes allocated by the loop after its first 50 batches with packets.</summary>
        public long SteadyStateAllocatedBytes { get; private set; }

        public void Stop()
        {
            _stop = true;
            if (!_thread.Join(TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException($"forwarder {_thread.Name} did not stop");
            }
        }

        public void Dispose() => Stop();

        private void Run()
        {
            var buffers = TunDeviceTests.Buffers(Batch);
            var sizes = new int[Batch];
            int batches = 0;
            long warm = -1;
            try
            {
                while (!_stop)
                {
                    int n = _from.ReadBatch(buffers, sizes, Offset, 100);
                    if (n == 0)
                    {
                        continue;
                    }

                    _to.WriteBatch(buffers.AsSpan(0, n), sizes.AsSpan(0, n), Offset);
                    if (++batches == 50)
                    {
                        warm = GC.GetAllocatedBytesForCurrentThread();
                    }
                }

                SteadyStateAllocatedBytes = warm < 0 ? 0 : GC.GetAllocatedBytesForCurrentThread() - warm;
            }
            catch (Exception e)
            {
                Failure = e;
            }
        }
    }
}
