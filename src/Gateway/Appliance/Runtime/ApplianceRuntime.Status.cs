using Branchgate.Appliance.Model;
using Branchgate.Protocol;
using Branchgate.Uapi;

namespace Branchgate.Appliance.Runtime;

// Status: the configured interfaces and sites with what their devices report now. Safe from any thread: it reads the
// published set of hosts and takes each device's configuration lock only for its snapshot.
public sealed partial class ApplianceRuntime
{
    /// <summary>A handshake younger than this (REJECT_AFTER_TIME) counts as online.</summary>
    private static readonly TimeSpan OnlineWindow = TimeSpan.FromSeconds(180);

    public IReadOnlyList<InterfaceStatus> Status()
    {
        var config = _current;
        var hosts = _hostsView;
        var now = _options.Time.GetUtcNow();
        var result = new List<InterfaceStatus>();
        foreach (var iface in config.Interfaces)
        {
            if (!hosts.TryGetValue(iface.Name, out var host))
            {
                result.Add(new InterfaceStatus
                {
                    Name = iface.Name,
                    PublicKey = iface.PublicKey.ToBase64(),
                    Peers = [.. config.SitesOf(iface.Name).Select(s => PeerStatusOf(s, null, null, now))],
                });
                continue;
            }

            UapiDeviceSnapshot snapshot;
            using (host.Target.LockConfiguration())
            {
                snapshot = host.Target.Snapshot();
            }

            using (snapshot)
            {
                var drops = new Dictionary<string, long>(StringComparer.Ordinal);
                foreach (var reason in Enum.GetValues<DropReason>())
                {
                    if (reason != DropReason.None)
                    {
                        drops[reason.ToString()] = host.Device.DroppedPackets(reason);
                    }
                }

                result.Add(new InterfaceStatus
                {
                    Name = iface.Name,
                    PublicKey = iface.PublicKey.ToBase64(),
                    ListenPort = snapshot.ListenPort,
                    Up = host.IsUp,
                    Addresses = host.ObservedAddresses,
                    Drops = drops,
                    Peers = [.. config.SitesOf(iface.Name).Select(s => PeerStatusOf(s,
                        s.Enabled ? snapshot.Peers.FirstOrDefault(p => p.PublicKey.Equals(s.PublicKey)) : null,
                        host, now))],
                });
            }
        }

        return result;
    }

    private static PeerStatus PeerStatusOf(SiteConfig site, UapiPeerSnapshot? peer, DeviceHost? host, DateTimeOffset now)
    {
        DateTimeOffset? handshake = peer is null || peer.LastHandshakeTimeSeconds == 0
            ? null
            : DateTimeOffset.FromUnixTimeSeconds(peer.LastHandshakeTimeSeconds).AddTicks(peer.LastHandshakeTimeNanoseconds / 100);
        return new PeerStatus
        {
            Interface = site.Interface,
            Name = site.Name,
            PublicKey = site.PublicKey.ToBase64(),
            Enabled = site.Enabled,
            Endpoint = peer?.Endpoint?.ToString(),
            ConfiguredEndpoint = site.Endpoint,
            LastHandshake = handshake,
            ReceivedBytes = peer?.ReceivedBytes ?? 0,
            TransmittedBytes = peer?.TransmittedBytes ?? 0,
            Online = handshake is { } at && now - at < OnlineWindow,
            HandshakeFailures = peer is null ? 0 : host?.Device.FindPeer(site.PublicKey)?.HandshakeFailures ?? 0,
            AllowedIps = [.. site.AllowedIps.Select(p => p.ToString())],
        };
    }
}
