using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "read", SetLastError = true)]
    internal static unsafe partial nint Read(int fd, byte* buffer, nuint count);
}
