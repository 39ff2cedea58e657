using System.Net;
using Branchgate.Crypto;
using Branchgate.Device;
using Branchgate.Platform.Linux.Tun;
using Branchgate.Uapi;

namespace Branchgate.Appliance.Runtime;

/// <summary>
/// One WireGuard interface of the appliance: the TUN (created in the network namespace of the calling thread), the
/// device on it, and a UAPI server so `wg show NAME` works as it does against `branchgate NAME`. Dispose stops the
/// UAPI server, then the device, which closes the TUN and so removes the interface (with its addresses and routes).
/// </summary>
public sealed class DeviceHost : IDisposable
{
    private readonly TunDevice _tun;
    private readonly UapiServer _uapi;
    private readonly Dictionary<NoisePublicKey, IPEndPoint> _appliedEndpoints = [];
    private int _disposed;

    private DeviceHost(TunDevice tun, WireGuardDevice device, DeviceUapiTarget target, UapiServer uapi)
    {
        _tun = tun;
        Device = device;
        Target = target;
        _uapi = uapi;
    }

    public string Name => Device.Name;

    public WireGuardDevice Device { get; }

    /// <summary>The device as the UAPI changes it; the reconciler uses the same calls under its lock.</summary>
    public DeviceUapiTarget Target { get; }

    /// <summary>The listen port last asked for (0: any).</summary>
    internal ushort ConfiguredPort { get; set; }

    /// <summary>The addresses the last kernel pass saw on the interface (for status).</summary>
    internal IReadOnlyList<string> ObservedAddresses { get; set; } = [];

    /// <summary>
    /// Per peer, the endpoint configuration last gave it. Roaming moves the device's endpoint without changing this,
    /// so the reconciler sets an endpoint only when the configured (resolved) address itself changes.
    /// </summary>
    internal Dictionary<NoisePublicKey, IPEndPoint> AppliedEndpoints => _appliedEndpoints;

    /// <summary>Creates the interface <paramref name="name"/> and starts its device and UAPI socket.</summary>
    /// <exception cref="Platform.Linux.Interop.LinuxException">The TUN or the device could not be created.</exception>
    public static DeviceHost Open(string name, DeviceLog log, TimeProvider time, string socketDirectory)
    {
        var tun = TunDevice.Open(name, TunOptions.VnetHeader);
        WireGuardDevice? device = null;
        DeviceUapiTarget? target = null;
        try
        {
            device = new WireGuardDevice(tun, log, time);
            target = new DeviceUapiTarget(device);
            device.Start();
            var uapi = UapiServer.Start(name, target, new UapiServerOptions { SocketDirectory = socketDirectory });
            return new DeviceHost(tun, device, target, uapi);
        }
        catch
        {
            target?.Dispose();
            if (device is not null)
            {
                device.Dispose();
            }
            else
            {
                tun.Dispose();
            }

            throw;
        }
    }

    /// <summary>Administratively up, as the TUN's own control socket sees it (false once the interface is gone).</summary>
    public bool IsUp
    {
        get
        {
            try
            {
                return _tun.IsLinkUp();
            }
            catch (Platform.Linux.Interop.LinuxException)
            {
                return false;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _uapi.Dispose();
        Device.Dispose();
        Target.Dispose();
    }
}
