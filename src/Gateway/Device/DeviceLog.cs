namespace Branchgate.Device;

/// <summary>Log levels of wireguard-go's LOG_LEVEL: silent, error, verbose.</summary>
public enum LogLevel
{
    Silent = 0,
    Error = 1,
    Verbose = 2,
}

/// <summary>
/// The daemon's log, in wireguard-go's shape ("DEBUG: (wg0) 2026/11/26 08:00:00 message", "ERROR: ..."), written to a
/// TextWriter (stdout in the foreground). Never pass key material: callers log public keys at most, shortened.
/// </summary>
public sealed class DeviceLog(TextWriter output, LogLevel level, string interfaceName)
{
    private readonly Lock _lock = new();

    public static DeviceLog Silent { get; } = new(TextWriter.Null, LogLevel.Silent, "");

    public LogLevel Level => level;

    public bool IsVerbose => level >= LogLevel.Verbose;

    /// <summary>LOG_LEVEL from the environment (verbose|debug, error, silent); error when unset or unknown.</summary>
    public static LogLevel LevelFromEnvironment(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "verbose" or "debug" => LogLevel.Verbose,
        "silent" => LogLevel.Silent,
        _ => LogLevel.Error,
    };

    public void Verbose(string message)
    {
        if (level >= LogLevel.Verbose)
        {
            Write("DEBUG", message);
        }
    }

    public void Error(string message)
    {
        if (level >= LogLevel.Error)
        {
            Write("ERROR", message);
        }
    }

    private void Write(string tag, string message)
    {
        lock (_lock)
        {
            output.WriteLine($"{tag}: ({interfaceName}) {DateTime.Now:yyyy/MM/dd HH:mm:ss} {message}");
            output.Flush();
        }
    }
}
