using System.Collections.Concurrent;

namespace Branchgate.Appliance.Runtime;

/// <summary>
/// The one thread that touches the kernel and the devices for the runtime. It is started by the runtime's constructor
/// and so lives in the network namespace of the thread that built the runtime: TUNs, UDP sockets and netlink sockets
/// it creates belong there. Work runs in the order it was queued; results complete asynchronously, so awaiting code
/// never continues on this thread.
/// </summary>
internal sealed class ControlThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;

    public ControlThread(string name)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public Task<T> Run<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _work.Add(() =>
            {
                try
                {
                    done.SetResult(work());
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            });
        }
        catch (InvalidOperationException)
        {
            done.SetException(new ObjectDisposedException(nameof(ApplianceRuntime)));
        }

        return done.Task;
    }

    public Task Run(Action work) => Run<bool>(() =>
    {
        work();
        return true;
    });

    private void Loop()
    {
        foreach (var item in _work.GetConsumingEnumerable())
        {
            item();
        }
    }

    /// <summary>Lets the queued work finish (10 s at most), then ends the thread.</summary>
    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
        _work.Dispose();
    }
}
