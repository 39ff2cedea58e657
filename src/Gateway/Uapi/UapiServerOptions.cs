namespace Branchgate.Uapi;

/// <summary>Settings of a <see cref="UapiServer"/>; the defaults suit the daemon.</summary>
public sealed class UapiServerOptions
{
    /// <summary>Where <c>wg</c> looks for IFNAME.sock (it also tries /run/wireguard, the same directory on Debian).</summary>
    public string SocketDirectory { get; init; } = "/var/run/wireguard";

    /// <summary>Connections served at once; further clients wait in the listen backlog (wireguard-go has no limit).</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>
    /// A connection that sends nothing for this long is closed, so forgotten clients cannot use up
    /// <see cref="MaxConnections"/>. wireguard-go has no timeout; <see cref="Timeout.InfiniteTimeSpan"/> matches it.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the server checks that its socket file is still there (wireguard-go uses inotify).</summary>
    public TimeSpan SocketCheckInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A set request larger than this is answered EIO (wireguard-go has no limit).</summary>
    public long MaxSetRequestBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Resolves an IPv6 zone name to an interface index; default <see cref="UapiInterfaceIndex.Resolve"/>.</summary>
    public Func<string, uint?>? InterfaceIndex { get; init; }

    /// <summary>Receives one line per rejected request, closed connection or server event (default: none).</summary>
    public Action<string>? Log { get; init; }
}
