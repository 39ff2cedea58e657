using System.Text;
using Branchgate.Protocol;

namespace Branchgate.Tests.Protocol;

/// <summary>Cookie replies under load (paper 5.4.7).</summary>
public class CookieTests
{
    [Fact]
    public void Under_load_an_initiation_gets_a_cookie_reply_and_the_retry_with_mac2_is_answered()
    {
        using var pair = new TestPair();
        var initiation = TestPair.Initiation(pair.A);
        Assert.Equal(new byte[16], initiation[Messages.InitiationMac2..]); // no cookie yet, so mac2 is zero

        var reply = new byte[256];
        var underLoad = pair.B.Receive(initiation, pair.A, reply, underLoad: true);
        Assert.Equal(MessageOutcome.Reply, underLoad.Outcome);
        Assert.Equal(DropReason.InvalidMac2, underLoad.Reason);
        Assert.Equal(Messages.CookieReplySize, underLoad.Length);
        Assert.Equal([3, 0, 0, 0], reply[..4]);
        Assert.Null(pair.B.Session.NextKeypair); // no DH work was done

        var cookie = reply[..Messages.CookieReplySize];
        Assert.Equal(MessageOutcome.CookieAccepted, pair.A.Receive(cookie, pair.B, new byte[256]).Outcome);

        // The retransmission after REKEY_TIMEOUT carries mac2 and is answered even under load.
        pair.Clock.Advance(Constants.RekeyTimeout + TimeSpan.FromMilliseconds(Constants.RekeyTimeoutJitterMaxMilliseconds));
        Assert.True((pair.A.Session.Tick() & TimerActions.RetryInitiation) != 0);
        var retry = TestPair.Initiation(pair.A, isRetry: true);
        Assert.NotEqual(new byte[16], retry[Messages.InitiationMac2..]);
        var answered = pair.B.Receive(retry, pair.A, reply, underLoad: true);
        Assert.Equal(MessageOutcome.Reply, answered.Outcome);
        Assert.Equal(Messages.ResponseSize, answered.Length);
        Assert.Equal(MessageOutcome.HandshakeComplete, pair.A.Receive(reply[..answered.Length], pair.B, new byte[256]).Outcome);
    }

    [Fact]
    public void Under_load_a_valid_mac2_still_passes_the_per_source_admission()
    {
        using var pair = new TestPair();
        var asked = new List<string>();
        bool admit = false;
        pair.B.Handler.Admission = source =>
        {
            asked.Add(Encoding.ASCII.GetString(source));
            return admit;
        };
        var reply = new byte[256];
        pair.B.Receive(TestPair.Initiation(pair.A), pair.A, reply, underLoad: true);
        Assert.Empty(asked); // no mac2 yet: a cookie reply, before any rate limiting
        pair.A.Receive(reply[..Messages.CookieReplySize], pair.B, new byte[256]);
        pair.Clock.Advance(TimeSpan.FromSeconds(6));
        var retry = TestPair.Initiation(pair.A, isRetry: true);

        var limited = pair.B.Receive(retry, pair.A, reply, underLoad: true);
        Assert.Equal(DropReason.RateLimited, limited.Reason);
        Assert.Equal(["a:51820"], asked);
        Assert.Null(pair.B.Session.NextKeypair);

        admit = true;
        Assert.Equal(MessageOutcome.Reply, pair.B.Receive(retry, pair.A, reply, underLoad: true).Outcome);

        // Not under load, nobody is asked.
        asked.Clear();
        pair.Clock.Advance(TimeSpan.FromSeconds(6));
        pair.B.Receive(TestPair.Initiation(pair.A, isRetry: true), pair.A, reply, underLoad: false);
        Assert.Empty(asked);
    }

