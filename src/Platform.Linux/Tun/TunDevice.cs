using System.Buffers;
using System.Text;
using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Tun;

/// <summary>
/// One queue of a Linux TUN interface (layer 3, no packet-information prefix). <see cref="Open"/> creates the
/// interface or attaches to an existing one by name; <see cref="ReadBatch"/> and <see cref="WriteBatch"/> move
/// packets in batches into and out of caller-owned buffers without allocating.
/// <para>
/// Threading: one thread may read while another writes; ReadBatch and WriteBatch are each not re-entrant.
/// <see cref="Dispose"/> may be called from any thread and wakes a blocked ReadBatch, which then throws
/// <see cref="ObjectDisposedException"/>. When the interface is deleted, reads and writes throw
/// <see cref="TunRemovedException"/>. The descriptor keeps working when the interface is moved to another network
/// namespace; link control (<see cref="GetMtu"/>, <see cref="SetLinkUp"/>) acts in the namespace of the thread that
/// opened the device.
/// </para>
/// </summary>
public sealed partial class TunDevice : IDisposable
{
    /// <summary>Largest IP packet (and super-packet) a TUN passes.</summary>
    public const int MaxPacketSize = 65535;

    private static readonly TunOffloads[] s_offloadAttempts =
    [
        TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6 | TunOffloads.Uso4 | TunOffloads.Uso6,
        TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6,
    ];

    private static readonly SearchValues<char> s_invalidNameChars = SearchValues.Create("/: \t\n\r\0");

    private readonly FileDescriptor _fd;
    private readonly FileDescriptor _control;
    private readonly Waker _waker;
    private readonly bool _vnet;
    private readonly bool _coalesce;
    private int _users = 1;
    private int _disposed;

    private TunDevice(FileDescriptor fd, FileDescriptor control, Waker waker, string name, TunOptions options, TunOffloads offloads)
    {
        _fd = fd;
        _control = control;
        _waker = waker;
        Name = name;
        Options = options;
        Offloads = offloads;
        _vnet = (options & TunOptions.VnetHeader) != 0;
        _coalesce = _vnet && (offloads & (TunOffloads.Tso4 | TunOffloads.Tso6)) != 0;
        if (_vnet)
        {
            _readBuffer = new byte[VirtioNetHeader.Size + MaxPacketSize + 1];
            _writeBuffer = new byte[TcpCoalescer.BufferSize];
            _consumed = new bool[1024]; // grown only for larger batches
        }
    }

    /// <summary>The interface name the kernel gave (a pattern such as "bg%d" resolved, e.g. "bg0").</summary>
    public string Name { get; }

    public TunOptions Options { get; }

    /// <summary>The offloads the kernel accepted (None without <see cref="TunOptions.VnetHeader"/>).</summary>
    public TunOffloads Offloads { get; }

    public TunCounters Counters { get; } = new();

