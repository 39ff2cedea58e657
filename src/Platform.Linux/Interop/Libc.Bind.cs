using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int Bind(int fd, void* address, uint addressLength);
}
