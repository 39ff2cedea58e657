using System.Net;
using System.Security.Cryptography;
using Branchgate.Appliance.Model;
using Branchgate.Crypto;
using Branchgate.Device;
using Branchgate.Uapi;

namespace Branchgate.Appliance.Runtime;

/// <summary>
/// Makes one device match its <see cref="InterfaceConfig"/> and enabled sites through the same in-process calls the
/// UAPI uses, under the device's configuration lock, touching only what differs: the private key, listen port and
/// fwmark; peers added, removed or updated (preshared key, keepalive, allowed IPs replaced only when the set differs).
/// An endpoint is set only when the configured (resolved) address changed since it was last set, so a peer that
/// roamed keeps following its authenticated packets.
/// </summary>
internal static class DeviceReconciler
{
    /// <summary>Returns the number of changes made (0 when the device already matched). <paramref name="endpointOf"/>
    /// gives the resolved address of a site's configured endpoint (null: none, or not resolved yet).</summary>
    /// <exception cref="ApplyException">The port or fwmark could not be set, or the device refused a peer.</exception>
    public static int Reconcile(DeviceHost host, InterfaceConfig config, IReadOnlyList<SiteConfig> sites,
        Func<SiteConfig, IPEndPoint?> endpointOf)
    {
        var target = host.Target;
        using var held = target.LockConfiguration();
        using var snapshot = target.Snapshot();
        int changes = 0;

        if (!CryptographicOperations.FixedTimeEquals(snapshot.PrivateKey, config.PrivateKey.Span))
        {
            target.SetPrivateKey(config.PrivateKey.Span);
            changes++;
        }

        if (host.ConfiguredPort != config.ListenPort || (config.ListenPort != 0 && snapshot.ListenPort != config.ListenPort))
        {
            if (!target.TrySetListenPort(config.ListenPort))
            {
                throw new ApplyException($"{config.Name}: UDP port {config.ListenPort} could not be bound (in use?)");
            }

            host.ConfiguredPort = config.ListenPort;
            changes++;
        }

        if (snapshot.Fwmark != config.FwMark)
        {
            if (!target.TrySetFwmark(config.FwMark))
            {
                throw new ApplyException($"{config.Name}: fwmark {config.FwMark} could not be set");
            }

            changes++;
        }

        var wanted = new Dictionary<NoisePublicKey, SiteConfig>();
        foreach (var site in sites)
        {
            wanted[site.PublicKey] = site;
        }

        foreach (var existing in snapshot.Peers)
        {
            if (!wanted.ContainsKey(existing.PublicKey) && target.FindPeer(existing.PublicKey) is { } gone)
            {
                target.RemovePeer(gone);
                host.AppliedEndpoints.Remove(existing.PublicKey);
                changes++;
            }
        }

        foreach (var site in sites)
        {
            if (target.IsOwnPublicKey(site.PublicKey))
            {
                continue; // the validator refuses this; the device would ignore it anyway
            }

            var current = snapshot.Peers.FirstOrDefault(p => p.PublicKey.Equals(site.PublicKey));
            changes += ReconcilePeer(host, target, site, current, endpointOf(site));
        }

        return changes;
    }

    private static int ReconcilePeer(DeviceHost host, DeviceUapiTarget target, SiteConfig site, UapiPeerSnapshot? current,
        IPEndPoint? endpoint)
    {
        int changes = 0;
        IUapiPeer? peer;
        if (current is null)
        {
            peer = target.CreatePeer(site.PublicKey)
                ?? throw new ApplyException($"{site.Interface}/{site.Name}: the device refused another peer");
            host.AppliedEndpoints.Remove(site.PublicKey);
            changes++;
        }
        else
        {
            peer = target.FindPeer(site.PublicKey)
                ?? throw new ApplyException($"{site.Interface}/{site.Name}: the peer vanished while being configured");
        }

        ReadOnlySpan<byte> psk = site.PresharedKey is { } secret ? secret.Span : [];
        ReadOnlySpan<byte> currentPsk = current is null ? [] : current.PresharedKey;
        if (!CryptographicOperations.FixedTimeEquals(psk, currentPsk))
        {
            peer.SetPresharedKey(psk);
            changes++;
        }

        if ((current?.PersistentKeepaliveInterval ?? 0) != site.PersistentKeepalive)
        {
            peer.SetPersistentKeepalive(site.PersistentKeepalive);
            changes++;
        }

        var allowed = site.AllowedIps.Select(p => p.ToIPNetwork()).ToList();
        var have = current?.AllowedIps ?? [];
        if (have.Count != allowed.Count || !have.ToHashSet().SetEquals(allowed))
        {
            peer.ClearAllowedIps();
            foreach (var prefix in allowed)
            {
                peer.AddAllowedIp(prefix);
            }

            changes++;
        }

        if (endpoint is not null &&
            !(host.AppliedEndpoints.TryGetValue(site.PublicKey, out var applied) && applied.Equals(endpoint)))
        {
            peer.SetEndpoint(endpoint);
            host.AppliedEndpoints[site.PublicKey] = endpoint;
            changes++;
        }

        if (changes > 0)
        {
            peer.EndUpdate();
        }

        return changes;
    }
}
