using System.Security.Cryptography;
using Branchgate.Crypto;
using ChaCha20Poly1305 = Branchgate.Crypto.ChaCha20Poly1305;

namespace Branchgate.Protocol;

/// <summary>The per-peer steps of the handshake (paper 5.4.2-5.4.5), each labelled with its Noise token.</summary>
public sealed partial class PeerSession
{
    /// <summary>
    /// Writes a handshake initiation (148 bytes, macs included) to <paramref name="message"/> and returns its length,
    /// or 0 when none may be sent now: no private key, an unusable peer key, or one was sent less than REKEY_TIMEOUT
    /// ago. <paramref name="isRetry"/> is true for retransmissions, which keep counting attempts.
    /// </summary>
    public int WriteInitiation(Span<byte> message, bool isRetry)
    {
        if (message.Length < Messages.InitiationSize)
        {
            ThrowHelper.ThrowArgument(nameof(message), "an initiation needs 148 bytes");
        }

        lock (_lock)
        {
            if (!isRetry)
            {
                _timers.ResetHandshakeAttempts();
            }

            var now = _time.GetTimestamp();
            if (_disposed || (_handshake.HasSent && _time.GetElapsedTime(_handshake.LastSentAt, now) < Constants.RekeyTimeout))
            {
                return 0;
            }

            message = message[..Messages.InitiationSize];
            if (!CreateInitiation(message))
            {
                return 0;
            }

            _handshake.LastSentAt = now;
            _handshake.HasSent = true;
            _cookies.AddMacs(message);
            _timers.AnyAuthenticatedPacketTraversal();
            _timers.AnyAuthenticatedPacketSent();
            _timers.HandshakeInitiated();
            return Messages.InitiationSize;
        }
    }

