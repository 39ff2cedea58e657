using System.Runtime.InteropServices;
using static Branchgate.Platform.Linux.Udp.UdpNative;

namespace Branchgate.Platform.Linux.Udp;

/// <summary>
/// A fixed set of datagram slots with everything recvmmsg/sendmmsg need (data buffers, message headers, iovecs,
/// sockaddrs, control buffers) allocated once in native memory, so <see cref="UdpSocket.Receive"/> and
/// <see cref="UdpSocket.Send"/> never allocate. One batch belongs to one thread at a time.
/// Receive fills <see cref="Count"/> entries; for a send, <see cref="Clear"/> then <see cref="Append(in UdpEndpoint, int)"/>.
/// </summary>
public sealed unsafe class UdpBatch : IDisposable
{
    /// <summary>The largest datagram (or GRO-coalesced run of datagrams) a slot may need to hold.</summary>
    public const int MaxDatagramSize = 65535;

    internal const int ControlSize = 128;
    private const int NameSize = 32;

    private readonly UdpEndpoint[] _endpoints;
    private readonly int[] _lengths;
    private readonly int[] _segmentSizes;
    private readonly bool[] _truncated;
    private readonly int[] _messageFirstEntry;
    private readonly int[] _messageEntries;
    private readonly nuint _stride;
    private byte* _buffers;
    private byte* _native;
    private MMsgHdr* _headers;
    private IoVec* _iovecs;
    private byte* _names;
    private byte* _control;

    /// <param name="capacity">Datagrams per call (1..1024).</param>
    /// <param name="slotSize">Bytes per datagram slot; a socket with GRO on needs <see cref="MaxDatagramSize"/>.</param>
    public UdpBatch(int capacity = 64, int slotSize = MaxDatagramSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slotSize, MaxDatagramSize);
        Capacity = capacity;
        SlotSize = slotSize;
        _endpoints = new UdpEndpoint[capacity];
        _lengths = new int[capacity];
        _segmentSizes = new int[capacity];
        _truncated = new bool[capacity];
        _messageFirstEntry = new int[capacity];
        _messageEntries = new int[capacity];

