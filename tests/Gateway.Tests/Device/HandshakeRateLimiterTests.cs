using System.Buffers.Binary;
using System.Net;
using Branchgate.Device;
using Microsoft.Extensions.Time.Testing;

namespace Branchgate.Tests.Device;

public sealed class HandshakeRateLimiterTests : IDisposable
{
    private static readonly TimeSpan PacketInterval = TimeSpan.FromSeconds(1.0 / HandshakeRateLimiter.PacketsPerSecond);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly HandshakeRateLimiter _limiter;

    public HandshakeRateLimiterTests() => _limiter = new HandshakeRateLimiter(_time);

    public void Dispose() => _limiter.Dispose();

    private static byte[] Bytes(string address) => IPAddress.Parse(address).GetAddressBytes();

    private bool Allow(string address) => _limiter.Allow(Bytes(address));

    private int Burst(string address)
    {
        var allowed = 0;
        while (Allow(address))
        {
            allowed++;
            Assert.True(allowed <= 100, "the bucket never ran dry");
        }

        return allowed;
    }

    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("2001:db8::1")]
    public void A_burst_of_five_then_one_packet_per_fiftieth_of_a_second(string source)
    {
        // The sequence of wireguard-go's ratelimiter_test.go, on a fake clock.
        Assert.Equal(HandshakeRateLimiter.PacketsBurstable, Burst(source));

        _time.Advance(PacketInterval);
        Assert.True(Allow(source));
        Assert.False(Allow(source));

        _time.Advance(PacketInterval - TimeSpan.FromMilliseconds(1));
        Assert.False(Allow(source));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(Allow(source));

        _time.Advance(2 * PacketInterval);
        Assert.True(Allow(source));
        Assert.True(Allow(source));
        Assert.False(Allow(source));

        // A long pause refills the burst, not more.
        _time.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal(HandshakeRateLimiter.PacketsBurstable, Burst(source));
    }

    [Fact]
    public void A_steady_flood_gets_twenty_per_second()
    {
        var allowed = 0;
        for (var i = 0; i < 100 * 60; i++)
        {
            allowed += Allow("192.0.2.1") ? 1 : 0;
            _time.Advance(TimeSpan.FromMilliseconds(10));
        }

        // 100 packets a second for a minute: the burst, then 20 a second for the 59.99 s after the first packet.
        Assert.InRange(allowed, 5 + (20 * 59), 5 + (20 * 60));
    }

    [Fact]
    public void Sources_have_their_own_buckets()
    {
        Assert.Equal(5, Burst("192.0.2.1"));
        Assert.Equal(5, Burst("192.0.2.2"));
        Assert.Equal(5, Burst("2001:db8::1"));
        Assert.False(Allow("192.0.2.1"));
        Assert.Equal(3, _limiter.Count);
    }

    [Fact]
    public void Ipv6_sources_are_grouped_by_their_64_bit_prefix()
    {
        Assert.Equal(3, Enumerable.Range(0, 3).Count(_ => Allow("2001:db8:1:2::1")));
        Assert.Equal(2, Burst("2001:db8:1:2:ffff:ffff:ffff:fffe"));
        Assert.Equal(5, Burst("2001:db8:1:3::1"));
        Assert.Equal(2, _limiter.Count);
    }

    [Fact]
    public void An_ipv4_mapped_source_is_its_ipv4_address()
    {
        Assert.Equal(3, Enumerable.Range(0, 3).Count(_ => Allow("192.0.2.1")));
        Assert.Equal(2, Burst("::ffff:192.0.2.1"));

        // Other IPv4 senders on a dual-stack socket are not lumped into ::ffff:0:0/64.
        Assert.Equal(5, Burst("::ffff:192.0.2.2"));
        Assert.Equal(2, _limiter.Count);
    }

    [Fact]
    public void Idle_sources_are_swept_every_second()
    {
        Assert.True(Allow("192.0.2.1"));
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(Allow("192.0.2.2"));
        Assert.True(Allow("2001:db8::1"));
        Assert.Equal(3, _limiter.Count);

        // The sweep at 1 s removes the source idle for a second and keeps the two used half a second ago.
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(2, _limiter.Count);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, _limiter.Count);

        // A swept source starts again with a full bucket, which it would have had anyway.
        Assert.Equal(5, Burst("192.0.2.1"));
    }

    [Fact]
    public void A_flood_of_a_million_sources_stays_within_the_cap()
    {
        Span<byte> v4 = stackalloc byte[4];
        Span<byte> v6 = stackalloc byte[16];
        var allowed = 0;
        long refusedBytes = 0;
        for (var i = 0; i < 1_000_000; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            bool ok;
            if (i % 2 == 0)
            {
                BinaryPrimitives.WriteInt32BigEndian(v4, i);
                ok = _limiter.Allow(v4);
            }
            else
            {
                // Distinct /64s, random low halves.
                BinaryPrimitives.WriteInt64BigEndian(v6, 0x2001_0db8_0000_0000 + i);
                BinaryPrimitives.WriteInt64BigEndian(v6[8..], i * 7919L);
                ok = _limiter.Allow(v6);
            }

            if (ok)
            {
                allowed++;
            }
            else
            {
                refusedBytes += GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }

        // Exactly the cap got in; the rest were refused without allocating.
        Assert.Equal(HandshakeRateLimiter.DefaultMaxEntries, allowed);
        Assert.Equal(HandshakeRateLimiter.DefaultMaxEntries, _limiter.Count);
        Assert.Equal(0, refusedBytes);

        // A known source is still served; an unknown one waits for the sweep.
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(Allow("0.0.0.0"));
        Assert.False(Allow("198.51.100.1"));

        _time.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal(1, _limiter.Count);
        Assert.True(Allow("198.51.100.1"));
    }

    [Fact]
    public void Known_sources_cost_no_allocation()
    {
        var v4 = Bytes("192.0.2.1");
        var v6 = Bytes("2001:db8::1");
        _limiter.Allow(v4);
        _limiter.Allow(v6);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            _limiter.Allow(v4);
            _limiter.Allow(v6);

            // Time moves, but less than a second in all: the sweep (which allocates an enumerator) stays out of it.
            _time.Advance(TimeSpan.FromTicks(500));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Racing_threads_share_one_burst()
    {
        var allowed = 0;
        using var start = new Barrier(4);
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            var source = Bytes("203.0.113.9");
            start.SignalAndWait();
            for (var i = 0; i < 1000; i++)
            {
                if (_limiter.Allow(source))
                {
                    Interlocked.Increment(ref allowed);
                }
            }
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        Assert.Equal(HandshakeRateLimiter.PacketsBurstable, allowed);
        Assert.Equal(1, _limiter.Count);
    }

    [Fact]
    public void Dispose_stops_the_sweep()
    {
        Assert.True(Allow("192.0.2.1"));
        _limiter.Dispose();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, _limiter.Count);
    }

    [Fact]
    public void An_address_is_four_or_sixteen_bytes()
    {
        Assert.Throws<ArgumentException>(() => _limiter.Allow(new byte[5]));
        Assert.Throws<ArgumentException>(() => _limiter.Allow([]));
    }
}
