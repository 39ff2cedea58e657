namespace Branchgate.Platform.Linux.Interop;

/// <summary>
/// libc calls Tmds.LibC lacks or that we want with exact signatures. One file per call (Libc.Name.cs); every call is a
/// LibraryImport with SetLastError so <see cref="LinuxException.LastErrno"/> reads the right errno.
/// </summary>
internal static partial class Libc
{
    internal const string Name = "libc";
}
