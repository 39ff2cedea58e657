using Branchgate.Platform.Linux.Tun;
using Branchgate.Platform.Linux.Udp;
using Branchgate.Protocol;

namespace Branchgate.Device;

// Outbound: TUN read (batch) -> destination -> allowed-IPs lookup -> peer -> staged first, then seal in place ->
// UDP batch -> one sendmmsg per TUN batch. No keypair: stage (bounded) and start a handshake.
public sealed partial class WireGuardDevice
{
    private const int TunBatchSize = 64;
    private const int TunReadTimeoutMs = 500;

    private void TunReadLoop()
    {
        var buffers = new Memory<byte>[TunBatchSize];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = new byte[PacketSender.ScratchSize];
        }

        var sizes = new int[TunBatchSize];
        using var sender = new PacketSender(this, TunBatchSize);
        using var workers = new CryptoWorkers($"{Name} tun", CryptoWorkerCount, ParallelMinimumPackets);
        var sealer = new BatchSealer(workers, TunBatchSize);
        while (!_stopping.IsSet)
        {
            int count;
            try
            {
                count = _tun.ReadBatch(buffers, sizes, Messages.TransportHeaderSize, TunReadTimeoutMs);
            }
            catch (TunRemovedException)
            {
                Log.Verbose("Interface closed, ignored, requesting shutdown");
                Stop($"interface {Name} was deleted");
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            for (int i = 0; i < count; i++)
            {
                SendPacket(buffers[i], sizes[i], sender, sealer);
            }

            FlushSealed(sealer, sender);
            sender.Flush();
        }
    }

    /// <summary>
    /// Routes one packet read from the TUN (at buffer[16..16+length]) to its peer and, in the common case, claims its
    /// counter and leaves the AEAD to <see cref="FlushSealed"/>. Anything else (staging, handshakes) first flushes what
    /// is pending, so that datagrams leave in the order their packets came.
    /// </summary>
    private void SendPacket(Memory<byte> buffer, int length, PacketSender sender, BatchSealer sealer)
    {
        var message = buffer.Span;
        var packet = message.Slice(Messages.TransportHeaderSize, length);
        if (!InnerPacket.TryParse(packet, out int version, out _, out var reason))
        {
            CountDrop(reason);
            return;
        }

        var peer = AllowedIps.Lookup(InnerPacket.Destination(packet, version));
        if (peer is null)
        {
            CountDrop(DropReason.UnknownPeer);
            return;
        }

        if (peer.HasStaged || peer.Session.CurrentKeypair is null)
        {
            FlushSealed(sealer, sender);
            peer.Stage(packet);
            SendStaged(peer, sender);
            return;
        }

        if (!peer.TryGetEndpoint(out var endpoint))
        {
            CountDrop(DropReason.NoKeypair);
            return;
        }

        var sent = peer.Session.PrepareSeal(message, length, _mtu, out var pending);
        if (sent.Status == SendStatus.NoKeypair)
        {
            FlushSealed(sealer, sender);
            peer.Stage(packet);
            Initiate(peer, isRetry: false, sender);
            return;
        }

        if (sealer.IsFull)
        {
            FlushSealed(sealer, sender);
        }

        sealer.Add(buffer, pending, sent.Length, endpoint, peer, sent.InitiateHandshake);
    }

    /// <summary>Seals the pending messages (on several cores when there are enough), then queues them in order.</summary>
    private void FlushSealed(BatchSealer sealer, PacketSender sender)
    {
        if (sealer.Count == 0)
        {
            return;
        }

        sealer.SealAll();
        for (int i = 0; i < sealer.Count; i++)
        {
            ref readonly var job = ref sealer[i];
            sender.Add(job.Endpoint, job.Message.Span[..job.Length]);
            if (job.InitiateHandshake)
            {
                Initiate(job.Peer!, isRetry: false, sender);
            }
        }

        sealer.Clear();
    }

    /// <summary>Seals message[16..16+length] for the peer and queues it; stages it again when no keypair is usable.</summary>
    private void Seal(Peer peer, Span<byte> message, int length, PacketSender sender)
    {
        if (!peer.TryGetEndpoint(out var endpoint))
        {
            CountDrop(DropReason.NoKeypair);
            return;
        }

        var sent = peer.Session.Encrypt(message, length, _mtu);
        if (sent.Status == SendStatus.NoKeypair)
        {
            peer.Stage(message.Slice(Messages.TransportHeaderSize, length));
            Initiate(peer, isRetry: false, sender);
            return;
        }

        sender.Add(endpoint, message[..sent.Length]);
        if (sent.InitiateHandshake)
        {
            Initiate(peer, isRetry: false, sender);
        }
    }

    /// <summary>Sends the peer's staged packets in order when it has a keypair; otherwise starts a handshake.</summary>
    private void SendStaged(Peer peer, PacketSender sender)
    {
        if (peer.Session.CurrentKeypair is null)
        {
            Initiate(peer, isRetry: false, sender);
            return;
        }

        var scratch = sender.Scratch;
        while (peer.Session.CurrentKeypair is not null && peer.TryTakeStaged(out var buffer, out int length))
        {
            buffer.AsSpan(0, length).CopyTo(scratch.AsSpan(Messages.TransportHeaderSize));
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
            Seal(peer, scratch, length, sender);
        }
    }

    /// <summary>Sends a keepalive, or starts a handshake when there is no keypair to send it with.</summary>
    private void SendKeepalive(Peer peer, PacketSender sender)
    {
        if (peer.HasStaged)
        {
            SendStaged(peer, sender);
            return;
        }

        if (!peer.TryGetEndpoint(out var endpoint))
        {
            return;
        }

        var sent = peer.Session.WriteKeepalive(sender.Scratch);
        if (sent.Status == SendStatus.NoKeypair)
        {
            Initiate(peer, isRetry: false, sender);
            return;
        }

        sender.Add(endpoint, sender.Scratch.AsSpan(0, sent.Length));
    }

    /// <summary>Queues a handshake initiation (the session refuses one within REKEY_TIMEOUT of the last).</summary>
    private void Initiate(Peer peer, bool isRetry, PacketSender sender)
    {
        if (!peer.TryGetEndpoint(out UdpEndpoint endpoint))
        {
            return;
        }

        Span<byte> initiation = stackalloc byte[Messages.InitiationSize];
        int length = peer.Session.WriteInitiation(initiation, isRetry);
        if (length == 0)
        {
            return;
        }

        Log.Verbose($"{peer.Name} - Sending handshake initiation");
        peer.Session.CountHandshakeSent(length);
        sender.Add(endpoint, initiation[..length]);
    }
}
