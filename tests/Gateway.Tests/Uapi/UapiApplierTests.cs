using Branchgate.Crypto;
using Branchgate.Uapi;
using static Branchgate.Tests.Uapi.UapiTestText;

namespace Branchgate.Tests.Uapi;

/// <summary>The semantics of a set request on a device, as wireguard-go 0.0.20220316 gives them.</summary>
public class UapiApplierTests
{
    private static readonly string A = Hex(0xaa), B = Hex(0xbb), C = Hex(0xcc);

    private static string[] PeerKeys(InMemoryUapiTarget target)
    {
        using var snapshot = target.Snapshot();
        return [.. snapshot.Peers.Select(p => Convert.ToHexStringLower(p.PublicKey.Span))];
    }

    private static string[] AllowedIps(InMemoryUapiTarget target, string key)
    {
        using var snapshot = target.Snapshot();
        return [.. snapshot.Peers.Single(p => Convert.ToHexStringLower(p.PublicKey.Span) == key).AllowedIps.Select(p => p.ToString())];
    }

    [Fact]
    public void Update_only_ignores_an_absent_peer_and_updates_a_present_one()
    {
        var target = new InMemoryUapiTarget();
        Assert.Equal(UapiErrno.None, Set(target, $"public_key={A}\nupdate_only=true\nendpoint=1.2.3.4:5\nallowed_ip=10.0.0.0/8\n"));
        Assert.Empty(PeerKeys(target));

        Set(target, $"public_key={A}\n");
        Assert.Equal(UapiErrno.None, Set(target, $"public_key={A}\nupdate_only=true\nendpoint=1.2.3.4:5\n"));
        using var snapshot = target.Snapshot();
        Assert.Equal("1.2.3.4:5", snapshot.Peers.Single().Endpoint!.ToString());
    }

    [Fact]
    public void Update_only_after_other_lines_undoes_them_with_the_new_peer_as_wireguard_go_does()
    {
        // wireguard-go creates the peer at public_key, the allowed_ip line moves 10.0.0.0/8 to it, update_only removes
        // the peer with its ranges: the range is gone from A too (observed on wireguard-go 0.0.20220316).
        var target = new InMemoryUapiTarget();
        Set(target, $"public_key={A}\nallowed_ip=10.0.0.0/8\nallowed_ip=10.1.0.0/16\n");
        Assert.Equal(UapiErrno.None, Set(target, $"public_key={B}\nallowed_ip=10.0.0.0/8\nupdate_only=true\n"));
        Assert.Equal([A], PeerKeys(target));
        Assert.Equal(["10.1.0.0/16"], AllowedIps(target, A));
    }

    [Fact]
    public void Remove_of_an_absent_peer_changes_nothing_and_ignores_the_rest_of_the_section()
    {
        var target = new InMemoryUapiTarget();
        Set(target, $"public_key={A}\nallowed_ip=10.0.0.0/8\n");
        var before = Get(target);
        Assert.Equal(UapiErrno.None, Set(target, $"public_key={B}\nremove=true\nallowed_ip=10.0.0.0/8\nendpoint=1.2.3.4:5\n"));
        Assert.Equal(before, Get(target));

        Assert.Equal(UapiErrno.None, Set(target, $"public_key={A}\nremove=true\nremove=true\nupdate_only=true\n"));
        Assert.Empty(PeerKeys(target));
    }

    [Fact]
    public void Replace_allowed_ips_clears_only_what_came_before_it()
    {
        var target = new InMemoryUapiTarget();
        Set(target, $"public_key={A}\nallowed_ip=10.0.0.0/8\n");
        Set(target, $"public_key={A}\nallowed_ip=10.2.0.0/16\nreplace_allowed_ips=true\nallowed_ip=10.3.0.0/16\nallowed_ip=fd00::/8\n");
        Assert.Equal(["10.3.0.0/16", "fd00::/8"], AllowedIps(target, A));
    }

    [Fact]
    public void Allowed_ips_keep_insertion_order_move_last_when_added_again_and_move_between_peers()
    {
        var target = new InMemoryUapiTarget();
        Set(target, $"public_key={A}\nallowed_ip=10.1.2.3/8\nallowed_ip=fd00::/64\nallowed_ip=0.0.0.0/0\nallowed_ip=10.0.0.0/8\n" +
            $"public_key={B}\nallowed_ip=fd00::1/64\nallowed_ip=192.168.0.0/24\n");
        Assert.Equal(["0.0.0.0/0", "10.0.0.0/8"], AllowedIps(target, A));
        Assert.Equal(["fd00::/64", "192.168.0.0/24"], AllowedIps(target, B));
    }

    [Fact]
    public void Removing_one_allowed_ip_needs_this_peer_to_own_it()
    {
        var target = new InMemoryUapiTarget();
        Set(target, $"public_key={A}\nallowed_ip=10.0.0.0/8\nallowed_ip=10.1.0.0/16\npublic_key={B}\nallowed_ip=fd00::/64\n");
        Assert.Equal(UapiErrno.None, Set(target, $"public_key={B}\nallowed_ip=-10.0.0.0/8\nallowed_ip=-fd00::1/64\n"));
        Assert.Equal(["10.0.0.0/8", "10.1.0.0/16"], AllowedIps(target, A));
        Assert.Empty(AllowedIps(target, B));
        Set(target, $"public_key={A}\nallowed_ip=-10.1.2.3/16\nallowed_ip=-172.16.0.0/12\n");
        Assert.Equal(["10.0.0.0/8"], AllowedIps(target, A));
    }

