using System.Security.Cryptography;
using Branchgate.Crypto;

namespace Branchgate.Protocol;

/// <summary>
/// The protocol state of one peer, with no I/O: the handshake, the keypairs (current, previous, next), the cookie
/// generator and the timers. Callers hand in received messages and buffers to write into, and are told what to send.
///
/// Locking: the handshake and keypair rotation run under <c>_lock</c>; the transport path reads the keypair
/// references without a lock (they are replaced, never mutated) and claims counters atomically.
/// </summary>
public sealed partial class PeerSession : IDisposable
{
    private readonly Lock _lock = new();
    private readonly IndexTable _indices;
    private readonly TimeProvider _time;
    private readonly HandshakeState _handshake = new();
    private readonly CookieGenerator _cookies;
    private readonly PeerTimers _timers;
    private NoiseIdentity? _identity;
    private SecretKey? _presharedKey;
    private volatile Keypair? _current;
    private Keypair? _previous;
    private volatile Keypair? _next;
    private long _txBytes;
    private long _rxBytes;
    private long _lastHandshakeUnixTicks;
    private bool _disposed;

    public PeerSession(NoisePublicKey remoteStatic, IndexTable indices, TimeProvider time, Random? random = null)
    {
        RemoteStatic = remoteStatic;
        _indices = indices;
        _time = time;
        _cookies = new CookieGenerator(remoteStatic, time);
        var jitter = random ?? Random.Shared;
        _timers = new PeerTimers(time, jitter.Next);
    }

    public NoisePublicKey RemoteStatic { get; }

    /// <summary>The object that owns this session (the device's peer), for callers that find a session by index.</summary>
    public object? Owner { get; set; }

    public TimeProvider Time => _time;

    public long TxBytes => Interlocked.Read(ref _txBytes);

    public long RxBytes => Interlocked.Read(ref _rxBytes);

    /// <summary>Wall-clock time of the last completed handshake, null before the first.</summary>
    public DateTimeOffset? LastHandshake
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastHandshakeUnixTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    public ushort PersistentKeepaliveInterval
    {
        get => _timers.PersistentKeepaliveInterval;
        set => _timers.PersistentKeepaliveInterval = value;
    }

    /// <summary>The keypair transport data is sent with, if any.</summary>
    public Keypair? CurrentKeypair => _current;

    /// <summary>A keypair we responded with that the initiator has not yet confirmed by using it.</summary>
    public Keypair? NextKeypair => _next;

    public Keypair? PreviousKeypair
    {
        get
        {
            lock (_lock)
            {
                return _previous;
            }
        }
    }

    /// <summary>Handshake retransmissions since the last new handshake started.</summary>
    public int HandshakeAttempts => _timers.HandshakeAttempts;

    /// <summary>The earliest timer deadline (TimeProvider timestamp), or null when no timer is armed.</summary>
    public long? NextTimerDeadline => _timers.NextDeadline;

    /// <summary>
    /// Sets (or clears) this device's static key. DH(our static, peer static) is computed once here; a peer whose key
    /// is of low order, or equal to our own public key, can then never handshake.
    /// </summary>
    public void SetIdentity(NoiseIdentity? identity)
    {
        lock (_lock)
        {
            _identity = identity;
            _handshake.HasStaticStatic = identity is not null
                && !identity.PublicKey.Equals(RemoteStatic)
                && identity.PrivateKey.TryAgree(RemoteStatic.Span, _handshake.StaticStatic);
            if (!_handshake.HasStaticStatic)
            {
                CryptographicOperations.ZeroMemory(_handshake.StaticStatic);
            }

            ClearHandshake();
        }
    }

    /// <summary>Sets the preshared key; all zeros (or an empty span) removes it.</summary>
    public void SetPresharedKey(ReadOnlySpan<byte> presharedKey)
    {
        lock (_lock)
        {
            _presharedKey?.Dispose();
            _presharedKey = presharedKey.IsEmpty || !presharedKey.ContainsAnyExcept((byte)0) ? null : new SecretKey(presharedKey);
        }
    }

    public bool HasPresharedKey
    {
        get
        {
            lock (_lock)
            {
                return _presharedKey is not null;
            }
        }
    }

    /// <summary>Copies the preshared key (zeros when none) for wg(8) "get".</summary>
    public void CopyPresharedKey(Span<byte> destination)
    {
        lock (_lock)
        {
            if (_presharedKey is null)
            {
                destination.Clear();
            }
            else
            {
                _presharedKey.Span.CopyTo(destination);
            }
        }
    }

    /// <summary>
    /// Runs the timers whose deadlines passed. Zeroing of keys happens here; everything else is returned for the
    /// caller to do (send an initiation, a keepalive, drop staged packets).
    /// </summary>
    public TimerActions Tick()
    {
        var actions = _timers.Expire();
        if ((actions & TimerActions.KeysZeroed) != 0)
        {
            ZeroKeyMaterial();
        }

        return actions;
    }

    /// <summary>Erases every keypair and the handshake in progress (the index table forgets them too).</summary>
    public void ZeroKeyMaterial()
    {
        lock (_lock)
        {
            DropKeypair(ref _previous);
            var current = _current;
            _current = null;
            DropKeypair(ref current);
            var next = _next;
            _next = null;
            DropKeypair(ref next);
            ClearHandshake();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _timers.StopAll();
            ZeroKeyMaterial();
            _handshake.Dispose();
            _presharedKey?.Dispose();
            _presharedKey = null;
            _cookies.Dispose();
        }
    }

    private void ClearHandshake()
    {
        if (_handshake.LocalIndex != 0)
        {
            _indices.Remove(_handshake.LocalIndex, this);
            _handshake.LocalIndex = 0;
        }

        _handshake.Clear();
    }

    private void DropKeypair(ref Keypair? keypair)
    {
        if (keypair is null)
        {
            return;
        }

        _indices.Remove(keypair.LocalIndex, this);
        keypair.Dispose();
        keypair = null;
    }

    private void AddTx(int bytes) => Interlocked.Add(ref _txBytes, bytes);

    private void AddRx(int bytes) => Interlocked.Add(ref _rxBytes, bytes);

    /// <summary>Counts a handshake message sent to this peer (transport data counts itself), as wireguard-go does.</summary>
    public void CountHandshakeSent(int bytes) => AddTx(bytes);

    /// <summary>Counts a handshake message received from this peer.</summary>
    public void CountHandshakeReceived(int bytes) => AddRx(bytes);
}
