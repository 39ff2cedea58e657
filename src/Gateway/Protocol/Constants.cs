namespace Branchgate.Protocol;

/// <summary>
/// Protocol constants, named as in the WireGuard paper (section 6) and wireguard-go's constants.go.
/// </summary>
public static class Constants
{
    public const string Construction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
    public const string Identifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
    public const string LabelMac1 = "mac1----";
    public const string LabelCookie = "cookie--";

    public const ulong RekeyAfterMessages = 1UL << 60;
    public const ulong RejectAfterMessages = ulong.MaxValue - (1UL << 13); // 2^64 - 2^13 - 1

    public static readonly TimeSpan RekeyAfterTime = TimeSpan.FromSeconds(120);
    public static readonly TimeSpan RejectAfterTime = TimeSpan.FromSeconds(180);
    public static readonly TimeSpan RekeyAttemptTime = TimeSpan.FromSeconds(90);
    public static readonly TimeSpan RekeyTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan KeepaliveTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan CookieRefreshTime = TimeSpan.FromSeconds(120);

    /// <summary>At most one accepted initiation per peer in this interval (flood protection).</summary>
    public static readonly TimeSpan HandshakeInitiationRate = TimeSpan.FromMilliseconds(20);

    /// <summary>Each handshake retransmission waits REKEY_TIMEOUT plus up to this much random jitter.</summary>
    public const int RekeyTimeoutJitterMaxMilliseconds = 334;

    /// <summary>REKEY_ATTEMPT_TIME / REKEY_TIMEOUT: retries before a handshake attempt is abandoned.</summary>
    public const int MaxTimerHandshakes = 18;

    /// <summary>How long "under load" lasts after the handshake queue was last found busy.</summary>
    public static readonly TimeSpan UnderLoadAfterTime = TimeSpan.FromSeconds(1);

    /// <summary>Initiator rekeys on receive once its keypair is this old (165 s).</summary>
    public static TimeSpan RekeyOnReceiveAge => RejectAfterTime - KeepaliveTimeout - RekeyTimeout;

    /// <summary>All key material is erased after this long without a new handshake (540 s).</summary>
    public static TimeSpan ZeroKeyMaterialAfter => RejectAfterTime * 3;

    /// <summary>Counters remembered by the replay filter (as the kernel and wireguard-go).</summary>
    public const int ReplayWindowSize = 8128;

    public const int PaddingMultiple = 16;
    public const int DefaultMtu = 1420;

    public const int KeySize = 32;
    public const int TagSize = 16;
    public const int MacSize = 16;
    public const int CookieSize = 16;
    public const int CookieNonceSize = 24;
    public const int TimestampSize = 12;
}
