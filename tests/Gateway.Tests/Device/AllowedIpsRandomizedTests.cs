using System.Diagnostics;
using System.Net;
using Branchgate.Device;
using Xunit.Abstractions;
using Peer = Branchgate.Tests.Device.AllowedIpsTests.Peer;

namespace Branchgate.Tests.Device;

/// <summary>The trie against slow obvious references, on random prefixes that overlap a lot.</summary>
public class AllowedIpsRandomizedTests(ITestOutputHelper output)
{
    /// <summary>
    /// The obvious rule: a list of (masked prefix, peer) in insertion order; a lookup scans it all for the longest
    /// match. Re-inserting moves the prefix to the end, with its new peer.
    /// </summary>
    private sealed class NaiveTable
    {
        private readonly List<(byte[] Key, int Length, Peer Peer)> _entries = [];

        public int Count => _entries.Count;

        public void Insert(byte[] address, int length, Peer peer)
        {
            var key = Masked(address, length);
            _entries.RemoveAll(e => e.Length == length && e.Key.AsSpan().SequenceEqual(key));
            _entries.Add((key, length, peer));
        }

        public bool Remove(byte[] address, int length, Peer peer)
        {
            var key = Masked(address, length);
            return _entries.RemoveAll(e => e.Length == length && e.Key.AsSpan().SequenceEqual(key) && e.Peer == peer) > 0;
        }

        public int RemoveByPeer(Peer peer) => _entries.RemoveAll(e => e.Peer == peer);

        public Peer? Lookup(byte[] address)
        {
            Peer? best = null;
            var bestLength = -1;
            foreach (var (key, length, peer) in _entries)
            {
                if (key.Length == address.Length && length > bestLength && Masked(address, length).AsSpan().SequenceEqual(key))
                {
                    best = peer;
                    bestLength = length;
                }
            }

            return best;
        }

        public IEnumerable<IPNetwork> EntriesFor(Peer peer) =>
            _entries.Where(e => e.Peer == peer).Select(e => new IPNetwork(new IPAddress(e.Key), e.Length));
    }

