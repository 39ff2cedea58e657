namespace Branchgate.Platform.Linux.Netlink.Route;

/// <summary>One network interface as the kernel lists it (RTM_NEWLINK).</summary>
/// <param name="Index">The interface index (ifindex), unique within the namespace while the link exists.</param>
/// <param name="Name">The interface name (at most 15 bytes).</param>
/// <param name="Flags">Device flags (IFF_*); <see cref="IsUp"/> is the administrative state.</param>
/// <param name="Mtu">The MTU in bytes.</param>
/// <param name="Kind">The link type that created it ("bridge", "veth", "tun"...), null for physical and loopback.</param>
public sealed record LinkInfo(int Index, string Name, LinkFlags Flags, int Mtu, string? Kind)
{
    /// <summary>Administratively up (IFF_UP, `ip link set up`).</summary>
    public bool IsUp => (Flags & LinkFlags.Up) != 0;

    /// <summary>Operationally running (IFF_RUNNING).</summary>
    public bool IsRunning => (Flags & LinkFlags.Running) != 0;

    /// <summary>The carrier is present (IFF_LOWER_UP).</summary>
    public bool IsLowerUp => (Flags & LinkFlags.LowerUp) != 0;
}

/// <summary>Device flags of linux/if.h (IFF_*).</summary>
[Flags]
public enum LinkFlags : uint
{
    None = 0,
    Up = 0x1,
    Broadcast = 0x2,
    Debug = 0x4,
    Loopback = 0x8,
    PointToPoint = 0x10,
    NoTrailers = 0x20,
    Running = 0x40,
    NoArp = 0x80,
    Promiscuous = 0x100,
    AllMulticast = 0x200,
    Master = 0x400,
    Slave = 0x800,
    Multicast = 0x1000,
    PortSelect = 0x2000,
    AutoMedia = 0x4000,
    Dynamic = 0x8000,
    LowerUp = 0x10000,
    Dormant = 0x20000,
    Echo = 0x40000,
}
