using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Interop;

internal static partial class Libc
{
    internal const int SOL_SOCKET = 1;

    [LibraryImport(Name, EntryPoint = "setsockopt", SetLastError = true)]
    internal static unsafe partial int SetSockOpt(int fd, int level, int name, void* value, uint length);
}
