namespace Branchgate.Protocol;

public enum SendStatus
{
    /// <summary>The message is sealed and ready to send.</summary>
    Sealed,

    /// <summary>No usable keypair: stage the packet and start a handshake (<see cref="SendResult.InitiateHandshake"/>).</summary>
    NoKeypair,
}

/// <summary>What <see cref="PeerSession.Encrypt"/> did: the message length, and whether a handshake is due.</summary>
public readonly record struct SendResult(SendStatus Status, int Length, bool InitiateHandshake);

/// <summary>The AEAD left to do after <see cref="PeerSession.PrepareSeal"/>: <see cref="Keypair.Seal"/> with these.</summary>
public readonly record struct PendingSeal(Keypair Keypair, int PaddedLength, ulong Counter);

public enum ReceiveStatus
{
    /// <summary>A packet for the TUN: message[16..16+PlaintextLength] (still padded; the IP header gives the length).</summary>
    Data,

    /// <summary>An authenticated empty packet.</summary>
    Keepalive,

    Dropped,
}

/// <summary>
/// What <see cref="PeerSession.Decrypt"/> did. <see cref="HandshakeCompleted"/>: the packet confirmed the keypair we
/// answered an initiation with, so staged packets can go now. <see cref="InitiateHandshake"/>: time to rekey.
/// </summary>
public readonly record struct ReceiveResult(ReceiveStatus Status, DropReason Reason, int PlaintextLength,
    bool HandshakeCompleted, bool InitiateHandshake)
{
    public static ReceiveResult Drop(DropReason reason) => new(ReceiveStatus.Dropped, reason, 0, false, false);
}

/// <summary>
/// Transport data (paper 5.4.6). Pipeline for one packet:
/// send: current keypair -> claim counter -> pad to 16 (not past the MTU) -> seal in place -> timers;
/// receive: keypair from the index -> age check -> open in place -> replay filter (only after it opened) -> confirm a
/// "next" keypair -> timers. No locks on the way except the replay filter's; nothing allocated.
/// </summary>
public sealed partial class PeerSession
{
    /// <summary>
    /// Seals the packet at message[16..16+plaintextLength] in place: header in front, padding and tag behind.
    /// <paramref name="message"/> must have room for 16 + padded length + 16 bytes.
    /// </summary>
    public SendResult Encrypt(Span<byte> message, int plaintextLength, int mtu)
    {
        var result = PrepareSeal(message, plaintextLength, mtu, out var pending);
        if (result.Status == SendStatus.Sealed)
        {
            pending.Keypair.Seal(message, pending.PaddedLength, pending.Counter);
        }

        return result;
    }

    /// <summary>
    /// <see cref="Encrypt"/> without the AEAD: claims the counter, pads, counts and runs the send timers, and leaves the
    /// sealing (<see cref="Keypair.Seal"/> with <paramref name="pending"/>) to the caller, which may run it on another
    /// thread. Counters are claimed in call order, so the caller keeps that order when it sends.
    /// </summary>
    public SendResult PrepareSeal(Span<byte> message, int plaintextLength, int mtu, out PendingSeal pending)
    {
        pending = default;
        var keypair = _current;
        var now = _time.GetTimestamp();
        if (keypair is null || keypair.IsDisposed || _time.GetElapsedTime(keypair.CreatedAt, now) >= Constants.RejectAfterTime
            || !keypair.TryClaimCounter(out var counter))
        {
            return new SendResult(SendStatus.NoKeypair, 0, true);
        }

        var padded = plaintextLength + PaddingLength(plaintextLength, mtu);
        var length = Messages.TransportHeaderSize + padded + Constants.TagSize;
        if (message.Length < length)
        {
            ThrowHelper.ThrowArgument(nameof(message), "no room for padding and tag");
        }

        message.Slice(Messages.TransportHeaderSize + plaintextLength, padded - plaintextLength).Clear();
        pending = new PendingSeal(keypair, padded, counter);

        _timers.AnyAuthenticatedPacketTraversal();
        _timers.AnyAuthenticatedPacketSent();
        if (plaintextLength > 0)
        {
            _timers.DataSent();
        }

        AddTx(length);
        // Keep the key fresh: by message count on either side, by age only as the initiator.
        var rekey = counter > Constants.RekeyAfterMessages
            || (keypair.IsInitiator && _time.GetElapsedTime(keypair.CreatedAt, now) > Constants.RekeyAfterTime);
        return new SendResult(SendStatus.Sealed, length, rekey);
    }

