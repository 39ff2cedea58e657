using System.Net;
using System.Text;
using Branchgate.Uapi;

namespace Branchgate.Tests.Uapi;

/// <summary>The Go 1.19 net/netip and strconv rules wireguard-go 0.0.20220316 applies to UAPI values.</summary>
public class UapiAddressTextTests
{
    private static uint? Interfaces(string name) => name switch
    {
        "lo" => 1,
        "eth0" => 2,
        "7" => 9, // a name wins over the number it looks like, as net.InterfaceByName is tried first
        _ => null,
    };

    [Theory]
    [InlineData("0", 65535, 0ul)]
    [InlineData("65535", 65535, 65535ul)]
    [InlineData("0005", 65535, 5ul)]
    [InlineData("00000000000000000000000000000042", 65535, 42ul)]
    [InlineData("4294967295", 4294967295, 4294967295ul)]
    public void Unsigned_numbers_as_strconv_ParseUint(string text, ulong max, ulong expected)
    {
        Assert.True(UapiAddressText.TryParseUnsigned(text, max, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("", 65535)]
    [InlineData("65536", 65535)]
    [InlineData("+5", 65535)]
    [InlineData("-0", 65535)]
    [InlineData(" 5", 65535)]
    [InlineData("5 ", 65535)]
    [InlineData("0x10", 65535)]
    [InlineData("1_000", 65535)]
    [InlineData("4294967296", 4294967295)]
    [InlineData("99999999999999999999999", 4294967295)]
    [InlineData("５", 65535)] // a non-ASCII digit
    public void Unsigned_numbers_refused(string text, ulong max) =>
        Assert.False(UapiAddressText.TryParseUnsigned(text, max, out _));

    [Theory]
    [InlineData("1.2.3.4:51820", "1.2.3.4:51820", 0u)]
    [InlineData("0.0.0.0:0", "0.0.0.0:0", 0u)]
    [InlineData("255.255.255.255:65535", "255.255.255.255:65535", 0u)]
    [InlineData("1.2.3.4:00051", "1.2.3.4:51", 0u)]
    [InlineData("[::1]:5", "[::1]:5", 0u)]
    [InlineData("[::]:5", "[::]:5", 0u)]
    [InlineData("[::ffff:1.2.3.4]:5", "[::ffff:1.2.3.4]:5", 0u)]
    [InlineData("[::1.2.3.4]:5", "[::102:304]:5", 0u)]
    [InlineData("[2001:DB8:0:0:1:0:0:1]:5", "[2001:db8::1:0:0:1]:5", 0u)]
    [InlineData("[2001:db8:0:0:0:0:2:1]:5", "[2001:db8::2:1]:5", 0u)]
    [InlineData("[2001:0:0:1:0:0:0:1]:5", "[2001:0:0:1::1]:5", 0u)]
    [InlineData("[1:0:1:0:1:0:1:0]:5", "[1:0:1:0:1:0:1:0]:5", 0u)]
    [InlineData("[0000:0000:0000:0000:0000:0000:0000:0001]:5", "[::1]:5", 0u)]
    [InlineData("[00001::]:5", "[1::]:5", 0u)]
    [InlineData("[fe80::1%lo]:5", "[fe80::1]:5", 1u)]
    [InlineData("[fe80::1%eth0]:51820", "[fe80::1]:51820", 2u)]
    [InlineData("[fe80::1%7]:5", "[fe80::1]:5", 9u)]
    [InlineData("[fe80::1%42]:5", "[fe80::1]:5", 42u)]
    [InlineData("[fe80::1%0]:5", "[fe80::1]:5", 0u)]
    [InlineData("[::ffff:1.2.3.4%lo]:5", "[::ffff:1.2.3.4]:5", 1u)]
    public void Endpoints_parse_and_print_as_wireguard_go(string text, string printed, uint scope)
    {
        Assert.True(UapiAddressText.TryParseEndpoint(text, Interfaces, out var endpoint));
        var output = new StringBuilder();
        UapiAddressText.AppendEndpoint(output, endpoint!);
        Assert.Equal(printed, output.ToString());
        if (endpoint!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            Assert.Equal(scope, (uint)endpoint.Address.ScopeId);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.3.4")]
    [InlineData("1.2.3.4:")]
    [InlineData(":5")]
    [InlineData("localhost:5")]
    [InlineData("example.com:51820")]
    [InlineData("1.2.3.4:http")]
    [InlineData("1.2.3.4:65536")]
    [InlineData("1.2.3.4:-1")]
    [InlineData("1.2.3.4:+5")]
    [InlineData("01.2.3.4:5")]
    [InlineData("1.2.3:5")]
    [InlineData("1.2.3.4.5:5")]
    [InlineData("1.2.3.256:5")]
    [InlineData("1..3.4:5")]
    [InlineData(".1.2.3:5")]
    [InlineData("1.2.3.4%lo:5")]
    [InlineData("[1.2.3.4]:5")]
    [InlineData("::1:5")]
    [InlineData("[::1:5")]
    [InlineData("[::1]]:5")]
    [InlineData("[]:5")]
    [InlineData("[:5")]
    [InlineData("[::1%]:5")]
    [InlineData("[fe80::1%nosuchif]:5")]
    [InlineData("[fe80::1%4294967296]:5")]
    [InlineData("[%lo]:5")]
    [InlineData("[1:2:3:4:5:6:7:8:9]:5")]
    [InlineData("[1:2:3:4:5:6:7]:5")]
    [InlineData("[1::2::3]:5")]
    [InlineData("[1:2:3:4:5:6:7::8]:5")]
    [InlineData("[1:2:3:4:5:6:7:8::]:5")]
    [InlineData("[12345::]:5")]
    [InlineData("[::g]:5")]
    [InlineData("[1:]:5")]
    [InlineData("[:1::]:5")]
    [InlineData("[1:2:3:4:5:1.2.3.4]:5")]
    [InlineData("[1.2.3.4::]:5")]
    [InlineData("[::1.2.3]:5")]
    [InlineData("[::01.2.3.4]:5")]
    [InlineData("[ ::1]:5")]
    [InlineData("1.2.3.4:5 ")]
    public void Endpoints_refused_as_wireguard_go_refuses_them(string text) =>
        Assert.False(UapiAddressText.TryParseEndpoint(text, Interfaces, out _));

    [Theory]
    [InlineData("10.1.2.3/8", "10.0.0.0/8")]
    [InlineData("10.1.2.3/32", "10.1.2.3/32")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("10.1.2.3/+8", "10.0.0.0/8")]
    [InlineData("10.1.2.3/08", "10.0.0.0/8")]
    [InlineData("10.1.2.3/-0", "0.0.0.0/0")]
    [InlineData("10.1.2.3/-00000000000000000000000", "0.0.0.0/0")]
    [InlineData("192.168.77.129/25", "192.168.77.128/25")]
    [InlineData("fd00::1/64", "fd00::/64")]
    [InlineData("::/0", "::/0")]
    [InlineData("::ffff:1.2.3.4/128", "::ffff:1.2.3.4/128")]
    [InlineData("::ffff:1.2.3.4/96", "::ffff:0.0.0.0/96")]
    [InlineData("::1.2.3.4/128", "::102:304/128")]
    [InlineData("2001:db8:ffff::1/35", "2001:db8:e000::/35")]
    public void Prefixes_parse_masked_and_print_as_wireguard_go(string text, string printed)
    {
        Assert.True(UapiAddressText.TryParsePrefix(text, out var prefix));
        var output = new StringBuilder();
        UapiAddressText.AppendPrefix(output, prefix);
        Assert.Equal(printed, output.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.0")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/+")]
    [InlineData("10.0.0.0/8/8")]
    [InlineData("10.0.0.0/ 8")]
    [InlineData("10.0.0.0/0x8")]
    [InlineData("/8")]
    [InlineData("fd00::/129")]
    [InlineData("fe80::1%lo/64")]
    [InlineData("10.0.0/8")]
    [InlineData("-10.0.0.0/8")] // the parser, not the prefix syntax, handles the removal dash
    [InlineData("10.0.0.0/99999999999999999999999")]
    public void Prefixes_refused(string text) => Assert.False(UapiAddressText.TryParsePrefix(text, out _));

    [Fact]
    public void Address_formatting_compresses_the_first_longest_zero_run()
    {
        static string Format(string address)
        {
            var output = new StringBuilder();
            UapiAddressText.AppendAddress(output, IPAddress.Parse(address));
            return output.ToString();
        }

        Assert.Equal("1:0:0:1::", Format("1:0:0:1:0:0:0:0"));
        Assert.Equal("1::1:0:0:1", Format("1:0:0:0:1:0:0:1"));
        Assert.Equal("1:0:0:1::1", Format("1:0:0:1:0:0:0:1"));
        Assert.Equal("::ffff:10.0.0.1", Format("::ffff:10.0.0.1"));
        Assert.Equal("::a00:1", Format("::10.0.0.1"));
        Assert.Equal("1:2:3:4:5:6:7:8", Format("1:2:3:4:5:6:7:8"));
        Assert.Equal("1:2:3:4:5:6:7:0", Format("1:2:3:4:5:6:7:0"));
        Assert.Equal("fe80::1", Format("fe80::1%3"));
    }
}
