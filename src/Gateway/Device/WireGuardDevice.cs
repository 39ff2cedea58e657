using System.Net;
using Branchgate.Crypto;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Tun;
using Branchgate.Platform.Linux.Udp;
using Branchgate.Protocol;

namespace Branchgate.Device;

/// <summary>
/// A WireGuard interface in userspace: a TUN on the LAN side, one UDP socket on the WAN side, the peers with their
/// allowed IPs, and three threads: the TUN reader (outbound: route by destination, seal, send), the UDP receiver
/// (inbound: handshakes, open, source check, TUN write) and the timers. Configuration calls (the UAPI) are serialised
/// by one lock; the packet paths read immutable snapshots (the peer array, the handler) and never take it.
/// </summary>
public sealed partial class WireGuardDevice : IDisposable
{
    private readonly Lock _config = new();
    private readonly TunDevice _tun;
    private readonly TimeProvider _time;
    private readonly IndexTable _indices = new();
    private readonly SessionDirectory _directory = new();
    private readonly Dictionary<NoisePublicKey, Peer> _peerTable = [];
    private readonly List<(IDisposable Item, long RetiredAt)> _retired = [];
    private readonly ManualResetEventSlim _stopping = new();
    private readonly TaskCompletionSource<string> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HandshakeRateLimiter _rateLimiter;
    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];
    private volatile Peer[] _peers = [];
    private volatile MessageHandler? _handler;
    private volatile UdpSocket? _socket;
    private NoiseIdentity? _identity;
    private ushort _configuredPort;
    private uint _fwmark;
    private volatile int _mtu;
    private volatile int _cryptoWorkers = Device.CryptoWorkers.DefaultWorkers();
    private long _sendErrors;
    private Thread? _tunThread;
    private Thread? _timerThread;
    private bool _started;
    private int _disposed;

    public WireGuardDevice(TunDevice tun, DeviceLog log, TimeProvider? time = null)
    {
        _tun = tun;
        Log = log;
        _time = time ?? TimeProvider.System;
        _mtu = SafeMtu(1420);
        AllowedIps = new AllowedIps<Peer>();
        _rateLimiter = new HandshakeRateLimiter(_time);
    }

    public string Name => _tun.Name;

    public DeviceLog Log { get; }

    public AllowedIps<Peer> AllowedIps { get; }

    /// <summary>The socket of the listen port (replaced when the port changes).</summary>
    internal UdpSocket? Socket => _socket;

    /// <summary>Completes with the reason when the device stops by itself (its interface was deleted).</summary>
    public Task<string> Stopped => _stopped.Task;

    /// <summary>The bound UDP port (the kernel's pick while the configured port is 0).</summary>
    public ushort ListenPort => _socket?.Port ?? _configuredPort;

    public uint Fwmark => _fwmark;

    public NoiseIdentity? Identity => _identity;

    public IReadOnlyList<Peer> Peers => _peers;

    public long DroppedPackets(DropReason reason) => Interlocked.Read(ref _drops[(int)reason]);

    public long SendErrors => Interlocked.Read(ref _sendErrors);

    /// <summary>
    /// Threads that help each packet thread with the AEAD of a large batch (0: the packet threads do it alone). The
    /// default is one per further core, at most 3, or the BRANCHGATE_CRYPTO_WORKERS environment variable. Read when a
    /// packet thread starts: set it before <see cref="Start"/>.
    /// </summary>
    public int CryptoWorkerCount
    {
        get => _cryptoWorkers;
        set => _cryptoWorkers = Math.Clamp(value, 0, Device.CryptoWorkers.MaxWorkers);
    }

    /// <summary>Batches with fewer packets than this are sealed or opened by the packet thread alone.</summary>
    private const int ParallelMinimumPackets = 8;

    /// <summary>Opens the UDP socket (port 0 until configured) and starts the packet and timer threads.</summary>
    public void Start()
    {
        lock (_config)
        {
            if (_started)
            {
                return;
            }

            _started = true;
            BindSocket(_configuredPort);
        }

        _tunThread = StartThread("tun reader", TunReadLoop);
        _timerThread = StartThread("timers", TimerLoop);
    }

    // ---- configuration (UAPI) ----

    /// <summary>Sets the private key; all zero (or empty) removes it. A peer with the matching public key is removed.</summary>
    public void SetPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        lock (_config)
        {
            if (privateKey.IsEmpty || !privateKey.ContainsAnyExcept((byte)0))
            {
                ReplaceIdentity(null);
                return;
            }

            var key = new NoisePrivateKey(privateKey);
            if (_identity is not null && _identity.PublicKey.Equals(key.PublicKey))
            {
                key.Dispose();
                return;
            }

            var identity = new NoiseIdentity(key);
            if (_peerTable.TryGetValue(identity.PublicKey, out var self))
            {
                RemovePeerLocked(self);
            }

            ReplaceIdentity(identity);
        }
    }

    /// <summary>Binds the listen port (0: the kernel picks). Throws LinuxException (EADDRINUSE) and changes nothing.</summary>
    public void SetListenPort(ushort port)
    {
        lock (_config)
        {
            if (port == _configuredPort && (port != 0 || _socket is not null))
            {
                return;
            }

            if (_started)
            {
                BindSocket(port);
            }

            _configuredPort = port;
        }
    }

    public void SetFwmark(uint mark)
    {
        lock (_config)
        {
            if (_socket is not null)
            {
                _socket.Mark = mark;
            }

            _fwmark = mark;
        }
    }

    public Peer? FindPeer(NoisePublicKey publicKey)
    {
        lock (_config)
        {
            return _peerTable.GetValueOrDefault(publicKey);
        }
    }

    /// <summary>Adds a peer (or returns the existing one with that key).</summary>
    public Peer AddPeer(NoisePublicKey publicKey)
    {
        lock (_config)
        {
            if (_peerTable.TryGetValue(publicKey, out var existing))
            {
                return existing;
            }

            var session = new PeerSession(publicKey, _indices, _time);
            session.SetIdentity(_identity);
            var peer = new Peer(session);
            _peerTable.Add(publicKey, peer);
            _directory.TryAdd(session);
            _peers = [.. _peerTable.Values];
            Log.Verbose($"{peer.Name} - UAPI: Created");
            return peer;
        }
    }

    public void RemovePeer(Peer peer)
    {
        lock (_config)
        {
            RemovePeerLocked(peer);
        }
    }

    public void RemoveAllPeers()
    {
        lock (_config)
        {
            foreach (var peer in _peerTable.Values.ToArray())
            {
                RemovePeerLocked(peer);
            }
        }
    }

    public void SetPresharedKey(Peer peer, ReadOnlySpan<byte> key)
    {
        Log.Verbose($"{peer.Name} - UAPI: Updating preshared key");
        peer.Session.SetPresharedKey(key);
    }

    public void SetEndpoint(Peer peer, IPEndPoint endpoint)
    {
        Log.Verbose($"{peer.Name} - UAPI: Updating endpoint");
        peer.SetEndpoint(UdpEndpoint.FromIPEndPoint(endpoint));
    }

    /// <summary>Sets the persistent keepalive; turning it on sends one at once (it opens NAT mappings), as wireguard-go.</summary>
    public void SetPersistentKeepalive(Peer peer, ushort seconds)
    {
        var before = peer.Session.PersistentKeepaliveInterval;
        peer.Session.PersistentKeepaliveInterval = seconds;
        if (before == 0 && seconds != 0 && _started)
        {
            peer.KeepaliveRequested = true;
        }
    }

    public void AddAllowedIp(Peer peer, IPNetwork prefix)
    {
        lock (_config)
        {
            AllowedIps.Insert(prefix, peer);
        }
    }

    public void RemoveAllowedIp(Peer peer, IPNetwork prefix)
    {
        lock (_config)
        {
            AllowedIps.Remove(prefix, peer);
        }
    }

    public void ClearAllowedIps(Peer peer)
    {
        lock (_config)
        {
            AllowedIps.RemoveByPeer(peer);
        }
    }

    private void RemovePeerLocked(Peer peer)
    {
        if (!_peerTable.Remove(peer.PublicKey))
        {
            return;
        }

        _directory.TryRemove(peer.PublicKey, out _);
        AllowedIps.RemoveByPeer(peer);
        _peers = [.. _peerTable.Values];
        Log.Verbose($"{peer.Name} - UAPI: Removing");
        // Zero its keys now: a removed peer must stop passing traffic at once.
        peer.Session.ZeroKeyMaterial();
        Retire(peer);
    }

    private void ReplaceIdentity(NoiseIdentity? identity)
    {
        var oldHandler = _handler;
        var oldIdentity = _identity;
        _identity = identity;
        _handler = identity is null ? null : new MessageHandler(identity, _indices, _directory, _time)
        {
            // Under load, at most 20 handshakes per second per source address (the port is not part of the key).
            Admission = source => _rateLimiter.Allow(source[..(source.Length - 2)]),
        };
        foreach (var peer in _peerTable.Values)
        {
            peer.Session.SetIdentity(identity);
        }

        // The packet threads may still hold the old ones for a moment: dispose (and zero) them a little later.
        if (oldHandler is not null)
        {
            Retire(oldHandler);
        }

        if (oldIdentity is not null)
        {
            Retire(oldIdentity);
        }
    }

    private void BindSocket(ushort port)
    {
        var socket = UdpSocket.Open(port, new UdpSocketOptions { Mark = _fwmark, BufferBytes = 4 << 20 });
        var old = _socket;
        _socket = socket;
        old?.Dispose();
        StartThread($"udp receiver :{socket.Port}", () => ReceiveLoop(socket));
        Log.Verbose($"UDP bind has been updated (port {socket.Port})");
    }

    private void Retire(IDisposable item)
    {
        lock (_retired)
        {
            _retired.Add((item, _time.GetTimestamp()));
        }
    }

    private void DisposeRetired(bool all)
    {
        lock (_retired)
        {
            var now = _time.GetTimestamp();
            for (int i = _retired.Count - 1; i >= 0; i--)
            {
                if (all || _time.GetElapsedTime(_retired[i].RetiredAt, now) > TimeSpan.FromSeconds(2))
                {
                    _retired[i].Item.Dispose();
                    _retired.RemoveAt(i);
                }
            }
        }
    }

    internal void CountDrop(DropReason reason) => Interlocked.Increment(ref _drops[(int)reason]);

    internal void CountSendError(LinuxException e)
    {
        if (Interlocked.Increment(ref _sendErrors) % 1000 == 1)
        {
            Log.Verbose($"Failed to send data packets: {e.Message}");
        }
    }

    private int SafeMtu(int fallback)
    {
        try
        {
            return _tun.GetMtu();
        }
        catch (LinuxException)
        {
            // The interface moved to another namespace: link control no longer reaches it; keep the last value.
            return fallback;
        }
    }

    private Thread StartThread(string name, Action body)
    {
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.Error($"{name} failed: {e.Message}");
                Stop($"{name} failed: {e.Message}");
            }
        })
        {
            IsBackground = true,
            Name = $"{Name} {name}",
        };
        thread.Start();
        return thread;
    }

    /// <summary>Ends the device's threads and reports <paramref name="reason"/> through <see cref="Stopped"/>.</summary>
    internal void Stop(string reason)
    {
        _stopping.Set();
        _stopped.TrySetResult(reason);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Stop("closed");
        _socket?.Dispose();
        _tun.Dispose();
        _tunThread?.Join(TimeSpan.FromSeconds(5));
        _timerThread?.Join(TimeSpan.FromSeconds(5));
        lock (_config)
        {
            foreach (var peer in _peerTable.Values)
            {
                peer.Dispose();
            }

            _peerTable.Clear();
            _peers = [];
            _handler?.Dispose();
            _handler = null;
            _identity?.Dispose();
            _identity = null;
        }

        DisposeRetired(all: true);
        _rateLimiter.Dispose();
        _stopping.Dispose();
    }
}
