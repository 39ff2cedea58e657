using System.Runtime.InteropServices;
using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Appliance.Api;

/// <summary>
/// Gives a file to a group (chown with the owner unchanged) and looks a group up by name (getgrnam_r, so NSS sources
/// count as well as /etc/group). The management socket's group is its trust boundary.
/// </summary>
internal static partial class UnixGroupAccess
{
    /// <summary>The group's id, or null when no such group exists.</summary>
    public static uint? FindGroupId(string name)
    {
        var bufferLength = 4096;
        while (bufferLength <= 1 << 20)
        {
            var buffer = new byte[bufferLength];
            var error = GetGroupByName(name, out var group, buffer, (nuint)buffer.Length, out var result);
            if (error == ERANGE)
            {
                bufferLength *= 4;
                continue;
            }

            return error == 0 && result != 0 ? group.Gid : null;
        }

        return null;
    }

    /// <summary>Sets the file's group, keeping its owner.</summary>
    /// <exception cref="LinuxException">The kernel refused (EPERM without CAP_CHOWN, ENOENT).</exception>
    public static void SetGroup(string path, uint groupId)
    {
        if (Chown(path, uint.MaxValue, groupId) != 0)
        {
            throw new LinuxException("chown " + path, (Errno)Marshal.GetLastPInvokeError());
        }
    }

    private const int ERANGE = 34;

    // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem; }
    [StructLayout(LayoutKind.Sequential)]
    private struct Group
    {
        public nint Name;
        public nint Password;
        public uint Gid;
        public nint Members;
    }

    [LibraryImport("libc", EntryPoint = "getgrnam_r", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int GetGroupByName(string name, out Group group, [Out] byte[] buffer, nuint bufferLength, out nint result);

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, uint owner, uint group);
}
