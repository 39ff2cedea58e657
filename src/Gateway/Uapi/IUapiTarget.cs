using System.Net;
using Branchgate.Crypto;

namespace Branchgate.Uapi;

/// <summary>
/// What the UAPI needs from a WireGuard device: the fine-grained operations of a <c>set=1</c> request, with the
/// semantics wireguard-go's device gives them, and a <see cref="Snapshot"/> for <c>get=1</c>.
/// <see cref="UapiApplier"/> calls these in request order while it holds <see cref="LockConfiguration"/>; the server
/// takes the same lock around <see cref="Snapshot"/>. Input is already validated: a method may throw only for a
/// programmer error, and the bool-returning ones report the runtime failures wireguard-go reports.
/// </summary>
public interface IUapiTarget
{
    /// <summary>
    /// An exclusive lock held for a whole set (and around a get), so requests from concurrent connections never
    /// interleave (wireguard-go's ipcMutex). Not re-entered by the UAPI code.
    /// </summary>
    IDisposable LockConfiguration();

    /// <summary>The device's configuration and counters now; see <see cref="UapiDeviceSnapshot"/>.</summary>
    UapiDeviceSnapshot Snapshot();

    /// <summary>
    /// Installs a clamped 32-byte private key, or removes it when <paramref name="privateKey"/> is empty. As
    /// wireguard-go's Device.SetPrivateKey: the same key again changes nothing; a new key first removes every peer whose
    /// public key equals the new public key.
    /// </summary>
    void SetPrivateKey(ReadOnlySpan<byte> privateKey);

    /// <summary>
    /// Rebinds the UDP sockets to <paramref name="port"/> (0: any free port; the snapshot then reports the port bound).
    /// False (answered EADDRINUSE) when it cannot bind; the device should then keep its previous binding (wireguard-go
    /// 0.0.20220316 instead stays unbound with port 0).
    /// </summary>
    bool TrySetListenPort(ushort port);

    /// <summary>Sets SO_MARK on the sockets (0 removes it); false (EADDRINUSE, as wireguard-go) when that fails.</summary>
    bool TrySetFwmark(uint fwmark);

    /// <summary><c>replace_peers=true</c>: removes every peer (with its allowed IPs).</summary>
    void RemoveAllPeers();

    /// <summary>
    /// True when <paramref name="publicKey"/> is the device's own static public key; such a peer section is validated
    /// and ignored. As in wireguard-go, before any private key was set the device's public key is all zeros, and after
    /// <c>private_key=0…0</c> it is the public key of the clamped all-zero scalar.
    /// </summary>
    bool IsOwnPublicKey(NoisePublicKey publicKey);

    IUapiPeer? FindPeer(NoisePublicKey publicKey);

    /// <summary>Adds a peer with no endpoint, no preshared key, no allowed IPs; null (EINVAL) when the device refuses
    /// (wireguard-go: more than 2^16 peers).</summary>
    IUapiPeer? CreatePeer(NoisePublicKey publicKey);

    /// <summary>Removes the peer and its allowed IPs.</summary>
    void RemovePeer(IUapiPeer peer);
}

/// <summary>A peer as the UAPI changes it; obtained from <see cref="IUapiTarget.FindPeer"/> or <see cref="IUapiTarget.CreatePeer"/>.</summary>
public interface IUapiPeer
{
    NoisePublicKey PublicKey { get; }

    /// <summary>32 bytes, or empty for none (the same as 32 zero bytes to the handshake).</summary>
    void SetPresharedKey(ReadOnlySpan<byte> presharedKey);

    /// <summary>An IPv4 or IPv6 endpoint; IPv6 carries the interface index of a scoped address in ScopeId.</summary>
    void SetEndpoint(IPEndPoint endpoint);

    /// <summary>Seconds, 0 disables.</summary>
    void SetPersistentKeepalive(ushort seconds);

    /// <summary><c>replace_allowed_ips=true</c>: removes every allowed IP of this peer.</summary>
    void ClearAllowedIps();

    /// <summary>
    /// Routes <paramref name="prefix"/> (host bits already cleared) to this peer, taking it from any other peer. As
    /// wireguard-go's trie, the peer's list keeps insertion order, and adding a range it already has moves it last.
    /// </summary>
    void AddAllowedIp(IPNetwork prefix);

    /// <summary><c>allowed_ip=-prefix</c>: removes the range only if this peer owns it exactly.</summary>
    void RemoveAllowedIp(IPNetwork prefix);

    /// <summary>
    /// The end of this peer's section of a set request (wireguard-go's handlePostConfig): start the peer if the device
    /// is up, send a keepalive if this section turned persistent keepalive on (from 0), and flush staged packets.
    /// Not called for a peer that the section removed.
    /// </summary>
    void EndUpdate();
}
