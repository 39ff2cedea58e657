// `branchgate selftest`: the crypto known-answer and differential checks, run inside the binary itself, so what is
// checked is the code this machine really executes: the NativeAOT build for this CPU with the vector widths it
// accelerates (NEON on ARM64, also under qemu-aarch64; SSE, AVX2, AVX-512 on x64).
//
// 1. The platform: process architecture, runtime, the instruction sets and vector widths that are accelerated.
// 2. Per ChaCha20 path (scalar, then every accelerated vector width): the RFC 8439 vectors, then a differential check
//    against libsodium (NSec) on random lengths 0..9000: seal and open, in place and not, tampered packets refused.
// 3. Poly1305, BLAKE2s (RFC 7693, keyed KAT), HMAC-BLAKE2s and the Noise KDF, X25519 (RFC 7748).
// 4. A Noise IKpsk2 handshake and transport data both ways between two in-memory peers.
// Exit code 0 only when every check passed; every failure names its check on stderr.

using System.Net;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using System.Text;
using Branchgate.Crypto;
using Branchgate.Protocol;
using Sodium = NSec.Cryptography;

namespace Branchgate.Cli;

internal static partial class SelfTestCommand
{
    internal const int DifferentialCases = 300;
    internal const int MaxDifferentialLength = 9000;
    private const int DifferentialSeed = 8439;

    // Where the ChaCha20 code changes course: Poly1305 and ChaCha20 blocks, batches of 4, 8 and 16 blocks, MTUs.
    private static readonly int[] BoundaryLengths =
    [
        0, 1, 15, 16, 17, 63, 64, 65, 191, 192, 193, 255, 256, 257, 447, 448, 449, 511, 512, 513, 959, 960, 961, 1023,
        1024, 1025, 1420, 1440, 2047, 2048, 2049, 8191, 8192, 9000,
    ];

    public static int Run(ReadOnlySpan<string> rest, TextWriter stdout, TextWriter stderr)
    {
        if (!CommandLine.NoArguments("selftest", rest, stderr))
        {
            return 1;
        }

        return Run(stdout, stderr, corruptCheck: null);
    }

    /// <summary>
    /// Runs every check. <paramref name="corruptCheck"/> is for tests: the name of a check whose expected values are
    /// altered (one bit flipped), to prove that a failing check is reported and fails the run.
    /// </summary>
    internal static int Run(TextWriter stdout, TextWriter stderr, string? corruptCheck)
    {
        WritePlatform(stdout);
        var run = new SelfTestRun(stdout, corruptCheck);
        foreach (var width in Enum.GetValues<ChaChaWidth>())
        {
            if (!IsAccelerated(width))
            {
                stdout.WriteLine($"ChaCha20: {Describe(width)} ... skipped, not accelerated on this CPU");
                continue;
            }

            run.Check($"ChaCha20: {Describe(width)}: RFC 8439 2.3.2 block in every lane, 2.4.2 encryption",
                expected => ChaCha20Vectors(width, expected));
            run.Check($"ChaCha20-Poly1305: {Describe(width)}: RFC 8439 2.6.2 key, 2.8.2 seal, A.5 open",
                expected => AeadVectors(width, expected));
            run.Check($"ChaCha20-Poly1305: {Describe(width)}: {DifferentialCases} random lengths 0..{MaxDifferentialLength} match libsodium",
                expected => MatchesLibsodium(width, expected));
        }

        run.Check("Poly1305: RFC 8439 2.5.2", Poly1305Vector);
        run.Check("BLAKE2s: RFC 7693 appendix B and appendix E self-test", Blake2sVectors);
        run.Check($"BLAKE2s keyed: reference KAT, lengths {string.Join(", ", KeyedBlake2s.Select(v => v.Length))}", KeyedBlake2sVectors);
        run.Check("HMAC-BLAKE2s and Noise KDF3", KdfVectors);
        run.Check("X25519: RFC 7748 5.2 and 6.1, low-order point refused", X25519Vectors);
        run.Check("Noise IKpsk2: handshake, transport data both ways, replay refused (two in-memory peers)", NoiseHandshake);
        return run.Finish(stderr);
    }