    /// <summary>
    /// Creates the TUN interface <paramref name="name"/> or attaches to the existing one (TUNSETIFF with IFF_TUN |
    /// IFF_NO_PI), in the network namespace of the calling thread. A name containing "%d" lets the kernel pick the
    /// number; <see cref="Name"/> reports the result. With <see cref="TunOptions.VnetHeader"/> the offloads are
    /// negotiated: checksum, TSO4/6 and USO4/6 when the kernel has them, then without USO, then none.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty, longer than 15 bytes or contains '/', ':' or whitespace.</exception>
    /// <exception cref="LinuxException">The kernel refused (no permission, a non-TUN or differently configured interface of that name, busy).</exception>
    public static unsafe TunDevice Open(string name, TunOptions options = TunOptions.None)
    {
        ValidateName(name);
        var fd = FileDescriptor.FromResult(
            Libc.Open(TunInterop.DevicePath, Libc.O_RDWR | Libc.O_CLOEXEC | Libc.O_NONBLOCK), "open " + TunInterop.DevicePath);
        FileDescriptor? control = null;
        Waker? waker = null;
        try
        {
            var request = default(TunInterop.IfReq);
            Encoding.UTF8.GetBytes(name, new Span<byte>(request.Name, TunInterop.NameSize));
            request.Flags = (short)(TunInterop.IFF_TUN | TunInterop.IFF_NO_PI
                | ((options & TunOptions.VnetHeader) != 0 ? TunInterop.IFF_VNET_HDR : 0)
                | ((options & TunOptions.MultiQueue) != 0 ? TunInterop.IFF_MULTI_QUEUE : 0));
            if (Libc.Ioctl(fd.Value, TunInterop.TUNSETIFF, &request) != 0)
            {
                throw AttachFailure(name, options, LinuxException.LastErrno);
            }

            string actual = ReadName(&request);
            var offloads = (options & TunOptions.VnetHeader) != 0 ? NegotiateOffloads(fd.Value) : TunOffloads.None;
            control = FileDescriptor.FromResult(
                Libc.Socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0), $"socket AF_INET for link control of {actual}");
            waker = new Waker();
            return new TunDevice(fd, control, waker, actual, options, offloads);
        }
        catch
        {
            waker?.Dispose();
            control?.Dispose();
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether the descriptor is still attached to its interface (TUNGETIFF); false once the interface was deleted.
    /// </summary>
    public bool IsAttached()
    {
        Enter();
        try
        {
            return QueryName(out _) != (Errno)TunInterop.EBADFD;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Closes the queue (deleting the interface when it was the last queue) and wakes a blocked reader.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _waker.Signal();
        Exit();
    }

    internal static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
        {
            throw new ArgumentException("a TUN interface name must not be empty (use a pattern such as \"bg%d\" to let the kernel number it)", nameof(name));
        }

        int bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes >= TunInterop.NameSize)
        {
            throw new ArgumentException(
                $"interface name \"{name}\" is {bytes} bytes; Linux allows at most {TunInterop.NameSize - 1} (IFNAMSIZ)", nameof(name));
        }

        if (name is "." or ".." || name.AsSpan().IndexOfAny(s_invalidNameChars) >= 0)
        {
            throw new ArgumentException($"\"{name}\" is not a valid interface name (no '/', ':' or whitespace, not \".\" or \"..\")", nameof(name));
        }
    }

    private static LinuxException AttachFailure(string name, TunOptions options, Errno errno)
    {
        string why = errno switch
        {
            Errno.EINVAL => "; an interface of that name exists and is not a TUN, or is a TUN with a different multi-queue setting",
            Errno.EBUSY => "; the TUN is already attached (only a multi-queue TUN takes several descriptors)",
            Errno.EPERM => "; creating a TUN needs CAP_NET_ADMIN",
            _ => string.Empty,
        };
        return new LinuxException($"TUNSETIFF {name} ({Describe(options)}){why}", errno);
    }

    private static string Describe(TunOptions options) =>
        "IFF_TUN|IFF_NO_PI"
        + ((options & TunOptions.VnetHeader) != 0 ? "|IFF_VNET_HDR" : string.Empty)
        + ((options & TunOptions.MultiQueue) != 0 ? "|IFF_MULTI_QUEUE" : string.Empty);

    private static TunOffloads NegotiateOffloads(int fd)
    {
        // Older kernels answer EINVAL to flags they do not know; each step drops the newest ones.
        foreach (var attempt in s_offloadAttempts)
        {
            if (Libc.Ioctl(fd, TunInterop.TUNSETOFFLOAD, (nuint)attempt) == 0)
            {
                return attempt;
            }
        }

        _ = Libc.Ioctl(fd, TunInterop.TUNSETOFFLOAD, 0);
        return TunOffloads.None;
    }

    private static unsafe string ReadName(TunInterop.IfReq* request)
    {
        var bytes = new ReadOnlySpan<byte>(request->Name, TunInterop.NameSize);
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }

    /// <summary>TUNGETIFF: the interface's current name; returns the errno (EBADFD once it is deleted).</summary>
    private unsafe Errno QueryName(out string name)
    {
        var request = default(TunInterop.IfReq);
        if (Libc.Ioctl(_fd.Value, TunInterop.TUNGETIFF, &request) != 0)
        {
            name = Name;
            return LinuxException.LastErrno;
        }

        name = ReadName(&request);
        return Errno.None;
    }

    private TunRemovedException Removed(string operation, Errno errno) =>
        new($"{operation} TUN {Name} (the interface was deleted)", errno);

    /// <summary>Takes a reference so that Dispose on another thread defers closing until this operation ends.</summary>
    private void Enter()
    {
        while (true)
        {
            int users = Volatile.Read(ref _users);
            if (users == 0 || Volatile.Read(ref _disposed) != 0)
            {
                throw new ObjectDisposedException(nameof(TunDevice), $"TUN {Name} was disposed");
            }

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
            _control.Dispose();
            _waker.Dispose();
        }
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new ObjectDisposedException(nameof(TunDevice), $"TUN {Name} was disposed");
        }
    }
}
