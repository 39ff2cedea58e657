using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Udp;

public sealed partial class UdpSocket
{
    /// <summary>
    /// Receives up to <see cref="UdpBatch.Capacity"/> datagrams with one recvmmsg, waiting at most
    /// <paramref name="timeoutMilliseconds"/> (negative: without limit) for the first. Returns the count (0 after the
    /// timeout); each entry gives its data, the peer with the local arrival address as source, and its GRO segment size.
    /// Throws ObjectDisposedException when the socket is disposed, also while waiting.
    /// </summary>
    public unsafe int Receive(UdpBatch batch, int timeoutMilliseconds = -1)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (GroEnabled && batch.SlotSize < UdpBatch.MaxDatagramSize)
        {
            throw new ArgumentException(
                $"with UDP_GRO on, receive slots must hold {UdpBatch.MaxDatagramSize} bytes (this batch: {batch.SlotSize})",
                nameof(batch));
        }

        Enter();
        try
        {
            batch.PrepareReceive();
            long deadline = timeoutMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMilliseconds;
            while (true)
            {
                Interlocked.Increment(ref ReceiveCalls);
                int received = Libc.RecvMmsg(_fd.Value, batch.Headers, (uint)batch.Capacity, 0, null);
                if (received >= 0)
                {
                    batch.CompleteReceive(received);
                    return received;
                }

                var errno = LinuxException.LastErrno;
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                if (errno != Errno.EAGAIN)
                {
                    throw new LinuxException($"recvmmsg on UDP port {Port}", errno);
                }

                int wait = deadline == long.MaxValue ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
                bool readable = _waker.WaitReadable(_fd.Value, wait);
                ObjectDisposedException.ThrowIf(IsDisposed, this);
                if (!readable && Environment.TickCount64 >= deadline)
                {
                    batch.CompleteReceive(0);
                    return 0;
                }
            }
        }
        finally
        {
            Exit();
        }
    }
}