    /// <summary>The widths this machine runs in hardware (scalar always): the ones the data path can take here.</summary>
    internal static bool IsAccelerated(ChaChaWidth width) => width switch
    {
        ChaChaWidth.Scalar => true,
        ChaChaWidth.Vector128 => Vector128.IsHardwareAccelerated,
        ChaChaWidth.Vector256 => Vector256.IsHardwareAccelerated,
        _ => Vector512.IsHardwareAccelerated,
    };

    /// <summary>A width with the instruction set that runs it, e.g. "Vector128 (AdvSimd)".</summary>
    internal static string Describe(ChaChaWidth width) => width switch
    {
        ChaChaWidth.Scalar => "Scalar",
        ChaChaWidth.Vector128 => $"Vector128 ({(AdvSimd.IsSupported ? "AdvSimd" : Sse2.IsSupported ? "SSE" : "software")})",
        ChaChaWidth.Vector256 => $"Vector256 ({(Avx2.IsSupported ? "AVX2" : "software")})",
        _ => $"Vector512 ({(Avx512F.IsSupported ? "AVX-512" : "software")})",
    };

    private static void WritePlatform(TextWriter stdout)
    {
        // Not RuntimeFeature.IsDynamicCodeSupported: PublishAot makes that false under the JIT too (to surface AOT bugs).
        string compilation = JitInfo.GetCompiledMethodCount() > 0 ? "JIT" : "NativeAOT";
        stdout.WriteLine($"branchgate selftest: process {RuntimeInformation.ProcessArchitecture}, OS {RuntimeInformation.OSArchitecture}, " +
            $"{RuntimeInformation.FrameworkDescription}, {compilation}");
        stdout.WriteLine($"instruction sets: AdvSimd.IsSupported={AdvSimd.IsSupported} Sse2.IsSupported={Sse2.IsSupported} " +
            $"Avx2.IsSupported={Avx2.IsSupported} Avx512F.IsSupported={Avx512F.IsSupported}");
        stdout.WriteLine($"vectors: Vector128.IsHardwareAccelerated={Vector128.IsHardwareAccelerated} " +
            $"Vector256.IsHardwareAccelerated={Vector256.IsHardwareAccelerated} " +
            $"Vector512.IsHardwareAccelerated={Vector512.IsHardwareAccelerated}");
        stdout.WriteLine($"data path: ChaCha20 {Describe(ChaCha20.PreferredWidth)}");
    }

    private static string? ChaCha20Vectors(ChaChaWidth width, Expectation expected)
    {
        byte[] key = Sequence(32);
        byte[] nonce = Convert.FromHexString(BlockNonce);
        byte[] block = expected.Hex(BlockKeystream);
        var keystream = new byte[ChaCha20.BlockSize];
        ChaCha20.Xor(width, key, nonce, 1, new byte[ChaCha20.BlockSize], keystream);
        if (Differs("2.3.2 block", block, keystream) is { } failure)
        {
            return failure;
        }

        // A whole batch with the vector's block in each lane in turn: every lane of the vector code is checked.
        int lanes = (int)width;
        var batch = new byte[lanes * ChaCha20.BlockSize];
        for (int lane = 0; lane < lanes; lane++)
        {
            batch.AsSpan().Clear();
            ChaCha20.Xor(width, key, nonce, 1 - (uint)lane, batch, batch);
            if (Differs($"2.3.2 block in lane {lane}", block, batch.AsSpan(lane * ChaCha20.BlockSize, ChaCha20.BlockSize)) is { } laneFailure)
            {
                return laneFailure;
            }
        }

        byte[] plaintext = Encoding.ASCII.GetBytes(Sunscreen);
        var ciphertext = new byte[plaintext.Length];
        ChaCha20.Xor(width, key, Convert.FromHexString(EncryptionNonce), 1, plaintext, ciphertext);
        return Differs("2.4.2 ciphertext", expected.Hex(EncryptionCiphertext), ciphertext);
    }

