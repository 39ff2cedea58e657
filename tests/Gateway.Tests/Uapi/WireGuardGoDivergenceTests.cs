using System.Runtime.Versioning;
using static Branchgate.Tests.Uapi.UapiTestText;

namespace Branchgate.Tests.Uapi;

/// <summary>
/// Where we differ from wireguard-go 0.0.20220316 on purpose, shown against the real thing so that each difference is
/// known and stays small. Needs root; fails, not skips, without it.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class WireGuardGoDivergenceTests(DifferentialNamespace ns) : IClassFixture<DifferentialNamespace>
{
    private static string GetOf(UapiTestClient client) => client.Send("get=1\n\n").ReadAnswers(1);

    [Fact]
    public void A_rejected_request_changes_nothing_here_while_wireguard_go_keeps_the_lines_before_the_bad_one()
    {
        using var pair = new UapiPair(ns);
        var request = $"set=1\nlisten_port={pair.ListenPort + 500}\npublic_key={Hex(0xa1)}\nallowed_ip=10.0.0.0/8\nbogus\n\n";
        var (go, ours) = pair.Both(c => (c.Send(request).ReadAnswers(1), GetOf(c)));
        Assert.Equal(("errno=-71\n\n", "errno=-71\n\n"), (go.Item1, ours.Item1));
        Assert.Contains($"listen_port={pair.ListenPort + 500}\npublic_key={Hex(0xa1)}", go.Item2, StringComparison.Ordinal);
        Assert.Equal($"listen_port={pair.ListenPort}\nerrno=0\n\n", ours.Item2);

        // The same for a line too long to read: wireguard-go applied listen_port, we did not.
        var overlong = $"set=1\nlisten_port={pair.ListenPort + 600}\n" + new string('a', 65536) + "get=1\n\n";
        (go, ours) = pair.Both(c => (c.Send(overlong).ReadAnswers(2), ""));
        Assert.Equal($"errno=-5\n\nlisten_port={pair.ListenPort}\nerrno=0\n\n", ours.Item1);
        Assert.StartsWith($"errno=-5\n\nlisten_port={pair.ListenPort + 600}\n", go.Item1, StringComparison.Ordinal);
    }

    [Fact]
    public void A_busy_listen_port_is_EADDRINUSE_for_both_but_only_wireguard_go_loses_its_port_and_keeps_earlier_lines()
    {
        using var pair = new UapiPair(ns);
        using var other = new UapiPair(ns); // its wireguard-go holds other.ListenPort in the same namespace
        pair.Target.BusyPorts.Add(other.ListenPort);
        var request = $"set=1\nprivate_key={Hex(0x48)}\nlisten_port={other.ListenPort}\n\n";
        var (go, ours) = pair.Both(c => (c.Send(request).ReadAnswers(1), GetOf(c)));
        Assert.Equal(("errno=-98\n\n", "errno=-98\n\n"), (go.Item1, ours.Item1));
        Assert.Equal($"private_key={Hex(0x48)}\nerrno=0\n\n", go.Item2); // unbound: no listen_port line
        Assert.Equal($"listen_port={pair.ListenPort}\nerrno=0\n\n", ours.Item2);
    }

    [Fact]
    public void Requests_sent_after_a_set_without_waiting_are_answered_here_and_lost_by_wireguard_go()
    {
        using var pair = new UapiPair(ns);
        const string Request = "set=1\nfwmark=5\n\nget=1\n\n";
        using (var ours = UapiTestClient.Connect(pair.OurSocket))
        {
            Assert.Equal($"errno=0\n\nlisten_port={pair.ListenPort}\nfwmark=5\nerrno=0\n\n", ours.Send(Request).ReadAnswers(2));
        }

        // wireguard-go's bufio.Scanner read the get together with the set and dropped it: the get is never answered.
        using var go = UapiTestClient.Connect(pair.GoSocket);
        Assert.Equal("errno=0\n\n", go.Send(Request).ReadAnswers(2, TimeSpan.FromSeconds(1)));
        Assert.False(go.Closed);
    }

    [Fact]
    public void Garbage_after_a_set_closes_the_connection_here_and_is_dropped_by_wireguard_go()
    {
        using var pair = new UapiPair(ns);
        var (go, ours) = pair.Both(c => (c.Send("set=1\n\nxyz\n").ReadAnswers(1), c.ProbeOpen()));
        Assert.Equal(("errno=0\n\n", true), go);
        Assert.Equal(("errno=0\n\n", false), ours);
    }

    [Fact]
    public void Removing_one_allowed_ip_with_a_dash_works_here_and_is_EINVAL_for_wireguard_go()
    {
        using var pair = new UapiPair(ns);
        var setup = $"set=1\npublic_key={Hex(0xa1)}\nallowed_ip=10.0.0.0/8\nallowed_ip=10.1.0.0/16\n\n";
        var remove = $"set=1\npublic_key={Hex(0xa1)}\nallowed_ip=-10.0.0.0/8\n\n";
        var (go, ours) = pair.Both(c => (c.Send(setup).ReadAnswers(1), c.Send(remove).ReadAnswers(1), GetOf(c)));
        Assert.Equal("errno=-22\n\n", go.Item2);
        Assert.Contains("allowed_ip=10.0.0.0/8\nallowed_ip=10.1.0.0/16\n", go.Item3, StringComparison.Ordinal);
        Assert.Equal("errno=0\n\n", ours.Item2);
        Assert.Contains("persistent_keepalive_interval=0\nallowed_ip=10.1.0.0/16\nerrno=0", ours.Item3, StringComparison.Ordinal);
    }
}
