using Branchgate.Platform.Linux.Udp;
using Branchgate.Protocol;

namespace Branchgate.Device;

/// <summary>
/// The inbound half: transport messages of one receive batch, found (<see cref="MessageHandler.TryBeginTransport"/>)
/// but not yet opened. <see cref="OpenAll"/> authenticates and decrypts them in place on <see cref="CryptoWorkers"/>,
/// recording per message whether it authenticated and its counter; the owner then completes them (replay filter,
/// timers) in arrival order with <see cref="MessageHandler.CompleteTransport"/>. A message that fails to authenticate
/// affects no other. Owned by one thread.
/// </summary>
internal sealed class BatchOpener
{
    private readonly Job[] _jobs;
    private readonly UdpBatch _batch;
    private readonly CryptoWorkers _workers;
    private readonly Action<int, int> _open;
    private int _count;

    public BatchOpener(UdpBatch batch, CryptoWorkers workers, int capacity)
    {
        _batch = batch;
        _workers = workers;
        _jobs = new Job[capacity];
        _open = OpenRange;
    }

    public int Count => _count;

    public bool IsFull => _count == _jobs.Length;

    /// <summary>One message: bytes [Offset, Offset+Length) of the batch's datagram <see cref="Slot"/>.</summary>
    public struct Job
    {
        public int Slot;
        public int Offset;
        public int Length;
        public PeerSession Session;
        public Keypair Keypair;
        public bool Authentic;
        public ulong Counter;
    }

    public ref readonly Job this[int index] => ref _jobs[index];

    /// <summary>The message of a job, in the batch.</summary>
    public Span<byte> Message(in Job job) => _batch.Data(job.Slot).Slice(job.Offset, job.Length);

    public void Add(int slot, int offset, int length, PeerSession session, Keypair keypair)
    {
        ref var job = ref _jobs[_count++];
        job.Slot = slot;
        job.Offset = offset;
        job.Length = length;
        job.Session = session;
        job.Keypair = keypair;
        job.Authentic = false;
        job.Counter = 0;
    }

    /// <summary>Opens every message added since <see cref="Clear"/>, several at once when the batch is large.</summary>
    public void OpenAll() => _workers.Run(_count, _open);

    public void Clear()
    {
        Array.Clear(_jobs, 0, _count);
        _count = 0;
    }

    private void OpenRange(int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            ref var job = ref _jobs[i];
            job.Authentic = job.Keypair.TryOpen(Message(job), out job.Counter);
        }
    }
}
