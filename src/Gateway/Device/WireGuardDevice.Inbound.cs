using System.Buffers.Binary;
using Branchgate.Platform.Linux.Udp;
using Branchgate.Protocol;

namespace Branchgate.Device;

// Inbound: recvmmsg (batch, GRO runs split by segment size) -> MessageHandler (mac1/mac2, Noise, open in place) ->
// roaming -> inner source must be the peer's (allowed IPs) -> TUN write batch. Handshake replies and packets freed by
// a completed handshake go out through this thread's own sender.
public sealed partial class WireGuardDevice
{
    private const int UdpBatchSize = 64;
    private const int UnderLoadHandshakesPerSecond = 512;
    private long _handshakeWindowStart;
    private int _handshakesInWindow;
    private volatile bool _underLoad;

    private void ReceiveLoop(UdpSocket socket)
    {
        using var batch = new UdpBatch(UdpBatchSize, UdpBatch.MaxDatagramSize);
        using var sender = new PacketSender(this, 16);
        var tunOut = new TunWriter(_tun, UdpBatchSize);
        var reply = new byte[Messages.ResponseSize];
        using var workers = new CryptoWorkers($"{Name} udp", CryptoWorkerCount, ParallelMinimumPackets);
        // GRO runs split into up to 64 segments each: room for a few of them before a flush.
        var opener = new BatchOpener(batch, workers, 4 * UdpBatchSize);
        while (!_stopping.IsSet)
        {
            int count;
            try
            {
                count = socket.Receive(batch, 1000);
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            for (int i = 0; i < count; i++)
            {
                int length = batch.Data(i).Length;
                int segment = batch.SegmentSize(i);
                if (segment <= 0 || segment >= length)
                {
                    ReceiveDatagram(batch, i, 0, length, reply, sender, tunOut, opener);
                    continue;
                }

                for (int offset = 0; offset < length; offset += segment)
                {
                    ReceiveDatagram(batch, i, offset, Math.Min(segment, length - offset), reply, sender, tunOut, opener);
                }
            }

            FlushOpened(opener, batch, reply, sender, tunOut);
            tunOut.Flush();
            sender.Flush();
        }
    }

    /// <summary>
    /// One datagram (or GRO segment) of the batch: transport data for a known keypair waits in <paramref name="opener"/>
    /// for the batch's AEAD; anything else first completes what waits there (arrival order), then is handled at once.
    /// </summary>
    private void ReceiveDatagram(UdpBatch batch, int slot, int offset, int length, byte[] reply, PacketSender sender,
        TunWriter tunOut, BatchOpener opener)
    {
        var datagram = batch.Data(slot).Slice(offset, length);
        var handler = _handler;
        if (handler is not null)
        {
            if (handler.TryBeginTransport(datagram, out var session, out var keypair, out var reason))
            {
                if (opener.IsFull)
                {
                    FlushOpened(opener, batch, reply, sender, tunOut);
                }

                opener.Add(slot, offset, length, session, keypair);
                return;
            }

            if (reason != DropReason.None)
            {
                CountDrop(reason);
                return;
            }
        }

        FlushOpened(opener, batch, reply, sender, tunOut);
        HandleDatagram(datagram, batch.Endpoint(slot), reply, sender, tunOut);
    }

    /// <summary>Opens the waiting transport messages (on several cores when there are enough), then completes them in order.</summary>
    private void FlushOpened(BatchOpener opener, UdpBatch batch, byte[] reply, PacketSender sender, TunWriter tunOut)
    {
        if (opener.Count == 0)
        {
            return;
        }

        opener.OpenAll();
        for (int i = 0; i < opener.Count; i++)
        {
            ref readonly var job = ref opener[i];
            var message = opener.Message(job);
            var result = MessageHandler.CompleteTransport(job.Session, job.Keypair, message, job.Authentic, job.Counter);
            HandleResult(result, message, batch.Endpoint(job.Slot), reply, sender, tunOut);
        }

        opener.Clear();
    }

    private void HandleDatagram(Span<byte> datagram, in UdpEndpoint source, byte[] reply, PacketSender sender,
        TunWriter tunOut)
    {
        var handler = _handler;
        if (handler is null)
        {
            CountDrop(DropReason.UnknownPeer);
            return;
        }

        bool isHandshake = datagram.Length > 0 && datagram[0] is 1 or 2;
        if (isHandshake)
        {
            NoteHandshake();
        }

        // The cookie binds the sender's address and port.
        Span<byte> sourceBytes = stackalloc byte[18];
        var address = source.Address;
        address.CopyTo(sourceBytes);
        BinaryPrimitives.WriteUInt16BigEndian(sourceBytes[address.Length..], source.Port);
        var result = handler.Handle(datagram, sourceBytes[..(address.Length + 2)], _underLoad, reply);
        HandleResult(result, datagram, source, reply, sender, tunOut);
    }

    /// <summary>Acts on what the handler decided about one datagram: reply, roaming, source check, TUN, handshakes.</summary>
    private void HandleResult(in MessageResult result, Span<byte> datagram, in UdpEndpoint source, byte[] reply,
        PacketSender sender, TunWriter tunOut)
    {
        var peer = result.Session?.Owner as Peer;
        switch (result.Outcome)
        {
            case MessageOutcome.Dropped:
                CountDrop(result.Reason);
                return;
            case MessageOutcome.Reply:
                if (peer is not null)
                {
                    Roam(peer, source);
                    Log.Verbose($"{peer.Name} - Sending handshake response");
                    peer.Session.CountHandshakeReceived(datagram.Length);
                    peer.Session.CountHandshakeSent(result.Length);
                }

                sender.Add(source, reply.AsSpan(0, result.Length));
                return;
            case MessageOutcome.CookieAccepted:
                return;
        }

        if (peer is null)
        {
            return;
        }

        Roam(peer, source);
        if (result.Outcome == MessageOutcome.Data)
        {
            var plaintext = datagram.Slice(Messages.TransportHeaderSize, result.Length);
            if (!InnerPacket.TryParse(plaintext, out int version, out int length, out var reason))
            {
                CountDrop(reason);
            }
            else if (!ReferenceEquals(AllowedIps.Lookup(InnerPacket.Source(plaintext, version)), peer))
            {
                CountDrop(DropReason.SourceNotAllowed);
            }
            else
            {
                tunOut.Add(plaintext[..length]);
            }
        }

        if (result.Outcome == MessageOutcome.HandshakeComplete)
        {
            Log.Verbose($"{peer.Name} - Received handshake response");
            peer.Session.CountHandshakeReceived(datagram.Length);
            // Confirm the new session to the responder: staged packets, or a keepalive when there are none.
            SendKeepalive(peer, sender);
        }
        else if (result.HandshakeCompleted)
        {
            SendStaged(peer, sender);
        }

        if (result.InitiateHandshake)
        {
            Initiate(peer, isRetry: false, sender);
        }
    }

    private void Roam(Peer peer, in UdpEndpoint source)
    {
        if (peer.UpdateEndpointFromPacket(source))
        {
            Log.Verbose($"{peer.Name} - Endpoint now {source}");
        }
    }

    /// <summary>Counts handshake messages per second; above the threshold the device is "under load" (mac2 needed).</summary>
    private void NoteHandshake()
    {
        long now = Environment.TickCount64;
        if (now - Interlocked.Read(ref _handshakeWindowStart) >= 1000)
        {
            _underLoad = _handshakesInWindow > UnderLoadHandshakesPerSecond;
            Interlocked.Exchange(ref _handshakeWindowStart, now);
            _handshakesInWindow = 0;
        }

        if (++_handshakesInWindow > UnderLoadHandshakesPerSecond)
        {
            _underLoad = true;
        }
    }
}
