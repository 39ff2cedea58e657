using System.Security.Cryptography;
using Branchgate.Crypto;
using ChaCha20Poly1305 = Branchgate.Crypto.ChaCha20Poly1305;

namespace Branchgate.Protocol;

/// <summary>Finds the session of a peer by its static public key (the responder learns it from the initiation).</summary>
public interface ISessionDirectory
{
    PeerSession? FindSession(ReadOnlySpan<byte> publicKey);
}

/// <summary>
/// Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as WireGuard uses it (paper 5.4.2-5.4.4). Steps are labelled with the Noise
/// tokens. HASH is BLAKE2s-256, KDF is HKDF over HMAC-BLAKE2s, AEAD is ChaCha20-Poly1305 with counter 0 (each key is
/// used once). This file holds the mixing steps and the responder's first look at an initiation; the per-peer steps
/// are in PeerSession.Handshake.cs.
/// </summary>
public static class Handshake
{
    internal const int KeySize = Blake2s.HashSize;

    /// <summary>H = HASH(H || data).</summary>
    internal static void MixHash(Span<byte> hash, ReadOnlySpan<byte> data) => Blake2s.Hash(hash, data, hash);

    /// <summary>C = KDF1(C, input).</summary>
    internal static void MixKey(Span<byte> chainKey, ReadOnlySpan<byte> input) => NoiseKdf.Kdf1(chainKey, input, chainKey);

    /// <summary>(C, k) = KDF2(C, DH(private, public)); false when the DH result is all zeros.</summary>
    internal static bool MixDh(Span<byte> chainKey, Span<byte> key, NSec.Cryptography.Key privateKey, ReadOnlySpan<byte> publicKey)
    {
        Span<byte> shared = stackalloc byte[X25519.KeySize];
        try
        {
            if (!X25519.TryAgree(privateKey, publicKey, shared))
            {
                return false;
            }

            NoiseKdf.Kdf2(chainKey, shared, chainKey, key);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    /// <summary>
    /// The responder's side of an initiation whose mac1 (and, under load, mac2) already checked out: decrypts the
    /// initiator's static key, finds its session, and lets that session authenticate the rest. Nothing changes unless
    /// the whole message authenticates and its timestamp is new.
    /// </summary>
    public static DropReason ConsumeInitiation(NoiseIdentity identity, ISessionDirectory directory,
        ReadOnlySpan<byte> message, out PeerSession? session)
    {
        session = null;
        Span<byte> hash = stackalloc byte[KeySize];
        Span<byte> chainKey = stackalloc byte[KeySize];
        Span<byte> key = stackalloc byte[KeySize];
        Span<byte> peerStatic = stackalloc byte[X25519.KeySize];
        try
        {
            identity.ResponderHash.CopyTo(hash);
            NoiseConstants.InitialChainKey.CopyTo(chainKey);

            // e
            var ephemeral = message.Slice(Messages.InitiationEphemeral, X25519.KeySize);
            MixHash(hash, ephemeral);
            MixKey(chainKey, ephemeral);

            // es
            if (!MixDh(chainKey, key, identity.PrivateKey.Key, ephemeral))
            {
                return DropReason.LowOrderPoint;
            }

            // s
            var encryptedStatic = message.Slice(Messages.InitiationStatic, Messages.InitiationStaticSize);
            if (!ChaCha20Poly1305.Open(key, 0, encryptedStatic[..X25519.KeySize], peerStatic,
                    encryptedStatic[X25519.KeySize..], hash))
            {
                return DropReason.DecryptionFailed;
            }

            MixHash(hash, encryptedStatic);

            session = directory.FindSession(peerStatic);
            if (session is null)
            {
                return DropReason.UnknownPeer;
            }

            // ss, timestamp: the session checks them against its own state under its lock.
            var reason = session.AcceptInitiation(message, hash, chainKey, ephemeral);
            if (reason != DropReason.None)
            {
                session = null;
            }

            return reason;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(hash);
            CryptographicOperations.ZeroMemory(chainKey);
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
