namespace Branchgate.Platform.Linux.Netlink.Xfrm;

/// <summary>Which traffic a policy governs (XFRM_POLICY_IN/OUT/FWD).</summary>
public enum XfrmDirection : byte
{
    /// <summary>Packets delivered to this host.</summary>
    In = 0,

    /// <summary>Packets this host sends.</summary>
    Out = 1,

    /// <summary>Packets this host routes on to another.</summary>
    Forward = 2,
}

/// <summary>What a matching policy does (XFRM_POLICY_ALLOW/BLOCK). Allow with templates means "protect with IPsec".</summary>
public enum XfrmPolicyAction : byte
{
    Allow = 0,
    Block = 1,
}

/// <summary>The policy database a policy is in (XFRM_POLICY_TYPE_MAIN/SUB); sub policies are consulted first.</summary>
public enum XfrmPolicyType : byte
{
    Main = 0,
    Sub = 1,
}

/// <summary>Policy flags (XFRM_POLICY_LOCALOK, XFRM_POLICY_ICMP).</summary>
[Flags]
public enum XfrmPolicyFlags : byte
{
    None = 0,
    LocalOk = 1,

    /// <summary>The selector is widened to ICMP errors about matching traffic.</summary>
    Icmp = 2,
}

/// <summary>Encapsulation mode of a template or state (XFRM_MODE_*).</summary>
public enum XfrmMode : byte
{
    Transport = 0,
    Tunnel = 1,
    RouteOptimization = 2,
    InTrigger = 3,
    Beet = 4,
}

/// <summary>XFRM_SHARE_*: who may share an SA made for a template.</summary>
public enum XfrmShare : byte
{
    Any = 0,
    Session = 1,
    User = 2,
    Unique = 3,
}

/// <summary>State flags (XFRM_STATE_*).</summary>
[Flags]
public enum XfrmStateFlags : byte
{
    None = 0,
    NoEcn = 1,
    DecapDscp = 2,
    NoPmtuDiscovery = 4,
    WildcardReceive = 8,
    Icmp = 16,
    AddressFamilyUnspecified = 32,
    Align4 = 64,
    ExtendedSequenceNumbers = 128,
}

/// <summary>A firewall mark match: a packet matches when (mark &amp; Mask) == Value.</summary>
public readonly record struct XfrmMark(uint Value, uint Mask);

/// <summary>
/// Configured lifetime limits (struct xfrm_lifetime_cfg). <see cref="Unlimited"/> (XFRM_INF) means no limit in the
/// byte and packet fields; 0 means no limit in the seconds fields.
/// </summary>
public readonly record struct XfrmLifetimeLimits(
    ulong SoftByteLimit,
    ulong HardByteLimit,
    ulong SoftPacketLimit,
    ulong HardPacketLimit,
    ulong SoftAddExpiresSeconds,
    ulong HardAddExpiresSeconds,
    ulong SoftUseExpiresSeconds,
    ulong HardUseExpiresSeconds)
{
    /// <summary>XFRM_INF.</summary>
    public const ulong Unlimited = ulong.MaxValue;
}

/// <summary>
/// Current lifetime (struct xfrm_lifetime_cur): traffic so far, and when the object was added and last used, in seconds
/// since the Unix epoch (0: never used).
/// </summary>
public readonly record struct XfrmLifetimeCurrent(ulong Bytes, ulong Packets, ulong AddTime, ulong UseTime);

/// <summary>The action for packets that no policy of a direction matches (XFRM_USERPOLICY_*).</summary>
public enum XfrmDefaultAction : byte
{
    Unspecified = 0,
    Block = 1,
    Accept = 2,
}

/// <summary>The default action of each direction (XFRM_MSG_GETDEFAULT, Linux 5.16 and later).</summary>
public readonly record struct XfrmDefaultPolicy(XfrmDefaultAction In, XfrmDefaultAction Forward, XfrmDefaultAction Out);

/// <summary>What a parse function made of one message.</summary>
public enum XfrmParseStatus
{
    /// <summary>A record was produced.</summary>
    Parsed,

    /// <summary>A well-formed message deliberately left out (a per-socket policy).</summary>
    Skipped,

    /// <summary>Too short, inconsistent or with values the kernel never sends; nothing was produced.</summary>
    Malformed,
}
