using System.Buffers.Binary;
using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Tun;

// Read path: poll (with the waker) -> read(2) on the non-blocking descriptor until EAGAIN or the batch is full ->
// with a virtio header: complete a pending checksum, or split a super-packet into segments (a super-packet that
// does not fit in the batch stays pending in _readBuffer and is drained first by the next call).
public sealed partial class TunDevice
{
    private readonly byte[] _readBuffer = [];
    private GsoLayout _pending;
    private int _pendingLength;
    private int _pendingNext;

    private bool HasPending => _pendingNext < _pending.SegmentCount;

    /// <summary>
    /// Reads up to <c>buffers.Length</c> packets: waits until at least one is there (or the timeout passes: 0
    /// packets; a negative timeout waits without limit), then takes what is queued without waiting again. Packet i
    /// is written at <c>buffers[i][offset..]</c> (the offset leaves header room) and its length is put in
    /// <c>sizes[i]</c>. A TSO/USO super-packet arrives as its MTU-sized segments with complete checksums.
    /// </summary>
    /// <returns>The number of packets read.</returns>
    /// <exception cref="TunRemovedException">The interface was deleted.</exception>
    /// <exception cref="ObjectDisposedException">The device was disposed (also while waiting).</exception>
    public int ReadBatch(ReadOnlySpan<Memory<byte>> buffers, Span<int> sizes, int offset, int timeoutMilliseconds = -1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sizes.Length, buffers.Length, nameof(sizes));
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (buffers.IsEmpty)
        {
            return 0;
        }

        Enter();
        try
        {
            int count = HasPending ? DrainPending(buffers, sizes, offset, 0) : 0;
            if (count == 0 && !_waker.WaitReadable(_fd.Value, timeoutMilliseconds))
            {
                ThrowIfDisposed();
                return 0;
            }

            while (count < buffers.Length && !HasPending)
            {
                if (!(_vnet ? ReadWithHeader(buffers, sizes, offset, ref count) : ReadPlain(buffers[count].Span, sizes, offset, ref count)))
                {
                    break;
                }
            }

            return count;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>One read(2) straight into the caller's buffer; false when nothing is queued.</summary>
    private bool ReadPlain(Span<byte> buffer, Span<int> sizes, int offset, ref int count)
    {
        var destination = buffer[offset..];
        int length = ReadOnce(destination);
        if (length < 0)
        {
            return false;
        }

        // read(2) on a TUN silently truncates to the buffer; the IP length field tells.
        if (IsTruncated(destination[..length]))
        {
            Counters.ReadDrop();
            return true;
        }

        sizes[count++] = length;
        Counters.Read(1);
        return true;
    }

    /// <summary>One read(2) into the device buffer, then checksum completion or splitting; false when nothing is queued.</summary>
    private bool ReadWithHeader(ReadOnlySpan<Memory<byte>> buffers, Span<int> sizes, int offset, ref int count)
    {
        int length = ReadOnce(_readBuffer);
        if (length < 0)
        {
            return false;
        }

        if (length < VirtioNetHeader.Size || length >= _readBuffer.Length)
        {
            Counters.ReadDrop();
            return true;
        }

        var header = VirtioNetHeader.Read(_readBuffer);
        var packet = _readBuffer.AsSpan(VirtioNetHeader.Size, length - VirtioNetHeader.Size);
        if (header.GsoType == VirtioNetHeader.GsoNone)
        {
            var destination = buffers[count].Span[offset..];
            if (packet.Length > destination.Length || (header.NeedsChecksum && !GsoSplit.CompleteChecksum(packet, header)))
            {
                Counters.ReadDrop();
                return true;
            }

            if (header.NeedsChecksum)
            {
                Counters.ChecksumCompleted();
            }

            packet.CopyTo(destination);
            sizes[count++] = packet.Length;
            Counters.Read(1);
            return true;
        }

        if (!GsoSplit.TryGetLayout(header, packet, out _pending))
        {
            _pending = default;
            Counters.ReadDrop();
            return true;
        }

        Counters.SuperPacket();
        _pendingLength = packet.Length;
        _pendingNext = 0;
        count = DrainPending(buffers, sizes, offset, count);
        return true;
    }

    /// <summary>Writes the pending super-packet's next segments into free buffers; returns the new count.</summary>
    private int DrainPending(ReadOnlySpan<Memory<byte>> buffers, Span<int> sizes, int offset, int count)
    {
        var packet = _readBuffer.AsSpan(VirtioNetHeader.Size, _pendingLength);
        int start = count;
        while (HasPending && count < buffers.Length)
        {
            int length = GsoSplit.WriteSegment(packet, _pending, _pendingNext, buffers[count].Span[offset..]);
            if (length == 0)
            {
                // A buffer smaller than the MSS: the rest of this super-packet cannot be delivered.
                _pending = default;
                Counters.ReadDrop();
                break;
            }

            _pendingNext++;
            sizes[count++] = length;
            Counters.Segment();
        }

        Counters.Read(count - start);
        return count;
    }

    /// <summary>read(2) once; the length, or -1 when nothing is queued.</summary>
    private unsafe int ReadOnce(Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            throw new ArgumentException("a read buffer has no room after the offset", nameof(destination));
        }

        while (true)
        {
            nint n;
            fixed (byte* p = destination)
            {
                n = Libc.Read(_fd.Value, p, (nuint)destination.Length);
            }

            if (n >= 0)
            {
                return (int)n;
            }

            var errno = LinuxException.LastErrno;
            switch (errno)
            {
                case Errno.EINTR:
                    continue;
                case Errno.EAGAIN:
                    return -1;
                case (Errno)TunInterop.EBADFD:
                    throw Removed("read", errno);
                case Errno.EIO when QueryName(out _) == (Errno)TunInterop.EBADFD:
                    throw Removed("read", errno);
                default:
                    throw new LinuxException($"read TUN {Name}", errno);
            }
        }
    }

    private static bool IsTruncated(ReadOnlySpan<byte> packet)
    {
        if (packet.Length >= 4 && packet[0] >> 4 == 4)
        {
            return BinaryPrimitives.ReadUInt16BigEndian(packet[2..]) > packet.Length;
        }

        if (packet.Length >= 6 && packet[0] >> 4 == 6)
        {
            return 40 + BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) > packet.Length;
        }

        return false;
    }
}
