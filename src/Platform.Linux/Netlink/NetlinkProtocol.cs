namespace Branchgate.Platform.Linux.Netlink;

/// <summary>Netlink families we speak (linux/netlink.h).</summary>
public enum NetlinkProtocol
{
    Route = 0,
    Xfrm = 6,
}

/// <summary>Constants of linux/netlink.h shared by every family.</summary>
internal static class Nl
{
    public const int HeaderLength = 16;
    public const int SOL_NETLINK = 270;
    public const int NETLINK_CAP_ACK = 10;
    public const int NETLINK_EXT_ACK = 11;
    public const int NETLINK_GET_STRICT_CHK = 12;

    public const ushort NLMSG_NOOP = 1;
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;
    public const ushort NLMSG_OVERRUN = 4;

    public const ushort NLM_F_REQUEST = 0x1;
    public const ushort NLM_F_MULTI = 0x2;
    public const ushort NLM_F_ACK = 0x4;
    public const ushort NLM_F_DUMP_INTR = 0x10;
    public const ushort NLM_F_ROOT = 0x100;
    public const ushort NLM_F_MATCH = 0x200;
    public const ushort NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
    public const ushort NLM_F_REPLACE = 0x100;
    public const ushort NLM_F_EXCL = 0x200;
    public const ushort NLM_F_CREATE = 0x400;
    public const ushort NLM_F_APPEND = 0x800;

    /// <summary>Flag in NLMSG_ERROR replies: extended-ack TLVs follow.</summary>
    public const ushort NLM_F_ACK_TLVS = 0x200;

    /// <summary>NLMSGERR_ATTR_MSG: the kernel's human-readable reason.</summary>
    public const ushort NLMSGERR_ATTR_MSG = 1;

    public const ushort NLA_F_NESTED = 0x8000;
    public const ushort NLA_TYPE_MASK = 0x3fff;

    public static int Align(int length) => (length + 3) & ~3;
}
