using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Branchgate.Device;
using Branchgate.Platform.Linux;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Tun;
using Branchgate.Uapi;

namespace Branchgate.Cli;

/// <summary>
/// `branchgate [-f|--foreground] IFACE`: the same contract as `wireguard-go IFACE`. Creates the TUN, serves the UAPI
/// on /var/run/wireguard/IFACE.sock and runs the device until SIGINT/SIGTERM, the socket file's deletion or the
/// interface's deletion. Without -f the process starts itself again in the background and returns once that child
/// has the interface and the socket ready (or fails with the child's reason and exit status).
/// </summary>
internal static class InterfaceCommand
{
    private const string ChildVariable = "BRANCHGATE_DAEMON_CHILD";
    private const string SocketDirectory = "/var/run/wireguard";

    public const string Usage = "Usage: branchgate [-f/--foreground] INTERFACE-NAME";

    /// <summary>True in the background child that `branchgate IFACE` (without -f) starts.</summary>
    public static bool IsDaemonChild => Environment.GetEnvironmentVariable(ChildVariable) == "1";

    /// <summary>
    /// New session, and stdio on /dev/null unless LOG_LEVEL asks for output (as wireguard-go). Must run before
    /// anything touches Console.
    /// </summary>
    public static void DetachDaemonChild()
    {
        var level = DeviceLog.LevelFromEnvironment(Environment.GetEnvironmentVariable("LOG_LEVEL"));
        var keep = Environment.GetEnvironmentVariable("LOG_LEVEL") is { Length: > 0 } && level != LogLevel.Silent;
        Daemon.Detach(keep);
    }

    public static int Run(ReadOnlySpan<string> args, TextWriter stdout, TextWriter stderr)
    {
        bool foreground = false;
        string? name = null;
        foreach (var arg in args)
        {
            if (arg is "-f" or "--foreground")
            {
                foreground = true;
            }
            else if (name is null && !arg.StartsWith('-'))
            {
                name = arg;
            }
            else
            {
                stderr.WriteLine(Usage);
                return 1;
            }
        }

        if (name is null)
        {
            stderr.WriteLine(Usage);
            return 1;
        }

        var level = DeviceLog.LevelFromEnvironment(Environment.GetEnvironmentVariable("LOG_LEVEL"));
        if (!foreground && !IsDaemonChild)
        {
            return StartInBackground(name, stderr);
        }

        return RunDevice(name, new DeviceLog(stdout, level, name), stderr);
    }

    private static int RunDevice(string name, DeviceLog log, TextWriter stderr)
    {
        TunDevice tun;
        try
        {
            tun = TunDevice.Open(name, TunOptions.VnetHeader);
        }
        catch (Exception e) when (e is LinuxException or ArgumentException)
        {
            stderr.WriteLine($"Failed to create TUN device: {e.Message}");
            return 1;
        }

        using var device = new WireGuardDevice(tun, log);
        using var target = new DeviceUapiTarget(device);
        UapiServer uapi;
        try
        {
            device.Start();
            uapi = UapiServer.Start(name, target, new UapiServerOptions
            {
                Log = log.Verbose,
            });
        }
        catch (Exception e) when (e is LinuxException or IOException or SocketException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"Failed to start device {name}: {e.Message}");
            return 1;
        }

        using (uapi)
        {
            log.Verbose("Device started");
            using var stop = new CancellationTokenSource();
            string reason = "signal";
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
            var ended = Task.WaitAny(
                [device.Stopped, Task.Delay(Timeout.Infinite, uapi.SocketRemoved), Task.Delay(Timeout.Infinite, stop.Token)]);
            reason = ended switch
            {
                0 => device.Stopped.Result,
                1 => "UAPI socket file removed",
                _ => reason,
            };
            log.Verbose($"Shutting down ({reason})");

            void Handle(PosixSignalContext context)
            {
                context.Cancel = true;
                reason = $"received {context.Signal}";
                stop.Cancel();
            }
        }

        return 0;
    }

    /// <summary>
    /// Starts `branchgate -f IFACE` as a detached child with the same environment and waits (15 s at most) until its
    /// UAPI socket accepts connections, or until it exits.
    /// </summary>
    private static int StartInBackground(string name, TextWriter stderr)
    {
        var self = Environment.ProcessPath;
        if (self is null)
        {
            stderr.WriteLine("cannot find my own executable to start in the background; use -f");
            return 1;
        }

        var psi = new ProcessStartInfo(self) { UseShellExecute = false };
        psi.ArgumentList.Add(name);
        psi.Environment[ChildVariable] = "1";
        using var child = Process.Start(psi);
        if (child is null)
        {
            stderr.WriteLine("failed to start the background process");
            return 1;
        }

        var socket = Path.Combine(SocketDirectory, name + ".sock");
        var deadline = Environment.TickCount64 + 15_000;
        while (Environment.TickCount64 < deadline)
        {
            if (child.WaitForExit(50))
            {
                return child.ExitCode == 0 ? 1 : child.ExitCode;
            }

            if (CanConnect(socket))
            {
                return 0;
            }
        }

        stderr.WriteLine($"{name}: the background process did not become ready in 15 s");
        try
        {
            child.Kill();
        }
        catch (InvalidOperationException)
        {
        }

        return 1;
    }

    private static bool CanConnect(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            s.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
