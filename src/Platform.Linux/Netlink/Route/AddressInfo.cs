using System.Net;

namespace Branchgate.Platform.Linux.Netlink.Route;

/// <summary>One address of an interface as the kernel lists it (RTM_NEWADDR).</summary>
/// <param name="LinkIndex">The interface's index.</param>
/// <param name="Link">The interface's name.</param>
/// <param name="Address">The local address and its prefix length (IFA_LOCAL, or IFA_ADDRESS when there is no
/// IFA_LOCAL, as for IPv6).</param>
/// <param name="Peer">The other end of a point-to-point address (IFA_ADDRESS when it differs from IFA_LOCAL).</param>
/// <param name="Broadcast">The IPv4 broadcast address, when one was set.</param>
/// <param name="Scope">The address scope (global, link, host).</param>
/// <param name="Flags">IFA_F_* flags (IFA_FLAGS, which supersedes the 8-bit header field).</param>
/// <param name="Label">The IPv4 label (IFA_LABEL, e.g. "br0" or "br0:1"); null for IPv6.</param>
public sealed record AddressInfo(
    int LinkIndex,
    string Link,
    InterfaceAddress Address,
    IPAddress? Peer,
    IPAddress? Broadcast,
    RouteScope Scope,
    AddressFlags Flags,
    string? Label);

/// <summary>Address flags of linux/if_addr.h (IFA_F_*).</summary>
[Flags]
public enum AddressFlags : uint
{
    None = 0,

    /// <summary>IFA_F_SECONDARY (IPv4), the same bit is IFA_F_TEMPORARY for IPv6 privacy addresses.</summary>
    Secondary = 0x01,

    /// <summary>Skip duplicate address detection (IPv6): the address is usable at once instead of after ~1-2 s.</summary>
    NoDad = 0x02,
    Optimistic = 0x04,
    DadFailed = 0x08,
    HomeAddress = 0x10,
    Deprecated = 0x20,

    /// <summary>IPv6 duplicate address detection is still running; the address cannot be bound yet.</summary>
    Tentative = 0x40,
    Permanent = 0x80,
    ManageTemporaryAddress = 0x100,

    /// <summary>Do not add the prefix route for the address's network (the caller manages routes itself).</summary>
    NoPrefixRoute = 0x200,
    MulticastAutoJoin = 0x400,
    StablePrivacy = 0x800,
}
