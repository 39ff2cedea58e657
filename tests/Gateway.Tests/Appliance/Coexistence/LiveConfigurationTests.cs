using System.Text;
using Branchgate.Appliance.Coexistence;
using static Branchgate.Tests.Appliance.Coexistence.KernelBuilder;

namespace Branchgate.Tests.Appliance.Coexistence;

public class LiveConfigurationTests
{
    private static readonly string KeyA = new('a', 64);
    private static readonly string KeyB = "0b" + new string('c', 62);

    [Fact]
    public void A_get_answer_becomes_the_interface_and_its_peers_without_keys()
    {
        var answer = Encoding.ASCII.GetBytes(
            $"private_key={new string('e', 64)}\nlisten_port=51820\nfwmark=81\n" +
            $"public_key={KeyA}\npreshared_key={new string('0', 64)}\nprotocol_version=1\nendpoint=192.0.2.2:51821\n" +
            "last_handshake_time_sec=0\nallowed_ip=10.2.0.0/24\nallowed_ip=fd00:2::/64\n" +
            $"public_key={KeyB}\nallowed_ip=10.3.0.0/24\nerrno=0\n\n");
        var kernel = new KernelView
        {
            Addresses = [Address("wg0", "10.9.0.1/24"), Address("br0", "10.1.0.1/24")],
            Routes = [Route("10.2.0.0/24", "wg0", 1234)],
        };
        var (iface, sites) = LiveConfiguration.Parse("wg0", answer, kernel);
        Assert.Equal(51820, iface.ListenPort);
        Assert.Equal(81u, iface.FwMark);
        Assert.Equal("1234", iface.Table);
        Assert.Equal(["10.9.0.1/24"], iface.Addresses.Select(a => a.ToString()));
        Assert.Equal(2, sites.Count);
        Assert.Equal("192.0.2.2:51821", sites[0].Endpoint);
        Assert.Equal(["10.2.0.0/24", "fd00:2::/64"], sites[0].AllowedIps.Select(p => p.ToString()));
        Assert.Equal(Convert.ToBase64String(Convert.FromHexString(KeyB)), sites[1].Name);
        Assert.Null(sites[1].Endpoint);
        Assert.All(answer, b => Assert.Equal(0, b)); // the answer held a private key: zeroed
    }

    [Theory]
    [InlineData("listen_port=1\n")] // no errno: incomplete
    [InlineData("errno=2\n\n")]
    [InlineData("public_key=zz\nerrno=0\n\n")]
    [InlineData("listen_port=99999\nerrno=0\n\n")]
    public void Bad_answers_throw_a_catchable_error(string text)
    {
        var e = Record.Exception(() => LiveConfiguration.Parse("wg0", Encoding.ASCII.GetBytes(text), KernelView.Empty));
        Assert.True(e is IOException or FormatException or OverflowException or ArgumentException, e?.ToString());
    }
}
