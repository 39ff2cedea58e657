using Branchgate.Platform.Linux.Udp;
using Branchgate.Protocol;

namespace Branchgate.Device;

/// <summary>
/// The outbound half of a TUN batch whose counters are claimed (<see cref="PeerSession.PrepareSeal"/>, in order) but
/// whose AEAD is still to do: <see cref="SealAll"/> seals them in place on <see cref="CryptoWorkers"/>, then the owner
/// sends them in the order they were added. Owned by one thread; holds no packet bytes, only where they are.
/// </summary>
internal sealed class BatchSealer
{
    private readonly Job[] _jobs;
    private readonly CryptoWorkers _workers;
    private readonly Action<int, int> _seal;
    private int _count;

    public BatchSealer(CryptoWorkers workers, int capacity)
    {
        _workers = workers;
        _jobs = new Job[capacity];
        _seal = SealRange;
    }

    public int Count => _count;

    public bool IsFull => _count == _jobs.Length;

    /// <summary>One message: <see cref="Message"/>[..<see cref="Length"/>] is the datagram once sealed.</summary>
    public struct Job
    {
        public Memory<byte> Message;
        public PendingSeal Seal;
        public int Length;
        public UdpEndpoint Endpoint;
        public Peer? Peer;
        public bool InitiateHandshake;
    }

    public ref readonly Job this[int index] => ref _jobs[index];

    public void Add(Memory<byte> message, in PendingSeal seal, int length, in UdpEndpoint endpoint, Peer? peer,
        bool initiateHandshake)
    {
        ref var job = ref _jobs[_count++];
        job.Message = message;
        job.Seal = seal;
        job.Length = length;
        job.Endpoint = endpoint;
        job.Peer = peer;
        job.InitiateHandshake = initiateHandshake;
    }

    /// <summary>Seals every message added since <see cref="Clear"/>, several at once when the batch is large.</summary>
    public void SealAll() => _workers.Run(_count, _seal);

    /// <summary>Forgets the jobs (and the references they hold).</summary>
    public void Clear()
    {
        Array.Clear(_jobs, 0, _count);
        _count = 0;
    }

    private void SealRange(int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            ref readonly var job = ref _jobs[i];
            job.Seal.Keypair.Seal(job.Message.Span, job.Seal.PaddedLength, job.Seal.Counter);
        }
    }
}
