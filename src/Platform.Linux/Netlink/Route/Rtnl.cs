using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Netlink.Route;

/// <summary>Constants of linux/rtnetlink.h, if_link.h, if_addr.h and fib_rules.h that this folder uses.</summary>
internal static class Rtnl
{
    public const byte AF_UNSPEC = 0;
    public const byte AF_INET = 2;
    public const byte AF_INET6 = 10;

    // Message types.
    public const ushort RTM_NEWLINK = 16;
    public const ushort RTM_GETLINK = 18;
    public const ushort RTM_SETLINK = 19;
    public const ushort RTM_NEWADDR = 20;
    public const ushort RTM_DELADDR = 21;
    public const ushort RTM_GETADDR = 22;
    public const ushort RTM_NEWROUTE = 24;
    public const ushort RTM_DELROUTE = 25;
    public const ushort RTM_GETROUTE = 26;
    public const ushort RTM_NEWRULE = 32;
    public const ushort RTM_DELRULE = 33;
    public const ushort RTM_GETRULE = 34;

    // ifinfomsg attributes.
    public const ushort IFLA_IFNAME = 3;
    public const ushort IFLA_MTU = 4;
    public const ushort IFLA_LINKINFO = 18;
    public const ushort IFLA_INFO_KIND = 1;
    public const uint IFF_UP = 0x1;

    // ifaddrmsg attributes.
    public const ushort IFA_ADDRESS = 1;
    public const ushort IFA_LOCAL = 2;
    public const ushort IFA_LABEL = 3;
    public const ushort IFA_BROADCAST = 4;
    public const ushort IFA_FLAGS = 8;

    // rtmsg attributes.
    public const ushort RTA_DST = 1;
    public const ushort RTA_SRC = 2;
    public const ushort RTA_OIF = 4;
    public const ushort RTA_GATEWAY = 5;
    public const ushort RTA_PRIORITY = 6;
    public const ushort RTA_PREFSRC = 7;
    public const ushort RTA_MULTIPATH = 9;
    public const ushort RTA_TABLE = 15;

    // fib_rule_hdr attributes.
    public const ushort FRA_DST = 1;
    public const ushort FRA_SRC = 2;
    public const ushort FRA_IIFNAME = 3;
    public const ushort FRA_GOTO = 4;
    public const ushort FRA_PRIORITY = 6;
    public const ushort FRA_FWMARK = 10;
    public const ushort FRA_SUPPRESS_PREFIXLEN = 14;
    public const ushort FRA_TABLE = 15;
    public const ushort FRA_FWMASK = 16;
    public const ushort FRA_OIFNAME = 17;
    public const ushort FRA_PROTOCOL = 21;
    public const uint FIB_RULE_INVERT = 0x2;

    /// <summary>Size of struct rtnexthop, the header of each hop inside RTA_MULTIPATH.</summary>
    public const int RtNextHopLength = 8;

    /// <summary>Room for any request this folder builds (header, family header and a handful of attributes).</summary>
    public const int RequestBufferLength = 512;
}

/// <summary>struct ifinfomsg.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IfInfoMsg
{
    public byte Family;
    public byte Pad;
    public ushort Type;
    public int Index;
    public uint Flags;
    public uint Change;
}

/// <summary>struct ifaddrmsg.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IfAddrMsg
{
    public byte Family;
    public byte PrefixLength;
    public byte Flags;
    public byte Scope;
    public int Index;
}

/// <summary>struct rtmsg.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RtMsg
{
    public byte Family;
    public byte DestinationLength;
    public byte SourceLength;
    public byte Tos;
    public byte Table;
    public byte Protocol;
    public byte Scope;
    public byte Type;
    public uint Flags;
}

/// <summary>struct fib_rule_hdr.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FibRuleHdr
{
    public byte Family;
    public byte DestinationLength;
    public byte SourceLength;
    public byte Tos;
    public byte Table;
    public byte Reserved1;
    public byte Reserved2;
    public byte Action;
    public uint Flags;
}
