using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Tun;

// Write path: with a virtio header and TSO accepted, each not yet written packet may head a run: the following
// packets of the same TCP flow that continue it are merged (TcpCoalescer) into one super-packet in _writeBuffer;
// everything else goes out alone behind a zero virtio header (writev, so the caller's buffers need no room for it).
public sealed partial class TunDevice
{
    private static readonly byte[] s_zeroHeader = new byte[VirtioNetHeader.Size];
    private readonly byte[] _writeBuffer = [];
    private bool[] _consumed = [];
    private byte[]? _segmentBuffer;

    /// <summary>
    /// Writes packets <c>buffers[i][offset..offset + sizes[i]]</c> in order (per flow). A packet the kernel refuses
    /// (malformed, interface down) is dropped and counted in <see cref="Counters"/>, not thrown.
    /// </summary>
    /// <returns>The number of packets the kernel accepted.</returns>
    /// <exception cref="TunRemovedException">The interface was deleted.</exception>
    public int WriteBatch(ReadOnlySpan<Memory<byte>> buffers, ReadOnlySpan<int> sizes, int offset)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sizes.Length, buffers.Length, nameof(sizes));
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        Enter();
        try
        {
            return _coalesce ? WriteCoalescing(buffers, sizes, offset) : WriteEach(buffers, sizes, offset);
        }
        finally
        {
            Exit();
        }
    }

    private int WriteEach(ReadOnlySpan<Memory<byte>> buffers, ReadOnlySpan<int> sizes, int offset)
    {
        int written = 0;
        for (int i = 0; i < buffers.Length; i++)
        {
            written += WriteAlone(buffers[i].Span.Slice(offset, sizes[i]));
        }

        return written;
    }

    private int WriteCoalescing(ReadOnlySpan<Memory<byte>> buffers, ReadOnlySpan<int> sizes, int offset)
    {
        if (_consumed.Length < buffers.Length)
        {
            _consumed = new bool[buffers.Length];
        }

        var consumed = _consumed.AsSpan(0, buffers.Length);
        consumed.Clear();
        int written = 0;
        for (int i = 0; i < buffers.Length; i++)
        {
            if (consumed[i])
            {
                continue;
            }

            var packet = buffers[i].Span.Slice(offset, sizes[i]);
            var run = new TcpCoalescer(_writeBuffer);
            if (run.Start(packet))
            {
                run.Gather(buffers, sizes, offset, i, consumed);
            }

            if (run.Count < 2)
            {
                written += WriteAlone(packet);
                continue;
            }

            int length = run.Finish();
            if (TryWrite(_writeBuffer.AsSpan(0, length), default))
            {
                Counters.Written(run.Count);
                Counters.Coalesced(run.Count);
                written += run.Count;
            }
            else
            {
                written += WriteSegmentsOf(_writeBuffer.AsSpan(0, length));
            }
        }

        return written;
    }

    /// <summary>
    /// The kernel refused a super-packet: split it again (which gives back the original packets) and write those
    /// one by one, so that a kernel stricter about GSO costs speed, not data.
    /// </summary>
    private int WriteSegmentsOf(Span<byte> super)
    {
        var header = VirtioNetHeader.Read(super);
        var packet = super[VirtioNetHeader.Size..];
        _ = GsoSplit.TryGetLayout(header, packet, out var layout);
        _segmentBuffer ??= new byte[MaxPacketSize];
        int written = 0;
        for (int i = 0; i < layout.SegmentCount; i++)
        {
            int length = GsoSplit.WriteSegment(packet, layout, i, _segmentBuffer);
            written += WriteAlone(_segmentBuffer.AsSpan(0, length));
        }

        return written;
    }

    private int WriteAlone(ReadOnlySpan<byte> packet)
    {
        if (_vnet ? TryWrite(s_zeroHeader, packet) : TryWrite(packet, default))
        {
            Counters.Written(1);
            return 1;
        }

        Counters.WriteDrop(1);
        return 0;
    }

    /// <summary>writev(2) of one packet in up to two pieces; false when the kernel refused it (invalid, interface down).</summary>
    private unsafe bool TryWrite(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        fixed (byte* a = first)
        fixed (byte* b = second)
        {
            var vectors = stackalloc TunInterop.IoVec[2];
            vectors[0] = new TunInterop.IoVec { Base = a, Length = (nuint)first.Length };
            vectors[1] = new TunInterop.IoVec { Base = b, Length = (nuint)second.Length };
            int count = second.IsEmpty ? 1 : 2;
            while (true)
            {
                if (Libc.WriteV(_fd.Value, vectors, count) >= 0)
                {
                    return true;
                }

                var errno = LinuxException.LastErrno;
                switch (errno)
                {
                    case Errno.EINTR:
                        continue;
                    case Errno.EAGAIN when _waker.WaitWritable(_fd.Value, 1000):
                        continue;
                    case (Errno)TunInterop.EBADFD:
                        throw Removed("write", errno);
                    case Errno.EIO when QueryName(out _) == (Errno)TunInterop.EBADFD:
                        throw Removed("write", errno);
                    case Errno.EAGAIN or Errno.EIO or Errno.EINVAL or Errno.EMSGSIZE or Errno.ENOBUFS or Errno.ENOMEM:
                        // EIO: the interface is down; EINVAL: the kernel refused this packet.
                        return false;
                    default:
                        throw new LinuxException($"write TUN {Name}", errno);
                }
            }
        }
    }
}
