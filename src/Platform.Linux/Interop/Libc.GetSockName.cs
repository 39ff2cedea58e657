using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "getsockname", SetLastError = true)]
    internal static unsafe partial int GetSockName(int fd, void* address, uint* addressLength);
}
