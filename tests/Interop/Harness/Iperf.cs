using System.Diagnostics;
using System.Text.Json;

namespace Branchgate.Interop.Tests.Harness;

/// <summary>Reads iperf3 -J results.</summary>
public static class Iperf
{
    /// <summary>Bits per second the receiving side saw (TCP: sum_received; UDP: sum, minus lost packets).</summary>
    public static double ReceivedBitsPerSecond(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var end = doc.RootElement.GetProperty("end");
        if (end.TryGetProperty("sum_received", out var received))
        {
            return received.GetProperty("bits_per_second").GetDouble();
        }

        var sum = end.GetProperty("sum");
        double lost = sum.TryGetProperty("lost_percent", out var l) ? l.GetDouble() : 0;
        return sum.GetProperty("bits_per_second").GetDouble() * (100 - lost) / 100;
    }
}

/// <summary>A process the test started, killed (by its PID) on Dispose.</summary>
public sealed class StartedProcess(Process process) : IDisposable
{
    public Process Process { get; } = process;

    public void Dispose()
    {
        Shell.Kill(Process, entireProcessTree: true);
        Process.Dispose();
    }
}
