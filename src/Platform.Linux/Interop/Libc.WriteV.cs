using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Interop;

internal static partial class Libc
{
    /// <summary>writev(2): <paramref name="vectors"/> points at <paramref name="count"/> struct iovec.</summary>
    [LibraryImport(Name, EntryPoint = "writev", SetLastError = true)]
    internal static unsafe partial nint WriteV(int fd, void* vectors, int count);
}
