using System.Buffers.Binary;

namespace Branchgate.Protocol;

/// <summary>The four WireGuard message types (first byte, followed by three reserved zero bytes).</summary>
public enum MessageType : byte
{
    None = 0,
    Initiation = 1,
    Response = 2,
    CookieReply = 3,
    Transport = 4,
}

/// <summary>Why a packet was dropped. Counted per reason; never an exception.</summary>
public enum DropReason
{
    None = 0,
    TooShort,
    UnknownType,
    ReservedBytesNotZero,
    WrongSize,
    InvalidMac1,
    InvalidMac2,
    UnknownPeer,
    UnknownReceiverIndex,
    DecryptionFailed,
    LowOrderPoint,
    StaleTimestamp,
    InitiationFlood,
    UnexpectedMessage,
    Replay,
    KeypairExpired,
    NoKeypair,
    InvalidCookieReply,
    NotAnIpPacket,
    SourceNotAllowed,
    PacketTooLarge,
    RateLimited,
    Overloaded,
}

/// <summary>
/// Wire layout of the messages, offsets as in the kernel's messages.h. Integers are little-endian.
/// </summary>
public static class Messages
{
    public const int InitiationSize = 148;
    public const int ResponseSize = 92;
    public const int CookieReplySize = 64;
    public const int TransportHeaderSize = 16;
    public const int KeepaliveSize = TransportHeaderSize + Constants.TagSize;
    public const int TransportOverhead = TransportHeaderSize + Constants.TagSize;

    // Initiation: type(4) sender(4) ephemeral(32) static(32+16) timestamp(12+16) mac1(16) mac2(16)
    public const int InitiationSender = 4;
    public const int InitiationEphemeral = 8;
    public const int InitiationStatic = 40;
    public const int InitiationStaticSize = Constants.KeySize + Constants.TagSize;
    public const int InitiationTimestamp = 88;
    public const int InitiationTimestampSize = Constants.TimestampSize + Constants.TagSize;
    public const int InitiationMac1 = 116;
    public const int InitiationMac2 = 132;

    // Response: type(4) sender(4) receiver(4) ephemeral(32) empty(0+16) mac1(16) mac2(16)
    public const int ResponseSender = 4;
    public const int ResponseReceiver = 8;
    public const int ResponseEphemeral = 12;
    public const int ResponseEmpty = 44;
    public const int ResponseMac1 = 60;
    public const int ResponseMac2 = 76;

    // Cookie reply: type(4) receiver(4) nonce(24) cookie(16+16)
    public const int CookieReplyReceiver = 4;
    public const int CookieReplyNonce = 8;
    public const int CookieReplyCookie = 32;
    public const int CookieReplyCookieSize = Constants.CookieSize + Constants.TagSize;

    // Transport: type(4) receiver(4) counter(8) payload(n+16)
    public const int TransportReceiver = 4;
    public const int TransportCounter = 8;

    /// <summary>
    /// Classifies a datagram received from the network. Returns <see cref="MessageType.None"/> and a reason when the
    /// datagram cannot be a well-formed WireGuard message (wrong size for its type, reserved bytes set, unknown type).
    /// </summary>
    public static MessageType Classify(ReadOnlySpan<byte> datagram, out DropReason reason)
    {
        if (datagram.Length < 4)
        {
            reason = DropReason.TooShort;
            return MessageType.None;
        }

        if (datagram[1] != 0 || datagram[2] != 0 || datagram[3] != 0)
        {
            reason = DropReason.ReservedBytesNotZero;
            return MessageType.None;
        }

        var type = (MessageType)datagram[0];
        var ok = type switch
        {
            MessageType.Initiation => datagram.Length == InitiationSize,
            MessageType.Response => datagram.Length == ResponseSize,
            MessageType.CookieReply => datagram.Length == CookieReplySize,
            MessageType.Transport => datagram.Length >= KeepaliveSize,
            _ => false,
        };
        if (!ok)
        {
            reason = type is >= MessageType.Initiation and <= MessageType.Transport ? DropReason.WrongSize : DropReason.UnknownType;
            return MessageType.None;
        }

        reason = DropReason.None;
        return type;
    }

    public static void WriteType(Span<byte> message, MessageType type) =>
        BinaryPrimitives.WriteUInt32LittleEndian(message, (byte)type);

    public static uint ReadUInt32(ReadOnlySpan<byte> message, int offset) =>
        BinaryPrimitives.ReadUInt32LittleEndian(message[offset..]);

    public static void WriteUInt32(Span<byte> message, int offset, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(message[offset..], value);

    /// <summary>The receiver index of a response, cookie reply or transport message (the sender of an initiation).</summary>
    public static uint ReceiverIndex(ReadOnlySpan<byte> message, MessageType type) => type switch
    {
        MessageType.Response => ReadUInt32(message, ResponseReceiver),
        MessageType.CookieReply => ReadUInt32(message, CookieReplyReceiver),
        MessageType.Transport => ReadUInt32(message, TransportReceiver),
        _ => 0,
    };

    /// <summary>Offset of mac1 in an initiation or response (the MACs are the last 32 bytes).</summary>
    public static int Mac1Offset(int messageLength) => messageLength - 2 * Constants.MacSize;

    public static int Mac2Offset(int messageLength) => messageLength - Constants.MacSize;
}
