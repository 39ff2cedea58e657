namespace Branchgate.Platform.Linux.Tun;

/// <summary>
/// What a <see cref="TunDevice"/> did. Read counters change only on the reading thread and write counters only on
/// the writing thread; other threads see them eventually (no locking on the data path).
/// </summary>
public sealed class TunCounters
{
    private long _packetsRead;
    private long _superPacketsRead;
    private long _segmentsSplit;
    private long _checksumsCompleted;
    private long _readDrops;
    private long _packetsWritten;
    private long _coalescedWrites;
    private long _coalescedSegments;
    private long _writeDrops;

    /// <summary>Packets handed to the caller by ReadBatch (segments of split super-packets included).</summary>
    public long PacketsRead => Volatile.Read(ref _packetsRead);

    /// <summary>GSO super-packets read from the kernel and split.</summary>
    public long SuperPacketsRead => Volatile.Read(ref _superPacketsRead);

    /// <summary>Segments produced by splitting super-packets.</summary>
    public long SegmentsSplit => Volatile.Read(ref _segmentsSplit);

    /// <summary>Packets read with an incomplete checksum (NEEDS_CSUM, no GSO) that we completed.</summary>
    public long ChecksumsCompleted => Volatile.Read(ref _checksumsCompleted);

    /// <summary>Packets read but dropped: malformed virtio header or super-packet, truncated, or larger than the buffer.</summary>
    public long ReadDrops => Volatile.Read(ref _readDrops);

    /// <summary>Caller packets the kernel accepted (each segment of a coalesced write counts).</summary>
    public long PacketsWritten => Volatile.Read(ref _packetsWritten);

    /// <summary>Super-packets written after coalescing two or more TCP segments.</summary>
    public long CoalescedWrites => Volatile.Read(ref _coalescedWrites);

    /// <summary>Caller packets that went out inside coalesced super-packets.</summary>
    public long CoalescedSegments => Volatile.Read(ref _coalescedSegments);

    /// <summary>Caller packets the kernel refused (invalid packet, interface down) or that could not be written in time.</summary>
    public long WriteDrops => Volatile.Read(ref _writeDrops);

    internal void Read(int packets) => _packetsRead += packets;

    internal void SuperPacket() => _superPacketsRead++;

    internal void Segment() => _segmentsSplit++;

    internal void ChecksumCompleted() => _checksumsCompleted++;

    internal void ReadDrop() => _readDrops++;

    internal void Written(int packets) => _packetsWritten += packets;

    internal void Coalesced(int segments)
    {
        _coalescedWrites++;
        _coalescedSegments += segments;
    }

    internal void WriteDrop(int packets) => _writeDrops += packets;
}
