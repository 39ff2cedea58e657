using System.Buffers.Binary;
using Branchgate.Crypto;
using OpenSslChaCha20Poly1305 = System.Security.Cryptography.ChaCha20Poly1305;
using Sodium = NSec.Cryptography;

namespace Branchgate.Tests.Crypto;

public class ChaCha20Poly1305Tests
{
    private static byte[] Hex(string hex) => ChaChaTestData.Hex(hex);

    // RFC 8439 section 2.8.2.
    private static readonly byte[] AeadKey = Hex("""
        80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f
        90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f
        """);
    private static readonly byte[] AeadNonce = Hex("07 00 00 00 40 41 42 43 44 45 46 47");
    private static readonly byte[] AeadAssociatedData = Hex("50 51 52 53 c0 c1 c2 c3 c4 c5 c6 c7");
    private static readonly byte[] AeadCiphertext = Hex("""
        d3 1a 8d 34 64 8e 60 db 7b 86 af bc 53 ef 7e c2
        a4 ad ed 51 29 6e 08 fe a9 e2 b5 a7 36 ee 62 d6
        3d be a4 5e 8c a9 67 12 82 fa fb 69 da 92 72 8b
        1a 71 de 0a 9e 06 0b 29 05 d6 a5 b6 7e cd 3b 36
        92 dd bd 7f 2d 77 8b 8c 98 03 ae e3 28 09 1b 58
        fa b3 24 e4 fa d6 75 94 55 85 80 8b 48 31 d7 bc
        3f f4 de f0 8e 4b 7a 9d e5 76 d2 65 86 ce c6 4b
        61 16
        """);
    private static readonly byte[] AeadTag = Hex("1a:e1:0b:59:4f:09:e2:6a:7e:90:2e:cb:d0:60:06:91");

    // RFC 8439 appendix A.5.
    private static readonly byte[] DecryptionNonce = Hex("00 00 00 00 01 02 03 04 05 06 07 08");
    private static readonly byte[] DecryptionAssociatedData = Hex("f3 33 88 86 00 00 00 00 00 00 4e 91");
    private static readonly byte[] DecryptionTag = Hex("ee ad 9d 67 89 0c bb 22 39 23 36 fe a1 85 1f 38");
    private static readonly byte[] DecryptionCiphertext = Hex("""
        64 a0 86 15 75 86 1a f4 60 f0 62 c7 9b e6 43 bd
        5e 80 5c fd 34 5c f3 89 f1 08 67 0a c7 6c 8c b2
        4c 6c fc 18 75 5d 43 ee a0 9e e9 4e 38 2d 26 b0
        bd b7 b7 3c 32 1b 01 00 d4 f0 3b 7f 35 58 94 cf
        33 2f 83 0e 71 0b 97 ce 98 c8 a8 4a bd 0b 94 81
        14 ad 17 6e 00 8d 33 bd 60 f9 82 b1 ff 37 c8 55
        97 97 a0 6e f4 f0 ef 61 c1 86 32 4e 2b 35 06 38
        36 06 90 7b 6a 7c 02 b0 f9 f6 15 7b 53 c8 67 e4
        b9 16 6c 76 7b 80 4d 46 a5 9b 52 16 cd e7 a4 e9
        90 40 c5 a4 04 33 22 5e e2 82 a1 b0 a0 6c 52 3e
        af 45 34 d7 f8 3f a1 15 5b 00 47 71 8c bc 54 6a
        0d 07 2b 04 b3 56 4e ea 1b 42 22 73 f5 48 27 1a
        0b b2 31 60 53 fa 76 99 19 55 eb d6 31 59 43 4e
        ce bb 4e 46 6d ae 5a 10 73 a6 72 76 27 09 7a 10
        49 e6 17 d9 1d 36 10 94 fa 68 f0 ff 77 98 71 30
        30 5b ea ba 2e da 04 df 99 7b 71 4d 6c 6f 2c 29
        a6 ad 5c b4 02 2b 02 70 9b
        """);
    private static readonly byte[] DecryptionPlaintext = Hex("""
        49 6e 74 65 72 6e 65 74 2d 44 72 61 66 74 73 20
        61 72 65 20 64 72 61 66 74 20 64 6f 63 75 6d 65
        6e 74 73 20 76 61 6c 69 64 20 66 6f 72 20 61 20
        6d 61 78 69 6d 75 6d 20 6f 66 20 73 69 78 20 6d
        6f 6e 74 68 73 20 61 6e 64 20 6d 61 79 20 62 65
        20 75 70 64 61 74 65 64 2c 20 72 65 70 6c 61 63
        65 64 2c 20 6f 72 20 6f 62 73 6f 6c 65 74 65 64
        20 62 79 20 6f 74 68 65 72 20 64 6f 63 75 6d 65
        6e 74 73 20 61 74 20 61 6e 79 20 74 69 6d 65 2e
        20 49 74 20 69 73 20 69 6e 61 70 70 72 6f 70 72
        69 61 74 65 20 74 6f 20 75 73 65 20 49 6e 74 65
        72 6e 65 74 2d 44 72 61 66 74 73 20 61 73 20 72
        65 66 65 72 65 6e 63 65 20 6d 61 74 65 72 69 61
        6c 20 6f 72 20 74 6f 20 63 69 74 65 20 74 68 65
        6d 20 6f 74 68 65 72 20 74 68 61 6e 20 61 73 20
        2f e2 80 9c 77 6f 72 6b 20 69 6e 20 70 72 6f 67
        72 65 73 73 2e 2f e2 80 9d
        """);

