using System.Text;
using Branchgate.Crypto;

namespace Branchgate.Protocol;

/// <summary>
/// This device's static key pair and the values derived from it once: the hash that seeds every handshake addressed to
/// us, the key under which initiators compute mac1 for us, and the key under which we encrypt cookie replies.
/// </summary>
public sealed class NoiseIdentity : IDisposable
{
    public NoiseIdentity(NoisePrivateKey privateKey)
    {
        PrivateKey = privateKey;
        Blake2s.Hash(NoiseConstants.InitialHash, privateKey.PublicKey.Span, ResponderHash);
        NoiseConstants.DeriveMac1Key(privateKey.PublicKey.Span, Mac1Key);
        NoiseConstants.DeriveCookieKey(privateKey.PublicKey.Span, CookieKey);
    }

    public NoisePrivateKey PrivateKey { get; }

    public NoisePublicKey PublicKey => PrivateKey.PublicKey;

    /// <summary>H = HASH(H0 || our static public key): where a handshake we respond to starts.</summary>
    internal byte[] ResponderHash { get; } = new byte[Blake2s.HashSize];

    internal byte[] Mac1Key { get; } = new byte[Blake2s.HashSize];

    internal byte[] CookieKey { get; } = new byte[Blake2s.HashSize];

    public void Dispose() => PrivateKey.Dispose();
}

/// <summary>The constants the handshake starts from, hashed once.</summary>
internal static class NoiseConstants
{
    /// <summary>C0 = HASH(construction).</summary>
    public static readonly byte[] InitialChainKey = HashOf(Encoding.ASCII.GetBytes(Constants.Construction), []);

    /// <summary>H0 = HASH(C0 || identifier).</summary>
    public static readonly byte[] InitialHash = HashOf(InitialChainKey, Encoding.ASCII.GetBytes(Constants.Identifier));

    private static readonly byte[] LabelMac1 = Encoding.ASCII.GetBytes(Constants.LabelMac1);
    private static readonly byte[] LabelCookie = Encoding.ASCII.GetBytes(Constants.LabelCookie);

    /// <summary>HASH("mac1----" || public key of the message's receiver).</summary>
    public static void DeriveMac1Key(ReadOnlySpan<byte> receiverPublicKey, Span<byte> key) =>
        Blake2s.Hash(LabelMac1, receiverPublicKey, key);

    /// <summary>HASH("cookie--" || public key of the side that sends the cookie reply).</summary>
    public static void DeriveCookieKey(ReadOnlySpan<byte> cookieSenderPublicKey, Span<byte> key) =>
        Blake2s.Hash(LabelCookie, cookieSenderPublicKey, key);

    private static byte[] HashOf(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var hash = new byte[Blake2s.HashSize];
        Blake2s.Hash(first, second, hash);
        return hash;
    }
}
