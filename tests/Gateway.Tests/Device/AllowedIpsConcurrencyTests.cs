using Branchgate.Device;
using Xunit.Abstractions;
using static Branchgate.Tests.Device.AllowedIpsRandomizedTests;
using Peer = Branchgate.Tests.Device.AllowedIpsTests.Peer;

namespace Branchgate.Tests.Device;

/// <summary>Lock-free readers while one writer churns the table.</summary>
public class AllowedIpsConcurrencyTests(ITestOutputHelper output)
{
    private static readonly byte[] StableAddress = [10, 0, 0, 0];
    private static readonly byte[] Churn4 = [172, 16, 0, 0];
    private static readonly byte[] Churn6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    [Fact]
    public void Readers_see_only_covered_peers_and_never_lose_an_untouched_prefix()
    {
        var random = new Random(11);
        var stable = new Peer("stable");
        var peers = Enumerable.Range(0, 6).Select(i => new Peer($"p{i}")).ToArray();

        // Every prefix the writer will ever insert, with its peer, decided up front: 172.16.0.0/12 and 2001:db8::/32.
        var operations = Enumerable.Range(0, 400).Select(_ =>
        {
            var v6 = random.Next(2) == 0;
            var address = RandomBytes(random, v6 ? 16 : 4);
            var length = v6 ? random.Next(32, 129) : random.Next(12, 33);
            var keep = v6 ? Churn6 : Churn4;
            var fixedBits = v6 ? 32 : 12;
            for (var bit = 0; bit < fixedBits; bit++)
            {
                var mask = (byte)(0x80 >> (bit % 8));
                address[bit / 8] = (byte)((address[bit / 8] & ~mask) | (keep[bit / 8] & mask));
            }

            return (Key: Masked(address, length), Length: length, Peer: peers[random.Next(peers.Length)]);
        }).ToArray();

        var table = new AllowedIps<Peer>();
        table.Insert(StableAddress, 8, stable);

        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var lookups = 0L;
        var readers = Enumerable.Range(0, Math.Max(2, Environment.ProcessorCount - 1)).Select(r => new Thread(() =>
        {
            var rnd = new Random(100 + r);
            Span<byte> v4 = stackalloc byte[4];
            Span<byte> v6 = stackalloc byte[16];
            long count = 0;
            while (!stop.IsCancellationRequested)
            {
                // An untouched prefix: always there, always its peer.
                rnd.NextBytes(v4);
                v4[0] = 10;
                if (!ReferenceEquals(table.Lookup(v4), stable))
                {
                    failures.Enqueue("10.0.0.0/8 went missing");
                }

                // Never covered: 192.0.2.0/24 and 3fff::/16.
                v4[0] = 192;
                v4[1] = 0;
                v4[2] = 2;
                rnd.NextBytes(v6);
                v6[0] = 0x3f;
                v6[1] = 0xff;
                if (table.Lookup(v4) is not null || table.Lookup(v6) is not null)
                {
                    failures.Enqueue("a peer for an address no prefix covers");
                }

                // The churned ranges: nothing, or a peer that some inserted prefix of its own covers.
                var op = operations[rnd.Next(operations.Length)];
                var address = op.Key.ToArray();
                for (var i = address.Length - 1; i >= address.Length - 2; i--)
                {
                    address[i] ^= (byte)rnd.Next(256);
                }

                if (table.Lookup(address) is { } found && !operations.Any(o =>
                        ReferenceEquals(o.Peer, found) && o.Key.Length == address.Length && Masked(address, o.Length).AsSpan().SequenceEqual(o.Key)))
                {
                    failures.Enqueue($"{found} returned for an address none of its prefixes covers");
                }

                count += 4;
            }

            Interlocked.Add(ref lookups, count);
        })).ToArray();
        foreach (var reader in readers)
        {
            reader.Start();
        }

        var writes = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(2) || writes < 20_000)
        {
            var (key, length, peer) = operations[random.Next(operations.Length)];
            switch (random.Next(10))
            {
                case < 5:
                    table.Insert(key, length, peer);
                    break;
                case < 7:
                    // The planned peer may not be the owner: then nothing happens, as it should.
                    table.Remove(key, length, peer);
                    break;
                case 7:
                    // Move ownership to another peer; readers accept it only if that peer also plans this prefix.
                    var other = operations.FirstOrDefault(o => o.Length == length && o.Key.AsSpan().SequenceEqual(key) && o.Peer != peer);
                    if (other.Key is not null)
                    {
                        table.Insert(key, length, other.Peer);
                    }

                    break;
                case 8:
                    table.RemoveByPeer(peer);
                    break;
                default:
                    if (table.Lookup(key) is { } owner)
                    {
                        table.Remove(key, length, owner);
                    }

                    break;
            }

            writes++;
        }

        stop.Cancel();
        foreach (var reader in readers)
        {
            reader.Join();
        }
        output.WriteLine($"{writes} writes against {Interlocked.Read(ref lookups)} lookups in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Empty(failures);
        Assert.Null(table.FindStructureError());
    }
}
