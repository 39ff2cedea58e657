using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests;

/// <summary>
/// Several peers at once: a branchgate hub with a wireguard-go branch and a branchgate branch. Routing by destination
/// picks the right peer, and branch-to-branch traffic passes through the hub (in by one peer, out by the other).
/// </summary>
public class HubTests
{
    [Fact]
    public void A_hub_routes_to_each_of_its_peers_and_between_them()
    {
        using var sites = new WireGuardSites(Implementation.Branchgate, Implementation.WireGuardGo, Implementation.Branchgate);
        Site hub = sites.A, b = sites.B, c = sites.C!;
        hub.Wg($"set {hub.Interface} listen-port 51820 private-key {hub.PrivateKeyFile} " +
            $"peer {b.PublicKey} allowed-ips {b.TunnelV4}/32,{b.TunnelV6}/128 endpoint {b.WanV4}:51821 " +
            $"peer {c.PublicKey} allowed-ips {c.TunnelV4}/32,{c.TunnelV6}/128 endpoint [{c.WanV6}]:51822");
        foreach (var (branch, other, port) in new[] { (b, c, 51821), (c, b, 51822) })
        {
            branch.Wg($"set {branch.Interface} listen-port {port} private-key {branch.PrivateKeyFile} " +
                $"peer {hub.PublicKey} endpoint {hub.WanV4}:51820 " +
                $"allowed-ips {hub.TunnelV4}/32,{hub.TunnelV6}/128,{other.TunnelV4}/32,{other.TunnelV6}/128");
        }

        foreach (var site in sites.Sites)
        {
            site.Exec($"ip addr add {site.TunnelV4}/24 dev {site.Interface} && " +
                $"ip addr add {site.TunnelV6}/64 dev {site.Interface} nodad && ip link set {site.Interface} up");
        }

        hub.Exec("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1");

        Assert.True(WireGuardSites.Ping(hub, b.TunnelV4), "hub -> wireguard-go branch");
        Assert.True(WireGuardSites.Ping(hub, c.TunnelV6), "hub -> branchgate branch (v6 inside, v6 outside)");
        Assert.True(WireGuardSites.Ping(b, c.TunnelV4), "wireguard-go branch -> branchgate branch through the hub");
        Assert.True(WireGuardSites.Ping(c, b.TunnelV6), "branchgate branch -> wireguard-go branch through the hub");

        var endpoints = hub.Wg($"show {hub.Interface} endpoints");
        Assert.Contains($"{b.PublicKey}\t{b.WanV4}:51821", endpoints, StringComparison.Ordinal);
        Assert.Contains($"{c.PublicKey}\t[{c.WanV6}]:51822", endpoints, StringComparison.Ordinal);
    }
}