    private bool CreateInitiation(Span<byte> message)
    {
        var identity = _identity;
        if (identity is null || !_handshake.HasStaticStatic)
        {
            return false;
        }

        ClearHandshake();
        var hash = _handshake.Hash.AsSpan();
        var chainKey = _handshake.ChainKey.AsSpan();
        Span<byte> key = stackalloc byte[Handshake.KeySize];
        try
        {
            NoiseConstants.InitialChainKey.CopyTo(chainKey);
            Blake2s.Hash(NoiseConstants.InitialHash, RemoteStatic.Span, hash);

            // e
            _handshake.LocalEphemeral = X25519.GenerateKey();
            var ephemeral = message.Slice(Messages.InitiationEphemeral, X25519.KeySize);
            X25519.ExportPublicKey(_handshake.LocalEphemeral, ephemeral);
            Handshake.MixKey(chainKey, ephemeral);
            Handshake.MixHash(hash, ephemeral);

            // es
            if (!Handshake.MixDh(chainKey, key, _handshake.LocalEphemeral, RemoteStatic.Span))
            {
                ClearHandshake();
                return false;
            }

            // s
            var encryptedStatic = message.Slice(Messages.InitiationStatic, Messages.InitiationStaticSize);
            ChaCha20Poly1305.Seal(key, 0, identity.PublicKey.Span, encryptedStatic[..X25519.KeySize],
                encryptedStatic[X25519.KeySize..], hash);
            Handshake.MixHash(hash, encryptedStatic);

            // ss
            NoiseKdf.Kdf2(chainKey, _handshake.StaticStatic, chainKey, key);

            // {t}
            Span<byte> timestamp = stackalloc byte[Tai64N.Size];
            Tai64N.Write(_time.GetUtcNow(), timestamp);
            var encryptedTimestamp = message.Slice(Messages.InitiationTimestamp, Messages.InitiationTimestampSize);
            ChaCha20Poly1305.Seal(key, 0, timestamp, encryptedTimestamp[..Tai64N.Size], encryptedTimestamp[Tai64N.Size..], hash);
            Handshake.MixHash(hash, encryptedTimestamp);

            Messages.WriteType(message, MessageType.Initiation);
            _handshake.LocalIndex = _indices.Register(this);
            Messages.WriteUInt32(message, Messages.InitiationSender, _handshake.LocalIndex);
            _handshake.Stage = HandshakeStage.InitiationCreated;
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// Second half of <see cref="Handshake.ConsumeInitiation"/>: with the responder's hash and chain key after "s",
    /// authenticates ss and the timestamp, applies replay and flood protection, then takes the handshake over.
    /// </summary>
    internal DropReason AcceptInitiation(ReadOnlySpan<byte> message, ReadOnlySpan<byte> hashAfterStatic,
        ReadOnlySpan<byte> chainKeyAfterStatic, ReadOnlySpan<byte> ephemeral)
    {
        Span<byte> hash = stackalloc byte[Handshake.KeySize];
        Span<byte> chainKey = stackalloc byte[Handshake.KeySize];
        Span<byte> key = stackalloc byte[Handshake.KeySize];
        Span<byte> timestamp = stackalloc byte[Tai64N.Size];
        lock (_lock)
        {
            try
            {
                if (_disposed || !_handshake.HasStaticStatic)
                {
                    return DropReason.UnknownPeer;
                }

                hashAfterStatic.CopyTo(hash);
                chainKeyAfterStatic.CopyTo(chainKey);

                // ss
                NoiseKdf.Kdf2(chainKey, _handshake.StaticStatic, chainKey, key);

                // {t}
                var encryptedTimestamp = message.Slice(Messages.InitiationTimestamp, Messages.InitiationTimestampSize);
                if (!ChaCha20Poly1305.Open(key, 0, encryptedTimestamp[..Tai64N.Size], timestamp,
                        encryptedTimestamp[Tai64N.Size..], hash))
                {
                    return DropReason.DecryptionFailed;
                }

                Handshake.MixHash(hash, encryptedTimestamp);

                // Replay: strictly newer than the last accepted; flood: at most one per 20 ms.
                if (!Tai64N.IsAfter(timestamp, _handshake.LastTimestamp))
                {
                    return DropReason.StaleTimestamp;
                }

                var now = _time.GetTimestamp();
                if (_handshake.HasConsumedInitiation
                    && _time.GetElapsedTime(_handshake.LastInitiationConsumedAt, now) <= Constants.HandshakeInitiationRate)
                {
                    return DropReason.InitiationFlood;
                }

                ClearHandshake();
                hash.CopyTo(_handshake.Hash);
                chainKey.CopyTo(_handshake.ChainKey);
                ephemeral.CopyTo(_handshake.RemoteEphemeral);
                _handshake.RemoteIndex = Messages.ReadUInt32(message, Messages.InitiationSender);
                timestamp.CopyTo(_handshake.LastTimestamp);
                _handshake.LastInitiationConsumedAt = now;
                _handshake.HasConsumedInitiation = true;
                _handshake.Stage = HandshakeStage.InitiationConsumed;
                _timers.AnyAuthenticatedPacketTraversal();
                _timers.AnyAuthenticatedPacketReceived();
                return DropReason.None;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(hash);
                CryptographicOperations.ZeroMemory(chainKey);
                CryptographicOperations.ZeroMemory(key);
            }
        }
    }

    /// <summary>
    /// Answers the initiation just accepted: writes the 92-byte response (macs included) and derives the new keypair,
    /// which waits as "next" until the initiator uses it. Returns 0 when there is no initiation to answer.
    /// </summary>
    public int WriteResponse(Span<byte> message)
    {
        if (message.Length < Messages.ResponseSize)
        {
            ThrowHelper.ThrowArgument(nameof(message), "a response needs 92 bytes");
        }

        lock (_lock)
        {
            message = message[..Messages.ResponseSize];
            if (_disposed || !CreateResponse(message))
            {
                return 0;
            }

            _handshake.LastSentAt = _time.GetTimestamp();
            _handshake.HasSent = true;
            _cookies.AddMacs(message);
            BeginSession(isInitiator: false);
            _timers.AnyAuthenticatedPacketTraversal();
            _timers.AnyAuthenticatedPacketSent();
            return Messages.ResponseSize;
        }
    }

    private bool CreateResponse(Span<byte> message)
    {
        if (_handshake.Stage != HandshakeStage.InitiationConsumed)
        {
            return false;
        }

        var hash = _handshake.Hash.AsSpan();
        var chainKey = _handshake.ChainKey.AsSpan();
        Span<byte> key = stackalloc byte[Handshake.KeySize];
        Span<byte> tau = stackalloc byte[Handshake.KeySize];
        try
        {
            Messages.WriteType(message, MessageType.Response);
            _handshake.LocalIndex = _indices.Register(this);
            Messages.WriteUInt32(message, Messages.ResponseSender, _handshake.LocalIndex);
            Messages.WriteUInt32(message, Messages.ResponseReceiver, _handshake.RemoteIndex);

            // e
            _handshake.LocalEphemeral = X25519.GenerateKey();
            var ephemeral = message.Slice(Messages.ResponseEphemeral, X25519.KeySize);
            X25519.ExportPublicKey(_handshake.LocalEphemeral, ephemeral);
            Handshake.MixKey(chainKey, ephemeral);
            Handshake.MixHash(hash, ephemeral);

            // ee, se
            if (!Handshake.MixDh(chainKey, key, _handshake.LocalEphemeral, _handshake.RemoteEphemeral)
                || !Handshake.MixDh(chainKey, key, _handshake.LocalEphemeral, RemoteStatic.Span))
            {
                ClearHandshake();
                return false;
            }

            // psk
            MixPresharedKey(chainKey, tau, key);
            Handshake.MixHash(hash, tau);

            // {}
            var empty = message.Slice(Messages.ResponseEmpty, Constants.TagSize);
            ChaCha20Poly1305.Seal(key, 0, [], [], empty, hash);
            Handshake.MixHash(hash, empty);
            _handshake.Stage = HandshakeStage.ResponseCreated;
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(tau);
        }
    }

    /// <summary>
    /// Takes in the response to our initiation (the caller found this session by the receiver index and checked
    /// mac1). On success the new keypair is current and the caller should send staged packets, or a keepalive.
    /// </summary>
    public DropReason ConsumeResponse(ReadOnlySpan<byte> message)
    {
        Span<byte> hash = stackalloc byte[Handshake.KeySize];
        Span<byte> chainKey = stackalloc byte[Handshake.KeySize];
        Span<byte> key = stackalloc byte[Handshake.KeySize];
        Span<byte> tau = stackalloc byte[Handshake.KeySize];
        lock (_lock)
        {
            try
            {
                var identity = _identity;
                if (_disposed || identity is null || _handshake.Stage != HandshakeStage.InitiationCreated
                    || _handshake.LocalEphemeral is null
                    || Messages.ReadUInt32(message, Messages.ResponseReceiver) != _handshake.LocalIndex)
                {
                    return DropReason.UnexpectedMessage;
                }

                _handshake.Hash.CopyTo(hash);
                _handshake.ChainKey.CopyTo(chainKey);

                // e
                var ephemeral = message.Slice(Messages.ResponseEphemeral, X25519.KeySize);
                Handshake.MixKey(chainKey, ephemeral);
                Handshake.MixHash(hash, ephemeral);

                // ee, se
                if (!Handshake.MixDh(chainKey, key, _handshake.LocalEphemeral, ephemeral)
                    || !Handshake.MixDh(chainKey, key, identity.PrivateKey.Key, ephemeral))
                {
                    return DropReason.LowOrderPoint;
                }

                // psk
                MixPresharedKey(chainKey, tau, key);
                Handshake.MixHash(hash, tau);

                // {}
                var empty = message.Slice(Messages.ResponseEmpty, Constants.TagSize);
                if (!ChaCha20Poly1305.Open(key, 0, [], [], empty, hash))
                {
                    return DropReason.DecryptionFailed;
                }

                Handshake.MixHash(hash, empty);
                hash.CopyTo(_handshake.Hash);
                chainKey.CopyTo(_handshake.ChainKey);
                _handshake.RemoteIndex = Messages.ReadUInt32(message, Messages.ResponseSender);
                _handshake.Stage = HandshakeStage.ResponseConsumed;

                BeginSession(isInitiator: true);
                _timers.HandshakeComplete();
                _timers.AnyAuthenticatedPacketTraversal();
                _timers.AnyAuthenticatedPacketReceived();
                return DropReason.None;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(hash);
                CryptographicOperations.ZeroMemory(chainKey);
                CryptographicOperations.ZeroMemory(key);
                CryptographicOperations.ZeroMemory(tau);
            }
        }
    }

    /// <summary>Takes in a cookie reply to our last handshake message; the next one carries mac2.</summary>
    public DropReason ConsumeCookieReply(ReadOnlySpan<byte> reply)
    {
        lock (_lock)
        {
            return !_disposed && _cookies.ConsumeReply(reply) ? DropReason.None : DropReason.InvalidCookieReply;
        }
    }

    /// <summary>(C, tau, k) = KDF3(C, Q): Q is the preshared key, or 32 zero bytes without one.</summary>
    private void MixPresharedKey(Span<byte> chainKey, Span<byte> tau, Span<byte> key)
    {
        Span<byte> zeros = stackalloc byte[Handshake.KeySize];
        zeros.Clear();
        NoiseKdf.Kdf3(chainKey, _presharedKey is null ? zeros : _presharedKey.Span, chainKey, tau, key);
    }

    /// <summary>
    /// Derives the transport keys from the finished handshake, (T_send, T_recv) = KDF2(C, empty), and rotates the
    /// keypairs: the initiator uses the new one at once; the responder keeps it as "next" until it is used.
    /// </summary>
    private void BeginSession(bool isInitiator)
    {
        Span<byte> first = stackalloc byte[Handshake.KeySize];
        Span<byte> second = stackalloc byte[Handshake.KeySize];
        try
        {
            NoiseKdf.Kdf2(_handshake.ChainKey, [], first, second);
            var keypair = isInitiator
                ? new Keypair(this, first, second, true, _handshake.LocalIndex, _handshake.RemoteIndex, _time.GetTimestamp())
                : new Keypair(this, second, first, false, _handshake.LocalIndex, _handshake.RemoteIndex, _time.GetTimestamp());
            _indices.Bind(_handshake.LocalIndex, keypair);
            _handshake.LocalIndex = 0; // now owned by the keypair
            ClearHandshake();

            if (isInitiator)
            {
                var next = _next;
                _next = null;
                if (next is not null)
                {
                    // The unconfirmed keypair we answered with becomes previous: the peer may still send with it.
                    DropKeypair(ref _previous);
                    _previous = next;
                    var current = _current;
                    DropKeypair(ref current);
                }
                else
                {
                    DropKeypair(ref _previous);
                    _previous = _current;
                }

                _current = keypair;
                Interlocked.Exchange(ref _lastHandshakeUnixTicks, _time.GetUtcNow().UtcTicks);
            }
            else
            {
                var next = _next;
                _next = keypair;
                DropKeypair(ref next);
                DropKeypair(ref _previous);
            }

            _timers.SessionDerived();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(first);
            CryptographicOperations.ZeroMemory(second);
        }
    }

    /// <summary>
    /// A packet authenticated under <paramref name="keypair"/>. If that is the "next" keypair, the initiator has
    /// confirmed our response: it becomes current, and the handshake is complete on our side too.
    /// </summary>
    private bool ConfirmNextKeypair(Keypair keypair)
    {
        if (!ReferenceEquals(_next, keypair))
        {
            return false;
        }

        lock (_lock)
        {
            if (!ReferenceEquals(_next, keypair))
            {
                return false;
            }

            DropKeypair(ref _previous);
            _previous = _current;
            _current = keypair;
            _next = null;
            Interlocked.Exchange(ref _lastHandshakeUnixTicks, _time.GetUtcNow().UtcTicks);
            return true;
        }
    }
}