    // Message lengths where the code changes course: 16-byte Poly1305 blocks, 64-byte ChaCha20 blocks, the first batch
    // (which also carries the Poly1305 key block) and whole batches of 4, 8 and 16 blocks, WireGuard MTU-sized packets.
    private static readonly int[] BoundaryLengths =
    [
        0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 191, 192, 193, 255, 256, 257, 447, 448, 449, 511, 512, 513,
        959, 960, 961, 1023, 1024, 1025, 1420, 1440, 1983, 1984, 2047, 2048, 2049,
    ];

    [Theory]
    [MemberData(nameof(ChaChaTestData.Paths), MemberType = typeof(ChaChaTestData))]
    public void Seal_Rfc8439Section2_8_2(ChaChaPath path)
    {
        ChaChaWidth width = path.Width();
        var ciphertext = new byte[ChaChaTestData.Sunscreen.Length];
        var tag = new byte[16];
        ChaCha20Poly1305.Seal(width, AeadKey, AeadNonce, ChaChaTestData.Sunscreen, ciphertext, tag, AeadAssociatedData);
        Assert.Equal(AeadCiphertext, ciphertext);
        Assert.Equal(AeadTag, tag);

        var plaintext = new byte[ciphertext.Length];
        Assert.True(ChaCha20Poly1305.Open(width, AeadKey, AeadNonce, ciphertext, plaintext, tag, AeadAssociatedData));
        Assert.Equal(ChaChaTestData.Sunscreen, plaintext);
    }

    [Theory]
    [MemberData(nameof(ChaChaTestData.Paths), MemberType = typeof(ChaChaTestData))]
    public void Open_Rfc8439AppendixA5(ChaChaPath path)
    {
        ChaChaWidth width = path.Width();
        var plaintext = new byte[DecryptionCiphertext.Length];
        Assert.True(ChaCha20Poly1305.Open(width, JabberwockyKey, DecryptionNonce, DecryptionCiphertext, plaintext, DecryptionTag, DecryptionAssociatedData));
        Assert.Equal(DecryptionPlaintext, plaintext);

        byte[] inPlace = (byte[])DecryptionCiphertext.Clone();
        Assert.True(ChaCha20Poly1305.Open(width, JabberwockyKey, DecryptionNonce, inPlace, inPlace, DecryptionTag, DecryptionAssociatedData));
        Assert.Equal(DecryptionPlaintext, inPlace);

        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[16];
        ChaCha20Poly1305.Seal(width, JabberwockyKey, DecryptionNonce, DecryptionPlaintext, ciphertext, tag, DecryptionAssociatedData);
        Assert.Equal(DecryptionCiphertext, ciphertext);
        Assert.Equal(DecryptionTag, tag);
    }

    private static byte[] JabberwockyKey => ChaChaTestData.JabberwockyKey;

