using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Netlink.Route;

/// <summary>
/// rtnetlink (NETLINK_ROUTE) for the control path: links, addresses, routes of every table, and policy rules. Works
/// in the network namespace of the thread that constructs it (the socket belongs to that namespace). Every request
/// is acknowledged or fails with a <see cref="NetlinkException"/> naming it ("RTM_NEWROUTE 10.2.0.0/24 table 220:
/// File exists"); bad arguments (names over 15 bytes, mixed families) fail with <see cref="ArgumentException"/>
/// before anything is sent; every wait is bounded by <see cref="Timeout"/>. Lists are read with dumps and filtered
/// here, so they do not depend on the kernel's strict dump checking. Calls are serialised by the socket, so one
/// instance may be shared by control-path threads; nothing here is meant for the packet path.
/// </summary>
public sealed partial class RouteNetlink : IDisposable
{
    private readonly NetlinkSocket _socket;

    public RouteNetlink()
    {
        _socket = new NetlinkSocket(NetlinkProtocol.Route);
    }

    /// <summary>How long to wait for each reply from the kernel (see <see cref="NetlinkSocket.Timeout"/>).</summary>
    public TimeSpan Timeout
    {
        get => _socket.Timeout;
        set => _socket.Timeout = value;
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>Sends an acknowledged request. When the kernel gives an errno whose strerror text misleads (ESRCH
    /// "No such process" for a missing route) and no words of its own, <paramref name="hint"/> is added.</summary>
    private void Execute(Span<byte> message, string description, Errno hintFor = Errno.None, string? hint = null)
    {
        try
        {
            _socket.Execute(message, description);
        }
        catch (NetlinkException e) when (hint is not null && e.Errno == hintFor && string.IsNullOrEmpty(e.KernelMessage))
        {
            throw new NetlinkException(description, e.Errno, hint);
        }
    }

    /// <summary>Reads a family header at the start of a reply's payload; false when the payload is too short.</summary>
    private static bool TryReadHeader<T>(ReadOnlySpan<byte> payload, out T header, out NetlinkAttributes attributes)
        where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (payload.Length < size)
        {
            header = default;
            attributes = default;
            return false;
        }

        header = MemoryMarshal.Read<T>(payload);
        attributes = new NetlinkAttributes(payload[Math.Min(Nl.Align(size), payload.Length)..]);
        return true;
    }

    private static byte FamilyByte(AddressFamily family, string paramName) => family switch
    {
        AddressFamily.InterNetwork => Rtnl.AF_INET,
        AddressFamily.InterNetworkV6 => Rtnl.AF_INET6,
        AddressFamily.Unspecified => Rtnl.AF_UNSPEC,
        _ => throw new ArgumentException($"not an IP address family: {family}", paramName),
    };

    private static AddressFamily? FamilyOf(byte family) => family switch
    {
        Rtnl.AF_INET => AddressFamily.InterNetwork,
        Rtnl.AF_INET6 => AddressFamily.InterNetworkV6,
        _ => null,
    };

    private static string FamilyName(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    /// <summary>
    /// Checks an interface name as the kernel would (dev_valid_name), so a bad one fails before any request with a
    /// message naming it.
    /// </summary>
    internal static void ValidateLinkName(string name, string paramName)
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (name.Length == 0)
        {
            throw new ArgumentException("interface name is empty", paramName);
        }

        int bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > 15)
        {
            throw new ArgumentException($"interface name '{name}' is {bytes} bytes; Linux allows at most 15", paramName);
        }

        if (name is "." or ".." || name.AsSpan().IndexOfAny('/', ':', '\0') >= 0 || name.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException(
                $"interface name '{name}' is not valid (no '/', ':', whitespace, '.' or '..')", paramName);
        }
    }
}
