using System.Net;
using System.Net.Sockets;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Platform.Linux.Tests.Netlink.Route;

/// <summary>The CIDR types: strict parsing (host bits, lengths, odd address forms) and range arithmetic.</summary>
public class IPPrefixTests
{
    [Theory]
    [InlineData("10.2.0.0/24", "10.2.0.0", 24)]
    [InlineData("0.0.0.0/0", "0.0.0.0", 0)]
    [InlineData("10.2.0.7/32", "10.2.0.7", 32)]
    [InlineData("fd00:1::/64", "fd00:1::", 64)]
    [InlineData("::/0", "::", 0)]
    [InlineData("2001:db8::1/128", "2001:db8::1", 128)]
    public void Parse_accepts_canonical_prefixes(string text, string address, int length)
    {
        var prefix = IPPrefix.Parse(text);
        Assert.Equal(IPAddress.Parse(address), prefix.Address);
        Assert.Equal(length, prefix.PrefixLength);
        Assert.Equal(text, prefix.ToString());
    }

    [Fact]
    public void Host_bits_are_refused_with_the_prefix_meant()
    {
        var e = Assert.Throws<ArgumentException>(() => IPPrefix.Parse("10.2.0.1/24"));
        Assert.StartsWith("10.2.0.1/24 has host bits set; did you mean 10.2.0.0/24?", e.Message);
        e = Assert.Throws<ArgumentException>(() => IPPrefix.Parse("fd00:1::1/64"));
        Assert.StartsWith("fd00:1::1/64 has host bits set; did you mean fd00:1::/64?", e.Message);
        Assert.Throws<ArgumentException>(() => new IPPrefix(IPAddress.Parse("10.2.0.1"), 24));
        Assert.False(IPPrefix.TryParse("10.2.0.1/24", out _, out string? why));
        Assert.Contains("host bits", why);
    }

    [Theory]
    [InlineData("10.2.0.0/33")]
    [InlineData("10.2.0.0/-1")]
    [InlineData("fd00::/129")]
    [InlineData("10.2.0.0/")]
    [InlineData("10.2.0.0/ 24")]
    [InlineData("10.2.0.0/24x")]
    [InlineData("10.2.0.0")]
    [InlineData("10.2/16")]
    [InlineData("010.2.0.0/16")]
    [InlineData("0x0a.2.0.0/16")]
    [InlineData("10.2.0.256/32")]
    [InlineData("10.2.0.0.0/32")]
    [InlineData("fe80::%2/64")]
    [InlineData("not-an-address/8")]
    [InlineData("")]
    public void Malformed_prefixes_are_refused(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => IPPrefix.Parse(text));
        Assert.NotEmpty(e.Message);
        Assert.False(IPPrefix.TryParse(text, out _));
    }

    [Fact]
    public void Containment_and_overlap_follow_the_ranges()
    {
        var wide = IPPrefix.Parse("10.0.0.0/8");
        var narrow = IPPrefix.Parse("10.2.0.0/24");
        var other = IPPrefix.Parse("192.168.0.0/16");
        Assert.True(wide.Contains(narrow));
        Assert.False(narrow.Contains(wide));
        Assert.True(wide.Overlaps(narrow) && narrow.Overlaps(wide));
        Assert.False(wide.Overlaps(other));
        Assert.True(narrow.Contains(IPAddress.Parse("10.2.0.200")));
        Assert.False(narrow.Contains(IPAddress.Parse("10.2.1.0")));
        Assert.False(IPPrefix.Parse("::/0").Overlaps(IPPrefix.Parse("0.0.0.0/0")));
        Assert.True(IPPrefix.Parse("::/0").Contains(IPPrefix.Parse("fd00::/8")));
    }

    [Fact]
    public void Helpers_build_the_expected_prefixes()
    {
        Assert.Equal(IPPrefix.Parse("10.1.0.0/24"), IPPrefix.Containing(IPAddress.Parse("10.1.0.1"), 24));
        Assert.Equal(IPPrefix.Parse("10.1.0.1/32"), IPPrefix.Host(IPAddress.Parse("10.1.0.1")));
        Assert.Equal(IPPrefix.Parse("::/0"), IPPrefix.DefaultRoute(AddressFamily.InterNetworkV6));
        Assert.Equal(IPPrefix.Parse("0.0.0.0/0"), default);
        Assert.True(default(IPPrefix).IsDefault);
        Assert.Equal(new IPNetwork(IPAddress.Parse("fd00::"), 8), IPPrefix.Parse("fd00::/8").ToIPNetwork());
    }

    [Fact]
    public void Interface_addresses_keep_host_bits_and_name_their_network()
    {
        var address = InterfaceAddress.Parse("10.1.0.1/24");
        Assert.Equal(IPAddress.Parse("10.1.0.1"), address.Address);
        Assert.Equal(24, address.PrefixLength);
        Assert.Equal(IPPrefix.Parse("10.1.0.0/24"), address.Network);
        Assert.Equal("fd00:1::1/64", InterfaceAddress.Parse("fd00:1::1/64").ToString());
        Assert.Throws<ArgumentException>(() => InterfaceAddress.Parse("10.1.0.1/40"));
        Assert.Throws<ArgumentException>(() => InterfaceAddress.Parse("10.1.0.1"));
    }
}
