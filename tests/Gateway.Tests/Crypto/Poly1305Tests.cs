using System.Globalization;
using System.Numerics;
using System.Text;
using Branchgate.Crypto;

namespace Branchgate.Tests.Crypto;

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
