using System.Net;
using Branchgate.Appliance.Config;

namespace Branchgate.Tests.Appliance.Config;

public sealed class SiteEndpointTests
{
    [Theory]
    [InlineData("198.51.100.7:51820", "198.51.100.7", 51820, "198.51.100.7:51820")]
    [InlineData("0.0.0.0:1", "0.0.0.0", 1, "0.0.0.0:1")]
    [InlineData("[2001:db8::1]:65535", "2001:db8::1", 65535, "[2001:db8::1]:65535")]
    [InlineData("[2001:DB8:0:0::1]:51820", "2001:db8::1", 51820, "[2001:db8::1]:51820")]
    [InlineData("[::ffff:192.0.2.1]:51820", "::ffff:192.0.2.1", 51820, "[::ffff:192.0.2.1]:51820")]
    [InlineData("198.51.100.7:051820", "198.51.100.7", 51820, "198.51.100.7:51820")]
    public void Literals_parse_into_an_address_and_print_canonically(string text, string host, int port, string canonical)
    {
        Assert.True(SiteEndpoint.TryParse(text, out var endpoint, out string? error), error);
        Assert.Equal(host, endpoint.Host);
        Assert.Equal(port, endpoint.Port);
        Assert.Equal(IPAddress.Parse(host), endpoint.Literal);
        Assert.False(endpoint.IsDnsName);
        Assert.Equal(canonical, endpoint.ToString());
    }

    [Theory]
    [InlineData("branch-b.example.net:51820")]
    [InlineData("localhost:1")]
    [InlineData("vpn.example.net.:51820")]
    [InlineData("1branch.example.net:51820")]
    [InlineData("a.b-c.d:65535")]
    [InlineData("xn--bcher-kva.example:51820")]
    public void Dns_names_are_kept_as_written(string text)
    {
        Assert.True(SiteEndpoint.TryParse(text, out var endpoint, out string? error), error);
        Assert.True(endpoint.IsDnsName);
        Assert.Null(endpoint.Literal);
        Assert.Equal(text, endpoint.ToString());
    }

    [Fact]
    public void A_63_character_label_and_a_253_character_name_are_accepted()
    {
        string label = new('a', 63);
        string name = string.Join('.', label, label, label, new string('b', 61));
        Assert.Equal(253, name.Length);
        Assert.True(SiteEndpoint.TryParse($"{label}.example:1", out _, out _));
        Assert.True(SiteEndpoint.TryParse(name + ":1", out _, out _));
        Assert.False(SiteEndpoint.TryParse($"{label}a.example:1", out _, out _));
        Assert.False(SiteEndpoint.TryParse(name + "b:1", out _, out _));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("198.51.100.7", "no port")]
    [InlineData("198.51.100.7:", "port")]
    [InlineData("198.51.100.7:0", "port")]
    [InlineData("198.51.100.7:65536", "port")]
    [InlineData("198.51.100.7:+5", "port")]
    [InlineData("198.51.100.7:5 ", "port")]
    [InlineData(":51820", "no host")]
    [InlineData("198.51.100.256:51820", "not an IPv4 address")]
    [InlineData("10.1:51820", "not an IPv4 address")]
    [InlineData("010.0.0.1:51820", "not an IPv4 address")]
    [InlineData("2001:db8::1:51820", "brackets")]
    [InlineData("[2001:db8::1]51820", "[IPv6]:port")]
    [InlineData("[2001:db8::1:51820", "[IPv6]:port")]
    [InlineData("[198.51.100.7]:51820", "not an IPv6 address")]
    [InlineData("[fe80::1%eth0]:51820", "zones")]
    [InlineData("-branch.example.net:51820", "may not start or end with '-'")]
    [InlineData("branch-.example.net:51820", "may not start or end with '-'")]
    [InlineData("branch..example.net:51820", "empty label")]
    [InlineData("bad_name.example.net:51820", "not a host name")]
    [InlineData("b r.example.net:51820", "not a host name")]
    [InlineData("bücher.example:51820", "not a host name")]
    public void Everything_else_is_refused_with_a_reason(string text, string reason)
    {
        Assert.False(SiteEndpoint.TryParse(text, out var endpoint, out string? error));
        Assert.Null(endpoint);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_is_refused_not_thrown() =>
        Assert.False(SiteEndpoint.TryParse(null, out _, out _));

    [Fact]
    public void ToString_parses_back_to_an_equal_value()
    {
        foreach (var text in new[] { "198.51.100.7:51820", "[2001:db8::7]:1", "branch-b.example.net:443" })
        {
            Assert.True(SiteEndpoint.TryParse(text, out var first, out _));
            Assert.True(SiteEndpoint.TryParse(first.ToString(), out var second, out _));
            Assert.Equal(first, second);
        }
    }

    [Fact]
    public void Errors_do_not_carry_control_characters_or_unbounded_text()
    {
        Assert.False(SiteEndpoint.TryParse("bad\nname:1", out _, out string? error));
        Assert.DoesNotContain('\n', error);
        Assert.False(SiteEndpoint.TryParse(new string('x', 5000) + ":1", out _, out error));
        Assert.True(error.Length < 200, error);
    }
}
