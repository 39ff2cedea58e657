using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Interop;

internal static partial class Libc
{
    internal const int CLONE_NEWNET = 0x40000000;

    [LibraryImport(Name, EntryPoint = "setns", SetLastError = true)]
    internal static partial int SetNs(int fd, int namespaceType);
}
