using System.Globalization;

namespace Branchgate.WebUi.Features.Dashboard;

/// <summary>How the panel writes sizes and ages: short, in the units a person reads at a glance.</summary>
public static class Format
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB"];

    public static string Bytes(ulong bytes)
    {
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : value.ToString("0.0", CultureInfo.InvariantCulture) + " " + Units[unit];
    }

    /// <summary>Bytes per second as "12 B/s", "3.4 KiB/s", ...</summary>
    public static string Rate(double bytesPerSecond) => Bytes((ulong)Math.Max(0, Math.Round(bytesPerSecond))) + "/s";

    /// <summary>"never", "12 s ago", "3 min ago", "2 h ago", "4 d ago".</summary>
    public static string Age(DateTimeOffset? time, DateTimeOffset now)
    {
        if (time is not { } then)
        {
            return "never";
        }

        var age = now - then;
        if (age < TimeSpan.Zero)
        {
            age = TimeSpan.Zero;
        }

        return age.TotalSeconds < 120 ? $"{(int)age.TotalSeconds} s ago"
            : age.TotalMinutes < 120 ? $"{(int)age.TotalMinutes} min ago"
            : age.TotalHours < 48 ? $"{(int)age.TotalHours} h ago"
            : $"{(int)age.TotalDays} d ago";
    }
}
