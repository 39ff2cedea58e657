namespace Branchgate.Cli;

/// <summary>
/// The known answers `branchgate selftest` checks, as hex constants: the binary reads no file at run time. Sources:
/// RFC 8439 (ChaCha20, Poly1305, AEAD), RFC 7693 (BLAKE2s), the BLAKE2 reference repository's blake2s-kat.txt (keyed,
/// key 00..1f, input 00 01 .. len-1), Python's hmac + hashlib.blake2s (HMAC-BLAKE2s and the Noise KDF, as in
/// tests/Gateway.Tests/TestData/kdf-blake2s.txt) and RFC 7748 (X25519).
/// </summary>
internal static partial class SelfTestCommand
{
    // RFC 8439 section 2.3.2: key 00..1f, block counter 1.
    private const string BlockNonce = "000000090000004a00000000";
    private const string BlockKeystream =
        "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e" +
        "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e";

    // RFC 8439 section 2.4.2: key 00..1f, initial counter 1, the "sunscreen" plaintext.
    private const string EncryptionNonce = "000000000000004a00000000";
    private const string EncryptionCiphertext =
        "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab" +
        "8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42" +
        "874d";

    private const string Sunscreen =
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";

    // RFC 8439 section 2.5.2.
    private const string Poly1305Key = "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b";
    private const string Poly1305Message = "Cryptographic Forum Research Group";
    private const string Poly1305Tag = "a8061dc1305136c6c22b8baf0c0127a9";

    // RFC 8439 section 2.6.2 (Poly1305 key generation) and 2.8.2 (AEAD): key 80..9f.
    private const string AeadKey = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
    private const string KeyGenerationNonce = "000000000001020304050607";
    private const string OneTimeKey = "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646";
    private const string AeadNonce = "070000004041424344454647";
    private const string AeadAssociatedData = "50515253c0c1c2c3c4c5c6c7";
    private const string AeadCiphertext =
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b29" +
        "05d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b" +
        "6116";
    private const string AeadTag = "1ae10b594f09e26a7e902ecbd0600691";

    // RFC 8439 appendix A.5 (AEAD decryption).
    private const string DecryptionKey = "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
    private const string DecryptionNonce = "000000000102030405060708";
    private const string DecryptionAssociatedData = "f33388860000000000004e91";
    private const string DecryptionTag = "eead9d67890cbb22392336fea1851f38";
    private const string DecryptionCiphertext =
        "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100" +
        "d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c8559797a06ef4f0ef61c186324e2b350638" +
        "3606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523eaf4534d7f83fa115" +
        "5b0047718cbc546a0d072b04b3564eea1b422273f548271a0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10" +
        "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b";
    private const string DecryptionPlaintext =
        "496e7465726e65742d4472616674732061726520647261667420646f63756d656e74732076616c696420666f722061206d6178696d756d20" +
        "6f6620736978206d6f6e74687320616e64206d617920626520757064617465642c207265706c616365642c206f72206f62736f6c65746564" +
        "206279206f7468657220646f63756d656e747320617420616e792074696d652e20497420697320696e617070726f70726961746520746f20" +
        "75736520496e7465726e65742d447261667473206173207265666572656e6365206d6174657269616c206f7220746f206369746520746865" +
        "6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67726573732e2fe2809d";

    // RFC 7693 appendix B ("abc") and the grand hash of appendix E's blake2s_selftest().
    private const string Blake2sAbc = "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982";
    private const string Blake2sSelfTest = "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe";

    // blake2s-kat.txt: input length -> keyed hash. The lengths straddle the 64-byte block.
    private static readonly (int Length, string Hash)[] KeyedBlake2s =
    [
        (0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49"),
        (1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1"),
        (32, "c03bc642b20959cbe133a0303e0c1abff3e31ec8e1a328ec8565c36decff5265"),
        (63, "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd"),
        (64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4"),
        (65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8"),
        (255, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd"),
    ];

    // HMAC-BLAKE2s (key 43, data 9a) and KDF3 with an empty input, from kdf-blake2s.txt.
    private const string HmacKey = "43";
    private const string HmacData = "9a";
    private const string HmacMac = "25bbad6a5ac4191ad1d674f041c666a04fe507c85caeb491b52b23477c51b13b";
    private const string KdfKey = "795653cea854a6686bfd4e96ab9b23ada7783fe768a835e3d21ac3317d31dd9c";
    private const string KdfT1 = "d46e171ea458f8e6fcd61bf4b1c61691178482d89d068d9acf0bd6bb401e31a4";
    private const string KdfT2 = "1e85f4fadf7a29ffc8cfbc55430ceef1f9d0e1c566eb1ccdd828c65ca164c523";
    private const string KdfT3 = "0c16f27965845ed33a5b9fd14b15592820b4d73d5c6abede0b924433d441d2eb";

    // RFC 7748 section 5.2 (the first scalar multiplication) and section 6.1 (Alice and Bob).
    private const string ScalarMultScalar = "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4";
    private const string ScalarMultU = "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c";
    private const string ScalarMultOutput = "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552";
    private const string AlicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private const string AlicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    private const string BobPrivate = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    private const string BobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private const string SharedSecret = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
}
