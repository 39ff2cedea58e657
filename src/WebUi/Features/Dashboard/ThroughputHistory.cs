namespace Branchgate.WebUi.Features.Dashboard;

/// <summary>One interval's throughput of a peer, in bytes per second each way.</summary>
public readonly record struct Rate(DateTimeOffset Time, double ReceivedPerSecond, double SentPerSecond);

/// <summary>
/// The dashboard's recent throughput per peer, made from the byte counters of successive status answers: the
/// difference of two counters over the time between them. A counter that went down (the peer was re-created, the
/// gateway restarted) starts the peer's history over instead of making a negative rate.
/// </summary>
public sealed class ThroughputHistory(int capacity = 40)
{
    private readonly Dictionary<string, (DateTimeOffset Time, ulong Received, ulong Sent)> _last = [];
    private readonly Dictionary<string, List<Rate>> _rates = [];

    public void Add(string peer, DateTimeOffset time, ulong received, ulong sent)
    {
        if (_last.TryGetValue(peer, out var last) && time > last.Time)
        {
            var rates = _rates.TryGetValue(peer, out var list) ? list : _rates[peer] = [];
            if (received < last.Received || sent < last.Sent)
            {
                rates.Clear();
            }
            else
            {
                var seconds = (time - last.Time).TotalSeconds;
                rates.Add(new Rate(time, (received - last.Received) / seconds, (sent - last.Sent) / seconds));
                if (rates.Count > capacity)
                {
                    rates.RemoveRange(0, rates.Count - capacity);
                }
            }
        }

        if (!_last.TryGetValue(peer, out var previous) || time > previous.Time)
        {
            _last[peer] = (time, received, sent);
        }
    }

    public IReadOnlyList<Rate> For(string peer) => _rates.TryGetValue(peer, out var rates) ? rates : [];

    /// <summary>Forgets peers that are no longer in the status.</summary>
    public void Retain(IReadOnlySet<string> peers)
    {
        foreach (var gone in _last.Keys.Where(k => !peers.Contains(k)).ToList())
        {
            _last.Remove(gone);
            _rates.Remove(gone);
        }
    }
}
