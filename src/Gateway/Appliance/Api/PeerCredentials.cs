using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Branchgate.Appliance.Api;

/// <summary>
/// Who is at the other end of a unix socket connection, as the kernel recorded it at connect() (SO_PEERCRED): it cannot
/// be forged by the client. Root (uid 0) may read secrets (export, backup) and restore; everyone else who can reach the
/// socket (group branchgate) may not.
/// </summary>
public sealed record PeerCredentials(int ProcessId, uint UserId, uint GroupId)
{
    /// <summary>Nobody in particular: used when the credentials cannot be read; never root.</summary>
    public static readonly PeerCredentials Unknown = new(0, uint.MaxValue, uint.MaxValue);

    public bool IsRoot => UserId == 0;

    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>The peer of a connected unix socket; <see cref="Unknown"/> when the kernel does not say.</summary>
    public static PeerCredentials Read(Socket socket)
    {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        Span<byte> ucred = stackalloc byte[12];
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred) != ucred.Length)
            {
                return Unknown;
            }
        }
        catch (SocketException)
        {
            return Unknown;
        }

        // Native byte order, as the kernel wrote it.
        return new PeerCredentials(MemoryMarshal.Read<int>(ucred), MemoryMarshal.Read<uint>(ucred[4..]),
            MemoryMarshal.Read<uint>(ucred[8..]));
    }
}
