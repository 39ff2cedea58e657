using System.Net;
using System.Net.Sockets;

namespace Branchgate.Platform.Linux.Netlink.Xfrm;

/// <summary>
/// One entry of the kernel's security policy database (SPD): traffic matching <see cref="Selector"/> in
/// <see cref="Direction"/> is dropped (<see cref="XfrmPolicyAction.Block"/>), let through as is (Allow, no templates)
/// or must be transformed by SAs matching <see cref="Templates"/>, in order (Allow with templates). Among matching
/// policies the lowest <see cref="Priority"/> wins. The SPD is consulted after routing.
/// </summary>
public sealed record XfrmPolicy
{
    public required XfrmSelector Selector { get; init; }

    public required XfrmDirection Direction { get; init; }

    public required XfrmPolicyAction Action { get; init; }

    /// <summary>Lower wins.</summary>
    public required uint Priority { get; init; }

    /// <summary>The kernel's id of the policy (its low 3 bits encode the direction).</summary>
    public required uint Index { get; init; }

    public required XfrmPolicyFlags Flags { get; init; }

    /// <summary>Always <see cref="XfrmShare.Any"/> in kernel dumps (the kernel does not keep it).</summary>
    public required XfrmShare Share { get; init; }

    public required XfrmPolicyType Type { get; init; }

    /// <summary>Only packets with this firewall mark match (XFRMA_MARK); null when the policy has none.</summary>
    public required XfrmMark? Mark { get; init; }

    /// <summary>The xfrm interface id (XFRMA_IF_ID) the policy is bound to; 0 when none.</summary>
    public required uint InterfaceId { get; init; }

    /// <summary>The transformations required, applied in order (the first innermost); empty for block and plain allow
    /// (bypass) policies.</summary>
    public required IReadOnlyList<XfrmTemplate> Templates { get; init; }

    public required XfrmLifetimeLimits Limits { get; init; }

    public required XfrmLifetimeCurrent Current { get; init; }
}

/// <summary>
/// What SA a policy requires (struct xfrm_user_tmpl). In tunnel mode <see cref="Source"/> and
/// <see cref="Destination"/> are the tunnel endpoints; in transport mode they are usually unspecified (any).
/// </summary>
public sealed record XfrmTemplate
{
    /// <summary>The family of the template's addresses (may differ from the selector's in tunnel mode).</summary>
    public required AddressFamily Family { get; init; }

    public required IPAddress Source { get; init; }

    public required IPAddress Destination { get; init; }

    /// <summary>The SPI required, host order; 0 for any.</summary>
    public required uint Spi { get; init; }

    /// <summary>IPsec protocol: 50 ESP, 51 AH, 108 IPComp.</summary>
    public required byte Protocol { get; init; }

    public required XfrmMode Mode { get; init; }

    /// <summary>The reqid tying the template to its SAs (0: any).</summary>
    public required uint RequestId { get; init; }

    public required XfrmShare Share { get; init; }

    /// <summary>`level use`: the transformation may be absent on inbound traffic.</summary>
    public required bool Optional { get; init; }

    /// <summary>Bit masks of acceptable algorithms by SADB id (all bits set: any).</summary>
    public required uint AuthenticationAlgorithms { get; init; }

    public required uint EncryptionAlgorithms { get; init; }

    public required uint CompressionAlgorithms { get; init; }

    internal static XfrmTemplate? From(in XfrmUserTemplateRaw raw, ushort policyFamily)
    {
        // The kernel fills a missing template family with the policy's on input; do the same when reading.
        ushort family = raw.Family == XfrmConstants.AF_UNSPEC ? policyFamily : raw.Family;
        if (family is not (XfrmConstants.AF_INET or XfrmConstants.AF_INET6) || raw.Mode >= XfrmConstants.XFRM_MODE_MAX)
        {
            return null;
        }

        return new XfrmTemplate
        {
            Family = XfrmSelector.ToAddressFamily(family),
            Source = raw.Saddr.ToAddress(family),
            Destination = raw.Id.Daddr.ToAddress(family),
            Spi = NetworkOrder.ToHost(raw.Id.SpiBigEndian),
            Protocol = raw.Id.Proto,
            Mode = (XfrmMode)raw.Mode,
            RequestId = raw.RequestId,
            Share = (XfrmShare)raw.Share,
            Optional = raw.Optional != 0,
            AuthenticationAlgorithms = raw.AuthAlgorithms,
            EncryptionAlgorithms = raw.EncryptionAlgorithms,
            CompressionAlgorithms = raw.CompressionAlgorithms,
        };
    }
}

/// <summary>The policies of a dump, and what was left out of it.</summary>
/// <param name="Policies">The SPD entries (directions in, out and forward).</param>
/// <param name="SocketPolicies">Per-socket policies seen and skipped (e.g. the IKE daemon's bypass on its own socket).</param>
/// <param name="Malformed">Messages that could not be parsed and were skipped.</param>
public sealed record XfrmPolicyDump(IReadOnlyList<XfrmPolicy> Policies, int SocketPolicies, int Malformed);
