using System.Runtime.CompilerServices;

namespace Branchgate.Protocol;

/// <summary>
/// Sliding-window replay filter for transport counters (RFC 6479 style, as the kernel's counter_validate): a ring of
/// 128 64-bit words. Counters more than <see cref="WindowSize"/> behind the greatest one seen are refused, as is any
/// counter seen before. Call <see cref="TryAccept"/> only after the packet authenticated, and under the keypair's lock.
/// </summary>
public struct ReplayFilter
{
    public const int WindowSize = Constants.ReplayWindowSize;

    private const int BitsPerWord = 64;
    private const int RingWords = (WindowSize / BitsPerWord) + 1; // 128
    private const int RingMask = RingWords - 1;

    private ulong _greatest;
    private Ring _ring;

    public readonly ulong Greatest => _greatest;

    public void Reset()
    {
        _greatest = 0;
        ((Span<ulong>)_ring).Clear();
    }

    /// <summary>Marks <paramref name="counter"/> seen and returns true, or returns false for a replayed or too old one.</summary>
    public bool TryAccept(ulong counter, ulong limit = Constants.RejectAfterMessages)
    {
        if (counter >= limit)
        {
            return false;
        }

        var word = counter / BitsPerWord;
        if (counter > _greatest)
        {
            // Slide the window forward, clearing the words that now stand for new counters.
            var current = _greatest / BitsPerWord;
            var advance = Math.Min(word - current, RingWords);
            for (ulong i = 1; i <= advance; i++)
            {
                _ring[(int)((current + i) & RingMask)] = 0;
            }

            _greatest = counter;
        }
        else if (_greatest - counter > WindowSize)
        {
            return false;
        }

        ref var slot = ref _ring[(int)(word & RingMask)];
        var bit = 1UL << (int)(counter % BitsPerWord);
        var seen = (slot & bit) != 0;
        slot |= bit;
        return !seen;
    }

    [InlineArray(RingWords)]
    private struct Ring
    {
        private ulong _element0;
    }
}
