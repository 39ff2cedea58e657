using Branchgate.Platform.Linux.Interop;
using static Branchgate.Platform.Linux.Udp.UdpNative;

namespace Branchgate.Platform.Linux.Udp;

/// <summary>
/// The one UDP socket of a listen port: AF_INET6 bound to [::]:port with IPV6_V6ONLY off so IPv4 and IPv6 peers share
/// it (an AF_INET socket on 0.0.0.0 when the kernel has no IPv6), nonblocking, with batched receive (recvmmsg, UDP_GRO)
/// and send (sendmmsg, UDP_SEGMENT), arrival address reporting (IP_PKTINFO, IPV6_RECVPKTINFO) and sticky sources.
/// <para>
/// Threads: any number may Send and Receive at once, each with its own <see cref="UdpBatch"/>. Dispose wakes blocked
/// calls (they throw ObjectDisposedException) and closes the descriptor when the last call has left.
/// </para>
/// </summary>
public sealed partial class UdpSocket : IDisposable
{
    /// <summary>sendmmsg calls made (successful or not), for tests that count system calls.</summary>
    internal long SendCalls;

    /// <summary>recvmmsg calls made (successful or not), for tests that count system calls.</summary>
    internal long ReceiveCalls;

    private const int SOL_SOCKET = Libc.SOL_SOCKET;

    private readonly FileDescriptor _fd;
    private readonly Waker _waker;
    private readonly UdpSocketOptions _options;
    private int _users = 1;
    private int _disposed;
    private volatile bool _gso;
    private volatile bool _gsoConfirmed;
    private uint _mark;

    private UdpSocket(FileDescriptor fd, Waker waker, UdpSocketOptions options, bool dualStack, ushort port, bool gso, bool gro)
    {
        _fd = fd;
        _waker = waker;
        _options = options;
        _mark = options.Mark;
        _gso = gso;
        IsDualStack = dualStack;
        Port = port;
        GroEnabled = gro;
    }

    /// <summary>The bound port (the kernel's pick when opened with port 0).</summary>
    public ushort Port { get; }

    /// <summary>True for the AF_INET6 socket that also serves IPv4; false for the IPv4-only fallback.</summary>
    public bool IsDualStack { get; }

    /// <summary>True while sends use UDP_SEGMENT; turns false for good when the kernel or the route refuses it.</summary>
    public bool GsoEnabled => _gso;

    /// <summary>True when the kernel took UDP_GRO: received entries may hold several datagrams (see SegmentSize).</summary>
    public bool GroEnabled { get; }

    /// <summary>The fwmark (SO_MARK) of sent datagrams; 0 for none. Setting it needs CAP_NET_ADMIN.</summary>
    public uint Mark
    {
        get => _mark;
        set
        {
            Enter();
            try
            {
                SetInt(SOL_SOCKET, SO_MARK, (int)value, $"setsockopt SO_MARK {value} on UDP port {Port}");
                _mark = value;
            }
            finally
            {
                Exit();
            }
        }
    }

    /// <summary>SO_RCVBUF as the kernel reports it (twice the bytes asked, for its bookkeeping).</summary>
    public int ReceiveBufferSize => GetInt(SO_RCVBUF, "getsockopt SO_RCVBUF");

    /// <summary>SO_SNDBUF as the kernel reports it (twice the bytes asked, for its bookkeeping).</summary>
    public int SendBufferSize => GetInt(SO_SNDBUF, "getsockopt SO_SNDBUF");

    /// <summary>The descriptor, for tests and diagnostics (valid while the socket is open).</summary>
    internal FileDescriptor Handle => _fd;

