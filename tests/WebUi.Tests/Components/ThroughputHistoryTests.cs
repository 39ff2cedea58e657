using Branchgate.WebUi.Features.Dashboard;

namespace Branchgate.WebUi.Tests.Components;

public sealed class ThroughputHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Rates_are_counter_differences_over_time_and_a_counter_reset_starts_over()
    {
        var history = new ThroughputHistory(capacity: 3);
        history.Add("wg0/b", T0, 1000, 100);
        Assert.Empty(history.For("wg0/b"));

        history.Add("wg0/b", T0.AddSeconds(2), 3000, 100);
        var rate = Assert.Single(history.For("wg0/b"));
        Assert.Equal(1000, rate.ReceivedPerSecond);
        Assert.Equal(0, rate.SentPerSecond);

        // The gateway restarted: counters begin again at zero; no negative rate.
        history.Add("wg0/b", T0.AddSeconds(4), 10, 5);
        Assert.Empty(history.For("wg0/b"));

        for (var i = 1; i <= 5; i++)
        {
            history.Add("wg0/b", T0.AddSeconds(4 + i), 10 + (ulong)(i * 50), 5);
        }

        Assert.Equal(3, history.For("wg0/b").Count);
        Assert.All(history.For("wg0/b"), r => Assert.Equal(50, r.ReceivedPerSecond));

        history.Retain(new HashSet<string>());
        Assert.Empty(history.For("wg0/b"));
    }
}
