using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Tun;

/// <summary>
/// The TUN driver's ioctls and structures (linux/if_tun.h, linux/if.h, linux/sockios.h). The request numbers are the
/// generic _IOW/_IOR encodings, the same on x86-64 and arm64.
/// </summary>
internal static class TunInterop
{
    internal const string DevicePath = "/dev/net/tun";

    // _IOW('T', 202, int), _IOR('T', 210, unsigned int), _IOW('T', 208, unsigned int)
    internal const uint TUNSETIFF = 0x400454ca;
    internal const uint TUNGETIFF = 0x800454d2;
    internal const uint TUNSETOFFLOAD = 0x400454d0;

    // ifr_flags for TUNSETIFF
    internal const short IFF_TUN = 0x0001;
    internal const short IFF_MULTI_QUEUE = 0x0100;
    internal const short IFF_NO_PI = 0x1000;
    internal const short IFF_VNET_HDR = 0x4000;

    // sockios.h, on an AF_INET datagram socket
    internal const uint SIOCGIFFLAGS = 0x8913;
    internal const uint SIOCSIFFLAGS = 0x8914;
    internal const uint SIOCGIFMTU = 0x8921;
    internal const uint SIOCSIFMTU = 0x8922;

    // net_device_flags
    internal const short IFF_UP = 0x1;

    /// <summary>IFNAMSIZ: 16 bytes including the terminating NUL, so names hold at most 15 bytes.</summary>
    internal const int NameSize = 16;

    /// <summary>EBADFD is not in <see cref="Interop.Errno"/>: the TUN driver's answer once its interface is gone.</summary>
    internal const int EBADFD = 77;

    /// <summary>struct ifreq: a 16-byte name, then a 24-byte union (flags, mtu, ifindex, ...).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    internal unsafe struct IfReq
    {
        [FieldOffset(0)]
        public fixed byte Name[NameSize];

        [FieldOffset(16)]
        public short Flags;

        [FieldOffset(16)]
        public int Value;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct IoVec
    {
        public void* Base;
        public nuint Length;
    }
}
