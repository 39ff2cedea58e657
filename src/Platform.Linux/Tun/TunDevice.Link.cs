using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Tun;

// Link control through SIOC*IF* ioctls on an AF_INET datagram socket opened with the device (so in the namespace
// of the thread that called Open). Not rtnetlink: this is all a TUN needs and works without a netlink socket.
public sealed partial class TunDevice
{
    /// <summary>The interface MTU (SIOCGIFMTU).</summary>
    public int GetMtu() => Control("SIOCGIFMTU", TunInterop.SIOCGIFMTU, 0, isFlags: false).Value;

    /// <summary>Sets the interface MTU (SIOCSIFMTU; the TUN accepts 68 to 65535).</summary>
    public void SetMtu(int mtu)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, 68);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mtu, MaxPacketSize);
        _ = Control($"SIOCSIFMTU {mtu}", TunInterop.SIOCSIFMTU, mtu, isFlags: false);
    }

    /// <summary>Whether the interface is administratively up (IFF_UP from SIOCGIFFLAGS).</summary>
    public bool IsLinkUp() => (Control("SIOCGIFFLAGS", TunInterop.SIOCGIFFLAGS, 0, isFlags: true).Flags & TunInterop.IFF_UP) != 0;

    /// <summary>Sets the interface up or down (SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP changed).</summary>
    public void SetLinkUp(bool up)
    {
        short flags = Control("SIOCGIFFLAGS", TunInterop.SIOCGIFFLAGS, 0, isFlags: true).Flags;
        flags = up ? (short)(flags | TunInterop.IFF_UP) : (short)(flags & ~TunInterop.IFF_UP);
        _ = Control(up ? "SIOCSIFFLAGS up" : "SIOCSIFFLAGS down", TunInterop.SIOCSIFFLAGS, flags, isFlags: true);
    }

    /// <summary>One SIOC*IF* ioctl for the interface's current name; <paramref name="value"/> goes in as ifr_flags or ifr_mtu.</summary>
    private unsafe TunInterop.IfReq Control(string what, uint request, int value, bool isFlags)
    {
        Enter();
        try
        {
            var errno = QueryName(out string name);
            if (errno == (Errno)TunInterop.EBADFD)
            {
                throw Removed(what, errno);
            }

            var ifreq = default(TunInterop.IfReq);
            System.Text.Encoding.UTF8.GetBytes(name, new Span<byte>(ifreq.Name, TunInterop.NameSize));
            if (isFlags)
            {
                ifreq.Flags = (short)value;
            }
            else
            {
                ifreq.Value = value;
            }

            if (Libc.Ioctl(_control.Value, request, &ifreq) != 0)
            {
                errno = LinuxException.LastErrno;
                string hint = errno == Errno.ENODEV ? " (not in the network namespace the TUN was opened in)" : string.Empty;
                throw new LinuxException($"{what} {name}{hint}", errno);
            }

            return ifreq;
        }
        finally
        {
            Exit();
        }
    }
}