    /// <summary>Seals an empty packet (32 bytes) as a keepalive.</summary>
    public SendResult WriteKeepalive(Span<byte> message) => Encrypt(message, 0, 0);

    /// <summary>
    /// Opens a transport message in place, found by its receiver index to belong to <paramref name="keypair"/> of this
    /// session.
    /// </summary>
    public ReceiveResult Decrypt(Keypair keypair, Span<byte> message)
    {
        if (!CanReceiveWith(keypair))
        {
            return ReceiveResult.Drop(DropReason.KeypairExpired);
        }

        bool authentic = keypair.TryOpen(message, out var counter);
        return CompleteDecrypt(keypair, message, authentic, counter);
    }

    /// <summary>False when <paramref name="keypair"/> is disposed or older than REJECT_AFTER_TIME (drop: KeypairExpired).</summary>
    public bool CanReceiveWith(Keypair keypair) =>
        !keypair.IsDisposed && _time.GetElapsedTime(keypair.CreatedAt, _time.GetTimestamp()) < Constants.RejectAfterTime;

    /// <summary>
    /// The part of <see cref="Decrypt"/> after <see cref="Keypair.TryOpen"/> (which a caller may run on another thread):
    /// drops a packet that did not authenticate, then the replay filter, keypair confirmation, timers and counters.
    /// Call it in the order the packets arrived.
    /// </summary>
    public ReceiveResult CompleteDecrypt(Keypair keypair, Span<byte> message, bool authentic, ulong counter)
    {
        if (!authentic)
        {
            return ReceiveResult.Drop(DropReason.DecryptionFailed);
        }

        var now = _time.GetTimestamp();
        if (!keypair.TryAcceptCounter(counter))
        {
            return ReceiveResult.Drop(DropReason.Replay);
        }

        var completed = ConfirmNextKeypair(keypair);
        if (completed)
        {
            _timers.HandshakeComplete();
        }

        var rekey = KeepKeyFreshReceiving(now);
        _timers.AnyAuthenticatedPacketTraversal();
        _timers.AnyAuthenticatedPacketReceived();
        AddRx(message.Length);

        var plaintextLength = message.Length - Messages.TransportOverhead;
        if (plaintextLength == 0)
        {
            return new ReceiveResult(ReceiveStatus.Keepalive, DropReason.None, 0, completed, rekey);
        }

        _timers.DataReceived();
        return new ReceiveResult(ReceiveStatus.Data, DropReason.None, plaintextLength, completed, rekey);
    }

    /// <summary>
    /// Padding for a plaintext of this length: up to a multiple of 16, never making the packet longer than the MTU
    /// (a packet already longer than the MTU pads only its last MTU-sized unit, as wireguard-go).
    /// </summary>
    public static int PaddingLength(int plaintextLength, int mtu)
    {
        const int mask = Constants.PaddingMultiple - 1;
        if (mtu <= 0)
        {
            return ((plaintextLength + mask) & ~mask) - plaintextLength;
        }

        var lastUnit = plaintextLength > mtu ? plaintextLength % mtu : plaintextLength;
        var padded = Math.Min((lastUnit + mask) & ~mask, mtu);
        return padded - lastUnit;
    }

    /// <summary>The initiator starts one last handshake when its keypair is near REJECT_AFTER_TIME (165 s).</summary>
    private bool KeepKeyFreshReceiving(long now)
    {
        if (_timers.SentLastMinuteHandshake)
        {
            return false;
        }

        var current = _current;
        if (current is null || !current.IsInitiator || _time.GetElapsedTime(current.CreatedAt, now) <= Constants.RekeyOnReceiveAge)
        {
            return false;
        }

        _timers.SentLastMinuteHandshake = true;
        return true;
    }
}
