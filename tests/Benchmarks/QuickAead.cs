using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Branchgate.Crypto;
using Ours = Branchgate.Crypto.ChaCha20Poly1305;

namespace Branchgate.Benchmarks;

/// <summary>
/// A loop over one message size: ns per operation and GB/s (10^9 bytes), best of five rounds, for the seal on each
/// path and for ChaCha20 and Poly1305 alone. Timed in this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), as `openssl
/// speed` without -elapsed times itself in user CPU time, so that other load on the machine costs neither side.
/// Not BenchmarkDotNet: quick enough to alternate with openssl.
/// </summary>
internal static partial class QuickAead
{
    private const int ClockThreadCpuTime = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    private static double ThreadCpuNanoseconds()
    {
        _ = ClockGetTime(ClockThreadCpuTime, out var time);
        return (time.Seconds * 1e9) + time.Nanoseconds;
    }

    public static void Run(int size, double seconds, TextWriter output)
    {
        var key = new byte[32];
        var nonce = new byte[12];
        var tag = new byte[16];
        var data = new byte[size];
        Random.Shared.NextBytes(key);
        Random.Shared.NextBytes(data);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"size {size} bytes; preferred ChaCha20 width {ChaCha20.PreferredWidth}, Poly1305 {Poly1305.PreferredWidth}"));
        Measure(output, "seal (preferred)", size, seconds, () => Ours.Seal(key, 7UL, data, data, tag, default));
        foreach (var width in new[] { ChaChaWidth.Vector512, ChaChaWidth.Vector256, ChaChaWidth.Vector128 })
        {
            Measure(output, $"seal {width}", size, seconds, () => Ours.Seal(width, key, nonce, data, data, tag, default));
        }

        foreach (var width in new[] { ChaChaWidth.Vector512, ChaChaWidth.Vector256 })
        {
            Measure(output, $"chacha20 {width}", size, seconds, () => ChaCha20.Xor(width, key, nonce, 1, data, data));
        }

        foreach (var width in new[] { Poly1305Width.Vector256, Poly1305Width.Scalar })
        {
            Measure(output, $"poly1305 {width}", size, seconds, () => Poly1305.Compute(width, key, data, tag));
        }
    }

    private static void Measure(TextWriter output, string name, int size, double seconds, Action operation)
    {
        for (int i = 0; i < 20_000; i++)
        {
            operation();
        }

        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            long count = 0;
            double cpuStart = ThreadCpuNanoseconds();
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed.TotalSeconds < seconds / 5)
            {
                for (int i = 0; i < 1000; i++)
                {
                    operation();
                }

                count += 1000;
            }

            best = Math.Min(best, (ThreadCpuNanoseconds() - cpuStart) / count);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-20} {best,8:F0} ns  {size / best,6:F2} GB/s"));
    }
}
