using System.Security.Cryptography;
using Branchgate.Crypto;
using NSec.Cryptography;

namespace Branchgate.Protocol;

/// <summary>
/// The responder's side of the cookie mechanism (paper 5.4.7): checks mac1 on every handshake message, and under load
/// checks mac2 and answers messages without a valid one with a cookie reply instead of doing DH work.
/// The cookie is MAC(secret, source address); the secret changes every two minutes. Thread safe.
/// </summary>
public sealed class CookieChecker : IDisposable
{
    private readonly Lock _lock = new();
    private readonly byte[] _mac1Key;
    private readonly Key _replyKey;
    private readonly byte[] _secret = GC.AllocateArray<byte>(Blake2s.HashSize, pinned: true);
    private readonly TimeProvider _time;
    private long _secretSetAt;
    private bool _secretValid;

    public CookieChecker(NoiseIdentity identity, TimeProvider time)
    {
        _time = time;
        _mac1Key = identity.Mac1Key;
        _replyKey = Key.Import(AeadAlgorithm.XChaCha20Poly1305, identity.CookieKey, KeyBlobFormat.RawSymmetricKey);
    }

    /// <summary>mac1 must equal MAC(HASH("mac1----" || our public key), message up to mac1).</summary>
    public bool CheckMac1(ReadOnlySpan<byte> message)
    {
        var mac1At = Messages.Mac1Offset(message.Length);
        Span<byte> expected = stackalloc byte[Constants.MacSize];
        Blake2s.KeyedHash(_mac1Key, message[..mac1At], expected);
        return CryptographicOperations.FixedTimeEquals(expected, message.Slice(mac1At, Constants.MacSize));
    }

    /// <summary>mac2 must equal MAC(cookie for this source, message up to mac2), with a secret younger than 2 minutes.</summary>
    public bool CheckMac2(ReadOnlySpan<byte> message, ReadOnlySpan<byte> sourceAddress)
    {
        Span<byte> cookie = stackalloc byte[Constants.CookieSize];
        lock (_lock)
        {
            if (!_secretValid || _time.GetElapsedTime(_secretSetAt) > Constants.CookieRefreshTime)
            {
                return false;
            }

            Blake2s.KeyedHash(_secret, sourceAddress, cookie);
        }

        var mac2At = Messages.Mac2Offset(message.Length);
        Span<byte> expected = stackalloc byte[Constants.MacSize];
        Blake2s.KeyedHash(cookie, message[..mac2At], expected);
        CryptographicOperations.ZeroMemory(cookie);
        return CryptographicOperations.FixedTimeEquals(expected, message.Slice(mac2At, Constants.MacSize));
    }

    /// <summary>
    /// Writes a 64-byte cookie reply to <paramref name="message"/> (an initiation or response) from
    /// <paramref name="sourceAddress"/>: the cookie encrypted with XChaCha20-Poly1305 under a random nonce, with the
    /// message's mac1 as associated data.
    /// </summary>
    public void WriteReply(ReadOnlySpan<byte> message, ReadOnlySpan<byte> sourceAddress, Span<byte> reply)
    {
        if (reply.Length < Messages.CookieReplySize)
        {
            ThrowHelper.ThrowArgument(nameof(reply), "a cookie reply is 64 bytes");
        }

        Span<byte> cookie = stackalloc byte[Constants.CookieSize];
        lock (_lock)
        {
            if (!_secretValid || _time.GetElapsedTime(_secretSetAt) > Constants.CookieRefreshTime)
            {
                RandomNumberGenerator.Fill(_secret);
                _secretSetAt = _time.GetTimestamp();
                _secretValid = true;
            }

            Blake2s.KeyedHash(_secret, sourceAddress, cookie);
        }

        Messages.WriteType(reply, MessageType.CookieReply);
        // The reply goes to the sender of the message, so it carries that message's sender index.
        Messages.WriteUInt32(reply, Messages.CookieReplyReceiver, Messages.ReadUInt32(message, Messages.InitiationSender));
        var nonce = reply.Slice(Messages.CookieReplyNonce, Constants.CookieNonceSize);
        RandomNumberGenerator.Fill(nonce);
        var mac1 = message.Slice(Messages.Mac1Offset(message.Length), Constants.MacSize);
        AeadAlgorithm.XChaCha20Poly1305.Encrypt(_replyKey, nonce, associatedData: mac1, plaintext: cookie,
            reply.Slice(Messages.CookieReplyCookie, Messages.CookieReplyCookieSize));
        CryptographicOperations.ZeroMemory(cookie);
    }

