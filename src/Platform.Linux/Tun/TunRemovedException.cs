using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Tun;

/// <summary>
/// The TUN interface behind a descriptor was deleted (ip link del, or its network namespace went away): the
/// descriptor can never pass packets again and the device using it should shut down.
/// </summary>
public sealed class TunRemovedException : LinuxException
{
    public TunRemovedException(string request, Errno errno)
        : base(request, errno)
    {
    }

    public TunRemovedException()
        : this("TUN interface removed", (Errno)TunInterop.EBADFD)
    {
    }

    public TunRemovedException(string message)
        : this(message, (Errno)TunInterop.EBADFD)
    {
    }

    public TunRemovedException(string message, Exception inner)
        : base(message, (Errno)TunInterop.EBADFD, inner)
    {
    }
}
