using System.Net;
using System.Net.Sockets;

namespace Branchgate.Platform.Linux.Netlink.Xfrm;

/// <summary>
/// One security association (SA) of the kernel's SAD, without its keys: the kernel sends keys in a dump, but only the
/// algorithm names are read from those attributes, and nothing else of them is kept.
/// </summary>
public sealed record XfrmState
{
    /// <summary>The inner traffic the SA may carry.</summary>
    public required XfrmSelector Selector { get; init; }

    /// <summary>The family of <see cref="Source"/> and <see cref="Destination"/> (the outer addresses).</summary>
    public required AddressFamily Family { get; init; }

    public required IPAddress Source { get; init; }

    public required IPAddress Destination { get; init; }

    /// <summary>Host order.</summary>
    public required uint Spi { get; init; }

    /// <summary>IPsec protocol: 50 ESP, 51 AH, 108 IPComp.</summary>
    public required byte Protocol { get; init; }

    public required XfrmMode Mode { get; init; }

    public required uint RequestId { get; init; }

    /// <summary>The key manager's sequence number (of the acquire that made a larval SA).</summary>
    public required uint Sequence { get; init; }

    public required byte ReplayWindow { get; init; }

    public required XfrmStateFlags Flags { get; init; }

    public required XfrmLifetimeLimits Limits { get; init; }

    public required XfrmLifetimeCurrent Current { get; init; }

    public required XfrmStatistics Statistics { get; init; }

    /// <summary>Only packets with this firewall mark use the SA (XFRMA_MARK); null when none.</summary>
    public required XfrmMark? Mark { get; init; }

    /// <summary>The mark set on packets after the transformation (XFRMA_SET_MARK and _MASK); null when none.</summary>
    public required XfrmMark? OutputMark { get; init; }

    /// <summary>The xfrm interface id (XFRMA_IF_ID); 0 when none.</summary>
    public required uint InterfaceId { get; init; }

    /// <summary>Kernel crypto names, e.g. "rfc4106(gcm(aes))", "cbc(aes)", "hmac(sha256)", "deflate"; null when unused.</summary>
    public required string? AeadAlgorithm { get; init; }

    public required string? EncryptionAlgorithm { get; init; }

    public required string? AuthenticationAlgorithm { get; init; }

    public required string? CompressionAlgorithm { get; init; }

    /// <summary>ESP-in-UDP (NAT traversal) or ESP-in-TCP encapsulation (XFRMA_ENCAP); null when none.</summary>
    public required XfrmEncapsulation? Encapsulation { get; init; }
}

/// <summary>Replay and integrity counters of an SA (struct xfrm_stats).</summary>
public readonly record struct XfrmStatistics(uint ReplayWindow, uint Replay, uint IntegrityFailed);

/// <summary>
/// How ESP is carried (struct xfrm_encap_tmpl): <see cref="Type"/> 2 is UDP_ENCAP_ESPINUDP (RFC 3948, port 4500),
/// 1 the old non-IKE variant, 7 TCP_ENCAP_ESPINTCP. Ports in host order.
/// </summary>
public readonly record struct XfrmEncapsulation(ushort Type, ushort SourcePort, ushort DestinationPort, IPAddress OriginalAddress);

/// <summary>The states of a dump, and how many messages could not be parsed.</summary>
public sealed record XfrmStateDump(IReadOnlyList<XfrmState> States, int Malformed);
