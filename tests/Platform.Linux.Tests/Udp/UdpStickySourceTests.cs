using System.Net;
using Branchgate.Platform.Linux.Udp;
using static Branchgate.Platform.Linux.Tests.Udp.UdpTestKit;

namespace Branchgate.Platform.Linux.Tests.Udp;

/// <summary>
/// Our socket lives in namespace A, whose veth carries two addresses per family; the peer lives in B. Replies must
/// leave from whichever address the peer wrote to, and fall back to a routed source once that address is gone.
/// </summary>
public class UdpStickySourceTests
{
    [Theory]
    [InlineData("10.77.0.1", "10.77.0.2", "10.77.0.3", "")]
    [InlineData("fd77::1", "fd77::2", "fd77::3", " nodad")]
    public void Replies_leave_from_the_address_the_peer_wrote_to(string primary, string secondary, string peerAddress, string flags)
    {
        using var a = new NetNs("udpsticka");
        using var b = new NetNs("udpstickb");
        int prefix = primary.Contains(':', StringComparison.Ordinal) ? 64 : 24;
        a.Exec($"ip link add va type veth peer name vb netns {b.Name}");
        a.Exec($"ip addr add {primary}/{prefix} dev va{flags} && ip addr add {secondary}/{prefix} dev va{flags} && ip link set va up");
        b.Exec($"ip addr add {peerAddress}/{prefix} dev vb{flags} && ip link set vb up");
        int vaIndex = a.IpJson("link show va")[0].GetProperty("ifindex").GetInt32();

        using var socket = a.Run(() => UdpSocket.Open(0));
        var peerIp = IPAddress.Parse(peerAddress);
        using var peer = b.Run(() => Peer(peerIp.AddressFamily, peerIp));
        using var batch = new UdpBatch();

        UdpEndpoint Ask(string local)
        {
            peer.SendTo("ping"u8.ToArray(), new IPEndPoint(IPAddress.Parse(local), socket.Port));
            Assert.Equal(1, socket.Receive(batch, 5000));
            var endpoint = batch.Endpoint(0);
            Assert.Equal(peerIp, endpoint.ToIPEndPoint().Address);
            Assert.Equal(IPAddress.Parse(local), endpoint.SourceToIPAddress());
            Assert.Equal(vaIndex, endpoint.SourceIfIndex);
            return endpoint;
        }

        IPAddress Reply(in UdpEndpoint to)
        {
            batch.Clear();
            batch.Append(to, "pong"u8);
            socket.Send(batch);
            var (data, from) = PeerReceive(peer);
            Assert.Equal("pong"u8.ToArray(), data);
            Assert.Equal(socket.Port, from.Port);
            return from.Address;
        }

        // The kernel's own choice without a pinned source (IPv4: the subnet's first address; IPv6 breaks the tie
        // between equal candidates for the newest address). The other one is only reachable by pinning.
        var routed = IPAddress.Parse(a.IpJson($"route get {peerAddress}")[0].GetProperty("prefsrc").GetString()!);
        var other = routed.Equals(IPAddress.Parse(primary)) ? secondary : primary;

        var viaOther = Ask(other);
        Assert.Equal(IPAddress.Parse(other), Reply(viaOther));
        var viaRouted = Ask(routed.ToString());
        Assert.Equal(routed, Reply(viaRouted));
        Assert.Equal(IPAddress.Parse(other), Reply(viaOther));

        var unpinned = viaOther;
        unpinned.ClearSource();
        Assert.Equal(routed, Reply(unpinned));

        // The pinned address disappears: the send falls back to a routed source without an error and says so.
        a.Exec($"ip addr del {other}/{prefix} dev va");
        Assert.Equal(routed, Reply(viaOther));
        Assert.False(batch.Endpoint(0).HasSource);
    }
}