    private static string? AeadVectors(ChaChaWidth width, Expectation expected)
    {
        byte[] key = Convert.FromHexString(AeadKey);
        var oneTimeKey = new byte[32];
        ChaCha20Poly1305.GeneratePoly1305Key(width, key, Convert.FromHexString(KeyGenerationNonce), oneTimeKey);
        if (Differs("2.6.2 Poly1305 key", expected.Hex(OneTimeKey), oneTimeKey) is { } failure)
        {
            return failure;
        }

        byte[] nonce = Convert.FromHexString(AeadNonce);
        byte[] associatedData = Convert.FromHexString(AeadAssociatedData);
        byte[] plaintext = Encoding.ASCII.GetBytes(Sunscreen);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[ChaCha20Poly1305.TagSize];
        ChaCha20Poly1305.Seal(width, key, nonce, plaintext, ciphertext, tag, associatedData);
        if ((Differs("2.8.2 ciphertext", expected.Hex(AeadCiphertext), ciphertext) ??
            Differs("2.8.2 tag", expected.Hex(AeadTag), tag)) is { } sealFailure)
        {
            return sealFailure;
        }

        key = Convert.FromHexString(DecryptionKey);
        nonce = Convert.FromHexString(DecryptionNonce);
        associatedData = Convert.FromHexString(DecryptionAssociatedData);
        ciphertext = Convert.FromHexString(DecryptionCiphertext);
        tag = Convert.FromHexString(DecryptionTag);
        plaintext = new byte[ciphertext.Length];
        if (!ChaCha20Poly1305.Open(width, key, nonce, ciphertext, plaintext, tag, associatedData))
        {
            return "A.5 open refused the RFC's ciphertext";
        }
        if (Differs("A.5 plaintext", expected.Hex(DecryptionPlaintext), plaintext) is { } openFailure)
        {
            return openFailure;
        }

        tag[0] ^= 1;
        return ChaCha20Poly1305.Open(width, key, nonce, ciphertext, plaintext, tag, associatedData)
            ? "A.5 open accepted a tampered tag"
            : null;
    }

    /// <summary>
    /// Our seal and open against libsodium's on random keys, nonces, associated data and lengths. The seed is fixed, so
    /// a failure reproduces.
    /// </summary>
    private static string? MatchesLibsodium(ChaChaWidth width, Expectation expected)
    {
        int seed = DifferentialSeed + (int)width;
        var random = new Random(seed);
        var algorithm = Sodium.AeadAlgorithm.ChaCha20Poly1305;
        var key = new byte[ChaCha20Poly1305.KeySize];
        var nonce = new byte[ChaCha20Poly1305.NonceSize];
        var associatedData = new byte[64];
        var plaintext = new byte[MaxDifferentialLength];
        var sodium = new byte[MaxDifferentialLength + ChaCha20Poly1305.TagSize];
        var ours = new byte[MaxDifferentialLength];
        var tag = new byte[ChaCha20Poly1305.TagSize];

        for (int i = 0; i < DifferentialCases; i++)
        {
            random.NextBytes(key);
            random.NextBytes(nonce);
            Span<byte> ad = associatedData.AsSpan(0, random.Next(associatedData.Length + 1));
            random.NextBytes(ad);
            int length = PickLength(random);
            Span<byte> message = plaintext.AsSpan(0, length);
            random.NextBytes(message);
            Span<byte> c = ours.AsSpan(0, length);
            string where = $"case {i} (seed {seed}, length {length})";

            using (var sodiumKey = Sodium.Key.Import(algorithm, key, Sodium.KeyBlobFormat.RawSymmetricKey))
            {
                algorithm.Encrypt(sodiumKey, nonce, ad, message, sodium.AsSpan(0, length + ChaCha20Poly1305.TagSize));
            }
            expected.Alter(sodium);
            ReadOnlySpan<byte> sodiumCiphertext = sodium.AsSpan(0, length);
            ReadOnlySpan<byte> sodiumTag = sodium.AsSpan(length, ChaCha20Poly1305.TagSize);

            ChaCha20Poly1305.Seal(width, key, nonce, message, c, tag, ad);
            if ((Differs($"{where}: ciphertext vs libsodium", sodiumCiphertext, c) ??
                Differs($"{where}: tag vs libsodium", sodiumTag, tag)) is { } sealFailure)
            {
                return sealFailure;
            }

            message.CopyTo(c);
            ChaCha20Poly1305.Seal(width, key, nonce, c, c, tag, ad);
            if ((Differs($"{where}: ciphertext in place vs libsodium", sodiumCiphertext, c) ??
                Differs($"{where}: tag in place vs libsodium", sodiumTag, tag)) is { } inPlaceFailure)
            {
                return inPlaceFailure;
            }

            c.Clear();
            if (!ChaCha20Poly1305.Open(width, key, nonce, sodiumCiphertext, c, sodiumTag, ad))
            {
                return $"{where}: open refused libsodium's output";
            }
            if (Differs($"{where}: plaintext opened from libsodium's output", message, c) is { } openFailure)
            {
                return openFailure;
            }

            // One flipped bit anywhere in the ciphertext or the tag: refused, in place, the packet left as it was.
            sodiumCiphertext.CopyTo(c);
            sodiumTag.CopyTo(tag);
            int bit = random.Next((length + ChaCha20Poly1305.TagSize) * 8);
            Span<byte> flipped = bit < length * 8 ? c : tag;
            flipped[(bit / 8) % flipped.Length] ^= (byte)(1 << (bit % 8));
            if (ChaCha20Poly1305.Open(width, key, nonce, c, c, tag, ad))
            {
                return $"{where}: open accepted a flipped bit {bit}";
            }
        }

        return null;
    }