    /// <summary>
    /// Random keys, nonces, associated data and messages against libsodium (NSec) and OpenSSL (.NET), both directions,
    /// in place and out of place. The seed is fixed, so a failure reproduces.
    /// </summary>
    [Theory]
    [MemberData(nameof(ChaChaTestData.Paths), MemberType = typeof(ChaChaTestData))]
    public void MatchesLibsodiumAndOpenSsl(ChaChaPath path)
    {
        ChaChaWidth width = path.Width();
        var random = new Random(20180601 + (int)path);
        var algorithm = Sodium.AeadAlgorithm.ChaCha20Poly1305;
        var key = new byte[32];
        var nonce = new byte[12];
        var sodiumOutput = new byte[9000 + 16];
        var sodiumPlaintext = new byte[9000];
        var opensslCiphertext = new byte[9000];
        var opensslTag = new byte[16];
        var ciphertext = new byte[9000];
        var tag = new byte[16];
        var buffer = new byte[9000];

        int cases = path == ChaChaPath.Vector512 && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 600 : 1500;
        for (int i = 0; i < cases; i++)
        {
            random.NextBytes(key);
            random.NextBytes(nonce);
            var associatedData = new byte[random.Next(65)];
            random.NextBytes(associatedData);
            int length = PickLength(random);
            var plaintext = new byte[length];
            random.NextBytes(plaintext);
            Span<byte> c = ciphertext.AsSpan(0, length);
            Span<byte> inPlace = buffer.AsSpan(0, length);

            using var sodiumKey = Sodium.Key.Import(algorithm, key, Sodium.KeyBlobFormat.RawSymmetricKey);
            using var openssl = new OpenSslChaCha20Poly1305(key);
            Span<byte> sodium = sodiumOutput.AsSpan(0, length + 16);
            algorithm.Encrypt(sodiumKey, nonce, associatedData, plaintext, sodium);
            openssl.Encrypt(nonce, plaintext, opensslCiphertext.AsSpan(0, length), opensslTag, associatedData);
            Assert.True(sodium[..length].SequenceEqual(opensslCiphertext.AsSpan(0, length)), "libsodium and OpenSSL disagree");

            // Seal, out of place and in place.
            ChaCha20Poly1305.Seal(width, key, nonce, plaintext, c, tag, associatedData);
            AssertEqual(sodium[..length], c, i, length, "ciphertext");
            AssertEqual(sodium[length..], tag, i, length, "tag");
            AssertEqual(opensslTag, tag, i, length, "tag (OpenSSL)");
            plaintext.CopyTo(inPlace);
            ChaCha20Poly1305.Seal(width, key, nonce, inPlace, inPlace, tag, associatedData);
            AssertEqual(sodium[..length], inPlace, i, length, "ciphertext in place");
            AssertEqual(sodium[length..], tag, i, length, "tag in place");

            // Open libsodium's output, out of place and in place.
            Span<byte> opened = sodiumPlaintext.AsSpan(0, length);
            opened.Clear();
            Assert.True(ChaCha20Poly1305.Open(width, key, nonce, sodium[..length], opened, sodium[length..], associatedData), $"case {i}: Open");
            AssertEqual(plaintext, opened, i, length, "plaintext");
            sodium[..length].CopyTo(inPlace);
            Assert.True(ChaCha20Poly1305.Open(width, key, nonce, inPlace, inPlace, sodium[length..], associatedData), $"case {i}: Open in place");
            AssertEqual(plaintext, inPlace, i, length, "plaintext in place");

            // And the other way round: both libraries open ours.
            ChaCha20Poly1305.Seal(width, key, nonce, plaintext, c, tag, associatedData);
            c.CopyTo(sodium);
            tag.CopyTo(sodium[length..]);
            Assert.True(algorithm.Decrypt(sodiumKey, nonce, associatedData, sodium, opened), $"case {i}: libsodium Decrypt");
            AssertEqual(plaintext, opened, i, length, "libsodium plaintext");
            openssl.Decrypt(nonce, c, tag, opened, associatedData);
            AssertEqual(plaintext, opened, i, length, "OpenSSL plaintext");
        }
    }

    private static int PickLength(Random random) => random.Next(10) switch
    {
        < 4 => BoundaryLengths[random.Next(BoundaryLengths.Length)],
        < 6 => random.Next(8192, 9001),
        < 8 => random.Next(0, 600),
        _ => random.Next(0, 9001),
    };

    private static void AssertEqual(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, int testCase, int length, string what)
    {
        if (!expected.SequenceEqual(actual))
        {
            int at = 0;
            while (at < Math.Min(expected.Length, actual.Length) && expected[at] == actual[at])
            {
                at++;
            }
            Assert.Fail($"case {testCase} (length {length}): {what} differs from byte {at}");
        }
    }

