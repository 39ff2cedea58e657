using System.Net;
using System.Security.Cryptography;
using Branchgate.Crypto;

namespace Branchgate.Uapi;

/// <summary>What one line of a <c>set=1</c> request asks for.</summary>
public enum UapiOperationKind
{
    /// <summary><c>private_key=</c>; <see cref="UapiOperation.Key"/> is clamped, empty when the line was all zeros.</summary>
    SetPrivateKey,

    /// <summary><c>listen_port=</c>; <see cref="UapiOperation.Number"/> is 0..65535 (0: any free port).</summary>
    SetListenPort,

    /// <summary><c>fwmark=</c>; <see cref="UapiOperation.Number"/> is 0..2^32-1 (0 removes the mark).</summary>
    SetFwmark,

    /// <summary><c>replace_peers=true</c>.</summary>
    ReplacePeers,

    /// <summary><c>public_key=</c>: starts a peer section; <see cref="UapiOperation.PublicKey"/>.</summary>
    Peer,

    /// <summary><c>update_only=true</c>: a peer the section's <c>public_key</c> line created is removed again.</summary>
    UpdateOnly,

    /// <summary><c>remove=true</c>.</summary>
    RemovePeer,

    /// <summary><c>preshared_key=</c>; <see cref="UapiOperation.Key"/> is empty when the line was all zeros.</summary>
    SetPresharedKey,

    /// <summary><c>endpoint=</c>; <see cref="UapiOperation.Endpoint"/> (IPv6 scope resolved to an interface index).</summary>
    SetEndpoint,

    /// <summary><c>persistent_keepalive_interval=</c>; <see cref="UapiOperation.Number"/> is 0..65535 (0 disables).</summary>
    SetPersistentKeepalive,

    /// <summary><c>replace_allowed_ips=true</c>.</summary>
    ReplaceAllowedIps,

    /// <summary><c>allowed_ip=addr/cidr</c>; <see cref="UapiOperation.Prefix"/> with host bits masked off.</summary>
    AddAllowedIp,

    /// <summary><c>allowed_ip=-addr/cidr</c> (newer wg and the kernel; not wireguard-go 0.0.20220316).</summary>
    RemoveAllowedIp,

    /// <summary><c>protocol_version=1</c>: accepted, changes nothing.</summary>
    ProtocolVersion,
}

/// <summary>One validated line of a set request. Immutable except that <see cref="Dispose"/> zeroes a secret key.</summary>
public sealed class UapiOperation : IDisposable
{
    private readonly byte[]? _key;

    private UapiOperation(UapiOperationKind kind, int line, byte[]? key = null, ulong number = 0,
        IPEndPoint? endpoint = null, IPNetwork prefix = default)
    {
        Kind = kind;
        Line = line;
        _key = key;
        Number = number;
        Endpoint = endpoint;
        Prefix = prefix;
    }

    public UapiOperationKind Kind { get; }

    /// <summary>1-based line number within the request (the <c>set=1</c> line is line 0).</summary>
    public int Line { get; }

    /// <summary>The private or preshared key (32 bytes, or empty for "none").</summary>
    public ReadOnlySpan<byte> Key => _key;

    public NoisePublicKey? PublicKey { get; private init; }

    public ulong Number { get; }

    public IPEndPoint? Endpoint { get; }

    public IPNetwork Prefix { get; }

    internal static UapiOperation Simple(UapiOperationKind kind, int line) => new(kind, line);

    internal static UapiOperation WithKey(UapiOperationKind kind, int line, byte[] key) => new(kind, line, key);

    internal static UapiOperation WithNumber(UapiOperationKind kind, int line, ulong number) =>
        new(kind, line, number: number);

    internal static UapiOperation ForPeer(int line, NoisePublicKey publicKey) =>
        new(UapiOperationKind.Peer, line) { PublicKey = publicKey };

    internal static UapiOperation ForEndpoint(int line, IPEndPoint endpoint) =>
        new(UapiOperationKind.SetEndpoint, line, endpoint: endpoint);

    internal static UapiOperation ForPrefix(UapiOperationKind kind, int line, IPNetwork prefix) =>
        new(kind, line, prefix: prefix);

    public void Dispose()
    {
        if (_key is not null)
        {
            CryptographicOperations.ZeroMemory(_key);
        }
    }

    public override string ToString() => Kind switch
    {
        UapiOperationKind.SetPrivateKey or UapiOperationKind.SetPresharedKey =>
            $"{Kind}({(_key is { Length: > 0 } ? "(hidden)" : "none")})",
        UapiOperationKind.Peer => $"Peer({PublicKey})",
        UapiOperationKind.SetEndpoint => $"SetEndpoint({Endpoint})",
        UapiOperationKind.AddAllowedIp or UapiOperationKind.RemoveAllowedIp => $"{Kind}({Prefix})",
        UapiOperationKind.SetListenPort or UapiOperationKind.SetFwmark or UapiOperationKind.SetPersistentKeepalive =>
            $"{Kind}({Number})",
        _ => Kind.ToString(),
    };
}

/// <summary>
/// A whole set request that passed validation: the operations in request order. Holds copies of secret keys until
/// disposed.
/// </summary>
public sealed class UapiSetRequest : IDisposable
{
    public UapiSetRequest(IReadOnlyList<UapiOperation> operations) => Operations = operations;

    public IReadOnlyList<UapiOperation> Operations { get; }

    public void Dispose()
    {
        foreach (var operation in Operations)
        {
            operation.Dispose();
        }
    }
}