    private static int PickLength(Random random) => random.Next(10) switch
    {
        < 4 => BoundaryLengths[random.Next(BoundaryLengths.Length)],
        < 6 => random.Next(8192, MaxDifferentialLength + 1),
        < 8 => random.Next(0, 600),
        _ => random.Next(0, MaxDifferentialLength + 1),
    };

    private static string? Poly1305Vector(Expectation expected)
    {
        var tag = new byte[Poly1305.TagSize];
        Poly1305.Compute(Convert.FromHexString(Poly1305Key), Encoding.ASCII.GetBytes(Poly1305Message), tag);
        return Differs("tag", expected.Hex(Poly1305Tag), tag);
    }

    private static string? Blake2sVectors(Expectation expected)
    {
        var digest = new byte[Blake2s.HashSize];
        Blake2s.Hash("abc"u8, digest);
        if (Differs("appendix B \"abc\"", expected.Hex(Blake2sAbc), digest) is { } failure)
        {
            return failure;
        }

        // blake2s_selftest(): unkeyed and keyed hashes of every digest length and input length, hashed together.
        Span<byte> input = stackalloc byte[1024];
        Span<byte> key = stackalloc byte[32];
        var grand = new Blake2s(32);
        foreach (int outLength in (ReadOnlySpan<int>)[16, 20, 28, 32])
        {
            foreach (int inLength in (ReadOnlySpan<int>)[0, 3, 64, 65, 255, 1024])
            {
                SelfTestSequence(input[..inLength], (uint)inLength);
                Blake2s.Hash(input[..inLength], digest.AsSpan(0, outLength));
                grand.Update(digest.AsSpan(0, outLength));
                SelfTestSequence(key[..outLength], (uint)outLength);
                Blake2s.KeyedHash(key[..outLength], input[..inLength], digest.AsSpan(0, outLength));
                grand.Update(digest.AsSpan(0, outLength));
            }
        }
        grand.Finish(digest);
        return Differs("appendix E self-test", expected.Hex(Blake2sSelfTest), digest);
    }

    /// <summary>The input generator of RFC 7693 appendix E.</summary>
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

    private static string? KeyedBlake2sVectors(Expectation expected)
    {
        byte[] key = Sequence(Blake2s.MaxKeySize);
        var digest = new byte[Blake2s.HashSize];
        foreach (var (length, hash) in KeyedBlake2s)
        {
            Blake2s.KeyedHash(key, Sequence(length), digest);
            if (Differs($"input length {length}", expected.Hex(hash), digest) is { } failure)
            {
                return failure;
            }
        }
        return null;
    }

