using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.Versioning;

namespace Branchgate.Uapi;

/// <summary>
/// The cross-platform UAPI on a unix stream socket, <c>/var/run/wireguard/IFNAME.sock</c>, as wireguard-go serves it
/// (ipc/uapi_linux.go, device/uapi.go): the directory is created 0755, the socket is 0700 (wireguard-go binds under
/// umask 077); a socket file left by a dead process is replaced, a live one is an error ("unix socket in use").
/// Connections are served concurrently, each by <see cref="UapiConnection"/>.
/// <para>
/// The socket is bound and made listening under a temporary name, then renamed into place, so <c>wg</c> never finds
/// a socket file that refuses connections (it would delete it as stale). When the socket file is deleted or replaced
/// by someone else, <see cref="SocketRemoved"/> is cancelled within <see cref="UapiServerOptions.SocketCheckInterval"/>:
/// the daemon exits then, as wireguard-go does (it watches the file with inotify). Dispose stops accepting, closes
/// every connection and deletes the socket file if it is still ours.
/// </para>
/// </summary>
public sealed class UapiServer : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan s_disposeWait = TimeSpan.FromSeconds(5);

    private readonly IUapiTarget _target;
    private readonly UapiServerOptions _options;
    private readonly UapiConnectionSettings _settings;
    private readonly Socket _listener;
    private readonly DateTime _socketWriteTime;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _socketRemoved = new();
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentDictionary<Task, Socket> _connections = new();
    private readonly Task _acceptLoop;
    private readonly Task _watchLoop;
    private int _disposed;

    private UapiServer(string socketPath, Socket listener, IUapiTarget target, UapiServerOptions options)
    {
        SocketPath = socketPath;
        _listener = listener;
        _target = target;
        _options = options;
        _settings = new UapiConnectionSettings(options.IdleTimeout, options.MaxSetRequestBytes,
            options.InterfaceIndex ?? UapiInterfaceIndex.Resolve, options.Log);
        _slots = new SemaphoreSlim(options.MaxConnections, options.MaxConnections);
        _socketWriteTime = File.GetLastWriteTimeUtc(socketPath);
        _acceptLoop = Task.Run(AcceptLoopAsync);
        _watchLoop = Task.Run(WatchLoopAsync);
    }

    public string SocketPath { get; }

    /// <summary>Cancelled once the socket file was deleted or replaced by someone else (not by <see cref="Dispose"/>).</summary>
    public CancellationToken SocketRemoved => _socketRemoved.Token;

    public int ActiveConnections => _connections.Count;

    /// <summary>Creates the socket and starts serving. Throws IOException when another live process owns the socket.</summary>
    public static UapiServer Start(string interfaceName, IUapiTarget target, UapiServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the UAPI is served on a unix socket");
        }

        options ??= new UapiServerOptions();
        if (!IsValidInterfaceName(interfaceName))
        {
            ThrowHelper.ThrowArgument(nameof(interfaceName), "not a valid interface name: " + interfaceName);
        }

        if (options.MaxConnections < 1 || options.SocketCheckInterval <= TimeSpan.Zero || options.MaxSetRequestBytes < 1)
        {
            ThrowHelper.ThrowArgument(nameof(options), "limits must be positive");
        }

        if (!Directory.Exists(options.SocketDirectory))
        {
            Directory.CreateDirectory(options.SocketDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite |
                UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
                UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        var socketPath = Path.Combine(options.SocketDirectory, interfaceName + ".sock");
        var listener = Listen(socketPath);
        return new UapiServer(socketPath, listener, target, options);
    }

    /// <summary>The kernel's dev_valid_name: 1 to 15 bytes, not "." or "..", no '/', ':' or white space.</summary>
    public static bool IsValidInterfaceName(string? name) =>
        !string.IsNullOrEmpty(name) && System.Text.Encoding.UTF8.GetByteCount(name) < 16 && name != "." && name != ".." &&
        !name.AsSpan().ContainsAny("/:\0") && !name.Any(char.IsWhiteSpace);

    [UnsupportedOSPlatform("windows")]
    private static Socket Listen(string socketPath)
    {
        // Not "*.sock", so wg never lists it as an interface.
        var temporary = Path.Combine(Path.GetDirectoryName(socketPath)!,
            $".{Path.GetFileName(socketPath)}.{Environment.ProcessId}.{Guid.NewGuid().ToString("N")[..16]}");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(temporary));
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            listener.Listen(128);
            if (IsLive(socketPath))
            {
                throw new IOException($"{socketPath}: unix socket in use");
            }

            File.Move(temporary, socketPath, overwrite: true);
            return listener;
        }
        catch
        {
            listener.Dispose();
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>wireguard-go's test before it replaces a socket file: does anything accept a connection there?</summary>
    private static bool IsLive(string socketPath)
    {
        if (!File.Exists(socketPath))
        {
            return false;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task AcceptLoopAsync()
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                await _slots.WaitAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                client = await _listener.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                _slots.Release();
                return;
            }
            catch (SocketException e)
            {
                // EMFILE and friends: wait instead of spinning, then try again.
                _slots.Release();
                _options.Log?.Invoke("UAPI: accept failed: " + e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var connection = Task.Run(async () =>
            {
                await start.Task.ConfigureAwait(false);
                await ServeAsync(client).ConfigureAwait(false);
            }, CancellationToken.None);
            _connections[connection] = client;
            start.SetResult();
        }
    }

    private async Task ServeAsync(Socket client)
    {
        try
        {
            using var stream = new NetworkStream(client, ownsSocket: true);
            await UapiConnection.RunAsync(stream, _target, _settings, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, stayed idle too long, or the server is stopping: just close.
        }
        catch (Exception e)
        {
            _options.Log?.Invoke("UAPI: connection failed: " + e);
        }
        finally
        {
            client.Dispose();
            _slots.Release();
            foreach (var entry in _connections)
            {
                if (ReferenceEquals(entry.Value, client))
                {
                    _connections.TryRemove(entry.Key, out _);
                }
            }
        }
    }

    private async Task WatchLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.SocketCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                if (!IsStillOurs())
                {
                    _options.Log?.Invoke($"UAPI: {SocketPath} was removed");
                    await _socketRemoved.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Our socket file is still at its path: same modification time as when we put it there.</summary>
    private bool IsStillOurs()
    {
        try
        {
            var info = new FileInfo(SocketPath);
            return info.Exists && info.LastWriteTimeUtc == _socketWriteTime;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        foreach (var client in _connections.Values)
        {
            client.Dispose();
        }

        var everything = Task.WhenAll([_acceptLoop, _watchLoop, .. _connections.Keys]);
        await Task.WhenAny(everything, Task.Delay(s_disposeWait)).ConfigureAwait(false);
        if (IsStillOurs())
        {
            File.Delete(SocketPath);
        }

        if (everything.IsCompleted)
        {
            // A connection still running after the wait (a target that hangs) will release its slot later.
            _stopping.Dispose();
            _slots.Dispose();
        }

        // _socketRemoved stays undisposed: its token may still be watched by the daemon after we are gone.
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
