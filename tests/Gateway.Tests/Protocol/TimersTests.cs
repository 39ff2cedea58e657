using Branchgate.Protocol;

namespace Branchgate.Tests.Protocol;

/// <summary>The timer rules of paper section 6, driven by a fake clock.</summary>
public class TimersTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void The_initiator_rekeys_when_its_keypair_passes_REKEY_AFTER_TIME()
    {
        using var pair = new TestPair();
        pair.Handshake();

        pair.Clock.Advance(Constants.RekeyAfterTime);
        TestPair.Data(pair.A, "at 120 s", out var atLimit);
        Assert.False(atLimit.InitiateHandshake);

        pair.Clock.Advance(Tick);
        var inFlight = TestPair.Data(pair.A, "just after", out var after);
        Assert.Equal(SendStatus.Sealed, after.Status);
        Assert.True(after.InitiateHandshake);

        // The responder never rekeys by age.
        TestPair.Data(pair.B, "responder", out var responder);
        Assert.False(responder.InitiateHandshake);

        var old = pair.A.Session.CurrentKeypair;
        pair.Handshake();
        Assert.NotSame(old, pair.A.Session.CurrentKeypair);
        Assert.Same(old, pair.A.Session.PreviousKeypair);

        // A packet sealed with the old keypair still arrives after the rekey, through the previous keypair.
        Assert.Equal("just after", TestPair.Deliver(inFlight, pair.A, pair.B));
        Assert.Equal("new keys", TestPair.Deliver(TestPair.Data(pair.A, "new keys"), pair.A, pair.B));
        TestPair.Data(pair.A, "fresh", out var fresh);
        Assert.False(fresh.InitiateHandshake);
    }

    [Fact]
    public void Packets_are_rejected_once_the_keypair_reaches_REJECT_AFTER_TIME()
    {
        using var pair = new TestPair();
        pair.Handshake();

        pair.Clock.Advance(Constants.RejectAfterTime - Tick);
        var late = TestPair.Data(pair.A, "sealed at 179.999 s");
        pair.Clock.Advance(Tick);
        var result = pair.B.Receive(late, pair.A, new byte[256]);
        Assert.Equal(MessageOutcome.Dropped, result.Outcome);
        Assert.Equal(DropReason.KeypairExpired, result.Reason);

        TestPair.Data(pair.A, "too late to seal", out var send);
        Assert.Equal(SendStatus.NoKeypair, send.Status);
        Assert.True(send.InitiateHandshake);
    }

    [Fact]
    public void Keys_are_zeroed_after_three_times_REJECT_AFTER_TIME()
    {
        using var pair = new TestPair();
        pair.Handshake();
        var keypair = pair.A.Session.CurrentKeypair!;
        var index = keypair.LocalIndex;
        Assert.True(pair.A.Indices.TryLookup(index, out _));

        pair.Clock.Advance(Constants.ZeroKeyMaterialAfter - Tick);
        Assert.Equal(TimerActions.None, pair.A.Session.Tick() & TimerActions.KeysZeroed);
        Assert.NotNull(pair.A.Session.CurrentKeypair);

        pair.Clock.Advance(Tick);
        Assert.True((pair.A.Session.Tick() & TimerActions.KeysZeroed) != 0);
        Assert.Null(pair.A.Session.CurrentKeypair);
        Assert.True(keypair.IsDisposed);
        Assert.False(pair.A.Indices.TryLookup(index, out _));
        Assert.True((pair.B.Session.Tick() & TimerActions.KeysZeroed) != 0);
        Assert.Null(pair.B.Session.CurrentKeypair);
    }

    [Fact]
    public void An_unanswered_initiation_is_retried_every_REKEY_TIMEOUT_then_given_up()
    {
        using var pair = new TestPair();
        TestPair.Initiation(pair.A);

        // Within REKEY_TIMEOUT a second initiation is held back.
        pair.Clock.Advance(Constants.RekeyTimeout - Tick);
        Assert.Equal(0, pair.A.Session.WriteInitiation(new byte[Messages.InitiationSize], isRetry: false));
        Assert.Equal(TimerActions.None, pair.A.Session.Tick());

        var retries = 0;
        var gaveUp = false;
        var elapsed = TimeSpan.Zero;
        while (elapsed < TimeSpan.FromSeconds(200) && !gaveUp)
        {
            pair.Clock.Advance(TimeSpan.FromMilliseconds(100));
            elapsed += TimeSpan.FromMilliseconds(100);
            var actions = pair.A.Session.Tick();
            if ((actions & TimerActions.RetryInitiation) != 0)
            {
                Assert.Equal(Messages.InitiationSize, pair.A.Session.WriteInitiation(new byte[Messages.InitiationSize], isRetry: true));
                retries++;
            }

            gaveUp = (actions & TimerActions.FlushStaged) != 0;
        }

        // As the kernel and wireguard-go: MAX_TIMER_HANDSHAKES (90 s / 5 s) + 1 retransmissions, then give up.
        Assert.True(gaveUp);
        Assert.Equal(Constants.MaxTimerHandshakes + 1, retries);
        Assert.InRange(elapsed, TimeSpan.FromSeconds(95), TimeSpan.FromSeconds(20 * 5.334 + 1));
        Assert.Equal(TimerActions.None, pair.A.Session.Tick());
    }

    [Fact]
    public void Retransmissions_carry_jitter_of_up_to_a_third_of_a_second()
    {
        using var pair = new TestPair();
        TestPair.Initiation(pair.A);
        var deadline = pair.A.Session.NextTimerDeadline!.Value;
        var wait = pair.Clock.GetElapsedTime(pair.Clock.GetTimestamp(), deadline);
        Assert.InRange(wait, Constants.RekeyTimeout, Constants.RekeyTimeout + TimeSpan.FromMilliseconds(Constants.RekeyTimeoutJitterMaxMilliseconds));
    }

    [Fact]
    public void Received_data_is_answered_with_a_keepalive_after_KEEPALIVE_TIMEOUT_of_silence()
    {
        using var pair = new TestPair();
        pair.Handshake();
        TestPair.Deliver(TestPair.Data(pair.A, "ping"), pair.A, pair.B);

        pair.Clock.Advance(Constants.KeepaliveTimeout - Tick);
        Assert.Equal(TimerActions.None, pair.B.Session.Tick() & TimerActions.SendKeepalive);
        pair.Clock.Advance(Tick);
        Assert.True((pair.B.Session.Tick() & TimerActions.SendKeepalive) != 0);

        // If B sends anything first, that serves as the keepalive.
        TestPair.Deliver(TestPair.Data(pair.A, "ping again"), pair.A, pair.B);
        TestPair.Deliver(TestPair.Data(pair.B, "pong"), pair.B, pair.A);
        pair.Clock.Advance(Constants.KeepaliveTimeout + Tick);
        Assert.Equal(TimerActions.None, pair.B.Session.Tick() & TimerActions.SendKeepalive);
    }

    [Fact]
    public void Sent_data_without_any_answer_starts_a_new_handshake_after_15_seconds()
    {
        using var pair = new TestPair();
        pair.Handshake();
        TestPair.Data(pair.A, "into the void");

        pair.Clock.Advance(Constants.KeepaliveTimeout + Constants.RekeyTimeout - Tick);
        Assert.Equal(TimerActions.None, pair.A.Session.Tick() & TimerActions.SendInitiation);
        pair.Clock.Advance(TimeSpan.FromMilliseconds(Constants.RekeyTimeoutJitterMaxMilliseconds + 1));
        Assert.True((pair.A.Session.Tick() & TimerActions.SendInitiation) != 0);

        // An answer in time cancels it.
        TestPair.Data(pair.A, "again");
        TestPair.Deliver(TestPair.Data(pair.B, "answer"), pair.B, pair.A);
        pair.Clock.Advance(TimeSpan.FromSeconds(16));
        Assert.Equal(TimerActions.None, pair.A.Session.Tick() & TimerActions.SendInitiation);
    }

    [Fact]
    public void Persistent_keepalive_fires_after_its_interval_of_silence()
    {
        using var pair = new TestPair();
        pair.A.Session.PersistentKeepaliveInterval = 25;
        pair.Handshake();

        pair.Clock.Advance(TimeSpan.FromSeconds(25) - Tick);
        Assert.Equal(TimerActions.None, pair.A.Session.Tick() & TimerActions.SendKeepalive);
        pair.Clock.Advance(Tick);
        Assert.True((pair.A.Session.Tick() & TimerActions.SendKeepalive) != 0);

        pair.A.Session.PersistentKeepaliveInterval = 0;
        TestPair.Keepalive(pair.A);
        pair.Clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(TimerActions.None, pair.A.Session.Tick() & TimerActions.SendKeepalive);
    }

    [Fact]
    public void The_initiator_rekeys_on_receive_once_near_REJECT_AFTER_TIME_and_only_once()
    {
        using var pair = new TestPair();
        pair.Handshake();

        pair.Clock.Advance(Constants.RekeyOnReceiveAge);
        var first = pair.A.Receive(TestPair.Data(pair.B, "at 165 s"), pair.B, new byte[256]);
        Assert.False(first.InitiateHandshake);
        pair.Clock.Advance(Tick);
        var second = pair.A.Receive(TestPair.Data(pair.B, "after 165 s"), pair.B, new byte[256]);
        Assert.True(second.InitiateHandshake);
        var third = pair.A.Receive(TestPair.Data(pair.B, "again"), pair.B, new byte[256]);
        Assert.False(third.InitiateHandshake);

        // The responder does not.
        var atB = pair.B.Receive(TestPair.Data(pair.A, "to b"), pair.A, new byte[256]);
        Assert.False(atB.InitiateHandshake);
    }

    [Fact]
    public void Message_counters_trigger_rekey_and_refusal()
    {
        using var pair = new TestPair();
        pair.Handshake();
        var keypair = pair.A.Session.CurrentKeypair!;

        keypair.SetNextSendCounterForTesting(Constants.RekeyAfterMessages + 1);
        TestPair.Data(pair.A, "many", out var many);
        Assert.True(many.InitiateHandshake);

        keypair.SetNextSendCounterForTesting(Constants.RejectAfterMessages);
        TestPair.Data(pair.A, "too many", out var tooMany);
        Assert.Equal(SendStatus.NoKeypair, tooMany.Status);
        TestPair.Data(pair.A, "still too many", out var still);
        Assert.Equal(SendStatus.NoKeypair, still.Status);
    }
}