    internal static byte[] Masked(ReadOnlySpan<byte> address, int length)
    {
        var result = address.ToArray();
        for (var bit = length; bit < result.Length * 8; bit++)
        {
            result[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return result;
    }

    /// <summary>An address near one of a few seeds, so prefixes nest and branch instead of scattering.</summary>
    private static byte[] NearbyAddress(Random random, byte[][] seeds)
    {
        var address = (byte[])seeds[random.Next(seeds.Length)].Clone();
        var keep = random.Next(address.Length * 8 + 1);
        for (var bit = keep; bit < address.Length * 8; bit++)
        {
            if (random.Next(2) == 0)
            {
                address[bit / 8] ^= (byte)(0x80 >> (bit % 8));
            }
        }

        return address;
    }

    [Theory]
    [InlineData(1, 4, 20_000)]
    [InlineData(2, 4, 20_000)]
    [InlineData(3, 16, 20_000)]
    [InlineData(4, 16, 20_000)]
    [InlineData(5, 0, 20_000)]
    public void Matches_a_linear_reference(int seed, int addressBytes, int steps)
    {
        var random = new Random(seed);
        var peers = Enumerable.Range(0, 8).Select(i => new Peer($"p{i}")).ToArray();
        var table = new AllowedIps<Peer>();
        var reference = new NaiveTable();
        var seeds4 = Enumerable.Range(0, 3).Select(_ => RandomBytes(random, 4)).ToArray();
        var seeds6 = Enumerable.Range(0, 3).Select(_ => RandomBytes(random, 16)).ToArray();
        var inserted = new List<(byte[] Address, int Length)>();

        for (var step = 0; step < steps; step++)
        {
            // 0 mixes both families.
            var seeds = addressBytes == 4 || (addressBytes == 0 && random.Next(2) == 0) ? seeds4 : seeds6;
            var peer = peers[random.Next(peers.Length)];
            switch (random.Next(200))
            {
                case < 80:
                    {
                        var address = NearbyAddress(random, seeds);
                        var length = random.Next(address.Length * 8 + 1);
                        table.Insert(address, length, peer);
                        reference.Insert(address, length, peer);
                        inserted.Add((address, length));
                        break;
                    }

                case < 110 when inserted.Count > 0:
                    {
                        // Remove a prefix inserted before (unmasked, maybe by a peer that no longer owns it).
                        var (address, length) = inserted[random.Next(inserted.Count)];
                        Assert.Equal(reference.Remove(address, length, peer), table.Remove(address, length, peer));
                        break;
                    }

                case 110:
                    Assert.Equal(reference.RemoveByPeer(peer), table.RemoveByPeer(peer));
                    break;

                default:
                    {
                        var address = NearbyAddress(random, seeds);
                        Assert.Same(reference.Lookup(address), table.Lookup(address));
                        break;
                    }
            }

            Assert.Equal(reference.Count, table.Count);
            if (step % 500 == 0)
            {
                Assert.Null(table.FindStructureError());
                foreach (var p in peers)
                {
                    Assert.Equal(reference.EntriesFor(p), table.EntriesFor(p));
                }
            }
        }

        Assert.Null(table.FindStructureError());
        foreach (var p in peers)
        {
            Assert.Equal(reference.EntriesFor(p), table.EntriesFor(p));
        }

        output.WriteLine($"{reference.Count} prefixes left after {steps} steps");
    }

    [Fact]
    public void Loads_131073_prefixes_and_answers_like_a_per_length_hash_reference()
    {
        const int total = 131_073;
        var random = new Random(42);
        var peers = Enumerable.Range(0, 1000).Select(i => new Peer($"p{i}")).ToArray();

        // Distinct masked prefixes, both families, lengths weighted towards the long ones a big site would carry.
        var prefixes = new List<(byte[] Key, int Length, Peer Peer)>(total);
        var reference = new Dictionary<(int Family, int Length), Dictionary<UInt128, Peer>>();
        while (prefixes.Count < total)
        {
            var size = random.Next(4) == 0 ? 16 : 4;
            var length = size == 4 ? random.Next(8, 33) : random.Next(16, 129);
            var key = Masked(RandomBytes(random, size), length);
            var byLength = ReferenceLevel(reference, size, length);
            if (byLength.TryAdd(ToUInt128(key), peers[prefixes.Count % peers.Length]))
            {
                prefixes.Add((key, length, peers[prefixes.Count % peers.Length]));
            }
        }

        var table = new AllowedIps<Peer>();
        var stopwatch = Stopwatch.StartNew();
        foreach (var (key, length, peer) in prefixes)
        {
            table.Insert(key, length, peer);
        }

        stopwatch.Stop();
        output.WriteLine($"inserted {total} prefixes in {stopwatch.Elapsed.TotalMilliseconds:F0} ms");

        Assert.Equal(total, table.Count);
        Assert.Null(table.FindStructureError());
        Assert.Equal(total, peers.Sum(p => table.EntriesFor(p).Count));

        // Each prefix's own address, plus random addresses, against the longest hit over all lengths.
        var queries = prefixes.Select(p => p.Key).Concat(Enumerable.Range(0, 100_000).Select(i => RandomBytes(random, i % 4 == 0 ? 16 : 4)));
        foreach (var address in queries)
        {
            Assert.Same(ReferenceLookup(reference, address), table.Lookup(address));
        }

        // And it empties again, prefix by prefix.
        foreach (var (key, length, peer) in prefixes)
        {
            Assert.True(table.Remove(key, length, peer));
        }

        Assert.Equal(0, table.Count);
        Assert.Null(table.FindStructureError());
    }

    [Fact]
    public void Lookup_allocates_nothing()
    {
        var random = new Random(7);
        var table = new AllowedIps<Peer>();
        var peer = new Peer("p");
        for (var i = 0; i < 10_000; i++)
        {
            table.Insert(RandomBytes(random, 4), random.Next(8, 33), peer);
            table.Insert(RandomBytes(random, 16), random.Next(16, 129), peer);
        }

        var addresses = Enumerable.Range(0, 1024).Select(i => RandomBytes(random, i % 2 == 0 ? 4 : 16)).ToArray();
        var hits = 0;
        foreach (var address in addresses)
        {
            hits += table.Lookup(address) is null ? 0 : 1;
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 100; round++)
        {
            foreach (var address in addresses)
            {
                hits += table.Lookup(address) is null ? 0 : 1;
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(hits > 0);
    }

    /// <summary>
    /// A throwaway timing for the record (no assert on time): a branch office's table (1,024 prefixes, in cache)
    /// and a big one (131,072 random prefixes, mostly cache misses).
    /// </summary>
    [Theory]
    [InlineData(512)]
    [InlineData(65_536)]
    public void Lookup_speed_is_reported(int perFamily)
    {
        var random = new Random(9);
        var table = new AllowedIps<Peer>();
        var peers = Enumerable.Range(0, 100).Select(i => new Peer($"p{i}")).ToArray();
        var v4 = new List<byte[]>();
        var v6 = new List<byte[]>();
        for (var i = 0; i < perFamily; i++)
        {
            v4.Add(RandomBytes(random, 4));
            v6.Add(RandomBytes(random, 16));
            table.Insert(v4[^1], random.Next(8, 33), peers[i % peers.Length]);
            table.Insert(v6[^1], random.Next(16, 129), peers[i % peers.Length]);
        }

        foreach (var (family, bases) in new[] { ("IPv4", v4), ("IPv6", v6) })
        {
            // Half the queries fall inside an inserted prefix, half anywhere.
            var addresses = Enumerable.Range(0, 4096).Select(i => i % 2 == 0 ? bases[random.Next(bases.Count)] : RandomBytes(random, bases[0].Length)).ToArray();
            var found = 0;
            const int rounds = 250;
            for (var warm = 0; warm < 20; warm++)
            {
                foreach (var address in addresses)
                {
                    found += table.Lookup(address) is null ? 0 : 1;
                }
            }

            var stopwatch = Stopwatch.StartNew();
            for (var round = 0; round < rounds; round++)
            {
                foreach (var address in addresses)
                {
                    found += table.Lookup(address) is null ? 0 : 1;
                }
            }

            stopwatch.Stop();
            var ns = stopwatch.Elapsed.TotalNanoseconds / (rounds * addresses.Length);
            output.WriteLine($"{family} lookup, {table.Count} prefixes: {ns:F1} ns/op ({found} hits)");
        }
    }

    internal static byte[] RandomBytes(Random random, int size)
    {
        var bytes = new byte[size];
        random.NextBytes(bytes);
        return bytes;
    }

    private static Dictionary<UInt128, Peer> ReferenceLevel(Dictionary<(int, int), Dictionary<UInt128, Peer>> reference, int size, int length)
    {
        if (!reference.TryGetValue((size, length), out var level))
        {
            level = [];
            reference.Add((size, length), level);
        }

        return level;
    }

    private static Peer? ReferenceLookup(Dictionary<(int, int), Dictionary<UInt128, Peer>> reference, byte[] address)
    {
        for (var length = address.Length * 8; length >= 0; length--)
        {
            if (reference.TryGetValue((address.Length, length), out var level)
                && level.TryGetValue(ToUInt128(Masked(address, length)), out var peer))
            {
                return peer;
            }
        }

        return null;
    }

    private static UInt128 ToUInt128(byte[] key)
    {
        Span<byte> padded = stackalloc byte[16];
        key.CopyTo(padded);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(padded);
    }
}