    [Theory]
    [MemberData(nameof(ChaChaTestData.Paths), MemberType = typeof(ChaChaTestData))]
    public void Tampering_AnySingleBitFlip_IsRejectedWithoutPlaintext(ChaChaPath path)
    {
        ChaChaWidth width = path.Width();
        var random = new Random(7539);
        var key = new byte[32];
        var nonce = new byte[12];
        random.NextBytes(key);
        random.NextBytes(nonce);
        var associatedData = new byte[21];
        random.NextBytes(associatedData);
        var plaintext = new byte[300];
        random.NextBytes(plaintext);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[16];
        ChaCha20Poly1305.Seal(width, key, nonce, plaintext, ciphertext, tag, associatedData);

        var destination = new byte[plaintext.Length];
        var inPlace = new byte[plaintext.Length];
        void AssertRejected(byte[] c, byte[] t, byte[] ad, string what)
        {
            Array.Fill(destination, (byte)0xA5);
            Assert.False(ChaCha20Poly1305.Open(width, key, nonce, c, destination, t, ad), what);
            Assert.All(destination, b => Assert.Equal(0xA5, b));

            c.CopyTo(inPlace, 0);
            Assert.False(ChaCha20Poly1305.Open(width, key, nonce, inPlace, inPlace, t, ad), what + " in place");
            Assert.Equal(c, inPlace);
        }

        for (int bit = 0; bit < ciphertext.Length * 8; bit++)
        {
            byte[] c = Flip(ciphertext, bit);
            AssertRejected(c, tag, associatedData, $"ciphertext bit {bit}");
        }
        for (int bit = 0; bit < tag.Length * 8; bit++)
        {
            AssertRejected(ciphertext, Flip(tag, bit), associatedData, $"tag bit {bit}");
        }
        for (int bit = 0; bit < associatedData.Length * 8; bit++)
        {
            AssertRejected(ciphertext, tag, Flip(associatedData, bit), $"associated data bit {bit}");
        }

        // Truncated or extended associated data, and a wrong nonce, fail too; the untampered packet opens.
        AssertRejected(ciphertext, tag, associatedData[..^1], "shorter associated data");
        AssertRejected(ciphertext, tag, [.. associatedData, 0], "longer associated data");
        Assert.False(ChaCha20Poly1305.Open(width, key, Flip(nonce, 0), ciphertext, destination, tag, associatedData));
        Assert.True(ChaCha20Poly1305.Open(width, key, nonce, ciphertext, destination, tag, associatedData));
        Assert.Equal(plaintext, destination);
    }