        _stride = (nuint)((slotSize + 63) & ~63);
        _buffers = (byte*)NativeMemory.AlignedAlloc(_stride * (nuint)capacity, 64);
        nuint headers = (nuint)(sizeof(MMsgHdr) * capacity);
        nuint iovecs = (nuint)(sizeof(IoVec) * capacity);
        nuint names = (nuint)(NameSize * capacity);
        nuint control = (nuint)(ControlSize * capacity);
        _native = (byte*)NativeMemory.AlignedAlloc(headers + iovecs + names + control, 64);
        NativeMemory.Clear(_native, headers + iovecs + names + control);
        _headers = (MMsgHdr*)_native;
        _iovecs = (IoVec*)(_native + headers);
        _names = _native + headers + iovecs;
        _control = _names + names;
    }

    ~UdpBatch() => Free();

    public int Capacity { get; }

    public int SlotSize { get; }

    /// <summary>Datagrams received by the last Receive, or appended since the last Clear.</summary>
    public int Count { get; private set; }

    /// <summary>The bytes of datagram <paramref name="index"/> (for a GRO entry: several datagrams back to back).</summary>
    public Span<byte> Data(int index) => new(Slot(index), _lengths[CheckIndex(index)]);

    /// <summary>
    /// For a received entry: the peer, with the local address and interface the datagram arrived on as its source.
    /// For an appended entry: the destination; after Send, its source is cleared when the kernel refused it.
    /// </summary>
    public ref readonly UdpEndpoint Endpoint(int index) => ref _endpoints[CheckIndex(index)];

    /// <summary>
    /// The size of each datagram GRO coalesced into entry <paramref name="index"/> (the last may be shorter); equal to
    /// the entry's length when it holds a single datagram. Split <see cref="Data"/> into pieces of this size.
    /// </summary>
    public int SegmentSize(int index) => _segmentSizes[CheckIndex(index)];

    /// <summary>True when a received datagram was larger than the slot and arrived cut short (drop it).</summary>
    public bool IsTruncated(int index) => _truncated[CheckIndex(index)];

    /// <summary>Empties the batch for appending datagrams to send.</summary>
    public void Clear() => Count = 0;

    /// <summary>
    /// Adds a datagram of <paramref name="length"/> bytes for <paramref name="destination"/> and returns its slot to
    /// be filled in place (no copy).
    /// </summary>
    public Span<byte> Append(in UdpEndpoint destination, int length)
    {
        if (Count == Capacity)
        {
            throw new InvalidOperationException($"the batch is full ({Capacity} datagrams)");
        }

        if (destination.Family == System.Net.Sockets.AddressFamily.Unspecified)
        {
            throw new ArgumentException("the destination endpoint is empty", nameof(destination));
        }

        if ((uint)length > (uint)SlotSize)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"a slot holds 0..{SlotSize} bytes");
        }

        int index = Count++;
        _endpoints[index] = destination;
        _lengths[index] = length;
        _segmentSizes[index] = length;
        _truncated[index] = false;
        return new Span<byte>(Slot(index), length);
    }

    /// <summary>Adds a copy of <paramref name="datagram"/> for <paramref name="destination"/>.</summary>
    public void Append(in UdpEndpoint destination, ReadOnlySpan<byte> datagram) =>
        datagram.CopyTo(Append(destination, datagram.Length));

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    internal MMsgHdr* Headers => _headers;

    internal int MessageFirstEntry(int message) => _messageFirstEntry[message];

    internal int MessageEntries(int message) => _messageEntries[message];

    internal int Length(int index) => _lengths[index];

    internal ref UdpEndpoint MutableEndpoint(int index) => ref _endpoints[index];

    /// <summary>Points every header at its own slot, name and control buffer, ready for recvmmsg.</summary>
    internal void PrepareReceive()
    {
        ObjectDisposedException.ThrowIf(_native is null, this);
        for (int i = 0; i < Capacity; i++)
        {
            _iovecs[i] = new IoVec { Base = Slot(i), Length = (nuint)SlotSize };
            _headers[i] = new MMsgHdr
            {
                Header = new MsgHdr
                {
                    Name = _names + (i * NameSize),
                    NameLength = NameSize,
                    Iov = _iovecs + i,
                    IovLength = 1,
                    Control = _control + (i * ControlSize),
                    ControlLength = ControlSize,
                },
            };
        }
    }

    /// <summary>Reads what recvmmsg filled into the first <paramref name="received"/> headers.</summary>
    internal void CompleteReceive(int received)
    {
        Count = received;
        for (int i = 0; i < received; i++)
        {
            ref var header = ref _headers[i];
            int length = (int)header.Length;
            ref var endpoint = ref _endpoints[i];
            endpoint.ReadSockaddr((byte*)header.Header.Name, header.Header.NameLength);
            _lengths[i] = length;
            _truncated[i] = (header.Header.Flags & MSG_TRUNC) != 0;
            int segment = ReadControl(header.Header.Control, (int)header.Header.ControlLength, ref endpoint);
            _segmentSizes[i] = segment > 0 && segment < length ? segment : length;
        }
    }

    /// <summary>
    /// Lays out sendmmsg messages for entries <paramref name="fromEntry"/>.. into headers <paramref name="fromMessage"/>..
    /// and returns the total message count. With <paramref name="gso"/>, consecutive entries to the same endpoint with
    /// the same length (the last may be shorter) become one UDP_SEGMENT message; entries before
    /// <paramref name="noGsoBefore"/> are sent one by one.
    /// </summary>
    internal int ComposeSend(int fromMessage, int fromEntry, bool gso, int noGsoBefore, bool dualStack)
    {
        ObjectDisposedException.ThrowIf(_native is null, this);
        int message = fromMessage;
        int entry = fromEntry;
        while (entry < Count)
        {
            int entries = gso && entry >= noGsoBefore ? GsoRunLength(entry) : 1;
            ComposeMessage(message, entry, entries, dualStack);
            message++;
            entry += entries;
        }

        return message;
    }

    private int GsoRunLength(int first)
    {
        const int maxSegments = 64;
        const int maxPayload = 65507;
        int segment = _lengths[first];
        if (segment == 0)
        {
            return 1;
        }

        int total = segment;
        int entries = 1;
        ref readonly var endpoint = ref _endpoints[first];
        while (first + entries < Count && entries < maxSegments)
        {
            int next = _lengths[first + entries];
            if (next == 0 || next > segment || total + next > maxPayload || !_endpoints[first + entries].Equals(endpoint))
            {
                break;
            }

            total += next;
            entries++;
            if (next < segment)
            {
                break;
            }
        }

        return entries;
    }

    private void ComposeMessage(int message, int first, int entries, bool dualStack)
    {
        for (int i = first; i < first + entries; i++)
        {
            _iovecs[i] = new IoVec { Base = Slot(i), Length = (nuint)_lengths[i] };
        }

        ref readonly var endpoint = ref _endpoints[first];
        byte* name = _names + (first * NameSize);
        byte* control = _control + (first * ControlSize);
        uint nameLength = endpoint.WriteSockaddr(name, dualStack);
        int controlLength = WriteSourceControl(control, endpoint);
        if (entries > 1)
        {
            controlLength += WriteSegmentControl(control + controlLength, (ushort)_lengths[first]);
        }

        _headers[message] = new MMsgHdr
        {
            Header = new MsgHdr
            {
                Name = name,
                NameLength = nameLength,
                Iov = _iovecs + first,
                IovLength = (nuint)entries,
                Control = controlLength > 0 ? control : null,
                ControlLength = (nuint)controlLength,
            },
        };
        _messageFirstEntry[message] = first;
        _messageEntries[message] = entries;
    }

    /// <summary>IP_PKTINFO (IPv4) or IPV6_PKTINFO (IPv6) naming the pinned source; nothing when none is pinned.</summary>
    private static int WriteSourceControl(byte* control, in UdpEndpoint endpoint)
    {
        if (!endpoint.HasSource)
        {
            return 0;
        }

        if (endpoint.IsIPv4)
        {
            // in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }: the interface stays 0 so
            // routing still chooses the way out; only the source address is pinned.
            var data = WriteControlHeader(control, IPPROTO_IP, IP_PKTINFO, InPktinfoSize);
            data.Clear();
            endpoint.SourceAddress.CopyTo(data[4..]);
            return CmsgSpace(InPktinfoSize);
        }

        // in6_pktinfo { in6_addr ipi6_addr; int ipi6_ifindex; }: a link-local source is only valid with its interface.
        var data6 = WriteControlHeader(control, IPPROTO_IPV6, IPV6_PKTINFO, In6PktinfoSize);
        data6.Clear();
        var source = endpoint.SourceAddress;
        source.CopyTo(data6);
        bool linkLocal = source[0] == 0xfe && (source[1] & 0xc0) == 0x80;
        MemoryMarshal.Write(data6[16..], linkLocal ? endpoint.SourceIfIndex : 0);
        return CmsgSpace(In6PktinfoSize);
    }

    private static int WriteSegmentControl(byte* control, ushort segmentSize)
    {
        var data = WriteControlHeader(control, SOL_UDP, UDP_SEGMENT, sizeof(ushort));
        MemoryMarshal.Write(data, segmentSize);
        return CmsgSpace(sizeof(ushort));
    }

    private static Span<byte> WriteControlHeader(byte* control, int level, int type, int dataLength)
    {
        new Span<byte>(control, CmsgSpace(dataLength)).Clear();
        *(CMsgHdr*)control = new CMsgHdr { Length = (nuint)CmsgLen(dataLength), Level = level, Type = type };
        return new Span<byte>(control + CmsgHeaderSize, dataLength);
    }

    /// <summary>Takes the arrival address and interface (pktinfo) into the endpoint; returns the GRO segment size or 0.</summary>
    private static int ReadControl(byte* control, int length, ref UdpEndpoint endpoint)
    {
        int segment = 0;
        int offset = 0;
        while (offset + CmsgHeaderSize <= length)
        {
            var header = (CMsgHdr*)(control + offset);
            int cmsgLength = (int)header->Length;
            if (cmsgLength < CmsgHeaderSize || offset + cmsgLength > length)
            {
                break;
            }

            var data = new ReadOnlySpan<byte>(control + offset + CmsgHeaderSize, cmsgLength - CmsgHeaderSize);
            if (header->Level == IPPROTO_IP && header->Type == IP_PKTINFO && data.Length >= InPktinfoSize &&
                endpoint.IsIPv4)
            {
                endpoint.SetSource(data.Slice(4, 4), MemoryMarshal.Read<int>(data));
            }
            else if (header->Level == IPPROTO_IPV6 && header->Type == IPV6_PKTINFO && data.Length >= In6PktinfoSize &&
                endpoint.IsIPv6 && !UdpEndpoint.IsV4Mapped(data[..16]))
            {
                endpoint.SetSource(data[..16], MemoryMarshal.Read<int>(data[16..]));
            }
            else if (header->Level == SOL_UDP && header->Type == UDP_GRO && data.Length >= sizeof(int))
            {
                segment = MemoryMarshal.Read<int>(data);
            }

            offset += CmsgAlign(cmsgLength);
        }

        return segment;
    }

    private byte* Slot(int index)
    {
        ObjectDisposedException.ThrowIf(_buffers is null, this);
        return _buffers + ((nuint)index * _stride);
    }

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the batch holds {Count} datagrams");
        }

        return index;
    }

    private void Free()
    {
        NativeMemory.AlignedFree(_buffers);
        NativeMemory.AlignedFree(_native);
        _buffers = null;
        _native = null;
        _headers = null;
        _iovecs = null;
        _names = null;
        _control = null;
    }
}
