using Branchgate.Crypto;
using Branchgate.Platform.Linux.Udp;
using Branchgate.Protocol;

namespace Branchgate.Device;

/// <summary>
/// A peer of the device: its protocol session, its endpoint (roaming: the source of the latest authenticated
/// packet), and the packets staged while no keypair exists. Configuration changes come through the device.
/// </summary>
public sealed class Peer : IDisposable
{
    /// <summary>Packets kept while a handshake is under way (wireguard-go keeps 128; the oldest goes first).</summary>
    public const int MaxStagedPackets = 128;

    private readonly Lock _endpointLock = new();
    private readonly Lock _stagedLock = new();
    private readonly Queue<(byte[] Buffer, int Length)> _staged = new();
    private UdpEndpoint _endpoint;
    private bool _hasEndpoint;

    internal Peer(PeerSession session)
    {
        Session = session;
        session.Owner = this;
    }

    public PeerSession Session { get; }

    public NoisePublicKey PublicKey => Session.RemoteStatic;

    /// <summary>A short form of the public key for logs, as wireguard-go prints peers: "peer(AbCd…WxYz)".</summary>
    public string Name
    {
        get
        {
            var b64 = PublicKey.ToBase64();
            return $"peer({b64[..4]}…{b64[39..43]})";
        }
    }

    /// <summary>Set by configuration when a keepalive should go out at the next timer tick.</summary>
    internal volatile bool KeepaliveRequested;

    private long _handshakeFailures;

    /// <summary>Handshake initiations that got no answer within REKEY_TIMEOUT (each retry counts the one before it).</summary>
    public long HandshakeFailures => Interlocked.Read(ref _handshakeFailures);

    internal void CountHandshakeFailure() => Interlocked.Increment(ref _handshakeFailures);

    public bool HasEndpoint
    {
        get
        {
            lock (_endpointLock)
            {
                return _hasEndpoint;
            }
        }
    }

    public bool TryGetEndpoint(out UdpEndpoint endpoint)
    {
        lock (_endpointLock)
        {
            endpoint = _endpoint;
            return _hasEndpoint;
        }
    }

    /// <summary>Sets the endpoint from configuration; the pinned source address is forgotten.</summary>
    public void SetEndpoint(in UdpEndpoint endpoint)
    {
        lock (_endpointLock)
        {
            _endpoint = endpoint;
            _endpoint.ClearSource();
            _hasEndpoint = true;
        }
    }

    /// <summary>Roaming: the source of an authenticated packet becomes the endpoint (with its arrival address).</summary>
    internal bool UpdateEndpointFromPacket(in UdpEndpoint source)
    {
        lock (_endpointLock)
        {
            if (_hasEndpoint && _endpoint.Equals(source))
            {
                return false;
            }

            bool moved = !_hasEndpoint || !_endpoint.DestinationEquals(source);
            _endpoint = source;
            _hasEndpoint = true;
            return moved;
        }
    }

    /// <summary>After a handshake retry, let the kernel choose the source address again (the old one may be gone).</summary>
    internal void ClearEndpointSource()
    {
        lock (_endpointLock)
        {
            _endpoint.ClearSource();
        }
    }

    internal void Stage(ReadOnlySpan<byte> packet)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(packet.Length);
        packet.CopyTo(buffer);
        lock (_stagedLock)
        {
            if (_staged.Count >= MaxStagedPackets)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(_staged.Dequeue().Buffer);
            }

            _staged.Enqueue((buffer, packet.Length));
        }
    }

    internal bool HasStaged
    {
        get
        {
            lock (_stagedLock)
            {
                return _staged.Count > 0;
            }
        }
    }

    /// <summary>Takes the oldest staged packet; the caller returns the buffer to the shared pool.</summary>
    internal bool TryTakeStaged(out byte[] buffer, out int length)
    {
        lock (_stagedLock)
        {
            if (_staged.TryDequeue(out var item))
            {
                (buffer, length) = item;
                return true;
            }
        }

        buffer = [];
        length = 0;
        return false;
    }

    internal void FlushStaged()
    {
        while (TryTakeStaged(out var buffer, out _))
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    public void Dispose()
    {
        FlushStaged();
        Session.Dispose();
    }
}
