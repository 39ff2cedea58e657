using Branchgate.Crypto;
using Branchgate.Protocol;

namespace Branchgate.Tests.Protocol;

public class HandshakeTests
{
    [Fact]
    public void Peers_complete_a_handshake_and_exchange_data_both_ways()
    {
        using var pair = new TestPair();
        pair.Handshake();

        Assert.Equal("from a", TestPair.Deliver(TestPair.Data(pair.A, "from a"), pair.A, pair.B));
        Assert.Equal("from b", TestPair.Deliver(TestPair.Data(pair.B, "from b"), pair.B, pair.A));
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal($"a{i}", TestPair.Deliver(TestPair.Data(pair.A, $"a{i}"), pair.A, pair.B));
            Assert.Equal($"b{i}", TestPair.Deliver(TestPair.Data(pair.B, $"b{i}"), pair.B, pair.A));
        }

        Assert.True(pair.A.Session.CurrentKeypair!.IsInitiator);
        Assert.False(pair.B.Session.CurrentKeypair!.IsInitiator);
        Assert.Equal(pair.A.Session.CurrentKeypair.LocalIndex, pair.B.Session.CurrentKeypair.RemoteIndex);
        Assert.Equal(pair.B.Session.CurrentKeypair.LocalIndex, pair.A.Session.CurrentKeypair.RemoteIndex);
        Assert.Equal(pair.Clock.GetUtcNow(), pair.A.Session.LastHandshake);
        Assert.Equal(pair.Clock.GetUtcNow(), pair.B.Session.LastHandshake);
        Assert.True(pair.A.Session.TxBytes > 0 && pair.A.Session.TxBytes == pair.B.Session.RxBytes);
    }

    [Fact]
    public void The_responder_cannot_send_until_the_initiator_confirms_the_session()
    {
        using var pair = new TestPair();
        pair.Handshake(confirm: false);

        Assert.Null(pair.B.Session.CurrentKeypair);
        Assert.NotNull(pair.B.Session.NextKeypair);
        TestPair.Data(pair.B, "too early", out var early);
        Assert.Equal(SendStatus.NoKeypair, early.Status);

        // The initiator's first data packet confirms it.
        var result = pair.B.Receive(TestPair.Data(pair.A, "first"), pair.A, new byte[256]);
        Assert.Equal(MessageOutcome.Data, result.Outcome);
        Assert.True(result.HandshakeCompleted);
        Assert.Equal("now", TestPair.Deliver(TestPair.Data(pair.B, "now"), pair.B, pair.A));
    }

    [Fact]
    public void Messages_have_the_sizes_and_types_of_the_protocol()
    {
        using var pair = new TestPair();
        var initiation = TestPair.Initiation(pair.A);
        Assert.Equal(148, initiation.Length);
        Assert.Equal([1, 0, 0, 0], initiation[..4]);
        var reply = new byte[256];
        var response = pair.B.Receive(initiation, pair.A, reply);
        Assert.Equal(92, response.Length);
        Assert.Equal([2, 0, 0, 0], reply[..4]);
        Assert.Equal(initiation[4..8], reply[8..12]); // the response names the initiator's index
        pair.A.Receive(reply[..92], pair.B, new byte[256]);
        var keepalive = TestPair.Keepalive(pair.A);
        Assert.Equal(32, keepalive.Length);
        Assert.Equal([4, 0, 0, 0], keepalive[..4]);
        Assert.Equal(reply[4..8], keepalive[4..8]);
    }

    [Fact]
    public void Preshared_keys_must_match()
    {
        var psk = new byte[32];
        Random.Shared.NextBytes(psk);
        using (var pair = new TestPair(psk))
        {
            pair.Handshake();
            Assert.Equal("psk", TestPair.Deliver(TestPair.Data(pair.A, "psk"), pair.A, pair.B));
        }

        var other = (byte[])psk.Clone();
        other[0] ^= 1;
        using (var pair = new TestPair(psk, other))
        {
            // The responder answers (it cannot tell), but the initiator cannot open the response.
            var reply = new byte[256];
            var atB = pair.B.Receive(TestPair.Initiation(pair.A), pair.A, reply);
            Assert.Equal(MessageOutcome.Reply, atB.Outcome);
            var atA = pair.A.Receive(reply[..atB.Length], pair.B, new byte[256]);
            Assert.Equal(DropReason.DecryptionFailed, atA.Reason);
            Assert.Null(pair.A.Session.CurrentKeypair);
        }
    }

    [Fact]
    public void A_replayed_initiation_is_refused_by_its_timestamp()
    {
        using var pair = new TestPair();
        var initiation = TestPair.Initiation(pair.A);
        Assert.Equal(MessageOutcome.Reply, pair.B.Receive(initiation, pair.A, new byte[256]).Outcome);
        pair.Clock.Advance(TimeSpan.FromSeconds(1));
        var replayed = pair.B.Receive(initiation, pair.A, new byte[256]);
        Assert.Equal(MessageOutcome.Dropped, replayed.Outcome);
        Assert.Equal(DropReason.StaleTimestamp, replayed.Reason);
    }

    [Fact]
    public void Initiations_faster_than_one_per_20ms_are_refused()
    {
        using var pair = new TestPair();
        Assert.Equal(MessageOutcome.Reply, pair.B.Receive(FreshInitiation(pair), pair.A, new byte[256]).Outcome);

        // 18 ms later the timestamp (whitened to ~16.8 ms steps) is newer, but the initiation comes too soon.
        pair.Clock.Advance(TimeSpan.FromMilliseconds(18));
        Assert.Equal(DropReason.InitiationFlood, pair.B.Receive(FreshInitiation(pair), pair.A, new byte[256]).Reason);

        pair.Clock.Advance(TimeSpan.FromMilliseconds(20));
        Assert.Equal(MessageOutcome.Reply, pair.B.Receive(FreshInitiation(pair), pair.A, new byte[256]).Outcome);
    }

    /// <summary>
    /// An initiation from A's identity that is not held back by REKEY_TIMEOUT (which applies per session): a second
    /// session on A's key stands in for a peer that initiates too often.
    /// </summary>
    private static byte[] FreshInitiation(TestPair pair)
    {
        using var session = new PeerSession(pair.B.Identity.PublicKey, new IndexTable(), pair.Clock);
        session.SetIdentity(pair.A.Identity);
        var message = new byte[Messages.InitiationSize];
        Assert.Equal(Messages.InitiationSize, session.WriteInitiation(message, isRetry: false));
        return message;
    }

    [Fact]
    public void Unknown_initiators_and_wrong_responders_get_nothing()
    {
        using var pair = new TestPair();
        using var stranger = new TestNode("stranger", pair.Clock);
        stranger.AddPeer(pair.B.Identity.PublicKey);
        Assert.Equal(DropReason.UnknownPeer, pair.B.Receive(TestPair.Initiation(stranger), stranger, new byte[256]).Reason);

        // An initiation meant for B fails mac1 anywhere else, before any DH work.
        using var third = new TestNode("third", pair.Clock);
        third.AddPeer(pair.A.Identity.PublicKey);
        Assert.Equal(DropReason.InvalidMac1, third.Receive(TestPair.Initiation(pair.A), pair.A, new byte[256]).Reason);
    }

    [Fact]
    public void Every_tampered_byte_of_a_handshake_is_caught()
    {
        using var pair = new TestPair();
        var initiation = TestPair.Initiation(pair.A);
        for (var i = 4; i < Messages.InitiationMac2; i++)
        {
            var tampered = (byte[])initiation.Clone();
            tampered[i] ^= 0x40;
            var result = pair.B.Receive(tampered, pair.A, new byte[256]);
            Assert.Equal(MessageOutcome.Dropped, result.Outcome);
            Assert.Equal(DropReason.InvalidMac1, result.Reason);
        }

        var reply = new byte[256];
        Assert.Equal(MessageOutcome.Reply, pair.B.Receive(initiation, pair.A, reply).Outcome);
        for (var i = 4; i < Messages.ResponseMac2; i++)
        {
            var tampered = reply[..Messages.ResponseSize];
            tampered[i] ^= 0x40;
            var result = pair.A.Receive(tampered, pair.B, new byte[256]);
            Assert.Equal(MessageOutcome.Dropped, result.Outcome);
        }

        Assert.Equal(MessageOutcome.HandshakeComplete, pair.A.Receive(reply[..Messages.ResponseSize], pair.B, new byte[256]).Outcome);
    }

    [Fact]
    public void A_response_is_taken_only_once()
    {
        using var pair = new TestPair();
        var reply = new byte[256];
        pair.B.Receive(TestPair.Initiation(pair.A), pair.A, reply);
        var response = reply[..Messages.ResponseSize];
        Assert.Equal(MessageOutcome.HandshakeComplete, pair.A.Receive(response, pair.B, new byte[256]).Outcome);
        var again = pair.A.Receive(response, pair.B, new byte[256]);
        Assert.Equal(MessageOutcome.Dropped, again.Outcome);
    }

    [Fact]
    public void A_peer_with_a_low_order_public_key_never_handshakes()
    {
        using var node = new TestNode("x", TimeProvider.System);
        node.AddPeer(new NoisePublicKey(new byte[32])); // the all-zero point has order 1
        Assert.Equal(0, node.Session.WriteInitiation(new byte[Messages.InitiationSize], isRetry: false));

        using var self = new TestNode("self", TimeProvider.System);
        self.AddPeer(self.Identity.PublicKey); // our own key is ignored as a peer
        Assert.Equal(0, self.Session.WriteInitiation(new byte[Messages.InitiationSize], isRetry: false));
    }

    [Fact]
    public void An_initiation_with_a_low_order_ephemeral_is_dropped()
    {
        using var pair = new TestPair();
        var initiation = TestPair.Initiation(pair.A);
        initiation.AsSpan(Messages.InitiationEphemeral, 32).Clear();
        // Recompute mac1 so the message reaches the DH step.
        using var generator = new CookieGenerator(pair.B.Identity.PublicKey, pair.Clock);
        generator.AddMacs(initiation);
        Assert.Equal(DropReason.LowOrderPoint, pair.B.Receive(initiation, pair.A, new byte[256]).Reason);
    }

    [Fact]
    public void Simultaneous_initiations_still_end_in_a_working_tunnel()
    {
        using var pair = new TestPair();
        var fromA = TestPair.Initiation(pair.A);
        var fromB = TestPair.Initiation(pair.B);
        var replyFromB = new byte[256];
        var replyFromA = new byte[256];
        var atB = pair.B.Receive(fromA, pair.A, replyFromB);
        var atA = pair.A.Receive(fromB, pair.B, replyFromA);
        Assert.Equal(MessageOutcome.Reply, atB.Outcome);
        Assert.Equal(MessageOutcome.Reply, atA.Outcome);
        // Each side's own initiation was superseded by answering the other's; the responses complete both ways.
        var completeA = pair.A.Receive(replyFromB[..atB.Length], pair.B, new byte[256]);
        var completeB = pair.B.Receive(replyFromA[..atA.Length], pair.A, new byte[256]);
        Assert.Equal(MessageOutcome.Dropped, completeA.Outcome);
        Assert.Equal(MessageOutcome.Dropped, completeB.Outcome);

        // Both hold a "next" keypair; the first data either way needs a fresh handshake, which succeeds.
        pair.Clock.Advance(Constants.RekeyTimeout);
        pair.Handshake();
        Assert.Equal("ok", TestPair.Deliver(TestPair.Data(pair.B, "ok"), pair.B, pair.A));
    }
}
