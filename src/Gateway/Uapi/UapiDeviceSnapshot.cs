using System.Net;
using System.Security.Cryptography;
using Branchgate.Crypto;

namespace Branchgate.Uapi;

/// <summary>
/// A device as <c>get=1</c> reports it. Holds copies of the private and preshared keys, zeroed on <see cref="Dispose"/>.
/// </summary>
public sealed class UapiDeviceSnapshot : IDisposable
{
    private readonly byte[] _privateKey;

    /// <param name="privateKey">32 bytes, or empty when the device has none.</param>
    /// <param name="listenPort">The port bound (0: none).</param>
    /// <param name="fwmark">0: none.</param>
    /// <param name="peers">In the order get should list them (wireguard-go's order is Go map order, i.e. random).</param>
    public UapiDeviceSnapshot(ReadOnlySpan<byte> privateKey, ushort listenPort, uint fwmark, IReadOnlyList<UapiPeerSnapshot> peers)
    {
        if (!privateKey.IsEmpty && privateKey.Length != X25519.KeySize)
        {
            ThrowHelper.ThrowArgument(nameof(privateKey), "a private key is 32 bytes or empty");
        }

        _privateKey = privateKey.ToArray();
        ListenPort = listenPort;
        Fwmark = fwmark;
        Peers = peers;
    }

    public ReadOnlySpan<byte> PrivateKey => _privateKey;

    public ushort ListenPort { get; }

    public uint Fwmark { get; }

    public IReadOnlyList<UapiPeerSnapshot> Peers { get; }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_privateKey);
        foreach (var peer in Peers)
        {
            peer.Dispose();
        }
    }
}

/// <summary>One peer of a <see cref="UapiDeviceSnapshot"/>.</summary>
public sealed class UapiPeerSnapshot : IDisposable
{
    private readonly byte[] _presharedKey;

    /// <param name="publicKey">The peer's static public key.</param>
    /// <param name="presharedKey">32 bytes, or empty for none (printed as 64 zeros, as wireguard-go does).</param>
    public UapiPeerSnapshot(NoisePublicKey publicKey, ReadOnlySpan<byte> presharedKey)
    {
        if (!presharedKey.IsEmpty && presharedKey.Length != X25519.KeySize)
        {
            ThrowHelper.ThrowArgument(nameof(presharedKey), "a preshared key is 32 bytes or empty");
        }

        PublicKey = publicKey;
        _presharedKey = presharedKey.ToArray();
    }

    public NoisePublicKey PublicKey { get; }

    public ReadOnlySpan<byte> PresharedKey => _presharedKey;

    /// <summary>Null until configured or learned from an authenticated packet. An IPv4 peer should be reported as an
    /// IPv4 address, not IPv4-mapped IPv6, or get prints "[::ffff:a.b.c.d]:port".</summary>
    public IPEndPoint? Endpoint { get; init; }

    /// <summary>Unix time of the last completed handshake, whole seconds (0: never).</summary>
    public long LastHandshakeTimeSeconds { get; init; }

    /// <summary>The nanoseconds part (0..999999999) of the last handshake time.</summary>
    public long LastHandshakeTimeNanoseconds { get; init; }

    public ulong TransmittedBytes { get; init; }

    public ulong ReceivedBytes { get; init; }

    public ushort PersistentKeepaliveInterval { get; init; }

    /// <summary>In the device's order (wireguard-go: insertion order per peer, a re-added range moves last).</summary>
    public IReadOnlyList<IPNetwork> AllowedIps { get; init; } = [];

    public void Dispose() => CryptographicOperations.ZeroMemory(_presharedKey);
}
