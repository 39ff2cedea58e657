using Branchgate.Appliance.Config;
using Branchgate.Protocol;
using Branchgate.Tests.Protocol;

namespace Branchgate.Tests.Security;

/// <summary>
/// The receive decision under attack, without sockets (the flood itself is tests/Interop/Security): garbage of every
/// size is dropped with a reason and no reply; an initiation with a valid mac1 but no mac2 gets only a cookie reply
/// when under load; an invalid mac1 gets nothing. Plus the wg-quick parser's errors never echo a key.
/// (The fuzzing in tests/Fuzz found no crash so far; a crash it finds gets its regression test here.)
/// </summary>
public sealed class HostileInputTests
{
    [Fact]
    public void Garbage_of_every_size_is_dropped_with_a_reason_and_never_answered()
    {
        using var pair = new TestPair();
        pair.Handshake();
        var random = new Random(1);
        var reply = new byte[256];
        foreach (bool underLoad in new[] { false, true })
        {
            for (int size = 0; size <= 1500; size++)
            {
                var datagram = new byte[size];
                random.NextBytes(datagram);
                if (size > 0)
                {
                    datagram[0] = (byte)(size % 6); // 1..4 look like WireGuard message types
                }

                var result = pair.B.Receive(datagram, pair.A, reply, underLoad);
                Assert.Equal(MessageOutcome.Dropped, result.Outcome);
                Assert.NotEqual(DropReason.None, result.Reason);
            }
        }

        // The session is untouched: data still flows.
        Assert.Equal("after", TestPair.Deliver(TestPair.Data(pair.A, "after"), pair.A, pair.B));
    }

    [Fact]
    public void A_flood_initiation_with_a_valid_mac1_gets_a_cookie_reply_only_under_load()
    {
        using var pair = new TestPair();
        using var macs = new CookieGenerator(pair.B.Identity.PublicKey, pair.Clock);
        var random = new Random(2);
        var initiation = new byte[Messages.InitiationSize];
        random.NextBytes(initiation);
        initiation[0] = 1;
        initiation[1] = initiation[2] = initiation[3] = 0;
        macs.AddMacs(initiation);
        var reply = new byte[256];

        var calm = pair.B.Receive((byte[])initiation.Clone(), pair.A, reply);
        Assert.Equal(MessageOutcome.Dropped, calm.Outcome); // past mac1, then the Noise decryption fails

        var loaded = pair.B.Receive((byte[])initiation.Clone(), pair.A, reply, underLoad: true);
        Assert.Equal(MessageOutcome.Reply, loaded.Outcome);
        Assert.Equal(DropReason.InvalidMac2, loaded.Reason);
        Assert.Equal(Messages.CookieReplySize, loaded.Length);
        Assert.Equal(3, reply[0]);

        initiation[Messages.Mac1Offset(initiation.Length)] ^= 1;
        var badMac = pair.B.Receive(initiation, pair.A, reply, underLoad: true);
        Assert.Equal(MessageOutcome.Dropped, badMac.Outcome);
        Assert.Equal(DropReason.InvalidMac1, badMac.Reason);
    }

    [Theory]
    [InlineData("PrivateKey = {0}x")]
    [InlineData("PrivateKey = {0}\nDNS = {0}")]
    [InlineData("PrivateKey = {1}")]
    [InlineData("PrivateKey = {0}\n[Peer]\nPublicKey = {0}\nPresharedKey = {1}x")]
    [InlineData("PrivateKey = {0}\nListenPort = {1}")]
    [InlineData("PrivateKey = {0}\nAddress = {1}")]
    public void Wg_quick_errors_never_show_a_key(string body)
    {
        var key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        var hex = Convert.ToHexStringLower(Convert.FromBase64String(key));
        var text = "[Interface]\n" + string.Format(System.Globalization.CultureInfo.InvariantCulture, body, key, hex) + "\n";
        var result = WgQuickFile.Parse(text, "wg0");
        Assert.NotEmpty(result.Errors);
        foreach (var error in result.Errors)
        {
            Assert.DoesNotContain(key[..20], error, StringComparison.Ordinal);
            Assert.DoesNotContain(hex[..20], error, StringComparison.Ordinal);
        }

    }
}
