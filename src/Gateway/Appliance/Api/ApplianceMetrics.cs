namespace Branchgate.Appliance.Api;

/// <summary>The appliance's live status as Prometheus metrics (GET /metrics).</summary>
internal static class ApplianceMetrics
{
    public static string Write(IReadOnlyList<InterfaceStatus> interfaces)
    {
        var text = new PrometheusText();

        text.Family("branchgate_interface_up", "gauge", "1 when the WireGuard interface is up.");
        foreach (var i in interfaces)
        {
            text.Sample("branchgate_interface_up", [Label("interface", i.Name)], i.Up ? 1 : 0);
        }

        text.Family("branchgate_interface_peers", "gauge", "Configured peers (sites and remote workers) of the interface.");
        foreach (var i in interfaces)
        {
            text.Sample("branchgate_interface_peers", [Label("interface", i.Name)], (ulong)i.Peers.Count);
        }

        text.Family("branchgate_interface_dropped_packets_total", "counter", "Packets the interface dropped, by reason.");
        foreach (var i in interfaces)
        {
            foreach (var (reason, count) in i.Drops.OrderBy(d => d.Key, StringComparer.Ordinal))
            {
                text.Sample("branchgate_interface_dropped_packets_total", [Label("interface", i.Name), Label("reason", reason)],
                    (ulong)Math.Max(0, count));
            }
        }

        PeerFamily(text, interfaces, "branchgate_peer_receive_bytes_total", "counter", "Bytes received from the peer.",
            p => p.ReceivedBytes);
        PeerFamily(text, interfaces, "branchgate_peer_transmit_bytes_total", "counter", "Bytes sent to the peer.",
            p => p.TransmittedBytes);
        PeerFamily(text, interfaces, "branchgate_peer_last_handshake_timestamp_seconds", "gauge",
            "Unix time of the last completed handshake with the peer; 0 when there was none.",
            p => p.LastHandshake is { } t ? (ulong)Math.Max(0, t.ToUnixTimeSeconds()) : 0);
        PeerFamily(text, interfaces, "branchgate_peer_online", "gauge",
            "1 when the last handshake is recent enough for the session to be usable (180 s).", p => p.Online ? 1UL : 0UL);
        PeerFamily(text, interfaces, "branchgate_peer_handshake_failures_total", "counter",
            "Handshakes with the peer that were not answered or not accepted.", p => (ulong)Math.Max(0, p.HandshakeFailures));
        return text.ToString();
    }

    private static void PeerFamily(PrometheusText text, IReadOnlyList<InterfaceStatus> interfaces, string name, string type,
        string help, Func<PeerStatus, ulong> value)
    {
        text.Family(name, type, help);
        foreach (var i in interfaces)
        {
            foreach (var p in i.Peers)
            {
                text.Sample(name, [Label("interface", i.Name), Label("peer", p.Name), Label("public_key", p.PublicKey)], value(p));
            }
        }
    }

    private static KeyValuePair<string, string> Label(string name, string value) => new(name, value);
}
