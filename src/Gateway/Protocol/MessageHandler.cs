namespace Branchgate.Protocol;

public enum MessageOutcome
{
    /// <summary>Nothing to do; <see cref="MessageResult.Reason"/> says why it was dropped.</summary>
    Dropped,

    /// <summary>Send the reply written to the reply buffer (a handshake response or a cookie reply) to the source.</summary>
    Reply,

    /// <summary>Our initiation was answered: the session has a current keypair; send staged packets or a keepalive.</summary>
    HandshakeComplete,

    /// <summary>A cookie reply was taken in; the next initiation carries mac2.</summary>
    CookieAccepted,

    /// <summary>Transport data opened in place: the padded plaintext is datagram[16..16+Length].</summary>
    Data,

    /// <summary>An authenticated keepalive.</summary>
    Keepalive,
}

/// <summary>
/// What became of one received datagram. <see cref="Session"/> is the peer it authenticated as (the caller updates
/// that peer's endpoint to the datagram's source: roaming). <see cref="HandshakeCompleted"/> asks the caller to send
/// the peer's staged packets; <see cref="InitiateHandshake"/> asks for a new handshake.
/// </summary>
public readonly record struct MessageResult(MessageOutcome Outcome, DropReason Reason, PeerSession? Session, int Length,
    bool HandshakeCompleted = false, bool InitiateHandshake = false)
{
    public static MessageResult Drop(DropReason reason) => new(MessageOutcome.Dropped, reason, null, 0);
}

/// <summary>
/// The I/O-free receive decision for one datagram from the network: classify it, check mac1 (and mac2 under load,
/// answering with a cookie reply when it is missing), hand handshake messages to the Noise code and transport data to
/// the session that owns its receiver index. Malformed or unauthenticated input is a drop reason, never an exception.
/// Thread safe: sessions lock themselves; the index table and cookie checker are concurrent.
/// </summary>
/// <summary>Decides whether a handshake from this source may be processed now (a per-source rate limit under load).</summary>
/// <param name="sourceAddress">The address and port bytes given to <see cref="MessageHandler.Handle"/>.</param>
public delegate bool SourceAdmission(ReadOnlySpan<byte> sourceAddress);

