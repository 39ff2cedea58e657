using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Interop;

internal static partial class Libc
{
    internal const int AF_UNSPEC = 0;
    internal const int AF_UNIX = 1;
    internal const int AF_INET = 2;
    internal const int AF_INET6 = 10;
    internal const int AF_NETLINK = 16;
    internal const int SOCK_STREAM = 1;
    internal const int SOCK_DGRAM = 2;
    internal const int SOCK_RAW = 3;
    internal const int SOCK_NONBLOCK = 0x800;
    internal const int SOCK_CLOEXEC = 0x80000;

    [LibraryImport(Name, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);
}
