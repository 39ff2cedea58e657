using Branchgate.Appliance.Model;
using Branchgate.Appliance.Store.Mapping;
using LiteDB;

namespace Branchgate.Appliance.Store;

/// <summary>
/// The appliance's state in one LiteDB file (mode 0600, in a 0700 directory): collections "meta" (schema version,
/// creation time), "interfaces", "sites", "users" and "audit" (append-only, increasing Id). Every document is mapped
/// by hand (Mapping/*Bson.cs); LiteDB's reflection mapper is never used (it breaks under NativeAOT).
/// Locking: every public member runs under one lock, so LiteDB's per-thread transactions never interleave; a write is
/// one LiteDB transaction and is on disk (checkpointed into the data file and flushed) when the call returns.
/// See ApplianceStore.Open.cs for opening, validation and migration, ApplianceStore.Backup.cs for backup and restore.
/// </summary>
public sealed partial class ApplianceStore : IApplianceStore
{
    private readonly Lock _gate = new();
    private readonly LiteDatabase _database;
    private readonly FileStream _lockFile;
    private bool _disposed;

    private ApplianceStore(string path, LiteDatabase database, FileStream lockFile, IReadOnlyList<string> notes)
    {
        Path = path;
        _database = database;
        _lockFile = lockFile;
        Notes = notes;
    }

    public string Path { get; }

    /// <summary>What opening did besides opening, one sentence each, for the log: created the directory or the file,
    /// tightened the file's mode, migrated the schema.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Tests only: called at named points inside write transactions ("commit.sites" ...) to inject a
    /// failure.</summary>
    internal Action<string>? FailpointForTests { get; set; }

    public ApplianceConfig LoadConfig()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return ReadConfig(_database, Path);
        }
    }

    public void Commit(ApplianceConfig config, AuditEntry audit)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(audit);
        Write("commit", db =>
        {
            var interfaces = db.GetCollection(InterfaceBson.Collection);
            interfaces.DeleteAll();
            for (var i = 0; i < config.Interfaces.Count; i++)
            {
                interfaces.Insert(InterfaceBson.ToBson(config.Interfaces[i], i));
            }

            FailpointForTests?.Invoke("commit.interfaces");
            var sites = db.GetCollection(SiteBson.Collection);
            sites.DeleteAll();
            for (var i = 0; i < config.Sites.Count; i++)
            {
                sites.Insert(SiteBson.ToBson(config.Sites[i], i));
            }

            FailpointForTests?.Invoke("commit.sites");
            InsertAudit(db, audit);
            return 0;
        });
    }

    public AuditEntry AppendAudit(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var id = Write("audit", db => InsertAudit(db, entry));
        return entry with { Id = id };
    }

    public IReadOnlyList<AuditEntry> ReadAudit(long? beforeId = null, int take = 100)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(take);
        lock (_gate)
        {
            ThrowIfDisposed();
            var query = new Query { OrderBy = "_id", Order = Query.Descending, Limit = take };
            if (beforeId is { } before)
            {
                query.Where.Add(Query.LT("_id", before));
            }

            var result = new List<AuditEntry>();
            foreach (var document in _database.GetCollection(AuditBson.Collection).Find(query))
            {
                result.Add(AuditBson.FromBson(document, out var error) ?? throw Damaged(Path, error!));
            }

            return result;
        }
    }

    public IReadOnlyList<UserRecord> ListUsers()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return ReadUsers(_database, Path);
        }
    }

    public UserRecord? FindUser(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_gate)
        {
            ThrowIfDisposed();
            var document = _database.GetCollection(UserBson.Collection).FindById(name);
            return document is null ? null : UserBson.FromBson(document, out var error) ?? throw Damaged(Path, error!);
        }
    }

    public void SaveUser(UserRecord user, AuditEntry? audit)
    {
        ArgumentNullException.ThrowIfNull(user);
        Write("user", db =>
        {
            db.GetCollection(UserBson.Collection).Upsert(UserBson.ToBson(user));
            FailpointForTests?.Invoke("user.saved");
            if (audit is not null)
            {
                InsertAudit(db, audit);
            }

            return 0;
        });
    }

    public bool DeleteUser(string name, AuditEntry audit)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(audit);
        return Write("user", db =>
        {
            if (!db.GetCollection(UserBson.Collection).Delete(name))
            {
                return 0;
            }

            InsertAudit(db, audit);
            return 1;
        }) == 1;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _database.Dispose();
            _lockFile.Dispose();
        }
    }

    /// <summary>
    /// Runs <paramref name="change"/> in one transaction under the lock: committed and checkpointed when it returns,
    /// rolled back (nothing changed) when it throws. The checkpoint copies the committed pages from LiteDB's log into
    /// the data file and flushes it to disk, so a change that returned survives a power cut too, and the log stays
    /// small. (A kill -9 alone loses no returned commit even without it: StoreCrashTests.) Config changes are rare;
    /// the flush per change is cheap at that rate.
    /// </summary>
    private long Write(string what, Func<LiteDatabase, long> change)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (!_database.BeginTrans())
            {
                throw new InvalidOperationException("a store transaction is already open on this thread");
            }

            long result;
            try
            {
                result = change(_database);
                FailpointForTests?.Invoke(what + ".commit");
                _database.Commit();
            }
            catch (Exception exception)
            {
                _database.Rollback();
                if (exception is LiteException)
                {
                    throw new StoreException($"{Path}: the change was not written ({exception.Message})", exception);
                }

                throw;
            }

            _database.Checkpoint();
            return result;
        }
    }

    private static long InsertAudit(LiteDatabase database, AuditEntry entry)
    {
        var audit = database.GetCollection(AuditBson.Collection, BsonAutoId.Int64);
        return audit.Insert(AuditBson.ToBson(entry)).AsInt64;
    }

    private static ApplianceConfig ReadConfig(LiteDatabase database, string path)
    {
        var interfaces = new List<InterfaceConfig>();
        foreach (var document in database.GetCollection(InterfaceBson.Collection).FindAll())
        {
            interfaces.Add(InterfaceBson.FromBson(document, out var error) ?? throw Damaged(path, error!));
        }

        var sites = new List<SiteConfig>();
        foreach (var document in database.GetCollection(SiteBson.Collection).FindAll())
        {
            sites.Add(SiteBson.FromBson(document, out var error) ?? throw Damaged(path, error!));
        }

        return new ApplianceConfig { Interfaces = interfaces, Sites = sites };
    }

    private static List<UserRecord> ReadUsers(LiteDatabase database, string path)
    {
        var users = new List<UserRecord>();
        foreach (var document in database.GetCollection(UserBson.Collection).FindAll())
        {
            users.Add(UserBson.FromBson(document, out var error) ?? throw Damaged(path, error!));
        }

        return users;
    }

    private static StoreException Damaged(string path, string problem) =>
        new($"{path} is damaged: {problem}; it was not modified");

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
