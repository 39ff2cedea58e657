namespace Branchgate.Device;

/// <summary>
/// Fork/join for the AEAD of one packet batch: <see cref="Run"/> splits items [0, count) into contiguous parts, hands
/// all but the first to pre-started worker threads (one signal each), works the first part on the calling thread and
/// waits for the others. One signal per worker per batch, no lock or allocation per packet. Owned by one packet thread;
/// the work must touch only its own items (ordering-sensitive steps, counters and the replay filter, stay with the
/// caller, before and after).
/// </summary>
internal sealed class CryptoWorkers : IDisposable
{
    /// <summary>Environment variable that sets the worker count of every device in the process (0: one thread).</summary>
    public const string EnvironmentVariable = "BRANCHGATE_CRYPTO_WORKERS";

    /// <summary>The most workers per packet thread.</summary>
    public const int MaxWorkers = 15;

    private readonly Worker[] _workers;

    /// <param name="name">Thread name prefix.</param>
    /// <param name="workers">Extra threads (0: everything runs on the caller).</param>
    /// <param name="minimumItems">Batches smaller than this run on the caller alone; each part gets at least half.</param>
    public CryptoWorkers(string name, int workers, int minimumItems)
    {
        MinimumItems = Math.Max(2, minimumItems);
        _workers = new Worker[Math.Clamp(workers, 0, MaxWorkers)];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Worker($"{name} crypto {i + 1}");
        }
    }

    public int Workers => _workers.Length;

    public int MinimumItems { get; }

    /// <summary>
    /// The default: one worker per further core, at most 3 (each packet direction has its own workers), none on one
    /// core. <see cref="EnvironmentVariable"/> overrides it.
    /// </summary>
    public static int DefaultWorkers()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (int.TryParse(configured, System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out int workers))
        {
            return Math.Min(workers, MaxWorkers);
        }

        return Math.Clamp(Environment.ProcessorCount - 1, 0, 3);
    }

    /// <summary>Runs <paramref name="work"/>(start, end) over [0, count) in parts, in parallel when count is large enough.</summary>
    public void Run(int count, Action<int, int> work)
    {
        int parts = Math.Min(_workers.Length + 1, count / (MinimumItems / 2));
        if (count < MinimumItems || parts <= 1)
        {
            work(0, count);
            return;
        }

        int first = count / parts + (count % parts > 0 ? 1 : 0);
        int start = first;
        for (int p = 1; p < parts; p++)
        {
            int size = count / parts + (p < count % parts ? 1 : 0);
            _workers[p - 1].Start(work, start, start + size);
            start += size;
        }

        Exception? failure = null;
        try
        {
            work(0, first);
        }
        catch (Exception e)
        {
            failure = e;
        }

        for (int p = 1; p < parts; p++)
        {
            failure ??= _workers[p - 1].Join();
        }

        if (failure is not null)
        {
            throw new InvalidOperationException("A crypto worker failed.", failure);
        }
    }

    public void Dispose()
    {
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }
    }

    /// <summary>One pre-started thread: waits for a part, works it, signals done.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly ManualResetEventSlim _go = new(false, 200);
        private readonly ManualResetEventSlim _done = new(false, 200);
        private readonly Thread _thread;
        private Action<int, int>? _work;
        private int _start, _end;
        private Exception? _failure;
        private volatile bool _stopping;

        public Worker(string name)
        {
            _thread = new Thread(Loop) { IsBackground = true, Name = name };
            _thread.Start();
        }

        public void Start(Action<int, int> work, int start, int end)
        {
            _work = work;
            _start = start;
            _end = end;
            _failure = null;
            _done.Reset();
            _go.Set(); // a full fence: the fields above are visible to the worker
        }

        public Exception? Join()
        {
            _done.Wait();
            return _failure;
        }

        private void Loop()
        {
            while (true)
            {
                _go.Wait();
                _go.Reset();
                if (_stopping)
                {
                    return;
                }

                try
                {
                    _work!(_start, _end);
                }
                catch (Exception e)
                {
                    _failure = e;
                }

                _done.Set();
            }
        }

        public void Dispose()
        {
            _stopping = true;
            _go.Set();
            _thread.Join(TimeSpan.FromSeconds(5));
            _go.Dispose();
            _done.Dispose();
        }
    }
}
