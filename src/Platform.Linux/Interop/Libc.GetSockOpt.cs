using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "getsockopt", SetLastError = true)]
    internal static unsafe partial int GetSockOpt(int fd, int level, int name, void* value, uint* length);
}