    [Fact]
    public void The_devices_own_public_key_is_ignored_all_zeros_before_a_private_key_is_set()
    {
        var target = new InMemoryUapiTarget();
        Assert.Equal(UapiErrno.None, Set(target, $"public_key={Hex(0)}\nendpoint=1.2.3.4:5\n"));
        Assert.Empty(PeerKeys(target));

        using var key = NoisePrivateKey.Generate();
        var own = Convert.ToHexStringLower(key.PublicKey.Span);
        Set(target, $"private_key={Convert.ToHexStringLower(key.Span)}\npublic_key={own}\nallowed_ip=10.0.0.0/8\n");
        Assert.Empty(PeerKeys(target));

        // After private_key=0 the own key is the public key of the clamped zero scalar, so zeros are a peer again.
        Set(target, $"private_key={Hex(0)}\npublic_key={Hex(0)}\n");
        Assert.Equal([Hex(0)], PeerKeys(target));
    }

    [Fact]
    public void A_new_private_key_removes_the_peer_with_its_public_key()
    {
        using var key = NoisePrivateKey.Generate();
        var own = Convert.ToHexStringLower(key.PublicKey.Span);
        var target = new InMemoryUapiTarget();
        Set(target, $"public_key={own}\nallowed_ip=10.0.0.0/8\npublic_key={A}\n");
        Assert.Equal(UapiErrno.None, Set(target, $"private_key={Convert.ToHexStringLower(key.Span)}\n"));
        Assert.Equal([A], PeerKeys(target));
    }

    [Fact]
    public void Replace_peers_removes_every_peer_before_the_sections_that_follow()
    {
        var target = new InMemoryUapiTarget();
        Set(target, $"public_key={A}\nallowed_ip=10.0.0.0/8\npublic_key={B}\n");
        Set(target, $"replace_peers=true\npublic_key={C}\nallowed_ip=10.0.0.0/8\n");
        Assert.Equal([C], PeerKeys(target));
        Assert.Equal(["10.0.0.0/8"], AllowedIps(target, C));
    }

    [Fact]
    public void A_busy_listen_port_answers_EADDRINUSE_and_changes_nothing()
    {
        var target = new InMemoryUapiTarget();
        Set(target, $"listen_port=1000\npublic_key={A}\n");
        var before = Get(target);
        target.BusyPorts.Add(2000);
        Assert.Equal(UapiErrno.AddressInUse,
            Set(target, $"private_key={Hex(0x42)}\nreplace_peers=true\nlisten_port=2000\npublic_key={B}\n"));
        Assert.Equal(before, Get(target));

        target.FailFwmark = true;
        Assert.Equal(UapiErrno.AddressInUse, Set(target, $"replace_peers=true\nfwmark=5\n"));
        Assert.Equal(before, Get(target));
    }

    [Fact]
    public void A_device_refusing_a_new_peer_answers_EINVAL()
    {
        var target = new InMemoryUapiTarget { MaxPeers = 1 };
        Assert.Equal(UapiErrno.Invalid, Set(target, $"public_key={A}\npublic_key={B}\n"));
        Assert.Equal([A], PeerKeys(target));
    }

    [Fact]
    public void Each_surviving_peer_section_ends_with_EndUpdate()
    {
        var target = new InMemoryUapiTarget();
        Set(target, $"public_key={A}\n");
        target.Calls.Clear();
        Set(target, $"public_key={A}\npersistent_keepalive_interval=25\npublic_key={B}\nremove=true\npublic_key={C}\nupdate_only=true\npublic_key={Hex(0x0d)}\n");
        Assert.Equal(
            [
                $"EndUpdate({Key(A)})", $"CreatePeer({Key(B)})", $"RemovePeer({Key(B)})", $"CreatePeer({Key(C)})",
                $"RemovePeer({Key(C)})", $"CreatePeer({Key(Hex(0x0d))})", $"EndUpdate({Key(Hex(0x0d))})",
            ],
            target.Calls);
    }

    [Fact]
    public void Device_settings_reach_the_target_and_zero_removes_them()
    {
        var target = new InMemoryUapiTarget();
        Set(target, $"private_key={Hex(0x48)}\nlisten_port=51820\nfwmark=42\n");
        Assert.Equal($"private_key={Hex(0x48)}\nlisten_port=51820\nfwmark=42\nerrno=0\n\n", Get(target)); // 0x48.. is already clamped
        Set(target, $"private_key={Hex(0)}\nlisten_port=51821\nfwmark=0\n");
        Assert.Equal("listen_port=51821\nerrno=0\n\n", Get(target));
    }

    private static string Key(string hex) => new NoisePublicKey(Convert.FromHexString(hex)).ToString();
}
