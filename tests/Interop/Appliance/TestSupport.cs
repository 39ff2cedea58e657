using System.Collections.Concurrent;
using System.Net;
using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Model;
using Branchgate.Appliance.Runtime;
using Branchgate.Appliance.Store;
using Branchgate.Interop.Tests.Harness;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Branchgate.Interop.Tests.Appliance;

/// <summary>An in-memory store for the runtime tests (the real one is LiteDB); can be told to fail its next commit.</summary>
internal sealed class InMemoryStore(ApplianceConfig? initial = null) : IApplianceStore
{
    private readonly Lock _lock = new();
    private readonly List<AuditEntry> _audit = [];
    private ApplianceConfig _config = initial ?? ApplianceConfig.Empty;
    private long _nextId = 1;

    public bool FailNextCommit { get; set; }

    public string Path => ":memory:";

    public IReadOnlyList<AuditEntry> Audit
    {
        get
        {
            lock (_lock)
            {
                return [.. _audit];
            }
        }
    }

    public ApplianceConfig LoadConfig()
    {
        lock (_lock)
        {
            return _config;
        }
    }

    /// <summary>Replaces the stored state behind the runtime's back (as a restore would before a SIGHUP).</summary>
    public void Overwrite(ApplianceConfig config)
    {
        lock (_lock)
        {
            _config = config;
        }
    }

    public void Commit(ApplianceConfig config, AuditEntry audit)
    {
        lock (_lock)
        {
            if (FailNextCommit)
            {
                FailNextCommit = false;
                throw new IOException("disk full (injected)");
            }

            _config = config;
            _audit.Add(audit with { Id = _nextId++ });
        }
    }

    public AuditEntry AppendAudit(AuditEntry entry)
    {
        lock (_lock)
        {
            var stored = entry with { Id = _nextId++ };
            _audit.Add(stored);
            return stored;
        }
    }

    public IReadOnlyList<AuditEntry> ReadAudit(long? beforeId = null, int take = 100)
    {
        lock (_lock)
        {
            return [.. _audit.Where(a => beforeId is null || a.Id < beforeId).OrderByDescending(a => a.Id).Take(take)];
        }
    }

    public IReadOnlyList<UserRecord> ListUsers() => [];

    public UserRecord? FindUser(string name) => null;

    public void SaveUser(UserRecord user, AuditEntry? audit)
    {
    }

    public bool DeleteUser(string name, AuditEntry audit) => false;

    public void Backup(Stream destination)
    {
    }

    public void Dispose()
    {
    }
}

/// <summary>Collects log lines (and echoes them to the test output when one is given).</summary>
internal sealed class ListLogger(ITestOutputHelper? output = null) : ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        var line = $"{logLevel}: {formatter(state, exception)}";
        _lines.Enqueue(line);
        try
        {
            output?.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // the test already ended
        }
    }
}

/// <summary>A resolver the test controls: name -> address; a missing name does not resolve.</summary>
internal sealed class FakeResolver
{
    private readonly ConcurrentDictionary<string, IPEndPoint> _answers = new();

    public int Lookups;

    public void Set(string name, IPEndPoint? address)
    {
        if (address is null)
        {
            _answers.TryRemove(name, out _);
        }
        else
        {
            _answers[name] = address;
        }
    }

    public Task<IPEndPoint?> Resolve(string name, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Lookups);
        if (IPEndPoint.TryParse(name, out var literal) && literal.Port != 0)
        {
            return Task.FromResult<IPEndPoint?>(literal);
        }

        return Task.FromResult<IPEndPoint?>(_answers.TryGetValue(name, out var a) ? a : null);
    }
}

internal static class ApplianceTestKit
{
    private static int s_counter;

    /// <summary>An interface name unique to this test process (socket files in /var/run/wireguard are global).</summary>
    public static string InterfaceName(char tag) =>
        $"ar{Environment.ProcessId % 100000}{Interlocked.Increment(ref s_counter)}{tag}";

    public static ApplianceRuntimeOptions Options(ListLogger logger, FakeResolver resolver,
        Func<ApplianceConfig, IReadOnlyList<string>>? validate = null,
        Func<ApplianceConfig, CoexistenceReport>? check = null) => new()
        {
            Validate = validate ?? (_ => []),
            Check = check ?? (_ => CoexistenceReport.Clean),
            ResolveEndpoint = resolver.Resolve,
            Logger = logger,
            ReconcileInterval = TimeSpan.FromSeconds(1),
            ReResolveInterval = TimeSpan.FromSeconds(1),
            ResolveTimeout = TimeSpan.FromSeconds(2),
        };

    /// <summary>Builds the runtime inside <paramref name="ns"/> (its control thread lives there) and starts it.</summary>
    public static ApplianceRuntime StartIn(NetNs ns, IApplianceStore store, ApplianceRuntimeOptions options)
    {
        var runtime = ns.Run(() => new ApplianceRuntime(store, options));
        try
        {
            runtime.StartAsync().WaitAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
            return runtime;
        }
        catch
        {
            runtime.Dispose();
            throw;
        }
    }

    public static bool WaitFor(Func<bool> condition, TimeSpan timeout) => Shell.WaitFor(condition, timeout, 100);
}
