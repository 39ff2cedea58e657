using System.Globalization;

namespace Branchgate.Interop.Tests.Security;

/// <summary>CPU time and resident memory of a process, from /proc/PID/stat and /proc/PID/status.</summary>
public static class ProcessUsage
{
    /// <summary>utime + stime, in seconds.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name (which is in parentheses and may hold spaces): state is field 3, utime 14, stime 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / 100.0; // USER_HZ is 100 on Linux
    }

    /// <summary>VmRSS in MiB.</summary>
    public static double RssMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                return kb / 1024.0;
            }
        }

        throw new InvalidOperationException($"no VmRSS for {pid}");
    }

    /// <summary>Open file descriptors.</summary>
    public static int Descriptors(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;
}
