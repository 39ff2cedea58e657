using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Interop;

internal static partial class Libc
{
    /// <summary>recvmmsg(2): <paramref name="messages"/> points at an array of struct mmsghdr.</summary>
    [LibraryImport(Name, EntryPoint = "recvmmsg", SetLastError = true)]
    internal static unsafe partial int RecvMmsg(int fd, void* messages, uint count, int flags, void* timeout);
}
