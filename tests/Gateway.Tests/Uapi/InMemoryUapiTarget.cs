using System.Net;
using System.Security.Cryptography;
using Branchgate.Crypto;
using Branchgate.Uapi;

namespace Branchgate.Tests.Uapi;

/// <summary>
/// A device model for the UAPI tests with wireguard-go 0.0.20220316's semantics (device.go, peer.go, allowedips.go):
/// own public key all zeros until a private key is set; a new private key removes the peer with the matching public
/// key; an allowed IP belongs to one peer and moves to whoever adds it last; a peer's ranges keep insertion order and a
/// re-added range moves last. Peers are listed in creation order (wireguard-go's order is random).
/// </summary>
public sealed class InMemoryUapiTarget : IUapiTarget
{
    private readonly object _gate = new();
    private readonly List<Peer> _peers = [];
    private readonly Dictionary<IPNetwork, Peer> _owners = [];
    private byte[] _privateKey = [];
    private NoisePublicKey _publicKey = new(new byte[32]);

    public ushort ListenPort { get; private set; }

    public uint Fwmark { get; private set; }

    /// <summary>Ports that "another process" has bound: TrySetListenPort fails for them.</summary>
    public HashSet<ushort> BusyPorts { get; } = [];

    public bool FailFwmark { get; set; }

    public int MaxPeers { get; set; } = 1 << 16;

    /// <summary>Every call the UAPI made, for tests that check what reached the device.</summary>
    public List<string> Calls { get; } = [];

    public IDisposable LockConfiguration()
    {
        Monitor.Enter(_gate);
        return new Unlock(_gate);
    }

    public UapiDeviceSnapshot Snapshot()
    {
        lock (_gate)
        {
            var peers = _peers.Select(p => new UapiPeerSnapshot(p.PublicKey, p.PresharedKey)
            {
                Endpoint = p.Endpoint,
                PersistentKeepaliveInterval = p.Keepalive,
                AllowedIps = [.. p.AllowedIps],
            }).ToList();
            return new UapiDeviceSnapshot(_privateKey, ListenPort, Fwmark, peers);
        }
    }

    public void SetPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        Calls.Add(privateKey.IsEmpty ? "SetPrivateKey(none)" : "SetPrivateKey");
        if (privateKey.SequenceEqual(_privateKey))
        {
            return;
        }

        // wireguard-go derives the public key of the all-zero key too (the scalar multiplication clamps it).
        Span<byte> scalar = stackalloc byte[32];
        privateKey.CopyTo(scalar);
        Span<byte> publicKey = stackalloc byte[32];
        X25519.DerivePublicKey(scalar, publicKey);
        CryptographicOperations.ZeroMemory(scalar);
        var newPublicKey = new NoisePublicKey(publicKey);
        foreach (var peer in _peers.Where(p => p.PublicKey.Equals(newPublicKey)).ToList())
        {
            RemovePeerCore(peer);
        }

        CryptographicOperations.ZeroMemory(_privateKey);
        _privateKey = privateKey.ToArray();
        _publicKey = newPublicKey;
    }

    public bool TrySetListenPort(ushort port)
    {
        Calls.Add($"TrySetListenPort({port})");
        if (BusyPorts.Contains(port))
        {
            return false;
        }

        ListenPort = port != 0 ? port : (ushort)Random.Shared.Next(32768, 61000);
        return true;
    }

    public bool TrySetFwmark(uint fwmark)
    {
        Calls.Add($"TrySetFwmark({fwmark})");
        if (FailFwmark)
        {
            return false;
        }

        Fwmark = fwmark;
        return true;
    }

    public void RemoveAllPeers()
    {
        Calls.Add("RemoveAllPeers");
        foreach (var peer in _peers.ToList())
        {
            RemovePeerCore(peer);
        }
    }

    public bool IsOwnPublicKey(NoisePublicKey publicKey) => publicKey.Equals(_publicKey);

    public IUapiPeer? FindPeer(NoisePublicKey publicKey) => _peers.FirstOrDefault(p => p.PublicKey.Equals(publicKey));

    public IUapiPeer? CreatePeer(NoisePublicKey publicKey)
    {
        Calls.Add($"CreatePeer({publicKey})");
        if (_peers.Count >= MaxPeers)
        {
            return null;
        }

        var peer = new Peer(this, publicKey);
        _peers.Add(peer);
        return peer;
    }

    public void RemovePeer(IUapiPeer peer)
    {
        Calls.Add($"RemovePeer({peer.PublicKey})");
        RemovePeerCore((Peer)peer);
    }

    private void RemovePeerCore(Peer peer)
    {
        peer.ClearAllowedIpsCore();
        _peers.Remove(peer);
    }

    private sealed class Unlock(object gate) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                Monitor.Exit(gate);
            }
        }
    }

    public sealed class Peer(InMemoryUapiTarget device, NoisePublicKey publicKey) : IUapiPeer
    {
        public NoisePublicKey PublicKey { get; } = publicKey;

        public byte[] PresharedKey { get; private set; } = [];

        public IPEndPoint? Endpoint { get; private set; }

        public ushort Keepalive { get; private set; }

        public List<IPNetwork> AllowedIps { get; } = [];

        public int EndUpdates { get; private set; }

        public void SetPresharedKey(ReadOnlySpan<byte> presharedKey) => PresharedKey = presharedKey.ToArray();

        public void SetEndpoint(IPEndPoint endpoint) => Endpoint = endpoint;

        public void SetPersistentKeepalive(ushort seconds) => Keepalive = seconds;

        public void ClearAllowedIps()
        {
            device.Calls.Add($"ClearAllowedIps({PublicKey})");
            ClearAllowedIpsCore();
        }

        internal void ClearAllowedIpsCore()
        {
            foreach (var prefix in AllowedIps)
            {
                device._owners.Remove(prefix);
            }

            AllowedIps.Clear();
        }

        public void AddAllowedIp(IPNetwork prefix)
        {
            if (device._owners.TryGetValue(prefix, out var owner))
            {
                owner.AllowedIps.Remove(prefix);
            }

            device._owners[prefix] = this;
            AllowedIps.Add(prefix);
        }

        public void RemoveAllowedIp(IPNetwork prefix)
        {
            if (device._owners.TryGetValue(prefix, out var owner) && owner == this)
            {
                device._owners.Remove(prefix);
                AllowedIps.Remove(prefix);
            }
        }

        public void EndUpdate()
        {
            device.Calls.Add($"EndUpdate({PublicKey})");
            EndUpdates++;
        }
    }
}
