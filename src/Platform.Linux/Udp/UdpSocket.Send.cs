using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Udp;

/// <summary>
/// Send path: 1. group the batch into messages (a UDP_SEGMENT run per endpoint when GSO is on) 2. sendmmsg from the
/// first unsent message 3. on a refusal of message m, in this order: a pinned source the kernel no longer accepts is
/// cleared and m retried; a GSO message the kernel or route refuses is split into plain datagrams (and GSO turned off
/// when it never worked or the refusal says it cannot work); anything else fails m alone and the rest still go out.
/// 4. after the whole batch, the first failure is thrown. No locks: GSO state is two volatile flags.
/// </summary>
public sealed partial class UdpSocket
{
    /// <summary>
    /// Sends every datagram of <paramref name="batch"/> with as few sendmmsg calls as the kernel allows. Entries whose
    /// pinned source the kernel refused go out from a routed source instead, and their endpoint in the batch shows the
    /// source cleared. Throws LinuxException naming the first datagram the kernel refused (after sending the others),
    /// ObjectDisposedException when the socket is disposed.
    /// </summary>
    public unsafe void Send(UdpBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return;
        }

        Enter();
        try
        {
            var failure = SendMessages(batch);
            if (failure.Errno != Errno.None)
            {
                throw failure.ToException(this, batch);
            }
        }
        finally
        {
            Exit();
        }
    }

    private unsafe SendFailure SendMessages(UdpBatch batch)
    {
        int messages = batch.ComposeSend(0, 0, _gso, 0, IsDualStack);
        int next = 0;
        var failure = default(SendFailure);
        while (next < messages)
        {
            Interlocked.Increment(ref SendCalls);
            int sent = Libc.SendMmsg(_fd.Value, batch.Headers + next, (uint)(messages - next), 0);
            if (sent > 0)
            {
                NoteSent(batch, next, sent);
                next += sent;
                continue;
            }

            var errno = LinuxException.LastErrno;
            int first = batch.MessageFirstEntry(next);
            int entries = batch.MessageEntries(next);
            if (errno == Errno.EINTR)
            {
                continue;
            }

            if (errno == Errno.EAGAIN)
            {
                if (WaitWritable())
                {
                    continue;
                }

                failure.Note(errno, first, batch.Count - first);
                break;
            }

            if (batch.Endpoint(first).HasSource && IsStaleSource(errno))
            {
                ClearSource(batch, first);
                messages = batch.ComposeSend(next, first, _gso, 0, IsDualStack);
                continue;
            }

            if (entries > 1 && IsGsoRefusal(errno))
            {
                // EMSGSIZE is this run's problem (segments above the path MTU), and so is EINVAL once GSO has worked:
                // split the run and keep GSO for the others. Any other refusal means GSO cannot work here.
                bool disable = errno switch
                {
                    Errno.EMSGSIZE => false,
                    Errno.EINVAL => !_gsoConfirmed,
                    _ => true,
                };
                if (disable)
                {
                    _gso = false;
                }

                messages = batch.ComposeSend(next, first, _gso, first + entries, IsDualStack);
                continue;
            }

            failure.Note(errno, first, entries);
            next++;
        }

        return failure;
    }

    private void NoteSent(UdpBatch batch, int from, int count)
    {
        if (_gsoConfirmed)
        {
            return;
        }

        for (int m = from; m < from + count; m++)
        {
            if (batch.MessageEntries(m) > 1)
            {
                _gsoConfirmed = true;
                return;
            }
        }
    }

    /// <summary>Waits for room in the send buffer; false after the send timeout; throws when disposed meanwhile.</summary>
    private bool WaitWritable()
    {
        bool writable = _waker.WaitWritable(_fd.Value, _options.SendTimeoutMilliseconds);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return writable;
    }

    /// <summary>
    /// A pinned source that is no longer a local address: IPv6 answers EINVAL (ip6_datagram_send_ctl), IPv4 answers
    /// ENETUNREACH (the output route lookup finds no device with that source).
    /// </summary>
    private static bool IsStaleSource(Errno errno) =>
        errno is Errno.EINVAL or Errno.ENETUNREACH or Errno.EADDRNOTAVAIL;

    /// <summary>
    /// UDP_SEGMENT refused: EIO when the egress device has no checksum offload or the route is an IPsec (XFRM) one,
    /// EINVAL when the socket sends without checksums (SO_NO_CHECK) or on kernels that take the option but not the run,
    /// EMSGSIZE (EINVAL on older kernels) for segments above the path MTU, ENOPROTOOPT/EOPNOTSUPP where it is absent.
    /// Split into plain datagrams, every one of these goes out (above the MTU as IP fragments).
    /// </summary>
    private static bool IsGsoRefusal(Errno errno) =>
        errno is Errno.EIO or Errno.EINVAL or Errno.EMSGSIZE or Errno.ENOPROTOOPT or Errno.EOPNOTSUPP;

    /// <summary>Clears the source of this entry and of every later entry that pinned the same one.</summary>
    private static void ClearSource(UdpBatch batch, int first)
    {
        var stale = batch.Endpoint(first);
        for (int i = first; i < batch.Count; i++)
        {
            ref var endpoint = ref batch.MutableEndpoint(i);
            if (endpoint.HasSource && endpoint.IsIPv4 == stale.IsIPv4 && endpoint.SourceAddress.SequenceEqual(stale.SourceAddress))
            {
                endpoint.ClearSource();
            }
        }
    }

    /// <summary>The first refusal of a batch and how many datagrams were refused in all.</summary>
    private struct SendFailure
    {
        public Errno Errno;
        public int Entry;
        public int Datagrams;

        public void Note(Errno errno, int entry, int datagrams)
        {
            if (Errno == Errno.None)
            {
                Errno = errno;
                Entry = entry;
            }

            Datagrams += datagrams;
        }

        public readonly LinuxException ToException(UdpSocket socket, UdpBatch batch)
        {
            var endpoint = batch.Endpoint(Entry);
            string source = endpoint.HasSource ? $" from {endpoint.SourceToIPAddress()}" : "";
            string others = Datagrams > 1 ? $" ({Datagrams} of {batch.Count} datagrams not sent)" : "";
            return new LinuxException(
                $"sendmmsg {batch.Length(Entry)} bytes to {endpoint}{source} on UDP port {socket.Port}{others}", Errno);
        }
    }
}
