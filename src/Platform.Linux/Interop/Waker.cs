namespace Branchgate.Platform.Linux.Interop;

/// <summary>
/// An eventfd that wakes threads blocked in <see cref="WaitReadable"/>. Closing a descriptor does not wake a thread
/// blocked in read(2) on it, so every blocking wait in this library polls its descriptor together with a waker, and
/// Dispose of the owner signals the waker first.
/// </summary>
public sealed class Waker : IDisposable
{
    private readonly FileDescriptor _fd;

    public Waker()
    {
        _fd = FileDescriptor.FromResult(Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd");
    }

    public bool IsSignalled { get; private set; }

    /// <summary>Wakes every current and future waiter (level triggered: the counter is never read back).</summary>
    public unsafe void Signal()
    {
        IsSignalled = true;
        ulong one = 1;
        _ = Libc.Write(_fd.Value, (byte*)&one, sizeof(ulong));
    }

    /// <summary>
    /// Waits until <paramref name="fd"/> is readable (true), the waker is signalled or the timeout passes (false).
    /// A negative timeout waits without limit. Errors and hang-ups on <paramref name="fd"/> count as readable so the
    /// caller's read reports them.
    /// </summary>
    public unsafe bool WaitReadable(int fd, int timeoutMilliseconds) => Wait(fd, Libc.POLLIN, timeoutMilliseconds);

    /// <summary>As <see cref="WaitReadable"/>, for writability.</summary>
    public unsafe bool WaitWritable(int fd, int timeoutMilliseconds) => Wait(fd, Libc.POLLOUT, timeoutMilliseconds);

    private unsafe bool Wait(int fd, short events, int timeoutMilliseconds)
    {
        var fds = stackalloc Libc.PollFd[2];
        fds[0] = new Libc.PollFd { Fd = fd, Events = events };
        fds[1] = new Libc.PollFd { Fd = _fd.Value, Events = Libc.POLLIN };
        long deadline = timeoutMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMilliseconds;
        while (true)
        {
            int wait = timeoutMilliseconds < 0 ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
            int n = Libc.Poll(fds, 2, wait);
            if (n < 0)
            {
                var errno = LinuxException.LastErrno;
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                throw new LinuxException("poll", errno);
            }

            if (fds[1].Revents != 0)
            {
                return false;
            }

            if (n == 0)
            {
                return false;
            }

            return fds[0].Revents != 0;
        }
    }

    public void Dispose() => _fd.Dispose();
}
