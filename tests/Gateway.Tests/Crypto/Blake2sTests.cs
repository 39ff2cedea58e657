using System.Runtime.InteropServices;
using System.Text;
using Branchgate.Crypto;

namespace Branchgate.Tests.Crypto;

public class Blake2sTests
{
    // TestData/blake2s-kat.txt: the 256 keyed vectors of the BLAKE2 reference repository (github.com/BLAKE2/BLAKE2,
    // testvectors/blake2s-kat.txt, formerly blake2s-test.txt): in = 00 01 .. (len-1) for len 0..255,
    // key = 00 01 .. 1f, 32-byte hash.
    private const string KatFile = "blake2s-kat.txt";
    private const int KatVectorCount = 256;

    public static TheoryData<int, string, string, string> KatVectors()
    {
        var data = new TheoryData<int, string, string, string>();
        foreach (var (index, input, key, hash) in ReadKat())
            data.Add(index, input, key, hash);
        return data;
    }

    public static TheoryData<string, string, string> HmacVectors()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (key, message, mac) in HmacKdfTestVectors.Hmac())
            data.Add(key, message, mac);
        return data;
    }

    [Fact]
    public void Rfc7693AppendixB_Abc()
    {
        var digest = new byte[Blake2s.HashSize];
        Blake2s.Hash("abc"u8, digest);
        Assert.Equal("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982", Hex(digest));
    }

    [Fact]
    public void Rfc7693AppendixE_SelfTest()
    {
        // blake2s_selftest() from RFC 7693 Appendix E: a hash over unkeyed and keyed hashes of every combination of
        // digest length and input length, inputs and keys from a Fibonacci-style generator.
        ReadOnlySpan<int> digestLengths = [16, 20, 28, 32];
        ReadOnlySpan<int> inputLengths = [0, 3, 64, 65, 255, 1024];
        Span<byte> input = stackalloc byte[1024];
        Span<byte> key = stackalloc byte[32];
        Span<byte> digest = stackalloc byte[32];
        var grand = new Blake2s(32);

        foreach (int outLength in digestLengths)
        {
            foreach (int inLength in inputLengths)
            {
                SelfTestSequence(input[..inLength], (uint)inLength);
                Blake2s.Hash(input[..inLength], digest[..outLength]);
                grand.Update(digest[..outLength]);

                SelfTestSequence(key[..outLength], (uint)outLength);
                Blake2s.KeyedHash(key[..outLength], input[..inLength], digest[..outLength]);
                grand.Update(digest[..outLength]);
            }
        }

        grand.Finish(digest);
        Assert.Equal("6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe", Hex(digest));
    }

    [Fact]
    public void KatFile_HoldsAllReferenceVectors()
    {
        var vectors = ReadKat().ToList();

        Assert.Equal(KatVectorCount, vectors.Count);
        for (int i = 0; i < vectors.Count; i++)
        {
            Assert.Equal(Hex(Sequence(i)), vectors[i].Input);
            Assert.Equal(Hex(Sequence(Blake2s.MaxKeySize)), vectors[i].Key);
        }

        // Spot checks typed in from the reference file, so a regenerated file cannot silently drift.
        Assert.Equal("48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49", vectors[0].Hash);
        Assert.Equal("c03bc642b20959cbe133a0303e0c1abff3e31ec8e1a328ec8565c36decff5265", vectors[32].Hash);
        Assert.Equal("8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4", vectors[64].Hash);
        Assert.Equal("3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd", vectors[255].Hash);
    }

    [Theory]
    [MemberData(nameof(KatVectors))]
    public void Kat_OneShot(int index, string input, string key, string hash)
    {
        _ = index;
        var digest = new byte[Blake2s.HashSize];
        Blake2s.KeyedHash(Convert.FromHexString(key), Convert.FromHexString(input), digest);
        Assert.Equal(hash, Hex(digest));
    }

    [Theory]
    [MemberData(nameof(KatVectors))]
    public void Kat_RandomChunks(int index, string input, string key, string hash)
    {
        var rng = new Random(index);
        byte[] data = Convert.FromHexString(input);
        var digest = new byte[Blake2s.HashSize];

        for (int round = 0; round < 4; round++)
        {
            var state = new Blake2s(Blake2s.HashSize, Convert.FromHexString(key));
            UpdateInChunks(ref state, data, rng);
            state.Finish(digest);
            Assert.Equal(hash, Hex(digest));
        }
    }

    [Fact]
    public void Hash_OfTwoParts_EqualsHashOfConcatenation()
    {
        var rng = new Random(7);
        var expected = new byte[Blake2s.HashSize];
        var actual = new byte[Blake2s.HashSize];

        foreach (int firstLength in new[] { 0, 1, 32, 63, 64, 65, 200 })
        {
            foreach (int secondLength in new[] { 0, 1, 32, 64, 100 })
            {
                byte[] first = RandomBytes(rng, firstLength);
                byte[] second = RandomBytes(rng, secondLength);
                Blake2s.Hash([.. first, .. second], expected);
                Blake2s.Hash(first, second, actual);
                Assert.Equal(Hex(expected), Hex(actual));
            }
        }
    }

    [Fact]
    public void Hash_WireGuardInitialChainingKeyAndHash()
    {
        // Construction and identifier from the whitepaper; expected values as in boringtun's INITIAL_CHAIN_KEY and
        // INITIAL_CHAIN_HASH.
        var chainingKey = new byte[Blake2s.HashSize];
        var hash = new byte[Blake2s.HashSize];

        Blake2s.Hash("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8, chainingKey);
        Blake2s.Hash(chainingKey, "WireGuard v1 zx2c4 Jason@zx2c4.com"u8, hash);

        Assert.Equal("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36", Hex(chainingKey));
        Assert.Equal("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3", Hex(hash));
    }

    [Fact]
    public void KeyedHash_ShortOutput_MatchesReference()
    {
        // The mac1 shape: 16-byte keyed BLAKE2s. Reference: hashlib.blake2s(msg, key=key, digest_size=16).
        byte[] key = Sequence(32);
        var mac = new byte[16];

        Blake2s.KeyedHash(key, Encoding.ASCII.GetBytes("mac1 over a handshake message"), mac);

        Assert.Equal("4f50db4f3a7e11e8e13ff8483fced81d", Hex(mac));
    }

    [Fact]
    public void KeyedHash_EmptyKey_IsUnkeyedHash()
    {
        byte[] data = Encoding.ASCII.GetBytes("abc");
        var keyed = new byte[Blake2s.HashSize];
        var unkeyed = new byte[Blake2s.HashSize];

        Blake2s.KeyedHash([], data, keyed);
        Blake2s.Hash(data, unkeyed);

        Assert.Equal(Hex(unkeyed), Hex(keyed));
    }

    [Fact]
    public void RandomizedChunks_MatchOneShot()
    {
        var rng = new Random(20240611);
        var expected = new byte[Blake2s.HashSize];
        var actual = new byte[Blake2s.HashSize];

        for (int i = 0; i < 2000; i++)
        {
            byte[] data = RandomBytes(rng, rng.Next(0, i % 10 == 0 ? 2000 : 300));
            byte[] key = RandomBytes(rng, rng.Next(0, Blake2s.MaxKeySize + 1));
            int outputLength = rng.Next(1, Blake2s.HashSize + 1);

            Blake2s.KeyedHash(key, data, expected.AsSpan(0, outputLength));
            var state = new Blake2s(outputLength, key);
            UpdateInChunks(ref state, data, rng);
            state.Finish(actual.AsSpan(0, outputLength));

            Assert.Equal(Hex(expected.AsSpan(0, outputLength)), Hex(actual.AsSpan(0, outputLength)));
        }
    }

    [Fact]
    public void Finish_ZeroesStateAndRefusesReuse()
    {
        var state = new Blake2s(Blake2s.HashSize, Sequence(32));
        state.Update(Sequence(100));
        state.Finish(new byte[Blake2s.HashSize]);

        Assert.True(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref state, 1)).IndexOfAnyExcept((byte)0) < 0);
        Assert.Throws<InvalidOperationException>(() =>
        {
            var finished = state;
            finished.Update([1]);
        });
        Assert.Throws<InvalidOperationException>(() =>
        {
            var uninitialized = default(Blake2s);
            uninitialized.Finish(new byte[Blake2s.HashSize]);
        });
    }

    [Theory]
    [MemberData(nameof(HmacVectors))]
    public void Hmac_MatchesPythonReference(string key, string message, string mac)
    {
        var output = new byte[Blake2s.HashSize];
        Blake2s.Hmac(FromHex(key), FromHex(message), output);
        Assert.Equal(mac, Hex(output));
    }

    [Fact]
    public void Hmac_OutputMayAliasKeyOrData()
    {
        foreach (var (keyHex, messageHex, mac) in HmacKdfTestVectors.Hmac())
        {
            byte[] key = FromHex(keyHex);
            byte[] message = FromHex(messageHex);
            if (key.Length >= Blake2s.HashSize)
            {
                byte[] buffer = (byte[])key.Clone();
                Blake2s.Hmac(buffer, message, buffer.AsSpan(0, Blake2s.HashSize));
                Assert.Equal(mac, Hex(buffer.AsSpan(0, Blake2s.HashSize)));
            }

            if (message.Length >= Blake2s.HashSize)
            {
                byte[] buffer = (byte[])message.Clone();
                Blake2s.Hmac(key, buffer, buffer.AsSpan(buffer.Length - Blake2s.HashSize));
                Assert.Equal(mac, Hex(buffer.AsSpan(buffer.Length - Blake2s.HashSize)));
            }
        }
    }

    [Fact]
    public void HashingDoesNotAllocate()
    {
        byte[] key = Sequence(32);
        byte[] data = Sequence(200);
        var output = new byte[Blake2s.HashSize];
        RunAll(key, data, output);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
            RunAll(key, data, output);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);

        static void RunAll(byte[] key, byte[] data, byte[] output)
        {
            Blake2s.Hash(data, output);
            Blake2s.Hash(key, data, output);
            Blake2s.KeyedHash(key, data, output.AsSpan(0, 16));
            Blake2s.Hmac(key, data, output);
            NoiseKdf.Kdf2(output, data, output, key);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(33)]
    public void Constructor_RejectsBadOutputLength(int outputLength)
    {
        Assert.Throws<ArgumentException>(() => new Blake2s(outputLength));
        Assert.Throws<ArgumentException>(() => new Blake2s(outputLength, new byte[16]));
        Assert.Throws<ArgumentException>(() => Blake2s.Hash([1, 2, 3], new byte[Math.Max(outputLength, 0)]));
        Assert.Throws<ArgumentException>(() => Blake2s.KeyedHash(new byte[16], [1, 2, 3], new byte[Math.Max(outputLength, 0)]));
    }

    [Fact]
    public void Constructor_RejectsLongKey()
    {
        Assert.Throws<ArgumentException>(() => new Blake2s(Blake2s.HashSize, new byte[Blake2s.MaxKeySize + 1]));
        Assert.Throws<ArgumentException>(() => Blake2s.KeyedHash(new byte[Blake2s.MaxKeySize + 1], [1], new byte[16]));
    }

    [Fact]
    public void Finish_RejectsOutputOfOtherLength()
    {
        Assert.Throws<ArgumentException>(() =>
        {
            var state = new Blake2s(16);
            state.Finish(new byte[Blake2s.HashSize]);
        });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    public void Hmac_RejectsOutputOtherThan32Bytes(int outputLength)
    {
        Assert.Throws<ArgumentException>(() => Blake2s.Hmac(new byte[32], [1, 2, 3], new byte[outputLength]));
    }

    internal static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    internal static byte[] FromHex(string hex) => hex == "-" ? [] : Convert.FromHexString(hex);

    internal static void UpdateInChunks(ref Blake2s state, ReadOnlySpan<byte> data, Random rng)
    {
        // Zero-length, partial-block, exact-block and multi-block updates all show up.
        while (!data.IsEmpty)
        {
            int length = Math.Min(data.Length, rng.Next(0, 3 * Blake2s.BlockSize));
            state.Update(data[..length]);
            data = data[length..];
        }
    }

    private static IEnumerable<(int Index, string Input, string Key, string Hash)> ReadKat()
    {
        string? input = null;
        string? key = null;
        int index = 0;
        foreach (string rawLine in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "TestData", KatFile)))
        {
            string line = rawLine.Trim();
            if (line.StartsWith("in:", StringComparison.Ordinal))
                input = line["in:".Length..].Trim();
            else if (line.StartsWith("key:", StringComparison.Ordinal))
                key = line["key:".Length..].Trim();
            else if (line.StartsWith("hash:", StringComparison.Ordinal))
            {
                Assert.NotNull(input);
                Assert.NotNull(key);
                yield return (index++, input, key, line["hash:".Length..].Trim());
                input = key = null;
            }
        }
    }

    private static void SelfTestSequence(Span<byte> output, uint seed)
    {
        uint a = 0xDEAD4BAD * seed;
        uint b = 1;
        for (int i = 0; i < output.Length; i++)
        {
            uint t = a + b;
            a = b;
            b = t;
            output[i] = (byte)(t >> 24);
        }
    }

    private static byte[] Sequence(int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
            bytes[i] = (byte)i;
        return bytes;
    }

    private static byte[] RandomBytes(Random rng, int length)
    {
        var bytes = new byte[length];
        rng.NextBytes(bytes);
        return bytes;
    }
}
