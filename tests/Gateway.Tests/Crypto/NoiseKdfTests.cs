using Branchgate.Crypto;

namespace Branchgate.Tests.Crypto;

public class NoiseKdfTests
{
    public static TheoryData<string, string, string, string, string> KdfVectors()
    {
        var data = new TheoryData<string, string, string, string, string>();
        foreach (var (key, input, t1, t2, t3) in HmacKdfTestVectors.Kdf())
            data.Add(key, input, t1, t2, t3);
        return data;
    }

    [Fact]
    public void VectorFile_HasKdfVectors() => Assert.True(HmacKdfTestVectors.Kdf().Count() >= 10);

    [Theory]
    [MemberData(nameof(KdfVectors))]
    public void Kdf_MatchesPythonReference(string key, string input, string t1, string t2, string t3)
    {
        byte[] k = Blake2sTests.FromHex(key);
        byte[] x = Blake2sTests.FromHex(input);
        var a = new byte[NoiseKdf.OutputSize];
        var b = new byte[NoiseKdf.OutputSize];
        var c = new byte[NoiseKdf.OutputSize];

        NoiseKdf.Kdf1(k, x, a);
        Assert.Equal(t1, Hex(a));

        NoiseKdf.Kdf2(k, x, a, b);
        Assert.Equal(t1, Hex(a));
        Assert.Equal(t2, Hex(b));

        NoiseKdf.Kdf3(k, x, a, b, c);
        Assert.Equal(t1, Hex(a));
        Assert.Equal(t2, Hex(b));
        Assert.Equal(t3, Hex(c));
    }

    [Theory]
    [MemberData(nameof(KdfVectors))]
    public void Kdf_OutputsMayAliasKeyAndInput(string key, string input, string t1, string t2, string t3)
    {
        byte[] k = Blake2sTests.FromHex(key);
        byte[] x = Blake2sTests.FromHex(input);
        if (k.Length != NoiseKdf.OutputSize)
            return;

        // Kdf1(ck, x, ck)
        byte[] chainingKey = (byte[])k.Clone();
        NoiseKdf.Kdf1(chainingKey, x, chainingKey);
        Assert.Equal(t1, Hex(chainingKey));

        // Kdf2(ck, x, ck, k): the handshake's MixKey.
        chainingKey = (byte[])k.Clone();
        var derivedKey = new byte[NoiseKdf.OutputSize];
        NoiseKdf.Kdf2(chainingKey, x, chainingKey, derivedKey);
        Assert.Equal(t1, Hex(chainingKey));
        Assert.Equal(t2, Hex(derivedKey));

        // Kdf3(ck, psk, ck, tau, k) with the second output overwriting the input as well.
        chainingKey = (byte[])k.Clone();
        byte[] inputThenTau = (byte[])x.Clone();
        derivedKey = new byte[NoiseKdf.OutputSize];
        Span<byte> tau = inputThenTau.Length == NoiseKdf.OutputSize ? inputThenTau : new byte[NoiseKdf.OutputSize];
        NoiseKdf.Kdf3(chainingKey, inputThenTau, chainingKey, tau, derivedKey);
        Assert.Equal(t1, Hex(chainingKey));
        Assert.Equal(t2, Hex(tau));
        Assert.Equal(t3, Hex(derivedKey));

        // Outputs that overlap the key and each other's neighbourhood inside one buffer.
        var shared = new byte[3 * NoiseKdf.OutputSize];
        k.CopyTo(shared, 0);
        NoiseKdf.Kdf3(
            shared.AsSpan(0, NoiseKdf.OutputSize),
            x,
            shared.AsSpan(2 * NoiseKdf.OutputSize),
            shared.AsSpan(NoiseKdf.OutputSize, NoiseKdf.OutputSize),
            shared.AsSpan(0, NoiseKdf.OutputSize));
        Assert.Equal(t3, Hex(shared.AsSpan(0, NoiseKdf.OutputSize)));
        Assert.Equal(t2, Hex(shared.AsSpan(NoiseKdf.OutputSize, NoiseKdf.OutputSize)));
        Assert.Equal(t1, Hex(shared.AsSpan(2 * NoiseKdf.OutputSize)));
    }

    [Fact]
    public void Kdf_IsHkdfOverHmac()
    {
        // The definition spelled out with Blake2s.Hmac, over inputs the vector file does not cover.
        var rng = new Random(99);
        var prk = new byte[32];
        var t1 = new byte[32];
        var t2 = new byte[32];
        var t3 = new byte[32];
        var a = new byte[32];
        var b = new byte[32];
        var c = new byte[32];

        for (int i = 0; i < 200; i++)
        {
            var key = new byte[rng.Next(0, 100)];
            var input = new byte[rng.Next(0, 300)];
            rng.NextBytes(key);
            rng.NextBytes(input);

            Blake2s.Hmac(key, input, prk);
            Blake2s.Hmac(prk, [1], t1);
            Blake2s.Hmac(prk, [.. t1, 2], t2);
            Blake2s.Hmac(prk, [.. t2, 3], t3);
            NoiseKdf.Kdf3(key, input, a, b, c);

            Assert.Equal(Hex(t1), Hex(a));
            Assert.Equal(Hex(t2), Hex(b));
            Assert.Equal(Hex(t3), Hex(c));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void Kdf_RejectsOutputsOtherThan32Bytes(int length)
    {
        var key = new byte[32];
        var good = new byte[32];
        var bad = new byte[length];
        Array.Fill(bad, (byte)0xAA);

        Assert.Throws<ArgumentException>(() => NoiseKdf.Kdf1(key, [1], bad));
        Assert.Throws<ArgumentException>(() => NoiseKdf.Kdf2(key, [1], good, bad));
        Assert.Throws<ArgumentException>(() => NoiseKdf.Kdf2(key, [1], bad, good));
        Assert.Throws<ArgumentException>(() => NoiseKdf.Kdf3(key, [1], good, good, bad));
        Assert.Throws<ArgumentException>(() => NoiseKdf.Kdf3(key, [1], good, bad, good));
        Assert.Throws<ArgumentException>(() => NoiseKdf.Kdf3(key, [1], bad, good, good));

        // Validation happens before anything is written.
        Assert.All(good, value => Assert.Equal(0, value));
        Assert.All(bad, value => Assert.Equal(0xAA, value));
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => Blake2sTests.Hex(bytes);
}

/// <summary>
/// TestData/kdf-blake2s.txt: HMAC-BLAKE2s and Kdf_n vectors computed with Python's hmac/hashlib, an implementation
/// independent of ours.
/// </summary>
internal static class HmacKdfTestVectors
{
    private const string FileName = "kdf-blake2s.txt";

    public static IEnumerable<(string Key, string Message, string Mac)> Hmac() =>
        Records("hmac", 4).Select(f => (f[1], f[2], f[3]));

    public static IEnumerable<(string Key, string Input, string T1, string T2, string T3)> Kdf() =>
        Records("kdf", 6).Select(f => (f[1], f[2], f[3], f[4], f[5]));

    private static IEnumerable<string[]> Records(string kind, int fieldCount)
    {
        foreach (string line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "TestData", FileName)))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            string[] fields = line.Split('\t');
            if (fields[0] != kind)
                continue;
            Assert.Equal(fieldCount, fields.Length);
            yield return fields;
        }
    }
}
