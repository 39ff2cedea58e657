using System.Collections.Concurrent;
using System.Net;
using Branchgate.Appliance.Model;

namespace Branchgate.Appliance.Runtime;

// Dynamic-IP sites: an endpoint given as a DNS name is resolved when a configuration that has it is applied, again
// every ReResolveInterval, and early (at most every EarlyResolveInterval) when a peer that should have a session has
// had no handshake for EarlyResolveAfter. A new answer is applied to the device by a reconcile pass, which sets the
// endpoint only because the configured address changed. A name that does not resolve leaves the site configured
// (with its last address, if any) and is tried again at the next check; other sites are unaffected.
public sealed partial class ApplianceRuntime
{
    private readonly ConcurrentDictionary<string, Resolution> _resolutions = new(StringComparer.Ordinal);

    /// <summary>The last good address of an endpoint name, whether the latest lookup (at <c>At</c>) succeeded, and the
    /// handshake failures of the peers using the name at that time.</summary>
    private sealed record Resolution(IPEndPoint? Address, bool Resolved, DateTimeOffset At, long Failures);

    private TimeSpan CheckInterval => Min(Min(_options.ReResolveInterval, EarlyResolveInterval), TimeSpan.FromSeconds(5));

    /// <summary>How often a name may be resolved early: a tenth of the stale-handshake time (15 s by default).</summary>
    private TimeSpan EarlyResolveInterval => Min(_options.ReResolveInterval, _options.EarlyResolveAfter / 10);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Endpoint names of <paramref name="config"/>'s enabled sites with the sites that use each.</summary>
    private static Dictionary<string, List<SiteConfig>> DynamicEndpoints(ApplianceConfig config)
    {
        var names = new Dictionary<string, List<SiteConfig>>(StringComparer.Ordinal);
        foreach (var site in config.Sites.Where(s => s.Enabled && s.Endpoint is not null))
        {
            if (!TryParseLiteral(site.Endpoint!, out _))
            {
                if (!names.TryGetValue(site.Endpoint!, out var list))
                {
                    names[site.Endpoint!] = list = [];
                }

                list.Add(site);
            }
        }

        return names;
    }

    /// <summary>At apply time: resolves the names <paramref name="config"/> has that were never asked.</summary>
    private async Task ResolveNewEndpointsAsync(ApplianceConfig config, CancellationToken cancellationToken)
    {
        var fresh = DynamicEndpoints(config).Where(n => !_resolutions.ContainsKey(n.Key)).ToList();
        await Task.WhenAll(fresh.Select(n => ResolveAsync(n.Key, n.Value, cancellationToken))).ConfigureAwait(false);
    }

    private async Task ResolveLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(CheckInterval, _options.Time, cancellationToken).ConfigureAwait(false);
                var now = _options.Time.GetUtcNow();
                var due = DynamicEndpoints(_target).Where(n => IsDue(n.Key, n.Value, now)).ToList();
                var changed = await Task.WhenAll(due.Select(n => ResolveAsync(n.Key, n.Value, cancellationToken))).ConfigureAwait(false);
                if (changed.Any(c => c))
                {
                    QueueReconcile();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private bool IsDue(string name, List<SiteConfig> sites, DateTimeOffset now)
    {
        if (!_resolutions.TryGetValue(name, out var last) || !last.Resolved)
        {
            return true; // never asked, or did not resolve: try again at every check
        }

        var age = now - last.At;
        if (age >= _options.ReResolveInterval)
        {
            return true;
        }

        if (age < EarlyResolveInterval)
        {
            return false;
        }

        foreach (var site in sites)
        {
            if (PeerOf(site) is not { } peer)
            {
                continue;
            }

            var handshake = peer.Session.LastHandshake;
            bool wanted = site.PersistentKeepalive > 0 || HandshakeFailures(sites) > last.Failures;
            if (wanted && (handshake is null || now - handshake.Value >= _options.EarlyResolveAfter))
            {
                RuntimeLog.EarlyResolve(_options.Logger, name, site.Interface, site.Name,
                    handshake is null ? -1 : (long)(now - handshake.Value).TotalSeconds);
                return true;
            }
        }

        return false;
    }

    private Device.Peer? PeerOf(SiteConfig site) =>
        _hostsView.TryGetValue(site.Interface, out var host) ? host.Device.FindPeer(site.PublicKey) : null;

    private long HandshakeFailures(List<SiteConfig> sites) => sites.Sum(s => PeerOf(s)?.HandshakeFailures ?? 0);

    /// <summary>Asks the resolver (bounded by ResolveTimeout); logs a change or a failure; true when the address
    /// changed.</summary>
    private async Task<bool> ResolveAsync(string name, List<SiteConfig> sites, CancellationToken cancellationToken)
    {
        IPEndPoint? address;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(_options.ResolveTimeout);
            try
            {
                address = await _options.ResolveEndpoint(name, timeout.Token)
                    .WaitAsync(_options.ResolveTimeout, _options.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A resolver that throws (timeout, socket error, anything) counts as "did not resolve".
                cancellationToken.ThrowIfCancellationRequested();
                address = null;
            }
        }

        var previous = _resolutions.TryGetValue(name, out var last) ? last : null;
        // A failed lookup keeps the last good address: the peer keeps working if only DNS is down.
        _resolutions[name] = new Resolution(address ?? previous?.Address, address is not null, _options.Time.GetUtcNow(),
            HandshakeFailures(sites));
        if (address is null)
        {
            if (previous is null || previous.Resolved)
            {
                foreach (var site in sites)
                {
                    RuntimeLog.EndpointUnresolved(_options.Logger, site.Interface, site.Name, name);
                }
            }

            return false;
        }

        if (address.Equals(previous?.Address))
        {
            return false;
        }

        foreach (var site in sites)
        {
            RuntimeLog.EndpointChanged(_options.Logger, site.Interface, site.Name, name, address.ToString(),
                previous?.Address?.ToString() ?? "unresolved");
        }

        return true;
    }
}