    /// <summary>
    /// Opens the socket of listen port <paramref name="port"/> (0: the kernel picks one, see <see cref="Port"/>).
    /// Throws LinuxException naming the refused step (e.g. "bind UDP [::]:51820: Address already in use").
    /// </summary>
    public static UdpSocket Open(ushort port, UdpSocketOptions? options = null)
    {
        options ??= new UdpSocketOptions();
        FileDescriptor? fd = null;
        Waker? waker = null;
        try
        {
            bool dualStack = !options.IPv4Only;
            fd = dualStack ? TryCreate(Libc.AF_INET6) : null;
            if (fd is null)
            {
                dualStack = false;
                fd = TryCreate(Libc.AF_INET) ?? throw LinuxException.FromLastError("socket AF_INET SOCK_DGRAM");
            }

            int value = fd.Value;
            if (dualStack)
            {
                SetInt(value, IPPROTO_IPV6, IPV6_V6ONLY, 0, "setsockopt IPV6_V6ONLY 0");
                SetInt(value, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "setsockopt IPV6_RECVPKTINFO");
            }

            SetInt(value, IPPROTO_IP, IP_PKTINFO, 1, "setsockopt IP_PKTINFO");
            if (options.BufferBytes > 0)
            {
                SetBuffer(value, SO_RCVBUFFORCE, SO_RCVBUF, options.BufferBytes, "SO_RCVBUF");
                SetBuffer(value, SO_SNDBUFFORCE, SO_SNDBUF, options.BufferBytes, "SO_SNDBUF");
            }

            if (options.Mark != 0)
            {
                SetInt(value, SOL_SOCKET, SO_MARK, (int)options.Mark, $"setsockopt SO_MARK {options.Mark}");
            }

            ushort bound = Bind(value, port, dualStack);
            bool gso = options.Gso && KernelHasGso(value);
            bool gro = options.Gro && SetIntQuietly(value, SOL_UDP, UDP_GRO, 1);
            waker = new Waker();
            return new UdpSocket(fd, waker, options, dualStack, bound, gso, gro);
        }
        catch
        {
            fd?.Dispose();
            waker?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Moves to another listen port (the UAPI's listen_port change): opens a socket with the same options and mark on
    /// <paramref name="port"/>, then disposes this one, which ends its blocked receives. Returns this socket unchanged
    /// when it already listens there; when the new port cannot be bound, throws and this socket stays open.
    /// </summary>
    public UdpSocket Rebind(ushort port)
    {
        if (port != 0 && port == Port)
        {
            return this;
        }

        var next = Open(port, new UdpSocketOptions
        {
            BufferBytes = _options.BufferBytes,
            Gso = _options.Gso,
            Gro = _options.Gro,
            IPv4Only = _options.IPv4Only,
            Mark = _mark,
            SendTimeoutMilliseconds = _options.SendTimeoutMilliseconds,
        });
        Dispose();
        return next;
    }

    /// <summary>Wakes blocked Receive/Send calls (ObjectDisposedException) and closes the socket once they have left.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _waker.Signal();
        Exit();
    }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Counts a call in, so Dispose cannot close the descriptor (or the waker) under it.</summary>
    private void Enter()
    {
        while (true)
        {
            int users = Volatile.Read(ref _users);
            ObjectDisposedException.ThrowIf(users == 0 || IsDisposed, this);
            if (Interlocked.CompareExchange(ref _users, users + 1, users) == users)
            {
                return;
            }
        }
    }

    private void Exit()
    {
        if (Interlocked.Decrement(ref _users) == 0)
        {
            _fd.Dispose();
            _waker.Dispose();
        }
    }

    private static FileDescriptor? TryCreate(int family)
    {
        int fd = Libc.Socket(family, Libc.SOCK_DGRAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd >= 0)
        {
            return new FileDescriptor(fd);
        }

        var errno = LinuxException.LastErrno;
        if (family == Libc.AF_INET6 && errno == Errno.EAFNOSUPPORT)
        {
            return null;
        }

        throw new LinuxException(family == Libc.AF_INET6 ? "socket AF_INET6 SOCK_DGRAM" : "socket AF_INET SOCK_DGRAM", errno);
    }

    private static unsafe ushort Bind(int fd, ushort port, bool dualStack)
    {
        byte* address = stackalloc byte[SockaddrIn6Size];
        var any = new UdpEndpoint(dualStack ? stackalloc byte[16] : stackalloc byte[4], port);
        uint length = any.WriteSockaddr(address, dualStack);
        if (Libc.Bind(fd, address, length) != 0)
        {
            throw LinuxException.FromLastError(dualStack ? $"bind UDP [::]:{port}" : $"bind UDP 0.0.0.0:{port}");
        }

        uint size = SockaddrIn6Size;
        if (Libc.GetSockName(fd, address, &size) != 0)
        {
            throw LinuxException.FromLastError($"getsockname UDP port {port}");
        }

        return (ushort)((address[2] << 8) | address[3]);
    }

    /// <summary>getsockopt(UDP_SEGMENT) answers only on kernels that know the option (4.18+).</summary>
    private static unsafe bool KernelHasGso(int fd)
    {
        int value = 0;
        uint length = sizeof(int);
        return Libc.GetSockOpt(fd, SOL_UDP, UDP_SEGMENT, &value, &length) == 0;
    }

    /// <summary>Asks for a buffer size with the privileged *FORCE option, then the capped plain one.</summary>
    private static void SetBuffer(int fd, int forceOption, int option, int bytes, string name)
    {
        if (!SetIntQuietly(fd, SOL_SOCKET, forceOption, bytes))
        {
            SetInt(fd, SOL_SOCKET, option, bytes, $"setsockopt {name} {bytes}");
        }
    }

    private void SetInt(int level, int option, int value, string request) =>
        SetInt(_fd.Value, level, option, value, request);

    private static unsafe void SetInt(int fd, int level, int option, int value, string request)
    {
        if (Libc.SetSockOpt(fd, level, option, &value, sizeof(int)) != 0)
        {
            throw LinuxException.FromLastError(request);
        }
    }

    private static unsafe bool SetIntQuietly(int fd, int level, int option, int value) =>
        Libc.SetSockOpt(fd, level, option, &value, sizeof(int)) == 0;

    private unsafe int GetInt(int option, string request)
    {
        Enter();
        try
        {
            int value = 0;
            uint length = sizeof(int);
            if (Libc.GetSockOpt(_fd.Value, SOL_SOCKET, option, &value, &length) != 0)
            {
                throw LinuxException.FromLastError($"{request} on UDP port {Port}");
            }

            return value;
        }
        finally
        {
            Exit();
        }
    }
}