    private static byte[] Flip(byte[] data, int bit)
    {
        byte[] copy = (byte[])data.Clone();
        copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    [Theory]
    [MemberData(nameof(ChaChaTestData.Paths), MemberType = typeof(ChaChaTestData))]
    public void CounterOverloads_UseWireGuardNonce(ChaChaPath path)
    {
        ChaChaWidth width = path.Width();
        var random = new Random(5);
        var key = new byte[32];
        random.NextBytes(key);
        var plaintext = new byte[1420];
        random.NextBytes(plaintext);
        byte[] associatedData = [1, 2, 3];

        ulong[] counters = [0, 1, 2, 0xFFFF_FFFF, 0x1_0000_0000, 0x0123_4567_89AB_CDEF, ulong.MaxValue - 1, ulong.MaxValue];
        foreach (ulong counter in counters)
        {
            var nonce = new byte[12];
            BinaryPrimitives.WriteUInt64LittleEndian(nonce.AsSpan(4), counter);

            var expected = new byte[plaintext.Length];
            var expectedTag = new byte[16];
            ChaCha20Poly1305.Seal(width, key, nonce, plaintext, expected, expectedTag, associatedData);

            var actual = new byte[plaintext.Length];
            var actualTag = new byte[16];
            ChaCha20Poly1305.Seal(width, key, counter, plaintext, actual, actualTag, associatedData);
            Assert.Equal(expected, actual);
            Assert.Equal(expectedTag, actualTag);

            // The public overloads (the preferred path) agree too.
            ChaCha20Poly1305.Seal(key, counter, plaintext, actual, actualTag, associatedData);
            Assert.Equal(expected, actual);
            Assert.Equal(expectedTag, actualTag);

            var opened = new byte[plaintext.Length];
            Assert.True(ChaCha20Poly1305.Open(width, key, counter, actual, opened, actualTag, associatedData));
            Assert.Equal(plaintext, opened);
            Assert.True(ChaCha20Poly1305.Open(key, counter, actual, opened, actualTag, associatedData));
            Assert.Equal(plaintext, opened);
            Assert.False(ChaCha20Poly1305.Open(width, key, counter ^ 1, actual, opened, actualTag, associatedData));
        }
    }

    [Fact]
    public void PublicOverloads_MatchTheRfc()
    {
        var ciphertext = new byte[ChaChaTestData.Sunscreen.Length];
        var tag = new byte[16];
        ChaCha20Poly1305.Seal(AeadKey, AeadNonce, ChaChaTestData.Sunscreen, ciphertext, tag, AeadAssociatedData);
        Assert.Equal(AeadCiphertext, ciphertext);
        Assert.Equal(AeadTag, tag);

        var plaintext = new byte[DecryptionCiphertext.Length];
        Assert.True(ChaCha20Poly1305.Open(JabberwockyKey, DecryptionNonce, DecryptionCiphertext, plaintext, DecryptionTag, DecryptionAssociatedData));
        Assert.Equal(DecryptionPlaintext, plaintext);
    }

    [Theory]
    [MemberData(nameof(ChaChaTestData.Paths), MemberType = typeof(ChaChaTestData))]
    public void SealAndOpen_DoNotAllocate(ChaChaPath path)
    {
        ChaChaWidth width = path.Width();
        var key = new byte[32];
        var nonce = new byte[12];
        var packet = new byte[1420];
        var tag = new byte[16];
        new Random(1).NextBytes(packet);

        void SealAndOpen(ulong counter)
        {
            ChaCha20Poly1305.Seal(width, key, counter, packet, packet, tag, default);
            Assert.True(ChaCha20Poly1305.Open(width, key, counter, packet, packet, tag, default));
            ChaCha20Poly1305.Seal(width, key, nonce, packet, packet, tag, nonce);
            Assert.True(ChaCha20Poly1305.Open(width, key, nonce, packet, packet, tag, nonce));
            ChaCha20Poly1305.Seal(key, counter, packet, packet, tag, default);
            Assert.True(ChaCha20Poly1305.Open(key, counter, packet, packet, tag, default));
        }

        for (ulong i = 0; i < 50; i++)
        {
            SealAndOpen(i);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong i = 0; i < 1000; i++)
        {
            SealAndOpen(i);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    public static TheoryData<string> BadArguments => new()
    {
        "key 0", "key 31", "key 33", "nonce 11", "nonce 13", "tag 15", "tag 17", "destination shorter",
        "destination longer", "destination overlaps",
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void WrongArgumentLengths_Throw(string bad)
    {
        int keyLength = bad switch { "key 0" => 0, "key 31" => 31, "key 33" => 33, _ => 32 };
        int nonceLength = bad switch { "nonce 11" => 11, "nonce 13" => 13, _ => 12 };
        int tagLength = bad switch { "tag 15" => 15, "tag 17" => 17, _ => 16 };
        int destinationLength = bad switch { "destination shorter" => 99, "destination longer" => 101, _ => 100 };
        bool overlap = bad == "destination overlaps";
        bool nonceOnly = bad.StartsWith("nonce", StringComparison.Ordinal);

        void Call(Action<byte[], byte[], ArraySegment<byte>, ArraySegment<byte>, byte[]> action)
        {
            var buffer = new byte[200];
            ArraySegment<byte> source = new(buffer, 0, 100);
            ArraySegment<byte> destination = overlap ? new(buffer, 1, 100) : new(new byte[destinationLength]);
            action(new byte[keyLength], new byte[nonceLength], source, destination, new byte[tagLength]);
        }

        Assert.Throws<ArgumentException>(() => Call((k, n, s, d, t) => ChaCha20Poly1305.Seal(k, n, s, d, t, default)));
        Assert.Throws<ArgumentException>(() => Call((k, n, s, d, t) => ChaCha20Poly1305.Open(k, n, s, d, t, default)));
        if (!nonceOnly)
        {
            Assert.Throws<ArgumentException>(() => Call((k, n, s, d, t) => ChaCha20Poly1305.Seal(k, 7UL, s, d, t, default)));
            Assert.Throws<ArgumentException>(() => Call((k, n, s, d, t) => ChaCha20Poly1305.Open(k, 7UL, s, d, t, default)));
        }
    }

    [Fact]
    public void EmptyMessage_AuthenticatesAssociatedDataOnly()
    {
        // WireGuard keepalives are empty: the tag alone carries the authentication.
        var key = new byte[32];
        var tag = new byte[16];
        ChaCha20Poly1305.Seal(key, 3UL, default, default, tag, default);
        Assert.True(ChaCha20Poly1305.Open(key, 3UL, default, default, tag, default));
        Assert.False(ChaCha20Poly1305.Open(key, 4UL, default, default, tag, default));
    }
}
