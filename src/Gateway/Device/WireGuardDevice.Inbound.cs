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
                var data = batch.Data(i);
                ref readonly var source = ref batch.Endpoint(i);
                int segment = batch.SegmentSize(i);
                if (segment <= 0 || segment >= data.Length)
                {
                    HandleDatagram(data, source, reply, sender, tunOut);
                    continue;
                }

                for (int offset = 0; offset < data.Length; offset += segment)
                {
                    HandleDatagram(data.Slice(offset, Math.Min(segment, data.Length - offset)), source, reply, sender,
                        tunOut);
                }
            }

            tunOut.Flush();
            sender.Flush();
        }
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
