using System.Buffers.Binary;

namespace Branchgate.Crypto;

/// <summary>
/// TAI64N timestamps as WireGuard's initiation carries them: 8 bytes big-endian seconds (TAI64 label 2^62 + 10 plus
/// Unix seconds), 4 bytes big-endian nanoseconds. Nanoseconds are rounded down to ~16.8 ms so the timestamp does not
/// reveal the host's fine clock (as wireguard-go's whitener does). Byte-wise comparison orders them in time.
/// </summary>
public static class Tai64N
{
    public const int Size = 12;

    private const ulong Base = 0x400000000000000aUL;
    private const uint WhitenerMask = 0x1000000 - 1;

    public static void Write(DateTimeOffset time, Span<byte> destination)
    {
        var unixNanoseconds = (time - DateTimeOffset.UnixEpoch).Ticks * 100;
        var seconds = (ulong)(unixNanoseconds / 1_000_000_000);
        var nanoseconds = (uint)(unixNanoseconds % 1_000_000_000);
        BinaryPrimitives.WriteUInt64BigEndian(destination, Base + seconds);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], nanoseconds & ~WhitenerMask);
    }

    /// <summary>True when <paramref name="candidate"/> is strictly later than <paramref name="previous"/>.</summary>
    public static bool IsAfter(ReadOnlySpan<byte> candidate, ReadOnlySpan<byte> previous) =>
        candidate[..Size].SequenceCompareTo(previous[..Size]) > 0;
}
