using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Interop;

internal static partial class Libc
{
    /// <summary>sendmmsg(2): <paramref name="messages"/> points at an array of struct mmsghdr.</summary>
    [LibraryImport(Name, EntryPoint = "sendmmsg", SetLastError = true)]
    internal static unsafe partial int SendMmsg(int fd, void* messages, uint count, int flags);
}
