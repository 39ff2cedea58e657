namespace Branchgate.Platform.Linux.Tun;

/// <summary>How to open a TUN queue. Every queue of one interface must be opened with the same options.</summary>
[Flags]
public enum TunOptions
{
    None = 0,

    /// <summary>
    /// IFF_VNET_HDR: packets carry a <see cref="VirtioNetHeader"/>, which lets the device ask for checksum and
    /// segmentation offloads (<see cref="TunOffloads"/>): TCP super-packets are split on read and coalesced on write.
    /// The flag is per interface, not per queue: a later attach without it turns it off for every queue.
    /// </summary>
    VnetHeader = 1,

    /// <summary>IFF_MULTI_QUEUE: several descriptors may attach to the interface, one queue each.</summary>
    MultiQueue = 2,
}

/// <summary>TUNSETOFFLOAD flags (TUN_F_*) the kernel accepted for a TUN opened with <see cref="TunOptions.VnetHeader"/>.</summary>
[Flags]
public enum TunOffloads
{
    None = 0,

    /// <summary>TUN_F_CSUM: the kernel may hand over packets whose checksum is still to be completed.</summary>
    Checksum = 0x01,

    /// <summary>TUN_F_TSO4: TCP/IPv4 super-packets up to 64 KiB.</summary>
    Tso4 = 0x02,

    /// <summary>TUN_F_TSO6: TCP/IPv6 super-packets.</summary>
    Tso6 = 0x04,

    /// <summary>TUN_F_USO4: UDP/IPv4 super-packets (UDP_SEGMENT senders); kernel 6.2 and later, only with USO6.</summary>
    Uso4 = 0x20,

    /// <summary>TUN_F_USO6: UDP/IPv6 super-packets; kernel 6.2 and later, only with USO4.</summary>
    Uso6 = 0x40,
}
