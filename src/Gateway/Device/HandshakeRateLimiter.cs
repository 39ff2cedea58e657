using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace Branchgate.Device;

/// <summary>
/// Per-source token bucket for handshake messages, as the kernel's ratelimiter.c and wireguard-go's ratelimiter:
/// 20 packets a second per source with a burst of 5. A source is an IPv4 address, or the /64 of an IPv6 address
/// (the kernel's grouping: one host easily owns a whole /64; wireguard-go keys the full IPv6 address). An
/// IPv4-mapped IPv6 address counts as its IPv4 address.
/// <para>
/// Memory is bounded: a timer removes sources idle for a second (their bucket would be full again anyway), and
/// the table holds at most <c>maxEntries</c> sources. When it is full, a source it does not know is refused until
/// the next sweep frees room, as in the kernel: evicting known sources instead would let a flood of spoofed
/// addresses reset the buckets of the sources it is meant to slow down. Sources already known carry on.
/// </para>
/// <para>
/// Locking rules: <see cref="Allow"/> is safe on any number of threads; the table is lock-free for lookups and each
/// bucket has its own short lock. A known source costs no allocation.
/// </para>
/// </summary>
public sealed class HandshakeRateLimiter : IDisposable
{
    public const int PacketsPerSecond = 20;
    public const int PacketsBurstable = 5;

    /// <summary>The kernel's cap on machines with more than 1 GiB of memory (8192 buckets x 8).</summary>
    public const int DefaultMaxEntries = 65_536;

    /// <summary>How often idle sources are swept, and how long a source must be idle to go.</summary>
    public static readonly TimeSpan GarbageCollectInterval = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _timeProvider;
    private readonly long _packetCost;
    private readonly long _maxTokens;
    private readonly long _idleTimestamps;
    private readonly int _maxEntries;
    private readonly ConcurrentDictionary<uint, Bucket> _ipv4 = new();
    private readonly ConcurrentDictionary<ulong, Bucket> _ipv6 = new();
    private readonly ITimer _sweepTimer;
    private int _count;

    public HandshakeRateLimiter(TimeProvider timeProvider, int maxEntries = DefaultMaxEntries)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEntries);
        _timeProvider = timeProvider;
        _maxEntries = maxEntries;

        // Tokens are measured in the time provider's timestamp units: one unit of waiting earns one token.
        _packetCost = timeProvider.TimestampFrequency / PacketsPerSecond;
        _maxTokens = _packetCost * PacketsBurstable;
        _idleTimestamps = timeProvider.TimestampFrequency * (long)GarbageCollectInterval.TotalSeconds;
        _sweepTimer = timeProvider.CreateTimer(
            static state => ((HandshakeRateLimiter)state!).CollectGarbage(), this, GarbageCollectInterval, GarbageCollectInterval);
    }

    /// <summary>How many sources the table holds now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Spends a token of the source of a handshake message (4 or 16 bytes, network order); false means drop it.
    /// </summary>
    public bool Allow(ReadOnlySpan<byte> sourceAddress)
    {
        var now = _timeProvider.GetTimestamp();
        if (sourceAddress.Length == 4)
        {
            return Allow(_ipv4, BinaryPrimitives.ReadUInt32BigEndian(sourceAddress), now);
        }

        if (sourceAddress.Length != 16)
        {
            ThrowHelper.ThrowArgument(nameof(sourceAddress), "An address is 4 (IPv4) or 16 (IPv6) bytes.");
        }

        // ::ffff:a.b.c.d, as a dual-stack socket reports an IPv4 sender.
        if (BinaryPrimitives.ReadUInt64LittleEndian(sourceAddress) == 0 && BinaryPrimitives.ReadUInt32BigEndian(sourceAddress[8..]) == 0xFFFF)
        {
            return Allow(_ipv4, BinaryPrimitives.ReadUInt32BigEndian(sourceAddress[12..]), now);
        }

        return Allow(_ipv6, BinaryPrimitives.ReadUInt64BigEndian(sourceAddress), now);
    }

    /// <summary>Removes sources idle for <see cref="GarbageCollectInterval"/>; the timer calls this every interval.</summary>
    public void CollectGarbage()
    {
        var now = _timeProvider.GetTimestamp();
        Sweep(_ipv4, now);
        Sweep(_ipv6, now);
    }

    public void Dispose() => _sweepTimer.Dispose();

    private bool Allow<TKey>(ConcurrentDictionary<TKey, Bucket> table, TKey key, long now)
        where TKey : notnull
    {
        while (true)
        {
            if (table.TryGetValue(key, out var bucket))
            {
                if (TryTake(bucket, now, out var allowed))
                {
                    return allowed;
                }

                // The sweep removed this bucket meanwhile: look again.
                continue;
            }

            if (Interlocked.Increment(ref _count) > _maxEntries)
            {
                Interlocked.Decrement(ref _count);
                return false;
            }

            // A new source starts with a full bucket and spends one token now.
            if (table.TryAdd(key, new Bucket(now, _maxTokens - _packetCost)))
            {
                return true;
            }

            // Another thread added this source first: use its bucket.
            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>Refills the bucket for the time passed and spends a packet's cost; false if the bucket is dead.</summary>
    private bool TryTake(Bucket bucket, long now, out bool allowed)
    {
        lock (bucket)
        {
            if (bucket.Removed)
            {
                allowed = false;
                return false;
            }

            var elapsed = Math.Max(0, now - bucket.LastTime);
            var tokens = Math.Min(_maxTokens, bucket.Tokens + elapsed);
            bucket.LastTime = Math.Max(bucket.LastTime, now);

            // >= as in the kernel, so a burst of exactly PacketsBurstable passes at one instant.
            allowed = tokens >= _packetCost;
            bucket.Tokens = allowed ? tokens - _packetCost : tokens;
            return true;
        }
    }

    private void Sweep<TKey>(ConcurrentDictionary<TKey, Bucket> table, long now)
        where TKey : notnull
    {
        foreach (var entry in table)
        {
            var bucket = entry.Value;
            lock (bucket)
            {
                if (now - bucket.LastTime < _idleTimestamps || !table.TryRemove(entry))
                {
                    continue;
                }

                // A thread that found this bucket before the removal looks the source up again.
                bucket.Removed = true;
            }

            Interlocked.Decrement(ref _count);
        }
    }

    private sealed class Bucket(long lastTime, long tokens)
    {
        public long LastTime = lastTime;
        public long Tokens = tokens;
        public bool Removed;
    }
}