    [Fact]
    public void A_cookie_is_bound_to_the_source_address()
    {
        using var pair = new TestPair();
        var reply = new byte[256];
        pair.B.Receive(TestPair.Initiation(pair.A), pair.A, reply, underLoad: true);
        pair.A.Receive(reply[..Messages.CookieReplySize], pair.B, new byte[256]);
        pair.Clock.Advance(TimeSpan.FromSeconds(6));
        var retry = TestPair.Initiation(pair.A, isRetry: true);

        pair.A.Address = Encoding.ASCII.GetBytes("a-moved:51820");
        var fromElsewhere = pair.B.Receive(retry, pair.A, reply, underLoad: true);
        Assert.Equal(DropReason.InvalidMac2, fromElsewhere.Reason);
        Assert.Equal(Messages.CookieReplySize, fromElsewhere.Length);
    }

    [Fact]
    public void The_cookie_secret_changes_every_two_minutes()
    {
        using var pair = new TestPair();
        var reply = new byte[256];
        pair.B.Receive(TestPair.Initiation(pair.A), pair.A, reply, underLoad: true);
        pair.A.Receive(reply[..Messages.CookieReplySize], pair.B, new byte[256]);

        // The initiator's cookie and the responder's secret both age out after 120 s.
        pair.Clock.Advance(Constants.CookieRefreshTime + TimeSpan.FromSeconds(1));
        var late = TestPair.Initiation(pair.A, isRetry: true);
        Assert.Equal(new byte[16], late[Messages.InitiationMac2..]);
        Assert.Equal(DropReason.InvalidMac2, pair.B.Receive(late, pair.A, reply, underLoad: true).Reason);
    }

    [Fact]
    public void A_stale_cookie_made_with_an_old_secret_is_refused()
    {
        using var pair = new TestPair();
        var reply = new byte[256];
        pair.B.Receive(TestPair.Initiation(pair.A), pair.A, reply, underLoad: true);
        pair.A.Receive(reply[..Messages.CookieReplySize], pair.B, new byte[256]);
        pair.Clock.Advance(TimeSpan.FromSeconds(119));
        var withCookie = TestPair.Initiation(pair.A, isRetry: true);
        Assert.NotEqual(new byte[16], withCookie[Messages.InitiationMac2..]);

        // The responder's secret expires 120 s after it was made, so the mac2 computed at 119 s is refused at 121 s.
        pair.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(DropReason.InvalidMac2, pair.B.Receive(withCookie, pair.A, reply, underLoad: true).Reason);
    }

    [Fact]
    public void Forged_or_unsolicited_cookie_replies_are_dropped()
    {
        using var pair = new TestPair();
        var reply = new byte[256];
        var initiation = TestPair.Initiation(pair.A);
        pair.B.Receive(initiation, pair.A, reply, underLoad: true);
        var cookie = reply[..Messages.CookieReplySize];

        var forged = (byte[])cookie.Clone();
        forged[40] ^= 1;
        Assert.Equal(DropReason.InvalidCookieReply, pair.A.Receive(forged, pair.B, new byte[256]).Reason);
        Assert.Equal(MessageOutcome.CookieAccepted, pair.A.Receive(cookie, pair.B, new byte[256]).Outcome);
        Assert.Equal(DropReason.InvalidCookieReply, pair.A.Receive(cookie, pair.B, new byte[256]).Reason);

        var unknown = (byte[])cookie.Clone();
        unknown[4] ^= 0xff;
        Assert.Equal(DropReason.UnknownReceiverIndex, pair.A.Receive(unknown, pair.B, new byte[256]).Reason);
    }

    [Fact]
    public void Under_load_a_response_without_mac2_also_gets_a_cookie_reply()
    {
        using var pair = new TestPair();
        var response = new byte[256];
        var atB = pair.B.Receive(TestPair.Initiation(pair.A), pair.A, response);
        Assert.Equal(Messages.ResponseSize, atB.Length);

        var cookie = new byte[256];
        var atA = pair.A.Receive(response[..atB.Length], pair.B, cookie, underLoad: true);
        Assert.Equal(DropReason.InvalidMac2, atA.Reason);
        Assert.Null(pair.A.Session.CurrentKeypair);

        // The responder takes the cookie for its next response.
        Assert.Equal(MessageOutcome.CookieAccepted, pair.B.Receive(cookie[..Messages.CookieReplySize], pair.A, new byte[256]).Outcome);
    }
}
