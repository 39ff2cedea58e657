namespace Branchgate.Protocol;

/// <summary>What the timers ask the owner of a session to do; several may be set at once.</summary>
[Flags]
public enum TimerActions
{
    None = 0,

    /// <summary>Start a new handshake (the attempt counter restarts).</summary>
    SendInitiation = 1,

    /// <summary>Retransmit the handshake initiation (REKEY_TIMEOUT passed without a response).</summary>
    RetryInitiation = 2,

    /// <summary>Send a keepalive (passive keepalive after received data, or the persistent keepalive).</summary>
    SendKeepalive = 4,

    /// <summary>The handshake was given up after REKEY_ATTEMPT_TIME: drop the packets waiting for it.</summary>
    FlushStaged = 8,

    /// <summary>Every key of the session was erased (3 x REJECT_AFTER_TIME without a new handshake).</summary>
    KeysZeroed = 16,
}

/// <summary>
/// The per-peer timer rules of the paper (6.2-6.5), as deadlines on a <see cref="TimeProvider"/> clock rather than
/// running timers: events from the send and receive paths arm and disarm them, and <see cref="Expire"/> turns the
/// deadlines that passed into <see cref="TimerActions"/>. The event names follow wireguard-go's timers.go.
/// Deadlines are plain longs written without a lock: a lost race costs at most one extra keepalive or handshake.
/// </summary>
internal sealed class PeerTimers(TimeProvider time, Func<int, int> jitter)
{
    private const long Disarmed = long.MaxValue;

    private long _retransmitHandshake = Disarmed;
    private long _sendKeepalive = Disarmed;
    private long _newHandshake = Disarmed;
    private long _zeroKeyMaterial = Disarmed;
    private long _persistentKeepalive = Disarmed;
    private volatile bool _needAnotherKeepalive;
    private int _handshakeAttempts;

    public ushort PersistentKeepaliveInterval { get; set; }

    public int HandshakeAttempts => Volatile.Read(ref _handshakeAttempts);

    /// <summary>The initiator's one extra handshake when its keypair nears REJECT_AFTER_TIME (paper 6.2).</summary>
    public bool SentLastMinuteHandshake { get; set; }

    /// <summary>The earliest armed deadline, or null when nothing is pending.</summary>
    public long? NextDeadline
    {
        get
        {
            var next = Math.Min(Math.Min(Read(ref _retransmitHandshake), Read(ref _sendKeepalive)),
                Math.Min(Math.Min(Read(ref _newHandshake), Read(ref _zeroKeyMaterial)), Read(ref _persistentKeepalive)));
            return next == Disarmed ? null : next;
        }
    }

    public bool IsRetransmitPending => Read(ref _retransmitHandshake) != Disarmed;

    public bool IsZeroKeyMaterialPending => Read(ref _zeroKeyMaterial) != Disarmed;

    /// <summary>Sent a data packet: expect an answer within KEEPALIVE + REKEY_TIMEOUT, or start a new handshake.</summary>
    public void DataSent()
    {
        if (Read(ref _newHandshake) == Disarmed)
        {
            Arm(ref _newHandshake, Constants.KeepaliveTimeout + Constants.RekeyTimeout + Jitter());
        }
    }

    /// <summary>Received a data packet: owe the peer a keepalive unless we send something within KEEPALIVE_TIMEOUT.</summary>
    public void DataReceived()
    {
        if (Read(ref _sendKeepalive) == Disarmed)
        {
            Arm(ref _sendKeepalive, Constants.KeepaliveTimeout);
        }
        else
        {
            _needAnotherKeepalive = true;
        }
    }

    /// <summary>Any authenticated packet (data, keepalive, handshake) sent: it serves as the keepalive.</summary>
    public void AnyAuthenticatedPacketSent() => Disarm(ref _sendKeepalive);

