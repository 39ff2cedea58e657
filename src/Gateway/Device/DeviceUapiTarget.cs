using System.Net;
using Branchgate.Crypto;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Uapi;

namespace Branchgate.Device;

/// <summary>The wg(8) UAPI's view of a <see cref="WireGuardDevice"/>.</summary>
public sealed class DeviceUapiTarget(WireGuardDevice device) : IUapiTarget, IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private bool _zeroKeySet;

    public IDisposable LockConfiguration()
    {
        _lock.Wait();
        return new Releaser(_lock);
    }

    public UapiDeviceSnapshot Snapshot()
    {
        var peers = new List<UapiPeerSnapshot>();
        Span<byte> psk = stackalloc byte[32];
        foreach (var peer in device.Peers)
        {
            var session = peer.Session;
            bool hasPsk = session.HasPresharedKey;
            if (hasPsk)
            {
                session.CopyPresharedKey(psk);
            }

            long seconds = 0, nanoseconds = 0;
            if (session.LastHandshake is { } at)
            {
                var ticks = at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
                seconds = ticks / TimeSpan.TicksPerSecond;
                nanoseconds = ticks % TimeSpan.TicksPerSecond * 100;
            }

            peers.Add(new UapiPeerSnapshot(peer.PublicKey, hasPsk ? psk : [])
            {
                Endpoint = peer.TryGetEndpoint(out var endpoint) ? endpoint.ToIPEndPoint() : null,
                LastHandshakeTimeSeconds = seconds,
                LastHandshakeTimeNanoseconds = nanoseconds,
                TransmittedBytes = (ulong)session.TxBytes,
                ReceivedBytes = (ulong)session.RxBytes,
                PersistentKeepaliveInterval = session.PersistentKeepaliveInterval,
                AllowedIps = [.. device.AllowedIps.EntriesFor(peer)],
            });
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(psk);
        }

        var identity = device.Identity;
        return new UapiDeviceSnapshot(identity is null ? [] : identity.PrivateKey.Span, device.ListenPort, device.Fwmark, peers);
    }

    public void SetPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        _zeroKeySet = !privateKey.IsEmpty && !privateKey.ContainsAnyExcept((byte)0);
        device.SetPrivateKey(privateKey);
    }

    public bool TrySetListenPort(ushort port)
    {
        try
        {
            device.SetListenPort(port);
            return true;
        }
        catch (LinuxException e)
        {
            device.Log.Error($"Failed to set listen_port {port}: {e.Message}");
            return false;
        }
    }

    public bool TrySetFwmark(uint fwmark)
    {
        try
        {
            device.SetFwmark(fwmark);
            return true;
        }
        catch (LinuxException e)
        {
            device.Log.Error($"Failed to set fwmark {fwmark}: {e.Message}");
            return false;
        }
    }

    public void RemoveAllPeers() => device.RemoveAllPeers();

    public bool IsOwnPublicKey(NoisePublicKey publicKey)
    {
        var identity = device.Identity;
        if (identity is not null)
        {
            return identity.PublicKey.Equals(publicKey);
        }

        // As wireguard-go: with no key the device's public key is all zeros; after private_key=0…0 it is the public
        // key of the clamped zero scalar.
        return _zeroKeySet ? publicKey.Equals(ZeroScalarPublicKey.Value) : publicKey.IsZero;
    }

    public IUapiPeer? FindPeer(NoisePublicKey publicKey) =>
        device.FindPeer(publicKey) is { } peer ? new UapiPeer(device, peer) : null;

    public IUapiPeer? CreatePeer(NoisePublicKey publicKey) =>
        device.Peers.Count >= 1 << 16 ? null : new UapiPeer(device, device.AddPeer(publicKey));

    public void RemovePeer(IUapiPeer peer) => device.RemovePeer(((UapiPeer)peer).Peer);

    public void Dispose() => _lock.Dispose();

    private static readonly Lazy<NoisePublicKey> ZeroScalarPublicKey = new(() =>
    {
        using var key = new NoisePrivateKey(new byte[32]);
        return key.PublicKey;
    });

    private sealed class UapiPeer(WireGuardDevice device, Peer peer) : IUapiPeer
    {
        public Peer Peer => peer;

        public NoisePublicKey PublicKey => peer.PublicKey;

        public void SetPresharedKey(ReadOnlySpan<byte> presharedKey) => device.SetPresharedKey(peer, presharedKey);

        public void SetEndpoint(IPEndPoint endpoint) => device.SetEndpoint(peer, endpoint);

        public void SetPersistentKeepalive(ushort seconds) => device.SetPersistentKeepalive(peer, seconds);

        public void ClearAllowedIps() => device.ClearAllowedIps(peer);

        public void AddAllowedIp(IPNetwork prefix) => device.AddAllowedIp(peer, prefix);

        public void RemoveAllowedIp(IPNetwork prefix) => device.RemoveAllowedIp(peer, prefix);

        public void EndUpdate()
        {
            // The timer thread sends what the section asked for (a keepalive when keepalive was turned on) within 50 ms.
        }
    }

    private sealed class Releaser(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                semaphore.Release();
            }
        }
    }
}
