using System.Buffers.Binary;
using System.Net;
using BenchmarkDotNet.Attributes;
using Branchgate.Device;

namespace Branchgate.Benchmarks;

/// <summary>
/// Allowed-IPs lookup (destination -> peer on send, inner source check on receive: once per packet each way).
/// Each invocation looks up <see cref="Batch"/> different addresses, so the branch predictor cannot learn one path and
/// the large table's nodes come from all over memory; the reported time is per lookup.
/// <list type="bullet">
/// <item>Branch: a branch office's table, 16 peers (sites) each with a LAN and a tunnel address per family:
/// 10.P.0.0/24, 10.255.0.P/32, fd00:0:P::/64, fd77::P/128; 64 prefixes.</item>
/// <item>Large: 131,073 prefixes over 4,096 peers: 65,537 random IPv4 prefixes (/16../32 in 1.0.0.0-223.255.255.255)
/// and 65,536 random IPv6 prefixes (/32../128 in 2000::/3), as a hub or a routing-table-sized stress.</item>
/// </list>
/// Hit: an address inside a random prefix of the table. Miss: a random address of the same space that no prefix
/// covers (checked when the batch is built).
/// </summary>
[MemoryDiagnoser]
public class AllowedIpsBenchmarks
{
    private const int Batch = 1024;

    private AllowedIps<Peer> _table = new();
    private byte[] _v4Hits = [];
    private byte[] _v4Misses = [];
    private byte[] _v6Hits = [];
    private byte[] _v6Misses = [];

    [Params("Branch", "Large")]
    public string Table { get; set; } = "Branch";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20261126);
        _table = new AllowedIps<Peer>();
        var v4 = new List<(byte[] Address, int Length)>();
        var v6 = new List<(byte[] Address, int Length)>();
        if (Table == "Branch")
        {
            for (var p = 1; p <= 16; p++)
            {
                var peer = new Peer(p);
                Add(peer, IPNetwork.Parse($"10.{p}.0.0/24"), v4, v6);
                Add(peer, IPNetwork.Parse($"10.255.0.{p}/32"), v4, v6);
                Add(peer, IPNetwork.Parse($"fd00:0:{p:x}::/64"), v4, v6);
                Add(peer, IPNetwork.Parse($"fd77::{p:x}/128"), v4, v6);
            }
        }
        else
        {
            var peers = Enumerable.Range(0, 4096).Select(i => new Peer(i)).ToArray();
            // Random prefixes can repeat (a repeat only moves to its new peer): draw until the table has them all.
            while (v4.Count < 65_537)
            {
                var address = RandomV4(random);
                var length = random.Next(16, 33);
                var before = _table.Count;
                _table.Insert(address, length, peers[random.Next(peers.Length)]);
                if (_table.Count > before)
                {
                    v4.Add((address, length));
                }
            }

            while (v6.Count < 65_536)
            {
                var address = RandomV6(random);
                var length = random.Next(32, 129);
                var before = _table.Count;
                _table.Insert(address, length, peers[random.Next(peers.Length)]);
                if (_table.Count > before)
                {
                    v6.Add((address, length));
                }
            }
        }

        if (_table.Count != v4.Count + v6.Count)
        {
            throw new InvalidOperationException($"the table holds {_table.Count} prefixes, not {v4.Count + v6.Count}");
        }

        _v4Hits = Hits(v4, 4, random);
        _v6Hits = Hits(v6, 16, random);
        _v4Misses = Misses(4, random);
        _v6Misses = Misses(16, random);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int V4Hit() => LookupAll(_v4Hits, 4);

    [Benchmark(OperationsPerInvoke = Batch)]
    public int V4Miss() => LookupAll(_v4Misses, 4);

    [Benchmark(OperationsPerInvoke = Batch)]
    public int V6Hit() => LookupAll(_v6Hits, 16);

    [Benchmark(OperationsPerInvoke = Batch)]
    public int V6Miss() => LookupAll(_v6Misses, 16);

    private int LookupAll(byte[] addresses, int size)
    {
        var found = 0;
        var span = addresses.AsSpan();
        for (var offset = 0; offset < span.Length; offset += size)
        {
            if (_table.Lookup(span.Slice(offset, size)) is not null)
            {
                found++;
            }
        }

        return found;
    }

    private void Add(Peer peer, IPNetwork prefix, List<(byte[], int)> v4, List<(byte[], int)> v6)
    {
        _table.Insert(prefix, peer);
        var address = prefix.BaseAddress.GetAddressBytes();
        (address.Length == 4 ? v4 : v6).Add((address, prefix.PrefixLength));
    }

    /// <summary>A batch of addresses, each inside a random prefix of the list (host bits random).</summary>
    private byte[] Hits(List<(byte[] Address, int Length)> prefixes, int size, Random random)
    {
        var batch = new byte[Batch * size];
        for (var i = 0; i < Batch; i++)
        {
            var (address, length) = prefixes[random.Next(prefixes.Count)];
            var slot = batch.AsSpan(i * size, size);
            random.NextBytes(slot);
            for (var bit = 0; bit < length; bit++)
            {
                var mask = (byte)(0x80 >> (bit & 7));
                slot[bit >> 3] = (byte)((slot[bit >> 3] & ~mask) | (address[bit >> 3] & mask));
            }

            if (_table.Lookup(slot) is null)
            {
                throw new InvalidOperationException("a hit address found no peer");
            }
        }

        return batch;
    }

    /// <summary>A batch of random addresses of the table's space that no prefix covers.</summary>
    private byte[] Misses(int size, Random random)
    {
        var batch = new byte[Batch * size];
        for (var i = 0; i < Batch; i++)
        {
            var slot = batch.AsSpan(i * size, size);
            var tries = 0;
            do
            {
                if (++tries > 1_000_000)
                {
                    throw new InvalidOperationException("no uncovered address found for the miss batch");
                }

                (size == 4 ? RandomV4(random) : RandomV6(random)).CopyTo(slot);
            }
            while (_table.Lookup(slot) is not null);
        }

        return batch;
    }

    /// <summary>A unicast IPv4 address, 1.0.0.0 to 223.255.255.255.</summary>
    private static byte[] RandomV4(Random random)
    {
        var address = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(address, (uint)random.NextInt64(0x0100_0000, 0xE000_0000));
        return address;
    }

    /// <summary>A global unicast IPv6 address (2000::/3).</summary>
    private static byte[] RandomV6(Random random)
    {
        var address = new byte[16];
        random.NextBytes(address);
        address[0] = (byte)(0x20 | (address[0] & 0x1F));
        return address;
    }

    /// <summary>A stand-in for the device's peer: the table only compares references.</summary>
    private sealed class Peer(int id)
    {
        public int Id { get; } = id;
    }
}
