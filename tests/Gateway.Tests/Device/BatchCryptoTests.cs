using System.Net;
using Branchgate.Device;
using Branchgate.Platform.Linux.Udp;
using Branchgate.Protocol;
using Branchgate.Tests.Protocol;

namespace Branchgate.Tests.Device;

/// <summary>
/// The per-batch fork/join of the data path's AEAD: every item is worked exactly once, sealing on several threads
/// gives the single-threaded bytes, counters keep their order, and a forged message in a parallel batch costs only
/// itself.
/// </summary>
public sealed class BatchCryptoTests
{
    private static readonly UdpEndpoint Source = UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, 51820));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void Run_WorksEveryItemExactlyOnce(int workers)
    {
        using var crypto = new CryptoWorkers("test", workers, minimumItems: 4);
        var random = new Random(workers);
        for (int round = 0; round < 500; round++)
        {
            int count = random.Next(0, 200);
            var hits = new int[count];
            var threads = new int[count];
            crypto.Run(count, (start, end) =>
            {
                for (int i = start; i < end; i++)
                {
                    Interlocked.Increment(ref hits[i]);
                    threads[i] = Environment.CurrentManagedThreadId;
                }
            });
            Assert.All(hits, h => Assert.Equal(1, h));
            if (workers > 0 && count >= 16)
            {
                Assert.True(threads.Distinct().Count() > 1, $"round {round}: {count} items on one thread");
            }
        }
    }

    [Fact]
    public void Run_WorkerFailureReachesTheCaller_AndTheWorkersStillServe()
    {
        using var crypto = new CryptoWorkers("test", 2, minimumItems: 4);
        var error = Assert.Throws<InvalidOperationException>(() => crypto.Run(30, (start, _) =>
        {
            if (start > 0)
            {
                throw new FormatException("part " + start);
            }
        }));
        Assert.IsType<FormatException>(error.InnerException);

        int total = 0;
        crypto.Run(30, (start, end) => Interlocked.Add(ref total, end - start));
        Assert.Equal(30, total);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void Sealer_MatchesSingleThreadedSealing_ByteForByte_AndEveryMessageOpensInOrder(int workers)
    {
        using var pair = new TestPair();
        pair.Handshake();
        using var crypto = new CryptoWorkers("test", workers, minimumItems: 4);
        var sealer = new BatchSealer(crypto, 64);
        var random = new Random(42 + workers);
        ulong expectedCounter = pair.A.Session.CurrentKeypair!.NextSendCounter;
        var reply = new byte[256];
        for (int batch = 0; batch < 60; batch++)
        {
            int count = random.Next(1, 65);
            var payloads = new byte[count][];
            var references = new byte[count][];
            for (int i = 0; i < count; i++)
            {
                // Random lengths, odd ones included; 0 is a keepalive.
                int length = random.Next(0, 8) == 0 ? 0 : random.Next(1, 1421);
                payloads[i] = new byte[length];
                random.NextBytes(payloads[i]);
                var buffer = new byte[Messages.TransportHeaderSize + length + 64];
                payloads[i].CopyTo(buffer, Messages.TransportHeaderSize);
                var sent = pair.A.Session.PrepareSeal(buffer, length, Constants.DefaultMtu, out var pending);
                Assert.Equal(SendStatus.Sealed, sent.Status);
                Assert.Equal(expectedCounter++, pending.Counter);
                references[i] = (byte[])buffer.Clone();
                pending.Keypair.Seal(references[i], pending.PaddedLength, pending.Counter);
                sealer.Add(buffer, pending, sent.Length, Source, null, sent.InitiateHandshake);
            }

            sealer.SealAll();
            Assert.Equal(count, sealer.Count);
            for (int i = 0; i < count; i++)
            {
                ref readonly var job = ref sealer[i];
                var datagram = job.Message.Span[..job.Length].ToArray();
                Assert.Equal(references[i].AsSpan(0, job.Length).ToArray(), datagram);

                var received = pair.B.Receive(datagram, pair.A, reply);
                Assert.Equal(payloads[i].Length == 0 ? MessageOutcome.Keepalive : MessageOutcome.Data, received.Outcome);
                Assert.Equal(payloads[i], datagram.AsSpan(Messages.TransportHeaderSize, payloads[i].Length).ToArray());
            }

            sealer.Clear();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void Opener_OpensEveryMessage_AndAForgedOneDropsOnlyItself(int workers)
    {
        using var pair = new TestPair();
        pair.Handshake();
        using var crypto = new CryptoWorkers("test", workers, minimumItems: 4);
        using var batch = new UdpBatch(64, 2048);
        var opener = new BatchOpener(batch, crypto, 64);
        var random = new Random(7 + workers);
        for (int round = 0; round < 40; round++)
        {
            int count = random.Next(1, 65);
            int forged = random.Next(0, count + 8); // sometimes none
            var texts = new string[count];
            batch.Clear();
            for (int i = 0; i < count; i++)
            {
                texts[i] = new string((char)('a' + (i % 26)), random.Next(0, 1300));
                var datagram = TestPair.Data(pair.A, texts[i]);
                if (i == forged)
                {
                    datagram[^1] ^= 0x40; // the tag
                }

                batch.Append(Source, datagram);
            }

            for (int i = 0; i < count; i++)
            {
                var message = batch.Data(i);
                Assert.True(pair.B.Handler.TryBeginTransport(message, out var session, out var keypair, out var reason),
                    reason.ToString());
                opener.Add(i, 0, message.Length, session, keypair);
            }

            opener.OpenAll();
            for (int i = 0; i < count; i++)
            {
                ref readonly var job = ref opener[i];
                var message = opener.Message(job);
                var result = MessageHandler.CompleteTransport(job.Session, job.Keypair, message, job.Authentic, job.Counter);
                if (i == forged)
                {
                    Assert.Equal(MessageOutcome.Dropped, result.Outcome);
                    Assert.Equal(DropReason.DecryptionFailed, result.Reason);
                    continue;
                }

                Assert.Equal(MessageOutcome.Data, result.Outcome);
                var plaintext = message.Slice(Messages.TransportHeaderSize + 20, texts[i].Length);
                Assert.Equal(texts[i], System.Text.Encoding.UTF8.GetString(plaintext));
            }

            opener.Clear();
        }

        // Each counter was accepted once: the batch again is all replays (the forged ones do not open at all).
        var again = batch.Data(0).ToArray();
        var replayed = pair.B.Receive(again, pair.A, new byte[256]);
        Assert.Equal(MessageOutcome.Dropped, replayed.Outcome);
    }

    [Fact]
    public void TryBeginTransport_LeavesOtherMessagesToHandle_AndNamesTransportDrops()
    {
        using var pair = new TestPair();
        Assert.False(pair.B.Handler.TryBeginTransport(TestPair.Initiation(pair.A), out _, out _, out var reason));
        Assert.Equal(DropReason.None, reason);

        var unknown = new byte[48];
        unknown[0] = (byte)MessageType.Transport;
        Assert.False(pair.B.Handler.TryBeginTransport(unknown, out _, out _, out reason));
        Assert.Equal(DropReason.UnknownReceiverIndex, reason);

        var reserved = new byte[48];
        reserved[0] = (byte)MessageType.Transport;
        reserved[2] = 1;
        Assert.False(pair.B.Handler.TryBeginTransport(reserved, out _, out _, out reason));
        Assert.Equal(DropReason.ReservedBytesNotZero, reason);
    }
}
