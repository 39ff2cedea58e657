using System.Buffers.Binary;
using Branchgate.Crypto;

namespace Branchgate.Protocol;

/// <summary>
/// One pair of transport keys from a completed handshake, with its send counter and replay filter.
/// Sending is lock-free (the counter is claimed with an atomic increment); the replay filter is guarded by a lock
/// taken only after a packet authenticated.
/// </summary>
public sealed class Keypair : IDisposable
{
    private readonly SecretKey _sendKey;
    private readonly SecretKey _receiveKey;
    private readonly Lock _replayLock = new();
    private ReplayFilter _replay;
    private long _nextSendCounter;
    private volatile bool _disposed;

    internal Keypair(PeerSession session, ReadOnlySpan<byte> sendKey, ReadOnlySpan<byte> receiveKey, bool isInitiator,
        uint localIndex, uint remoteIndex, long createdAt)
    {
        Session = session;
        _sendKey = new SecretKey(sendKey);
        _receiveKey = new SecretKey(receiveKey);
        IsInitiator = isInitiator;
        LocalIndex = localIndex;
        RemoteIndex = remoteIndex;
        CreatedAt = createdAt;
    }

    public PeerSession Session { get; }

    /// <summary>True when we sent the initiation; only the initiator rekeys by age.</summary>
    public bool IsInitiator { get; }

    public uint LocalIndex { get; }

    public uint RemoteIndex { get; }

    /// <summary>TimeProvider timestamp of the handshake that made this keypair.</summary>
    public long CreatedAt { get; }

    /// <summary>The counter the next sent packet will carry.</summary>
    public ulong NextSendCounter => (ulong)Volatile.Read(ref _nextSendCounter);

    public bool IsDisposed => _disposed;

    /// <summary>Claims the next send counter; false once REJECT_AFTER_MESSAGES is reached.</summary>
    public bool TryClaimCounter(out ulong counter)
    {
        counter = (ulong)Interlocked.Increment(ref _nextSendCounter) - 1;
        if (counter < Constants.RejectAfterMessages)
        {
            return true;
        }

        // Keep the counter pinned at the limit so it never wraps back into the valid range.
        Volatile.Write(ref _nextSendCounter, unchecked((long)Constants.RejectAfterMessages));
        return false;
    }

    /// <summary>
    /// Writes the transport header and seals <paramref name="message"/>[16..16+paddedLength] in place, appending the
    /// tag. <paramref name="message"/> must have room for header, padded plaintext and tag.
    /// </summary>
    public void Seal(Span<byte> message, int paddedLength, ulong counter)
    {
        Messages.WriteType(message, MessageType.Transport);
        Messages.WriteUInt32(message, Messages.TransportReceiver, RemoteIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(message[Messages.TransportCounter..], counter);
        var payload = message.Slice(Messages.TransportHeaderSize, paddedLength);
        var tag = message.Slice(Messages.TransportHeaderSize + paddedLength, Constants.TagSize);
        ChaCha20Poly1305.Seal(_sendKey.Span, counter, payload, payload, tag, default);
    }

    /// <summary>
    /// Opens a transport message in place; on success the plaintext is message[16..^16]. The replay filter is not
    /// touched: call <see cref="TryAcceptCounter"/> afterwards.
    /// </summary>
    public bool TryOpen(Span<byte> message, out ulong counter)
    {
        counter = BinaryPrimitives.ReadUInt64LittleEndian(message[Messages.TransportCounter..]);
        var payload = message[Messages.TransportHeaderSize..^Constants.TagSize];
        var tag = message[^Constants.TagSize..];
        return !_disposed && ChaCha20Poly1305.Open(_receiveKey.Span, counter, payload, payload, tag, default);
    }

    /// <summary>Records an authenticated counter; false for a replay or a counter behind the window.</summary>
    public bool TryAcceptCounter(ulong counter)
    {
        lock (_replayLock)
        {
            return _replay.TryAccept(counter);
        }
    }

    internal void SetNextSendCounterForTesting(ulong counter) => Volatile.Write(ref _nextSendCounter, unchecked((long)counter));

    public void Dispose()
    {
        _disposed = true;
        _sendKey.Dispose();
        _receiveKey.Dispose();
    }
}
