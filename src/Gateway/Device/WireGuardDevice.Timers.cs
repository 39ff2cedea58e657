using Branchgate.Protocol;

namespace Branchgate.Device;

// Timers: every 50 ms each peer's deadlines are checked (PeerSession.Tick) and what is due is sent from this
// thread's own sender: initiations (new or retried, with the endpoint's pinned source forgotten on retries),
// keepalives, and configuration-requested keepalives. Also refreshes the MTU and disposes retired key material.
public sealed partial class WireGuardDevice
{
    private const int TickMilliseconds = 50;
    private long _reportedReadDrops;
    private long _reportedWriteDrops;

    private readonly long[] _reportedDrops = new long[Enum.GetValues<DropReason>().Length];

    /// <summary>A verbose line with the datagrams and packets dropped since the last report, by reason.</summary>
    private void ReportDrops()
    {
        var parts = new List<string>();
        for (int i = 1; i < _drops.Length; i++)
        {
            long now = Interlocked.Read(ref _drops[i]);
            if (now != _reportedDrops[i])
            {
                parts.Add($"{(DropReason)i} {now - _reportedDrops[i]}");
                _reportedDrops[i] = now;
            }
        }

        if (parts.Count > 0)
        {
            Log.Verbose("Dropped: " + string.Join(", ", parts));
        }
    }

    /// <summary>A verbose line when the TUN dropped packets since the last report (malformed, oversized, link down).</summary>
    private void ReportTunDrops()
    {
        var counters = _tun.Counters;
        long read = counters.ReadDrops, write = counters.WriteDrops;
        if (read != _reportedReadDrops || write != _reportedWriteDrops)
        {
            Log.Verbose($"TUN dropped {read - _reportedReadDrops} packets on read and {write - _reportedWriteDrops} on write");
            _reportedReadDrops = read;
            _reportedWriteDrops = write;
        }
    }

    private void TimerLoop()
    {
        using var sender = new PacketSender(this, 16);
        long lastMtuCheck = Environment.TickCount64;
        long lastStats = Environment.TickCount64;
        while (!_stopping.Wait(TickMilliseconds))
        {
            foreach (var peer in _peers)
            {
                if (peer.KeepaliveRequested)
                {
                    peer.KeepaliveRequested = false;
                    SendKeepalive(peer, sender);
                }

                var actions = peer.Session.Tick();
                if (actions == TimerActions.None)
                {
                    continue;
                }

                if ((actions & TimerActions.FlushStaged) != 0)
                {
                    Log.Verbose($"{peer.Name} - Handshake did not complete after {Constants.RekeyAttemptTime.TotalSeconds:0} seconds, giving up");
                    peer.FlushStaged();
                }

                if ((actions & TimerActions.RetryInitiation) != 0)
                {
                    Log.Verbose($"{peer.Name} - Handshake did not complete after {Constants.RekeyTimeout.TotalSeconds:0} seconds, retrying (try {peer.Session.HandshakeAttempts + 1})");
                    peer.CountHandshakeFailure();
                    peer.ClearEndpointSource();
                    Initiate(peer, isRetry: true, sender);
                }

                if ((actions & TimerActions.SendInitiation) != 0)
                {
                    Initiate(peer, isRetry: false, sender);
                }

                if ((actions & TimerActions.SendKeepalive) != 0)
                {
                    SendKeepalive(peer, sender);
                }
            }

            sender.Flush();
            if (Environment.TickCount64 - lastMtuCheck >= 1000)
            {
                lastMtuCheck = Environment.TickCount64;
                _mtu = SafeMtu(_mtu);
                DisposeRetired(all: false);
                ReportTunDrops();
                if (Log.IsVerbose && Environment.TickCount64 - lastStats >= 10_000)
                {
                    // For measuring: the managed heap must not grow with traffic (no allocation per packet).
                    lastStats = Environment.TickCount64;
                    ReportDrops();
                    Log.Verbose($"Runtime: {GC.GetTotalAllocatedBytes(precise: true)} bytes allocated so far, " +
                        $"{GC.CollectionCount(0)} gen0 collections, working set {Environment.WorkingSet >> 20} MiB");
                }
            }
        }
    }
}
