using System.Globalization;
using System.Numerics;
using System.Text;
using Branchgate.Crypto;

namespace Branchgate.Tests.Crypto;

/// <summary>The Poly1305 code paths, as theory data (the production enum, Poly1305Width, is internal).</summary>
public enum Poly1305Path
{
    Scalar,
    Vector128,
    Vector256,
}

public class Poly1305Tests
{
    private static byte[] Hex(string hex) => ChaChaTestData.Hex(hex);

    private static readonly byte[] Zero16 = new byte[16];

    // RFC 8439 section 2.5.2 and appendix A.3 (#1-#11): one-time key (r || s), message, tag.
    // #5-#11 exercise the carries and the final reduction.
    private static readonly (byte[] Key, byte[] Message, byte[] Tag)[] Vectors =
    [
        (Hex("85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8:01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b"),
            Encoding.ASCII.GetBytes("Cryptographic Forum Research Group"),
            Hex("a8:06:1d:c1:30:51:36:c6:c2:2b:8b:af:0c:01:27:a9")),
        // A.3 #1
        (new byte[32], new byte[64], new byte[16]),
        // A.3 #2
        ([.. Zero16, .. Hex("36 e5 f6 b5 c5 e0 60 70 f0 ef ca 96 22 7a 86 3e")],
            ChaChaTestData.IetfContribution,
            Hex("36 e5 f6 b5 c5 e0 60 70 f0 ef ca 96 22 7a 86 3e")),
        // A.3 #3
        ([.. Hex("36 e5 f6 b5 c5 e0 60 70 f0 ef ca 96 22 7a 86 3e"), .. Zero16],
            ChaChaTestData.IetfContribution,
            Hex("f3 47 7e 7c d9 54 17 af 89 a6 b8 79 4c 31 0c f0")),
        // A.3 #4
        (ChaChaTestData.JabberwockyKey,
            ChaChaTestData.Jabberwocky,
            Hex("45 41 66 9a 7e aa ee 61 e7 08 dc 7c bc c5 eb 62")),
        // A.3 #5: a partially reduced final result that is not fully reduced.
        ([.. Hex("02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"), .. Zero16],
            Hex("FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF"),
            Hex("03 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")),
        // A.3 #6: adding s overflows 2^128.
        (Hex("""
            02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF
            """),
            Hex("02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
            Hex("03 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")),
        // A.3 #7: a data limb of all ones with a carry from the limb below.
        ([.. Hex("01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"), .. Zero16],
            Hex("""
            FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF
            F0 FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF
            11 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            """),
            Hex("05 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")),
        // A.3 #8: the polynomial is exactly 2^130 - 5.
        ([.. Hex("01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"), .. Zero16],
            Hex("""
            FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF
            FB FE FE FE FE FE FE FE FE FE FE FE FE FE FE FE
            01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01
            """),
            Hex("00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")),
        // A.3 #9: the polynomial is exactly 2^130 - 6.
        ([.. Hex("02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"), .. Zero16],
            Hex("FD FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF"),
            Hex("FA FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF")),
        // A.3 #10: 5*H+L-type reduction produces a 131-bit intermediate result.
        ([.. Hex("01 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00"), .. Zero16],
            Hex("""
            E3 35 94 D7 50 5E 43 B9 00 00 00 00 00 00 00 00
            33 94 D7 50 5E 43 79 CD 01 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            """),
            Hex("14 00 00 00 00 00 00 00 55 00 00 00 00 00 00 00")),
        // A.3 #11: 5*H+L-type reduction produces a 131-bit final result.
        ([.. Hex("01 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00"), .. Zero16],
            Hex("""
            E3 35 94 D7 50 5E 43 B9 00 00 00 00 00 00 00 00
            33 94 D7 50 5E 43 79 CD 01 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            """),
            Hex("13 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")),
    ];

    // RFC 8439 section 2.6.2 and appendix A.4: ChaCha20 key, nonce, Poly1305 one-time key.
    private static readonly (byte[] Key, byte[] Nonce, byte[] OneTimeKey)[] KeyGenerationVectors =
    [
        (Hex("""
            80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f
            90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f
            """),
            Hex("00 00 00 00 00 01 02 03 04 05 06 07"),
            Hex("""
            8a d5 a0 8b 90 5f 81 cc 81 50 40 27 4a b2 94 71
            a8 33 b6 37 e3 fd 0d a5 08 db b8 e2 fd d1 a6 46
            """)),
        (new byte[32], new byte[12], Hex("""
            76 b8 e0 ad a0 f1 3d 90 40 5d 6a e5 53 86 bd 28
            bd d2 19 b8 a0 8d ed 1a a8 36 ef cc 8b 77 0d c7
            """)),
        (ChaChaTestData.KeyOne, ChaChaTestData.NonceTwo, Hex("""
            ec fa 25 4f 84 5f 64 74 73 d3 cb 14 0d a9 e8 76
            06 cb 33 06 6c 44 7b 87 bc 26 66 dd e3 fb b7 39
            """)),
        (ChaChaTestData.JabberwockyKey, ChaChaTestData.NonceTwo, Hex("""
            96 5e 3b c6 f9 ec 7e d9 56 08 08 f4 d2 29 f9 4b
            13 7f f2 75 ca 9b 3f cb dd 59 de aa d2 33 10 ae
            """)),
    ];

    public static TheoryData<int> VectorNumbers => new(Enumerable.Range(0, Vectors.Length));

    public static TheoryData<Poly1305Path> MacPaths => new(Enum.GetValues<Poly1305Path>());

    public static TheoryData<Poly1305Path, int> MacPathsAndVectors
    {
        get
        {
            var data = new TheoryData<Poly1305Path, int>();
            foreach (Poly1305Path path in Enum.GetValues<Poly1305Path>())
            {
                for (int i = 0; i < Vectors.Length; i++)
                {
                    data.Add(path, i);
                }
            }
            return data;
        }
    }

    private static Poly1305Width Width(Poly1305Path path) => path switch
    {
        Poly1305Path.Scalar => Poly1305Width.Scalar,
        Poly1305Path.Vector128 => Poly1305Width.Vector128,
        Poly1305Path.Vector256 => Poly1305Width.Vector256,
        _ => throw new ArgumentOutOfRangeException(nameof(path)),
    };

    /// <summary>Blocks a vector path needs at least (one group), below which it hands over to the scalar code.</summary>
    private static int Lanes(Poly1305Path path) => (int)Width(path);

    public static TheoryData<ChaChaPath, int> KeyGenerationCases => ChaChaTestData.PathsAnd(KeyGenerationVectors.Length);

    [Theory]
    [MemberData(nameof(VectorNumbers))]
    public void Mac_Rfc8439(int vector)
    {
        var (key, message, expected) = Vectors[vector];
        var tag = new byte[16];
        Poly1305.Compute(key, message, tag);
        Assert.Equal(expected, tag);
        Assert.Equal(expected, ReferenceMac(key, message));
    }

    /// <summary>
    /// Every RFC vector through every path, with the vector paths taking over as soon as the message has one group of
    /// blocks (the production threshold would leave these short messages to the scalar code).
    /// </summary>
    [Theory]
    [MemberData(nameof(MacPathsAndVectors))]
    public void Mac_Rfc8439_EveryPath(Poly1305Path path, int vector)
    {
        var (key, message, expected) = Vectors[vector];
        var tag = new byte[16];
        Poly1305.Compute(Width(path), key, message, tag, vectorFrom: 0);
        Assert.Equal(expected, tag);
        Poly1305.Compute(Width(path), key, message, tag);
        Assert.Equal(expected, tag);
    }

    /// <summary>
    /// Every message length from 0 to 40 blocks and a bit, so each vector path meets every shape of its input: first
    /// group partial by 0-3 blocks, an odd or even number of whole groups in the loop (single or double steps), a last
    /// block that is whole or padded, and the smallest counts it accepts. Random keys and data, then all 0xFF data
    /// with the largest clamped r, which pushes every limb and the lazy carries to their maximum.
    /// </summary>
    [Theory]
    [MemberData(nameof(MacPaths))]
    public void Mac_EveryLength_MatchesBigIntegerReference(Poly1305Path path)
    {
        var random = new Random(2605 + (int)path);
        var tag = new byte[16];
        for (int length = 0; length <= 40 * 16 + 17; length++)
        {
            foreach (bool saturated in new[] { false, true })
            {
                byte[] key = saturated ? MaximalKey() : RandomBytes(random, 32, saturate: false);
                byte[] message = new byte[length];
                if (saturated)
                {
                    Array.Fill(message, (byte)0xFF);
                }
                else
                {
                    random.NextBytes(message);
                }
                byte[] expected = ReferenceMac(key, message);
                Poly1305.Compute(Width(path), key, message, tag, vectorFrom: 0);
                Assert.True(expected.AsSpan().SequenceEqual(tag), $"length {length}, saturated {saturated}, vector from 0");
                Poly1305.Compute(Width(path), key, message, tag);
                Assert.True(expected.AsSpan().SequenceEqual(tag), $"length {length}, saturated {saturated}");
            }
        }
    }

    /// <summary>r at its clamped maximum (0x0ffffffc0ffffffc0ffffffc0fffffff) and s all ones.</summary>
    private static byte[] MaximalKey()
    {
        byte[] key = new byte[32];
        Array.Fill(key, (byte)0xFF);
        return key;
    }

    /// <summary>
    /// The AEAD's MAC input (RFC 8439 section 2.8: associated data, pad16, ciphertext, pad16, both lengths) the way
    /// Seal and Open absorb it, on every path, against the BigInteger MAC of the concatenation. Long associated data
    /// reaches the vector code too, so a nonzero accumulator enters the vector paths from either call.
    /// </summary>
    [Theory]
    [MemberData(nameof(MacPaths))]
    public void AeadMacInput_MatchesBigIntegerReference(Poly1305Path path)
    {
        var random = new Random(8439 + (int)path);
        var tag = new byte[16];
        for (int i = 0; i < 2000; i++)
        {
            byte[] key = RandomBytes(random, 32, saturate: i % 4 == 0);
            byte[] associatedData = RandomBytes(random, random.Next(i % 3 == 0 ? 400 : 40), saturate: i % 2 == 0);
            byte[] ciphertext = RandomBytes(random, random.Next(i % 5 == 0 ? 3000 : 300), saturate: i % 2 == 0);

            var mac = new Poly1305(key);
            mac.UpdatePadded(Width(path), associatedData);
            mac.UpdatePaddedWithLengths(Width(path), ciphertext, associatedData.Length);
            mac.Finish(tag);

            byte[] input = [
                .. associatedData, .. new byte[(16 - associatedData.Length % 16) % 16],
                .. ciphertext, .. new byte[(16 - ciphertext.Length % 16) % 16],
                .. BitConverter.GetBytes((ulong)associatedData.Length), .. BitConverter.GetBytes((ulong)ciphertext.Length),
            ];
            Assert.True(ReferenceMac(key, input).AsSpan().SequenceEqual(tag), $"case {i}: {associatedData.Length} + {ciphertext.Length} bytes");
        }
    }

    /// <summary>The paths agree with each other, forced or at the production threshold, on random keys and lengths.</summary>
    [Fact]
    public void Mac_AllPathsAgree()
    {
        var random = new Random(4);
        var expected = new byte[16];
        var tag = new byte[16];
        for (int i = 0; i < 3000; i++)
        {
            byte[] key = RandomBytes(random, 32, saturate: i % 3 == 0);
            byte[] message = RandomBytes(random, random.Next(9001), saturate: i % 2 == 0);
            Poly1305.Compute(Poly1305Width.Scalar, key, message, expected);
            foreach (Poly1305Path path in Enum.GetValues<Poly1305Path>())
            {
                Poly1305.Compute(Width(path), key, message, tag);
                Assert.True(expected.AsSpan().SequenceEqual(tag), $"case {i}, {path}, length {message.Length}");
                Poly1305.Compute(Width(path), key, message, tag, vectorFrom: Lanes(path));
                Assert.True(expected.AsSpan().SequenceEqual(tag), $"case {i}, {path} forced, length {message.Length}");
            }
            Poly1305.Compute(key, message, tag);
            Assert.True(expected.AsSpan().SequenceEqual(tag), $"case {i}, preferred path, length {message.Length}");
        }
    }

    [Fact]
    public void PreferredWidth_IsTheWidestThisMachineAccelerates()
    {
        Poly1305Width expected = System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? Poly1305Width.Vector256
            : System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? Poly1305Width.Vector128
            : Poly1305Width.Scalar;
        Assert.Equal(expected, Poly1305.PreferredWidth);
        Assert.Equal(Poly1305Width.Scalar, Poly1305.WidthFor(ChaChaWidth.Scalar));
        Assert.Equal(Poly1305Width.Vector128, Poly1305.WidthFor(ChaChaWidth.Vector128));
        Assert.Equal(Poly1305Width.Vector256, Poly1305.WidthFor(ChaChaWidth.Vector256));
        Assert.Equal(Poly1305Width.Vector256, Poly1305.WidthFor(ChaChaWidth.Vector512));
    }

    [Theory]
    [MemberData(nameof(KeyGenerationCases))]
    public void KeyGeneration_Rfc8439(ChaChaPath path, int vector)
    {
        var (key, nonce, expected) = KeyGenerationVectors[vector];
        var oneTimeKey = new byte[32];
        ChaCha20Poly1305.GeneratePoly1305Key(path.Width(), key, nonce, oneTimeKey);
        Assert.Equal(expected, oneTimeKey);
    }

    /// <summary>Random keys and messages, biased toward all-ones limbs, against a BigInteger transcription of the RFC.</summary>
    [Fact]
    public void Mac_MatchesBigIntegerReference()
    {
        var random = new Random(1305);
        var tag = new byte[16];
        for (int i = 0; i < 3000; i++)
        {
            byte[] key = RandomBytes(random, 32, saturate: i % 3 == 0);
            byte[] message = RandomBytes(random, random.Next(i % 5 == 0 ? 600 : 80), saturate: i % 2 == 0);
            Poly1305.Compute(key, message, tag);
            Assert.Equal(ReferenceMac(key, message), tag);
        }
    }

    private static byte[] RandomBytes(Random random, int length, bool saturate)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        if (saturate)
        {
            // Mostly 0xFF (or 0x00) bytes push every limb to its maximum and the accumulator close to p.
            for (int i = 0; i < length; i++)
            {
                int roll = random.Next(8);
                bytes[i] = roll < 6 ? (byte)0xFF : roll == 6 ? (byte)0 : bytes[i];
            }
        }
        return bytes;
    }

    /// <summary>RFC 8439 section 2.5.1, literally, on BigInteger.</summary>
    private static byte[] ReferenceMac(byte[] key, byte[] message)
    {
        BigInteger clamp = BigInteger.Parse("0ffffffc0ffffffc0ffffffc0fffffff", NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        BigInteger r = new BigInteger(key.AsSpan(0, 16), isUnsigned: true) & clamp;
        BigInteger s = new BigInteger(key.AsSpan(16, 16), isUnsigned: true);
        BigInteger p = (BigInteger.One << 130) - 5;
        BigInteger a = BigInteger.Zero;
        for (int offset = 0; offset < message.Length; offset += 16)
        {
            byte[] block = [.. message.AsSpan(offset, Math.Min(16, message.Length - offset)), 0x01];
            a = (a + new BigInteger(block, isUnsigned: true)) * r % p;
        }
        a = (a + s) & ((BigInteger.One << 128) - 1);
        var tag = new byte[16];
        a.TryWriteBytes(tag, out _, isUnsigned: true);
        return tag;
    }
}
