using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Interop;

/// <summary>
/// A system call or a kernel request failed. <see cref="Errno"/> is the kernel's answer; the message names what was
/// asked ("RTM_NEWROUTE 10.2.0.0/24 table 220: File exists") so that the log line alone explains the failure.
/// </summary>
public class LinuxException : IOException
{
    public LinuxException(string request, Errno errno)
        : base($"{request}: {Describe(errno)}", (int)errno)
    {
        Request = request;
        Errno = errno;
    }

    public LinuxException(string request, Errno errno, Exception inner)
        : base($"{request}: {Describe(errno)}", inner)
    {
        Request = request;
        Errno = errno;
    }

    /// <summary>For subclasses that word the message themselves (e.g. adding the kernel's extended-ack text).</summary>
    protected LinuxException(string request, Errno errno, string message)
        : base(message, (int)errno)
    {
        Request = request;
        Errno = errno;
    }

    public LinuxException()
        : this("system call", Errno.None)
    {
    }

    public LinuxException(string message)
        : this(message, Errno.None)
    {
    }

    public LinuxException(string message, Exception inner)
        : this(message, Errno.None, inner)
    {
    }

    /// <summary>What was asked of the kernel, in words (the call and its main arguments).</summary>
    public string Request { get; }

    public Errno Errno { get; }

    /// <summary>The errno the last P/Invoke of this thread left (declared with SetLastError = true).</summary>
    public static Errno LastErrno => (Errno)Marshal.GetLastPInvokeError();

    /// <summary>An exception for the errno the last P/Invoke of this thread left.</summary>
    public static LinuxException FromLastError(string request) => new(request, LastErrno);

    /// <summary>strerror(3) text for an errno, e.g. "File exists".</summary>
    public static string Describe(Errno errno) =>
        errno == Errno.None ? "failed" : Marshal.GetPInvokeErrorMessage((int)errno);
}
