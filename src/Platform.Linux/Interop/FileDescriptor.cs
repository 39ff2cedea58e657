using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Interop;

/// <summary>
/// An owned Linux file descriptor (TUN queue, socket, eventfd, netlink). Closed exactly once when disposed or
/// finalized; -1 is the invalid value (0 is a valid descriptor).
/// </summary>
public sealed class FileDescriptor : SafeHandle
{
    public FileDescriptor()
        : base(new IntPtr(-1), ownsHandle: true)
    {
    }

    internal FileDescriptor(int fd)
        : base(new IntPtr(-1), ownsHandle: true)
    {
        SetHandle(new IntPtr(fd));
    }

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw descriptor number; valid only while this handle is open.</summary>
    public int Value => (int)handle.ToInt64();

    /// <summary>Wraps the result of a call that returns a descriptor, or throws for its errno.</summary>
    internal static FileDescriptor FromResult(int fd, string request) =>
        fd < 0 ? throw LinuxException.FromLastError(request) : new FileDescriptor(fd);

    protected override bool ReleaseHandle() => Libc.Close((int)handle.ToInt64()) == 0;
}