    private static string? KdfVectors(Expectation expected)
    {
        var mac = new byte[Blake2s.HashSize];
        Blake2s.Hmac(Convert.FromHexString(HmacKey), Convert.FromHexString(HmacData), mac);
        if (Differs("HMAC", expected.Hex(HmacMac), mac) is { } failure)
        {
            return failure;
        }

        var t1 = new byte[Blake2s.HashSize];
        var t2 = new byte[Blake2s.HashSize];
        var t3 = new byte[Blake2s.HashSize];
        NoiseKdf.Kdf3(Convert.FromHexString(KdfKey), default, t1, t2, t3);
        return Differs("KDF3 t1", expected.Hex(KdfT1), t1) ??
            Differs("KDF3 t2", expected.Hex(KdfT2), t2) ??
            Differs("KDF3 t3", expected.Hex(KdfT3), t3);
    }

    private static string? X25519Vectors(Expectation expected)
    {
        var output = new byte[X25519.KeySize];
        using (var scalar = X25519.ImportPrivateKey(Convert.FromHexString(ScalarMultScalar)))
        {
            if (!X25519.TryAgree(scalar, Convert.FromHexString(ScalarMultU), output))
            {
                return "5.2: the scalar multiplication was refused";
            }
        }
        if (Differs("5.2 scalar multiplication", expected.Hex(ScalarMultOutput), output) is { } failure)
        {
            return failure;
        }

        X25519.DerivePublicKey(Convert.FromHexString(AlicePrivate), output);
        if (Differs("6.1 Alice's public key", expected.Hex(AlicePublic), output) is { } alice)
        {
            return alice;
        }
        X25519.DerivePublicKey(Convert.FromHexString(BobPrivate), output);
        if (Differs("6.1 Bob's public key", expected.Hex(BobPublic), output) is { } bob)
        {
            return bob;
        }

        using var aliceKey = X25519.ImportPrivateKey(Convert.FromHexString(AlicePrivate));
        using var bobKey = X25519.ImportPrivateKey(Convert.FromHexString(BobPrivate));
        byte[] shared = expected.Hex(SharedSecret);
        if (!X25519.TryAgree(aliceKey, Convert.FromHexString(BobPublic), output))
        {
            return "6.1: Alice's agreement was refused";
        }
        if (Differs("6.1 shared secret (Alice)", shared, output) is { } aliceShared)
        {
            return aliceShared;
        }
        if (!X25519.TryAgree(bobKey, Convert.FromHexString(AlicePublic), output))
        {
            return "6.1: Bob's agreement was refused";
        }
        if (Differs("6.1 shared secret (Bob)", shared, output) is { } bobShared)
        {
            return bobShared;
        }

        // u = 0 is a point of small order: the secret is all zeros, and WireGuard must refuse it.
        return X25519.TryAgree(aliceKey, new byte[X25519.KeySize], output) ? "a low-order public key was accepted" : null;
    }

    /// <summary>
    /// Two peers with a preshared key run the handshake through the real protocol core (initiation, response, the
    /// first transport message confirms the session), then exchange data both ways; a replayed datagram is refused.
    /// </summary>
    private static string? NoiseHandshake(Expectation expected)
    {
        using var a = new HandshakeDemo.Office("peer-a", IPAddress.Parse("10.1.0.1"));
        using var b = new HandshakeDemo.Office("peer-b", IPAddress.Parse("10.2.0.1"));
        a.Connect(b);
        b.Connect(a);
        Span<byte> psk = stackalloc byte[Constants.KeySize];
        System.Security.Cryptography.RandomNumberGenerator.Fill(psk);
        a.Session.SetPresharedKey(psk);
        b.Session.SetPresharedKey(psk);

        var wire = new byte[2048];
        var reply = new byte[2048];
        int length = a.Session.WriteInitiation(wire, isRetry: false);
        if (length != Messages.InitiationSize)
        {
            return $"the initiation is {length} bytes";
        }
        var atB = b.Handler.Handle(wire.AsSpan(0, length), a.WanAddress, underLoad: false, reply);
        if (atB.Outcome != MessageOutcome.Reply || atB.Length != Messages.ResponseSize)
        {
            return $"the responder did not answer the initiation: {atB.Outcome} ({atB.Reason})";
        }
        var atA = a.Handler.Handle(reply.AsSpan(0, atB.Length), b.WanAddress, underLoad: false, wire);
        if (atA.Outcome != MessageOutcome.HandshakeComplete)
        {
            return $"the initiator did not complete the handshake: {atA.Outcome} ({atA.Reason})";
        }

        return Transport(a, b, "from peer a", expected, replay: false) ??
            Transport(b, a, "from peer b", expected, replay: true);
    }

