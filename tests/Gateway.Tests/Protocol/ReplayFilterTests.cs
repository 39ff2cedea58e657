using Branchgate.Protocol;

namespace Branchgate.Tests.Protocol;

public class ReplayFilterTests
{
    /// <summary>The obvious, slow rule the bitmap must equal: unseen, below the limit, not too far behind the greatest.</summary>
    private sealed class NaiveFilter
    {
        private readonly HashSet<ulong> _seen = [];
        private ulong _greatest;

        public bool TryAccept(ulong counter, ulong limit)
        {
            if (counter >= limit || _seen.Contains(counter) || (counter < _greatest && _greatest - counter > ReplayFilter.WindowSize))
            {
                return false;
            }

            _seen.Add(counter);
            _greatest = Math.Max(_greatest, counter);
            return true;
        }
    }

    [Theory]
    [InlineData(1, 3000UL, 20_000)]
    [InlineData(2, 20_000UL, 20_000)]
    [InlineData(3, 100UL, 20_000)]
    [InlineData(4, 1_000_000UL, 5_000)]
    public void Matches_a_naive_set_based_reference(int seed, ulong spread, int steps)
    {
        var random = new Random(seed);
        var filter = new ReplayFilter();
        var reference = new NaiveFilter();
        ulong position = 0;
        for (var i = 0; i < steps; i++)
        {
            // Mostly forward with reordering, sometimes far jumps, sometimes old counters and exact replays.
            ulong counter = random.Next(10) switch
            {
                < 6 => position + (ulong)random.NextInt64(0, 64),
                6 => position > spread ? position - (ulong)random.NextInt64(0, (long)spread) : 0,
                7 => position + (ulong)random.NextInt64(0, (long)spread * 2),
                8 => position > ReplayFilter.WindowSize ? position - ReplayFilter.WindowSize + (ulong)random.Next(-70, 70) : position,
                _ => position,
            };
            position = Math.Max(position, counter);
            var limit = Constants.RejectAfterMessages;
            Assert.Equal(reference.TryAccept(counter, limit), filter.TryAccept(counter, limit));
        }
    }

    [Fact]
    public void Accepts_each_counter_once_in_any_order_within_the_window()
    {
        var filter = new ReplayFilter();
        var counters = Enumerable.Range(0, ReplayFilter.WindowSize).Select(i => (ulong)i).Reverse().ToArray();
        Assert.True(filter.TryAccept((ulong)ReplayFilter.WindowSize));
        foreach (var c in counters)
        {
            Assert.True(filter.TryAccept(c), $"counter {c}");
        }

        foreach (var c in counters)
        {
            Assert.False(filter.TryAccept(c));
        }
    }

    [Fact]
    public void Refuses_counters_behind_the_window_and_at_the_limit()
    {
        var filter = new ReplayFilter();
        Assert.True(filter.TryAccept(10_000));
        Assert.False(filter.TryAccept(10_000 - ReplayFilter.WindowSize - 1));
        Assert.True(filter.TryAccept(10_000 - ReplayFilter.WindowSize));
        Assert.False(filter.TryAccept(Constants.RejectAfterMessages));
        Assert.True(filter.TryAccept(Constants.RejectAfterMessages - 1));
        Assert.False(filter.TryAccept(Constants.RejectAfterMessages - 1));
    }

    [Fact]
    public void A_big_jump_clears_the_whole_window()
    {
        var filter = new ReplayFilter();
        for (ulong i = 0; i < 200; i++)
        {
            Assert.True(filter.TryAccept(i));
        }

        Assert.True(filter.TryAccept(1_000_000));
        // Counters near the new top were never seen, even where the ring slots held old bits.
        for (ulong i = 1_000_000 - 8000; i < 1_000_000; i += 7)
        {
            Assert.True(filter.TryAccept(i), $"counter {i}");
        }
    }
}
