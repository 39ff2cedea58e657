using System.Net;
using System.Net.Sockets;
using Branchgate.Platform.Linux.Udp;

namespace Branchgate.Platform.Linux.Tests.Udp;

public class UdpEndpointTests
{
    [Fact]
    public void Ipv4_mapped_addresses_become_plain_ipv4()
    {
        var mapped = new UdpEndpoint(IPAddress.Parse("::ffff:192.0.2.7").GetAddressBytes(), 51820);
        Assert.True(mapped.IsIPv4);
        Assert.Equal(AddressFamily.InterNetwork, mapped.Family);
        Assert.Equal([192, 0, 2, 7], mapped.Address.ToArray());
        Assert.Equal(new UdpEndpoint([192, 0, 2, 7], 51820), mapped);
        Assert.Equal("192.0.2.7:51820", mapped.ToString());
        Assert.Equal(mapped, UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("[::ffff:192.0.2.7]:51820")));
    }

    [Fact]
    public void Parse_takes_the_uapi_forms()
    {
        var v4 = UdpEndpoint.Parse("203.0.113.9:51820");
        Assert.Equal(new IPEndPoint(IPAddress.Parse("203.0.113.9"), 51820), v4.ToIPEndPoint());
        var v6 = UdpEndpoint.Parse("[fe80::1%3]:443");
        Assert.True(v6.IsIPv6);
        Assert.Equal(3u, v6.ScopeId);
        Assert.Equal(443, v6.Port);
        Assert.Equal(16, v6.Address.Length);
        Assert.Throws<FormatException>(() => UdpEndpoint.Parse("203.0.113.9"));
        Assert.Throws<FormatException>(() => UdpEndpoint.Parse("nonsense:1"));
        Assert.Throws<FormatException>(() => UdpEndpoint.Parse("[fd00::1]"));
        Assert.Throws<FormatException>(() => UdpEndpoint.Parse("fd00::1"));
    }

    [Fact]
    public void Equality_covers_the_pinned_source_and_DestinationEquals_ignores_it()
    {
        var peer = new UdpEndpoint([192, 0, 2, 1], 51820);
        var pinned = peer;
        pinned.SetSource([10, 0, 0, 2], 4);
        Assert.NotEqual(peer, pinned);
        Assert.True(peer.DestinationEquals(pinned));
        Assert.Equal(IPAddress.Parse("10.0.0.2"), pinned.SourceToIPAddress());
        Assert.Throws<ArgumentException>(() => pinned.SetSource(IPAddress.IPv6Loopback.GetAddressBytes(), 1));
        pinned.ClearSource();
        Assert.Equal(peer, pinned);
        Assert.Equal(peer.GetHashCode(), pinned.GetHashCode());
        Assert.True(pinned.SourceAddress.IsEmpty);
        Assert.Throws<ArgumentException>(() => new UdpEndpoint([1, 2, 3], 1));
    }
}
