using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Netlink;

/// <summary>Receives one message of a dump: its type and the payload after the 16-byte nlmsghdr.</summary>
public delegate void NetlinkMessageVisitor(ushort type, ReadOnlySpan<byte> payload);

/// <summary>
/// A netlink socket of one family in the calling thread's network namespace. Requests are acknowledged
/// (<see cref="Execute"/>) or dumped (<see cref="Dump"/>); a kernel error becomes a <see cref="NetlinkException"/>
/// naming the request; every wait for the kernel is bounded by <see cref="Timeout"/>. Calls are serialised, so one
/// socket may be shared by threads of the control path.
/// </summary>
public sealed class NetlinkSocket : IDisposable
{
    private const int DumpRetries = 5;
    private readonly FileDescriptor _fd;
    private readonly Waker _waker = new();
    private readonly Lock _lock = new();
    private byte[] _receive = new byte[64 * 1024];
    private uint _sequence;

    public NetlinkSocket(NetlinkProtocol protocol)
    {
        Protocol = protocol;
        _fd = FileDescriptor.FromResult(
            Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, (int)protocol),
            $"socket(AF_NETLINK, {protocol})");
        try
        {
            SetOption(Nl.NETLINK_CAP_ACK, 1);
            SetOption(Nl.NETLINK_EXT_ACK, 1);
            Bind();
        }
        catch
        {
            _fd.Dispose();
            _waker.Dispose();
            throw;
        }