    public void Dispose()
    {
        _replyKey.Dispose();
        CryptographicOperations.ZeroMemory(_secret);
    }
}

/// <summary>
/// The initiator's side, one per peer: adds mac1 (and mac2 while a cookie from that peer is fresh) to our handshake
/// messages, and takes in the peer's cookie replies. Not thread safe: the owning session serialises calls.
/// </summary>
public sealed class CookieGenerator : IDisposable
{
    private readonly byte[] _mac1Key = new byte[Blake2s.HashSize];
    private readonly Key _replyKey;
    private readonly byte[] _cookie = GC.AllocateArray<byte>(Constants.CookieSize, pinned: true);
    private readonly byte[] _lastMac1 = new byte[Constants.MacSize];
    private readonly TimeProvider _time;
    private long _cookieSetAt;
    private bool _hasCookie;
    private bool _hasLastMac1;

    public CookieGenerator(NoisePublicKey peer, TimeProvider time)
    {
        _time = time;
        NoiseConstants.DeriveMac1Key(peer.Span, _mac1Key);
        Span<byte> replyKey = stackalloc byte[Blake2s.HashSize];
        NoiseConstants.DeriveCookieKey(peer.Span, replyKey);
        _replyKey = Key.Import(AeadAlgorithm.XChaCha20Poly1305, replyKey, KeyBlobFormat.RawSymmetricKey);
    }

    /// <summary>True while a cookie received within the last two minutes is held.</summary>
    public bool HasFreshCookie => _hasCookie && _time.GetElapsedTime(_cookieSetAt) < Constants.CookieRefreshTime;

    /// <summary>Fills in mac1 and mac2 (zero without a fresh cookie) of an initiation or response we send.</summary>
    public void AddMacs(Span<byte> message)
    {
        var mac1At = Messages.Mac1Offset(message.Length);
        var mac1 = message.Slice(mac1At, Constants.MacSize);
        Blake2s.KeyedHash(_mac1Key, message[..mac1At], mac1);
        mac1.CopyTo(_lastMac1);
        _hasLastMac1 = true;

        var mac2At = Messages.Mac2Offset(message.Length);
        var mac2 = message.Slice(mac2At, Constants.MacSize);
        if (HasFreshCookie)
        {
            Blake2s.KeyedHash(_cookie, message[..mac2At], mac2);
        }
        else
        {
            mac2.Clear();
        }
    }

    /// <summary>Decrypts a cookie reply to the last message we sent; false when it is not one.</summary>
    public bool ConsumeReply(ReadOnlySpan<byte> reply)
    {
        if (!_hasLastMac1)
        {
            return false;
        }

        Span<byte> cookie = stackalloc byte[Constants.CookieSize];
        var opened = AeadAlgorithm.XChaCha20Poly1305.Decrypt(_replyKey,
            reply.Slice(Messages.CookieReplyNonce, Constants.CookieNonceSize),
            associatedData: _lastMac1,
            ciphertext: reply.Slice(Messages.CookieReplyCookie, Messages.CookieReplyCookieSize),
            plaintext: cookie);
        if (!opened)
        {
            return false;
        }

        cookie.CopyTo(_cookie);
        CryptographicOperations.ZeroMemory(cookie);
        _cookieSetAt = _time.GetTimestamp();
        _hasCookie = true;
        _hasLastMac1 = false;
        return true;
    }

    public void Dispose()
    {
        _replyKey.Dispose();
        CryptographicOperations.ZeroMemory(_cookie);
    }
}
