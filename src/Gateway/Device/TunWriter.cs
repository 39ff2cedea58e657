using Branchgate.Platform.Linux.Tun;

namespace Branchgate.Device;

/// <summary>Collects decrypted packets for one TUN write batch. Owned by one thread.</summary>
internal sealed class TunWriter(TunDevice tun, int capacity)
{
    private readonly Memory<byte>[] _buffers = CreateBuffers(capacity);
    private readonly int[] _sizes = new int[capacity];
    private int _count;

    public void Add(ReadOnlySpan<byte> packet)
    {
        if (_count == _buffers.Length)
        {
            Flush();
        }

        packet.CopyTo(_buffers[_count].Span);
        _sizes[_count++] = packet.Length;
    }

    public void Flush()
    {
        if (_count == 0)
        {
            return;
        }

        try
        {
            tun.WriteBatch(_buffers.AsSpan(0, _count), _sizes.AsSpan(0, _count), 0);
        }
        catch (TunRemovedException)
        {
            // The reader notices the deletion and stops the device.
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            _count = 0;
        }
    }

    private static Memory<byte>[] CreateBuffers(int capacity)
    {
        var buffers = new Memory<byte>[capacity];
        for (int i = 0; i < capacity; i++)
        {
            buffers[i] = new byte[65535];
        }

        return buffers;
    }
}
