using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Netlink;

/// <summary>
/// The kernel refused a netlink request. The message reads "REQUEST: strerror" and, when the kernel gave an extended
/// acknowledgement, the kernel's own words after it: "RTM_NEWROUTE 10.2.0.0/24 table 220: File exists".
/// </summary>
public sealed class NetlinkException : LinuxException
{
    public NetlinkException(string request, Errno errno, string? kernelMessage)
        : base(request, errno, Compose(request, errno, kernelMessage))
    {
        KernelMessage = kernelMessage;
    }

    public NetlinkException()
        : this("netlink request", Errno.None, null)
    {
    }

    public NetlinkException(string message)
        : this(message, Errno.None, null)
    {
    }

    public NetlinkException(string message, Exception inner)
        : base(message, Errno.None, inner)
    {
    }

    /// <summary>The kernel's extended-ack text (NLMSGERR_ATTR_MSG), when it sent one.</summary>
    public string? KernelMessage { get; }

    private static string Compose(string request, Errno errno, string? kernelMessage) =>
        string.IsNullOrEmpty(kernelMessage)
            ? $"{request}: {Describe(errno)}"
            : $"{request}: {Describe(errno)} ({kernelMessage})";
}
