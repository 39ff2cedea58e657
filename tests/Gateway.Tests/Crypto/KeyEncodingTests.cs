using Branchgate.Crypto;

namespace Branchgate.Tests.Crypto;

public class KeyEncodingTests
{
    [Fact]
    public void Base64_and_hex_round_trip()
    {
        var key = new byte[32];
        Random.Shared.NextBytes(key);
        var parsed = new byte[32];
        Assert.True(KeyEncoding.TryFromBase64(KeyEncoding.ToBase64(key), parsed));
        Assert.Equal(key, parsed);
        Assert.True(KeyEncoding.TryFromHex(KeyEncoding.ToHex(key), parsed));
        Assert.Equal(key, parsed);
        Assert.Equal(64, KeyEncoding.ToHex(key).Length);
        Assert.Equal(KeyEncoding.ToHex(key).ToLowerInvariant(), KeyEncoding.ToHex(key));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("====")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\u00e9=")]
    public void Bad_base64_is_refused(string? text)
    {
        Assert.False(KeyEncoding.TryFromBase64(text, new byte[32]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("00000000000000000000000000000000000000000000000000000000000000000")]
    public void Bad_hex_is_refused(string text)
    {
        Assert.False(KeyEncoding.TryFromHex(text, new byte[32]));
    }

    [Fact]
    public void A_low_order_point_yields_no_shared_secret()
    {
        using var key = NoisePrivateKey.Generate();
        var shared = new byte[32];
        // Points of small order on Curve25519 (from the libsodium blacklist): 0, 1 and a point of order 8.
        foreach (var hex in new[]
                 {
                     "0000000000000000000000000000000000000000000000000000000000000000",
                     "0100000000000000000000000000000000000000000000000000000000000000",
                     "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                 })
        {
            Assert.False(key.TryAgree(Convert.FromHexString(hex), shared));
            Assert.Equal(new byte[32], shared);
        }

        using var other = NoisePrivateKey.Generate();
        var fromOther = new byte[32];
        Assert.True(key.TryAgree(other.PublicKey.Span, shared));
        Assert.True(other.TryAgree(key.PublicKey.Span, fromOther));
        Assert.Equal(shared, fromOther);
    }

    [Fact]
    public void Tai64n_timestamps_order_in_time_and_hide_fine_timing()
    {
        var t0 = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        var a = new byte[12];
        var b = new byte[12];
        Tai64N.Write(t0, a);
        Tai64N.Write(t0.AddMilliseconds(5), b);
        Assert.Equal(a, b); // within one ~16.8 ms step
        Tai64N.Write(t0.AddMilliseconds(17), b);
        Assert.True(Tai64N.IsAfter(b, a));
        Assert.False(Tai64N.IsAfter(a, b));
        Assert.Equal(0x40, a[0]); // TAI64 label 2^62
        Assert.Equal(0x400000000000000aUL + (ulong)t0.ToUnixTimeSeconds(), System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(a));
    }
}
