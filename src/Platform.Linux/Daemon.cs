using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux;

/// <summary>What a background daemon does to itself once started by its parent.</summary>
public static class Daemon
{
    /// <summary>
    /// Starts a new session (no controlling terminal, so a closing terminal's SIGHUP does not reach us) and, unless
    /// <paramref name="keepOutput"/>, points stdin, stdout and stderr at /dev/null so that whoever waits for the
    /// parent's output (a shell's $(...), a test reading to the end) is not held open by the daemon.
    /// </summary>
    public static void Detach(bool keepOutput)
    {
        _ = Libc.SetSid(); // fails only when already a session leader, which is fine
        using var devNull = FileDescriptor.FromResult(Libc.Open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC), "open /dev/null");
        int last = keepOutput ? 0 : 2;
        for (int fd = 0; fd <= last; fd++)
        {
            if (Libc.Dup2(devNull.Value, fd) < 0)
            {
                throw LinuxException.FromLastError($"dup2 /dev/null onto {fd}");
            }
        }
    }
}
