using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Udp;

namespace Branchgate.Device;

/// <summary>
/// One thread's outgoing datagrams: messages are sealed in <see cref="Scratch"/>, queued in a UDP batch and sent with
/// one sendmmsg per <see cref="Flush"/> (or when the batch is full). Owned by exactly one thread.
/// </summary>
internal sealed class PacketSender(WireGuardDevice device, int capacity) : IDisposable
{
    /// <summary>Room for the largest transport message: header, 64 KiB payload, padding and tag.</summary>
    public const int ScratchSize = 16 + 65535 + 64;

    private readonly UdpBatch _batch = new(capacity, UdpBatch.MaxDatagramSize);

    /// <summary>Where the caller builds one message before <see cref="Add"/> copies it into the batch.</summary>
    public byte[] Scratch { get; } = new byte[ScratchSize];

    public void Add(in UdpEndpoint destination, ReadOnlySpan<byte> datagram)
    {
        if (_batch.Count == _batch.Capacity)
        {
            Flush();
        }

        _batch.Append(destination, datagram);
    }

    public void Flush()
    {
        if (_batch.Count == 0)
        {
            return;
        }

        var socket = device.Socket;
        try
        {
            socket?.Send(_batch);
        }
        catch (ObjectDisposedException)
        {
            // The listen port changed under us: these datagrams are lost, as a reconfiguring kernel device loses them.
        }
        catch (LinuxException e)
        {
            device.CountSendError(e);
        }
        finally
        {
            _batch.Clear();
        }
    }

    public void Dispose() => _batch.Dispose();
}
