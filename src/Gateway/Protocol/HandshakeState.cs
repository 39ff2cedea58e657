using System.Security.Cryptography;
using Branchgate.Crypto;

namespace Branchgate.Protocol;

internal enum HandshakeStage
{
    Zeroed,
    InitiationCreated,
    InitiationConsumed,
    ResponseCreated,
    ResponseConsumed,
}

/// <summary>One peer's Noise state between the messages of a handshake, guarded by the session lock.</summary>
internal sealed class HandshakeState : IDisposable
{
    public HandshakeStage Stage;
    public readonly byte[] Hash = GC.AllocateArray<byte>(Blake2s.HashSize, pinned: true);
    public readonly byte[] ChainKey = GC.AllocateArray<byte>(Blake2s.HashSize, pinned: true);
    public readonly byte[] RemoteEphemeral = new byte[X25519.KeySize];
    public NSec.Cryptography.Key? LocalEphemeral;
    public uint LocalIndex;
    public uint RemoteIndex;

    /// <summary>DH(our static, their static), computed when the peer or our key is set; all zero means unusable.</summary>
    public readonly byte[] StaticStatic = GC.AllocateArray<byte>(X25519.KeySize, pinned: true);
    public bool HasStaticStatic;

    /// <summary>The greatest TAI64N timestamp accepted from this peer (replay protection of initiations).</summary>
    public readonly byte[] LastTimestamp = new byte[Tai64N.Size];
    public long LastInitiationConsumedAt;
    public bool HasConsumedInitiation;

    public long LastSentAt;
    public bool HasSent;

    /// <summary>Forgets the handshake in progress (not the replay state: timestamps must keep rising).</summary>
    public void Clear()
    {
        Stage = HandshakeStage.Zeroed;
        CryptographicOperations.ZeroMemory(Hash);
        CryptographicOperations.ZeroMemory(ChainKey);
        CryptographicOperations.ZeroMemory(RemoteEphemeral);
        LocalEphemeral?.Dispose();
        LocalEphemeral = null;
        RemoteIndex = 0;
    }

    public void Dispose()
    {
        Clear();
        CryptographicOperations.ZeroMemory(StaticStatic);
        HasStaticStatic = false;
    }
}