public sealed class MessageHandler(NoiseIdentity identity, IndexTable indices, ISessionDirectory directory, TimeProvider time)
    : IDisposable
{
    private readonly CookieChecker _cookies = new(identity, time);

    public NoiseIdentity Identity => identity;

    /// <summary>Consulted under load for handshake messages whose mac2 is valid; false drops them (RateLimited).</summary>
    public SourceAdmission? Admission { get; set; }

    /// <param name="datagram">The received bytes; transport data is decrypted in place.</param>
    /// <param name="sourceAddress">The sender's address and port as bytes (the cookie is bound to them).</param>
    /// <param name="underLoad">True while the handshake queue is busy: initiations and responses then need mac2.</param>
    /// <param name="reply">Room for a response or cookie reply (at least 92 bytes).</param>
    public MessageResult Handle(Span<byte> datagram, ReadOnlySpan<byte> sourceAddress, bool underLoad, Span<byte> reply)
    {
        var type = Messages.Classify(datagram, out var reason);
        return type switch
        {
            MessageType.Transport => HandleTransport(datagram),
            MessageType.Initiation or MessageType.Response => HandleHandshake(type, datagram, sourceAddress, underLoad, reply),
            MessageType.CookieReply => HandleCookieReply(datagram),
            _ => MessageResult.Drop(reason),
        };
    }

    private MessageResult HandleTransport(Span<byte> datagram)
    {
        var index = Messages.ReadUInt32(datagram, Messages.TransportReceiver);
        if (!indices.TryLookup(index, out var entry) || entry.Keypair is null)
        {
            return MessageResult.Drop(DropReason.UnknownReceiverIndex);
        }

        var session = entry.Session;
        return ToMessageResult(session, session.Decrypt(entry.Keypair, datagram));
    }

    /// <summary>
    /// The first half of <see cref="Handle"/> for transport data, for callers that open a batch on several threads:
    /// true with the session and keypair when <paramref name="datagram"/> is a well-formed transport message for a
    /// keypair that may still receive. Then: <see cref="Keypair.TryOpen"/> (any thread), and <see
    /// cref="CompleteTransport"/> in arrival order. False (with the drop reason, None when it is not transport data at
    /// all) leaves the datagram to <see cref="Handle"/>.
    /// </summary>
    public bool TryBeginTransport(ReadOnlySpan<byte> datagram, out PeerSession session, out Keypair keypair,
        out DropReason reason)
    {
        session = null!;
        keypair = null!;
        reason = DropReason.None;
        if (datagram.Length < 4 || datagram[0] != (byte)MessageType.Transport)
        {
            return false;
        }

        if (Messages.Classify(datagram, out reason) != MessageType.Transport)
        {
            return false;
        }

        var index = Messages.ReadUInt32(datagram, Messages.TransportReceiver);
        if (!indices.TryLookup(index, out var entry) || entry.Keypair is null)
        {
            reason = DropReason.UnknownReceiverIndex;
            return false;
        }

        if (!entry.Session.CanReceiveWith(entry.Keypair))
        {
            reason = DropReason.KeypairExpired;
            return false;
        }

        session = entry.Session;
        keypair = entry.Keypair;
        return true;
    }

    /// <summary>The second half of <see cref="TryBeginTransport"/>: what <see cref="Handle"/> would have returned.</summary>
    public static MessageResult CompleteTransport(PeerSession session, Keypair keypair, Span<byte> datagram,
        bool authentic, ulong counter) =>
        ToMessageResult(session, session.CompleteDecrypt(keypair, datagram, authentic, counter));

    private static MessageResult ToMessageResult(PeerSession session, ReceiveResult received) =>
        received.Status switch
        {
            ReceiveStatus.Data => new MessageResult(MessageOutcome.Data, DropReason.None, session, received.PlaintextLength,
                received.HandshakeCompleted, received.InitiateHandshake),
            ReceiveStatus.Keepalive => new MessageResult(MessageOutcome.Keepalive, DropReason.None, session, 0,
                received.HandshakeCompleted, received.InitiateHandshake),
            _ => MessageResult.Drop(received.Reason),
        };

    private MessageResult HandleHandshake(MessageType type, ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> sourceAddress,
        bool underLoad, Span<byte> reply)
    {
        if (!_cookies.CheckMac1(datagram))
        {
            return MessageResult.Drop(DropReason.InvalidMac1);
        }

        if (underLoad && !_cookies.CheckMac2(datagram, sourceAddress))
        {
            _cookies.WriteReply(datagram, sourceAddress, reply);
            return new MessageResult(MessageOutcome.Reply, DropReason.InvalidMac2, null, Messages.CookieReplySize);
        }

        if (underLoad && Admission is { } admit && !admit(sourceAddress))
        {
            return MessageResult.Drop(DropReason.RateLimited);
        }

        if (type == MessageType.Initiation)
        {
            var reason = Handshake.ConsumeInitiation(identity, directory, datagram, out var session);
            if (session is null)
            {
                return MessageResult.Drop(reason);
            }

            var length = session.WriteResponse(reply);
            return length == 0
                ? MessageResult.Drop(DropReason.UnexpectedMessage)
                : new MessageResult(MessageOutcome.Reply, DropReason.None, session, length);
        }

        var receiver = Messages.ReadUInt32(datagram, Messages.ResponseReceiver);
        if (!indices.TryLookup(receiver, out var entry) || entry.Keypair is not null)
        {
            return MessageResult.Drop(DropReason.UnknownReceiverIndex);
        }

        var consumed = entry.Session.ConsumeResponse(datagram);
        return consumed == DropReason.None
            ? new MessageResult(MessageOutcome.HandshakeComplete, DropReason.None, entry.Session, 0, HandshakeCompleted: true)
            : MessageResult.Drop(consumed);
    }

    private MessageResult HandleCookieReply(ReadOnlySpan<byte> datagram)
    {
        var receiver = Messages.ReadUInt32(datagram, Messages.CookieReplyReceiver);
        if (!indices.TryLookup(receiver, out var entry))
        {
            return MessageResult.Drop(DropReason.UnknownReceiverIndex);
        }

        var reason = entry.Session.ConsumeCookieReply(datagram);
        return reason == DropReason.None
            ? new MessageResult(MessageOutcome.CookieAccepted, DropReason.None, entry.Session, 0)
            : MessageResult.Drop(reason);
    }

    public void Dispose() => _cookies.Dispose();
}
