using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Branchgate.Appliance.Config;
using Branchgate.Appliance.Model;
using Branchgate.Device;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Appliance.Runtime;

// Apply: runs on the control thread only. Interfaces that are no longer wanted are removed first (which removes
// their addresses and routes with them), then each wanted interface is created when missing and reconciled: the
// device first (keys, port, peers), then the kernel (link, addresses, routes).
public sealed partial class ApplianceRuntime
{
    private readonly Dictionary<string, DeviceHost> _hosts = new(StringComparer.Ordinal);
    private volatile Dictionary<string, DeviceHost> _hostsView = new Dictionary<string, DeviceHost>();
    private RouteNetlink _netlink = null!;

    /// <summary>What the control thread last made (or tried to make) true; the reconcile loop keeps it true.</summary>
    private volatile ApplianceConfig _target = ApplianceConfig.Empty;

    /// <summary>Makes <paramref name="desired"/> true; returns the number of changes made.</summary>
    /// <exception cref="ApplyException">A step failed (earlier steps stay done; the caller rolls back).</exception>
    private int Apply(ApplianceConfig desired)
    {
        _target = desired;
        int changes = 0;
        string step = "";
        try
        {
            foreach (var name in _hosts.Keys.ToList())
            {
                if (desired.FindInterface(name) is null || _hosts[name].Device.Stopped.IsCompleted)
                {
                    step = $"{name}: removing the interface";
                    RemoveHost(name);
                    changes++;
                }
            }

            foreach (var config in desired.Interfaces)
            {
                step = $"{config.Name}: creating the interface";
                if (!_hosts.TryGetValue(config.Name, out var host))
                {
                    host = CreateHost(config.Name);
                    changes++;
                }

                var sites = desired.SitesOf(config.Name).Where(s => s.Enabled).ToList();
                step = $"{config.Name}: configuring the device";
                changes += DeviceReconciler.Reconcile(host, config, sites, EndpointOf);
                step = $"{config.Name}: configuring the kernel";
                changes += KernelReconciler.Reconcile(_netlink, host, config, sites);
            }
        }
        catch (Exception e) when (e is not ApplyException and not OutOfMemoryException)
        {
            // Anything unexpected still ends as a failed step, so the caller rolls back.
            throw new ApplyException($"{step}: {e.Message}", e);
        }
        finally
        {
            _hostsView = new Dictionary<string, DeviceHost>(_hosts, StringComparer.Ordinal);
            Interlocked.Exchange(ref _lastPass, _options.Time.GetTimestamp());
        }

        return changes;
    }

    private DeviceHost CreateHost(string name)
    {
        DeviceHost host;
        try
        {
            var log = new DeviceLog(new LoggerTextWriter(_options.Logger), _options.DeviceLogLevel, name);
            host = DeviceHost.Open(name, log, _options.Time, _options.UapiSocketDirectory);
        }
        catch (Exception e) when (e is LinuxException or IOException or SocketException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ApplyException($"{name}: the interface could not be created: {e.Message}", e);
        }

        _hosts.Add(name, host);
        RuntimeLog.InterfaceCreated(_options.Logger, name);
        return host;
    }

    private void RemoveHost(string name)
    {
        var host = _hosts[name];
        _hosts.Remove(name);
        host.Dispose();
        RuntimeLog.InterfaceRemoved(_options.Logger, name);
    }

    private bool RemoveAll()
    {
        foreach (var name in _hosts.Keys.ToList())
        {
            RemoveHost(name);
        }

        _hostsView = new Dictionary<string, DeviceHost>();
        _netlink.Dispose();
        return true;
    }

    /// <summary>The address a site's configured endpoint stands for now: the literal, or the last resolution of the
    /// name (null while it has not resolved).</summary>
    private IPEndPoint? EndpointOf(SiteConfig site)
    {
        if (site.Endpoint is not { } text)
        {
            return null;
        }

        if (TryParseLiteral(text, out var literal))
        {
            return literal;
        }

        return _resolutions.TryGetValue(text, out var resolution) ? resolution.Address : null;
    }

    /// <summary>"192.0.2.1:51820" or "[2001:db8::1]:51820" (no DNS, <see cref="SiteEndpoint"/>'s rules); false for a
    /// name (or text that is no endpoint at all, which the resolver then refuses).</summary>
    internal static bool TryParseLiteral(string text, [NotNullWhen(true)] out IPEndPoint? endpoint)
    {
        endpoint = SiteEndpoint.TryParse(text, out var parsed, out _) && !parsed.IsDnsName
            ? new IPEndPoint(parsed.Literal, parsed.Port)
            : null;
        return endpoint is not null;
    }
}