        _sequence = (uint)Environment.TickCount;
    }

    public NetlinkProtocol Protocol { get; }

    /// <summary>How long to wait for each reply from the kernel before failing with ETIMEDOUT.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Sends a request with NLM_F_ACK and waits for the kernel's acknowledgement.</summary>
    public void Execute(Span<byte> message, string description) => Request(message, description, static (_, _) => { });

    /// <summary>
    /// Sends a dump request (NLM_F_DUMP is added) and calls <paramref name="visitor"/> for each reply message until
    /// NLMSG_DONE. When the kernel reports the dump was interrupted by a concurrent change, <paramref name="restart"/>
    /// is called and the dump repeats (a few times at most), so the visitor never sees a mixed picture.
    /// </summary>
    public void Dump(Span<byte> message, string description, NetlinkMessageVisitor visitor, Action? restart = null)
    {
        lock (_lock)
        {
            try
            {
                for (int attempt = 0; ; attempt++)
                {
                    if (DumpOnce(message, description, visitor))
                    {
                        return;
                    }

                    if (attempt == DumpRetries)
                    {
                        throw new NetlinkException(description, Errno.EINTR, "dump kept being interrupted by changes");
                    }

                    restart?.Invoke();
                }
            }
            finally
            {
                // Replies may carry secrets (XFRM states hold keys): leave nothing behind in the buffer.
                CryptographicOperations.ZeroMemory(_receive);
            }
        }
    }

    /// <summary>
    /// Sends a request with NLM_F_ACK and calls <paramref name="visitor"/> for each reply message of that request
    /// (e.g. the answer to a GET of one object) until the kernel's acknowledgement arrives.
    /// </summary>
    public void Request(Span<byte> message, string description, NetlinkMessageVisitor visitor)
    {
        lock (_lock)
        {
            try
            {
                uint seq = Send(message, Nl.NLM_F_ACK, description);
                while (true)
                {
                    int length = Receive(description);
                    foreach (var m in Messages(_receive.AsSpan(0, length)))
                    {
                        if (m.Sequence != seq)
                        {
                            continue;
                        }

                        if (m.Type == Nl.NLMSG_ERROR)
                        {
                            ThrowIfError(m.Payload, m.Flags, description);
                            return;
                        }

                        if (m.Type is not (Nl.NLMSG_NOOP or Nl.NLMSG_DONE or Nl.NLMSG_OVERRUN))
                        {
                            visitor(m.Type, m.Payload);
                        }
                    }
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(_receive);
            }
        }
    }

    public void Dispose()
    {
        _waker.Signal();
        _fd.Dispose();
        _waker.Dispose();
    }

    /// <summary>Returns false when the dump was interrupted (NLM_F_DUMP_INTR) and must be repeated.</summary>
    private bool DumpOnce(Span<byte> message, string description, NetlinkMessageVisitor visitor)
    {
        uint seq = Send(message, Nl.NLM_F_DUMP, description);
        bool interrupted = false;
        while (true)
        {
            int length = Receive(description);
            foreach (var m in Messages(_receive.AsSpan(0, length)))
            {
                ushort type = m.Type;
                ushort flags = m.Flags;
                var payload = m.Payload;
                if (m.Sequence != seq)
                {
                    continue;
                }

                if ((flags & Nl.NLM_F_DUMP_INTR) != 0)
                {
                    interrupted = true;
                }

                switch (type)
                {
                    case Nl.NLMSG_DONE:
                        ThrowIfDumpFailed(payload, flags, description);
                        return !interrupted;
                    case Nl.NLMSG_ERROR:
                        ThrowIfError(payload, flags, description);
                        return !interrupted;
                    case Nl.NLMSG_NOOP:
                    case Nl.NLMSG_OVERRUN:
                        break;
                    default:
                        if (!interrupted)
                        {
                            visitor(type, payload);
                        }

                        break;
                }
            }
        }
    }

    private unsafe uint Send(Span<byte> message, ushort extraFlags, string description)
    {
        if (message.Length < Nl.HeaderLength)
        {
            throw new ArgumentException("not a netlink message", nameof(message));
        }

        uint seq = ++_sequence;
        ushort flags = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(message[6..]) | Nl.NLM_F_REQUEST | extraFlags);
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(message[8..], seq);
        BinaryPrimitives.WriteUInt32LittleEndian(message[12..], 0);
        DrainStale();
        fixed (byte* p = message)
        {
            while (true)
            {
                nint sent = Libc.Send(_fd.Value, p, (nuint)message.Length, 0);
                if (sent >= 0)
                {
                    return seq;
                }

                var errno = LinuxException.LastErrno;
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                if (errno == Errno.EAGAIN && _waker.WaitWritable(_fd.Value, TimeoutMilliseconds))
                {
                    continue;
                }

                throw new NetlinkException(description, errno == Errno.EAGAIN ? Errno.ETIMEDOUT : errno, null);
            }
        }
    }

    /// <summary>Receives one datagram into the receive buffer (growing it when a message is larger) within the timeout.</summary>
    private unsafe int Receive(string description)
    {
        while (true)
        {
            if (!_waker.WaitReadable(_fd.Value, TimeoutMilliseconds))
            {
                throw new NetlinkException(description, _waker.IsSignalled ? Errno.EBADF : Errno.ETIMEDOUT,
                    _waker.IsSignalled ? "socket closed" : $"no answer from the kernel in {Timeout.TotalSeconds:0.#} s");
            }

            nint pending;
            fixed (byte* p = _receive)
            {
                pending = Libc.Recv(_fd.Value, p, 0, Libc.MSG_PEEK | Libc.MSG_TRUNC | Libc.MSG_DONTWAIT);
            }

            if (pending > _receive.Length)
            {
                _receive = new byte[Math.Max((int)pending, _receive.Length * 2)];
            }

            nint n;
            fixed (byte* p = _receive)
            {
                n = Libc.Recv(_fd.Value, p, (nuint)_receive.Length, Libc.MSG_DONTWAIT);
            }

            if (n >= 0)
            {
                return (int)n;
            }

            var errno = LinuxException.LastErrno;
            if (errno is Errno.EINTR or Errno.EAGAIN)
            {
                continue;
            }

            throw new NetlinkException(description, errno, "receiving the reply");
        }
    }

    /// <summary>Discards replies left over from an earlier request that timed out, so they cannot be mistaken.</summary>
    private unsafe void DrainStale()
    {
        fixed (byte* p = _receive)
        {
            while (Libc.Recv(_fd.Value, p, (nuint)_receive.Length, Libc.MSG_DONTWAIT) > 0)
            {
            }
        }
    }

    private int TimeoutMilliseconds => (int)Math.Clamp(Timeout.TotalMilliseconds, 1, int.MaxValue);

    /// <summary>A dump ends with NLMSG_DONE carrying the dump's own error code: a failure partway is not a short list.</summary>
    private static void ThrowIfDumpFailed(ReadOnlySpan<byte> payload, ushort flags, string description)
    {
        if (payload.Length < 4)
        {
            return;
        }

        int error = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (error >= 0)
        {
            return;
        }

        string? text = null;
        if ((flags & Nl.NLM_F_ACK_TLVS) != 0)
        {
            // Unlike NLMSG_ERROR, DONE does not echo the request header: the TLVs follow the error code.
            foreach (var attribute in new NetlinkAttributes(payload[4..]))
            {
                if (attribute.Type == Nl.NLMSGERR_ATTR_MSG)
                {
                    text = attribute.AsString();
                }
            }
        }

        throw new NetlinkException(description, (Errno)(-error), text);
    }

    private static void ThrowIfError(ReadOnlySpan<byte> payload, ushort flags, string description)
    {
        if (payload.Length < 4)
        {
            throw new NetlinkException(description, Errno.EBADMSG, "truncated error reply");
        }

        int error = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (error == 0)
        {
            return;
        }

        string? text = null;
        if ((flags & Nl.NLM_F_ACK_TLVS) != 0 && payload.Length >= 4 + Nl.HeaderLength)
        {
            // With NETLINK_CAP_ACK only the original header is echoed; the TLVs follow it.
            foreach (var attribute in new NetlinkAttributes(payload[(4 + Nl.HeaderLength)..]))
            {
                if (attribute.Type == Nl.NLMSGERR_ATTR_MSG)
                {
                    text = attribute.AsString();
                }
            }
        }

        throw new NetlinkException(description, (Errno)(-error), text);
    }

    private unsafe void SetOption(int option, int value)
    {
        if (Libc.SetSockOpt(_fd.Value, Nl.SOL_NETLINK, option, &value, sizeof(int)) != 0)
        {
            throw LinuxException.FromLastError($"setsockopt(SOL_NETLINK, {option})");
        }
    }

    private unsafe void Bind()
    {
        var address = new SockAddrNetlink { Family = Libc.AF_NETLINK };
        if (Libc.Bind(_fd.Value, &address, (uint)sizeof(SockAddrNetlink)) != 0)
        {
            throw LinuxException.FromLastError("bind(AF_NETLINK)");
        }
    }

    /// <summary>Splits a received datagram into its messages; a malformed length ends the walk.</summary>
    private static MessageEnumerable Messages(ReadOnlySpan<byte> datagram) => new(datagram);

    private readonly ref struct MessageEnumerable(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public MessageEnumerator GetEnumerator() => new(_data);
    }

    private ref struct MessageEnumerator(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public RawMessage Current { get; private set; }

        public bool MoveNext()
        {
            if (_rest.Length < Nl.HeaderLength)
            {
                return false;
            }

            int length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(_rest), int.MaxValue);
            if (length < Nl.HeaderLength || length > _rest.Length)
            {
                return false;
            }

            Current = new RawMessage(
                BinaryPrimitives.ReadUInt16LittleEndian(_rest[4..]),
                BinaryPrimitives.ReadUInt16LittleEndian(_rest[6..]),
                BinaryPrimitives.ReadUInt32LittleEndian(_rest[8..]),
                _rest[Nl.HeaderLength..length]);
            _rest = _rest[Math.Min(Nl.Align(length), _rest.Length)..];
            return true;
        }
    }

    private readonly ref struct RawMessage(ushort type, ushort flags, uint sequence, ReadOnlySpan<byte> payload)
    {
        public ushort Type { get; } = type;

        public ushort Flags { get; } = flags;

        public uint Sequence { get; } = sequence;

        public ReadOnlySpan<byte> Payload { get; } = payload;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SockAddrNetlink
    {
        public ushort Family;
        public ushort Padding;
        public uint PortId;
        public uint Groups;
    }
}