    /// <summary>Any authenticated packet received: the peer is alive, no new handshake is needed for silence.</summary>
    public void AnyAuthenticatedPacketReceived() => Disarm(ref _newHandshake);

    /// <summary>Any authenticated packet in either direction restarts the persistent keepalive.</summary>
    public void AnyAuthenticatedPacketTraversal()
    {
        if (PersistentKeepaliveInterval > 0)
        {
            Arm(ref _persistentKeepalive, TimeSpan.FromSeconds(PersistentKeepaliveInterval));
        }
    }

    public void HandshakeInitiated() => Arm(ref _retransmitHandshake, Constants.RekeyTimeout + Jitter());

    public void HandshakeComplete()
    {
        Disarm(ref _retransmitHandshake);
        Volatile.Write(ref _handshakeAttempts, 0);
        SentLastMinuteHandshake = false;
    }

    public void SessionDerived() => Arm(ref _zeroKeyMaterial, Constants.ZeroKeyMaterialAfter);

    /// <summary>A new (not retried) handshake starts counting attempts from zero.</summary>
    public void ResetHandshakeAttempts() => Volatile.Write(ref _handshakeAttempts, 0);

    /// <summary>Disarms everything (the peer was removed or its keys were zeroed by hand).</summary>
    public void StopAll()
    {
        Disarm(ref _retransmitHandshake);
        Disarm(ref _sendKeepalive);
        Disarm(ref _newHandshake);
        Disarm(ref _zeroKeyMaterial);
        Disarm(ref _persistentKeepalive);
        _needAnotherKeepalive = false;
    }

    /// <summary>Consumes every deadline that has passed and says what to do about it.</summary>
    public TimerActions Expire()
    {
        var now = time.GetTimestamp();
        var actions = TimerActions.None;

        if (TakeIfExpired(ref _retransmitHandshake, now))
        {
            if (HandshakeAttempts > Constants.MaxTimerHandshakes)
            {
                // Gave up after REKEY_ATTEMPT_TIME; the keys go too unless a zeroing is already due.
                Disarm(ref _sendKeepalive);
                actions |= TimerActions.FlushStaged;
                if (!IsZeroKeyMaterialPending)
                {
                    Arm(ref _zeroKeyMaterial, Constants.ZeroKeyMaterialAfter);
                }
            }
            else
            {
                Interlocked.Increment(ref _handshakeAttempts);
                actions |= TimerActions.RetryInitiation;
            }
        }

        if (TakeIfExpired(ref _sendKeepalive, now))
        {
            actions |= TimerActions.SendKeepalive;
            if (_needAnotherKeepalive)
            {
                _needAnotherKeepalive = false;
                Arm(ref _sendKeepalive, Constants.KeepaliveTimeout);
            }
        }

        if (TakeIfExpired(ref _newHandshake, now))
        {
            actions |= TimerActions.SendInitiation;
        }

        if (TakeIfExpired(ref _zeroKeyMaterial, now))
        {
            actions |= TimerActions.KeysZeroed;
        }

        if (TakeIfExpired(ref _persistentKeepalive, now) && PersistentKeepaliveInterval > 0)
        {
            actions |= TimerActions.SendKeepalive;
        }

        return actions;
    }

    private TimeSpan Jitter() => TimeSpan.FromMilliseconds(jitter(Constants.RekeyTimeoutJitterMaxMilliseconds));

    private void Arm(ref long deadline, TimeSpan after) =>
        Volatile.Write(ref deadline, time.GetTimestamp() + (long)(after.TotalSeconds * time.TimestampFrequency));

    private static void Disarm(ref long deadline) => Volatile.Write(ref deadline, Disarmed);

    private static long Read(ref long deadline) => Volatile.Read(ref deadline);

    private static bool TakeIfExpired(ref long deadline, long now)
    {
        var due = Volatile.Read(ref deadline);
        return due != Disarmed && due <= now && Interlocked.CompareExchange(ref deadline, Disarmed, due) == due;
    }
}