    private static string? Transport(HandshakeDemo.Office from, HandshakeDemo.Office to, string text, Expectation expected, bool replay)
    {
        byte[] packet = HandshakeDemo.Ipv4Udp(from.LanAddress, to.LanAddress, text);
        var buffer = new byte[2048];
        var reply = new byte[2048];
        packet.CopyTo(buffer.AsSpan(Messages.TransportHeaderSize));
        var sent = from.Session.Encrypt(buffer, packet.Length, Constants.DefaultMtu);
        if (sent.Status != SendStatus.Sealed)
        {
            return $"{from.Name} could not encrypt: {sent.Status}";
        }

        byte[] datagram = buffer.AsSpan(0, sent.Length).ToArray(); // opening is in place: keep it to replay it
        var delivered = to.Handler.Handle(buffer.AsSpan(0, sent.Length), from.WanAddress, underLoad: false, reply);
        if (delivered.Outcome != MessageOutcome.Data)
        {
            return $"{to.Name} dropped the data {text}: {delivered.Outcome} ({delivered.Reason})";
        }
        if (Differs($"data {text}", expected.Bytes(packet), buffer.AsSpan(Messages.TransportHeaderSize, packet.Length)) is { } failure)
        {
            return failure;
        }
        if (!replay)
        {
            return null;
        }

        var replayed = to.Handler.Handle(datagram, from.WanAddress, underLoad: false, reply);
        return replayed.Reason == DropReason.Replay ? null : $"a replayed datagram was {replayed.Outcome} ({replayed.Reason})";
    }

    private static byte[] Sequence(int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)i;
        }
        return bytes;
    }

    /// <summary>Null when equal; else which bytes differ, for the report.</summary>
    private static string? Differs(string what, ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        if (expected.SequenceEqual(actual))
        {
            return null;
        }
        int at = expected.CommonPrefixLength(actual);
        return expected.Length != actual.Length
            ? $"{what}: {actual.Length} bytes, expected {expected.Length}"
            : $"{what} differs from byte {at} (expected {Convert.ToHexStringLower(expected.Slice(at, Math.Min(8, expected.Length - at)))}..., " +
              $"got {Convert.ToHexStringLower(actual.Slice(at, Math.Min(8, actual.Length - at)))}...)";
    }

    /// <summary>
    /// The expected values of one check. Normally they are the constants as written; for the check named by the test
    /// hook every expected value has its first bit flipped, so the check must fail.
    /// </summary>
    private sealed class Expectation(bool corrupt)
    {
        public byte[] Hex(string hex) => Bytes(Convert.FromHexString(hex));

        public byte[] Bytes(byte[] value)
        {
            byte[] copy = (byte[])value.Clone();
            Alter(copy);
            return copy;
        }

        public void Alter(Span<byte> value)
        {
            if (corrupt && !value.IsEmpty)
            {
                value[0] ^= 1;
            }
        }
    }

    /// <summary>Runs the checks one after the other, prints one line each and remembers which failed.</summary>
    private sealed class SelfTestRun(TextWriter stdout, string? corruptCheck)
    {
        private readonly List<string> _failed = [];
        private int _passed;

        public void Check(string name, Func<Expectation, string?> check)
        {
            string? failure;
            try
            {
                failure = check(new Expectation(string.Equals(name, corruptCheck, StringComparison.Ordinal)));
            }
            catch (Exception e)
            {
                failure = $"{e.GetType().Name}: {e.Message}";
            }

            if (failure is null)
            {
                _passed++;
                stdout.WriteLine($"{name} ... ok");
            }
            else
            {
                _failed.Add(name);
                stdout.WriteLine($"{name} ... FAILED: {failure}");
            }
        }

        public int Finish(TextWriter stderr)
        {
            if (_failed.Count == 0)
            {
                stdout.WriteLine($"selftest passed: {_passed} checks");
                return 0;
            }

            foreach (string name in _failed)
            {
                stderr.WriteLine($"selftest: FAILED: {name}");
            }
            stdout.WriteLine($"selftest FAILED: {_failed.Count} of {_passed + _failed.Count} checks");
            return 1;
        }
    }
}
