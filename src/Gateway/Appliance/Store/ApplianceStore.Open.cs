using System.Runtime.Versioning;
using System.Text;
using Branchgate.Appliance.Store.Mapping;
using LiteDB;

namespace Branchgate.Appliance.Store;

// Opening: take the lock file; check the file starts like a LiteDB data file before LiteDB touches it; inspect it
// read-only (ours? a schema we know? every document readable, and mapped when current) so that a refused file is
// never written; only then open it writable to initialize or migrate it (migration and a second mapping check in one
// transaction).
public sealed partial class ApplianceStore
{
    public const string DefaultPath = "/var/lib/branchgate/branchgate.db";

    internal const string MetaCollection = "meta";
    internal const string MetaId = "store";

    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode GroupOrOther = (UnixFileMode)0x3f; // ---rwxrwx

    // LiteDB 5's data file: 8 KiB pages; page 0 is the header with this text at byte 32 and the file format (8) at
    // byte 59. Byte 0 is 1 for an encrypted file.
    private const int PageSize = 8192;
    private const int HeaderInfoOffset = 32;
    private const string HeaderInfo = "** This is a LiteDB file **";
    private const int FileVersionOffset = 59;
    private const byte FileVersion = 8;

    /// <summary>
    /// Opens the store at <paramref name="path"/>, creating it (and its directory, mode 0700) when missing. The file
    /// is made mode 0600 (also an existing, wider one: <see cref="Notes"/> says so). An older schema is migrated.
    /// </summary>
    /// <exception cref="StoreException">Not a Branchgate store, damaged, of a newer schema, or in use by another
    /// open store: the message says which, and the file was not modified.</exception>
    public static ApplianceStore Open(string path = DefaultPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the appliance store needs Unix file modes");
        }

        var fullPath = System.IO.Path.GetFullPath(path);
        var notes = new List<string>();
        var directory = System.IO.Path.GetDirectoryName(fullPath)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, DirectoryMode);
            notes.Add($"created the directory {directory} (mode 0700)");
        }

        var lockFile = AcquireLock(fullPath);
        try
        {
            return OpenLocked(fullPath, notes, lockFile);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    [UnsupportedOSPlatform("windows")]
    private static ApplianceStore OpenLocked(string fullPath, List<string> notes, FileStream lockFile)
    {
        // An existing file is inspected read-only first: LiteDB marks a data file it finds damaged in its header
        // page, and that write must never happen to a file we refuse.
        int? version = null;
        var existing = new FileInfo(fullPath);
        if (existing.Exists && existing.Length > 0)
        {
            if (CheckDataFile(fullPath) is { } problem)
            {
                throw new StoreException($"{fullPath} is not a Branchgate store: {problem}; it was not modified");
            }

            version = Inspect(fullPath);
        }
        else if (!existing.Exists)
        {
            CreateEmpty(fullPath);
            notes.Add($"created a new store {fullPath} (mode 0600)");
        }

        var logPath = LogPath(fullPath);
        var createdLog = !File.Exists(logPath);
        if (createdLog)
        {
            // LiteDB creates its write-ahead log lazily with the process umask; made here, it is 0600 from the start.
            CreateEmpty(logPath);
        }

        LiteDatabase? database = null;
        try
        {
            database = OpenLiteDb(fullPath, readOnly: false);
            if (version is null)
            {
                RunTransaction(database, fullPath, "initialize the store", () =>
                    database.GetCollection(MetaCollection).Insert(MetaDocument(Migrations.CurrentVersion, DateTimeOffset.UtcNow)));
            }
            else if (version < Migrations.CurrentVersion)
            {
                Migrate(database, fullPath, version.Value);
                notes.Add($"migrated the store from schema {version} to {Migrations.CurrentVersion}");
            }

            TightenMode(fullPath, notes);
            TightenMode(logPath, notes: null);
            var store = new ApplianceStore(fullPath, database, lockFile, notes);
            database = null;
            return store;
        }
        finally
        {
            if (database is not null)
            {
                DisposeQuietly(database);
                if (createdLog && File.Exists(logPath) && new FileInfo(logPath).Length == 0)
                {
                    File.Delete(logPath);
                }
            }
        }
    }

    /// <summary>
    /// Takes the store's lock file (".NAME.lock" beside it, flock(2) exclusive, released by the kernel when the holder
    /// exits or is killed): LiteDB's direct mode lets two processes open one file and corrupt it.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    private static FileStream AcquireLock(string dataPath)
    {
        var lockPath = LockPath(dataPath);
        try
        {
            return new FileStream(lockPath, new FileStreamOptions
            {
                Mode = System.IO.FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = FileMode,
            });
        }
        catch (IOException exception)
        {
            throw new StoreException($"{dataPath} is in use: another Branchgate process (or an open store in this one) "
                + $"holds {lockPath}; it was not modified", exception);
        }
    }

    internal static string LockPath(string dataPath) => System.IO.Path.Combine(
        System.IO.Path.GetDirectoryName(dataPath)!, "." + System.IO.Path.GetFileName(dataPath) + ".lock");

    /// <summary>LiteDB's write-ahead log beside the data file ("x.db" -> "x-log.db").</summary>
    internal static string LogPath(string dataPath) => System.IO.Path.Combine(
        System.IO.Path.GetDirectoryName(dataPath)!,
        System.IO.Path.GetFileNameWithoutExtension(dataPath) + "-log" + System.IO.Path.GetExtension(dataPath));

    private static LiteDatabase OpenLiteDb(string path, bool readOnly)
    {
        var connection = new ConnectionString
        {
            Filename = path,
            Connection = ConnectionType.Direct,
            ReadOnly = readOnly,
            Upgrade = false,
        };
        try
        {
            return new LiteDatabase(connection);
        }
        catch (Exception exception) when (IsReadFailure(exception))
        {
            throw new StoreException($"{path} is not a Branchgate store or is damaged: {exception.Message}; it was not modified", exception);
        }
    }

    /// <summary>Null when <paramref name="path"/> starts like an unencrypted LiteDB 5 data file, else the reason.</summary>
    private static string? CheckDataFile(string path)
    {
        using var file = new FileStream(path, System.IO.FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (file.Length < PageSize)
        {
            return $"it is {file.Length} bytes, shorter than one {PageSize}-byte LiteDB page";
        }

        if (file.Length % PageSize != 0)
        {
            return $"its length ({file.Length} bytes) is not a whole number of {PageSize}-byte LiteDB pages (truncated?)";
        }

        var header = new byte[PageSize];
        file.ReadExactly(header);
        if (header[0] == 1)
        {
            return "it is an encrypted LiteDB file";
        }

        var info = Encoding.ASCII.GetBytes(HeaderInfo);
        if (!header.AsSpan(HeaderInfoOffset, info.Length).SequenceEqual(info))
        {
            return "it has no LiteDB file header";
        }

        if (header[FileVersionOffset] != FileVersion)
        {
            return $"it is a LiteDB file of format {header[FileVersionOffset]}, not {FileVersion} (LiteDB 5)";
        }

        return null;
    }

    /// <summary>
    /// Opens the file read-only and checks it is ours, of a schema this version can use, and readable to the last
    /// document (mapped, when it is of the current schema). Returns its schema version, or null for a LiteDB file
    /// with nothing in it (it becomes a new store).
    /// </summary>
    private static int? Inspect(string path)
    {
        var database = OpenLiteDb(path, readOnly: true);
        try
        {
            var collections = database.GetCollectionNames().ToList();
            var meta = database.GetCollection(MetaCollection).FindById(MetaId);
            if (meta is null)
            {
                if (collections.Count > 0)
                {
                    throw new StoreException($"{path} is not a Branchgate store: it is a LiteDB file with other "
                        + $"collections ({string.Join(", ", collections)}) and no '{MetaCollection}' document; it was not modified");
                }

                return null;
            }

            var version = ReadVersion(meta, path);
            if (version > Migrations.CurrentVersion)
            {
                throw new StoreException($"{path} was written by a newer Branchgate (store schema {version}; this "
                    + $"version knows up to {Migrations.CurrentVersion}); it was not modified. Install the newer version or restore a backup.");
            }

            if (version < Migrations.OldestVersion)
            {
                throw new StoreException($"{path} has store schema {version}, older than any this version can "
                    + $"migrate ({Migrations.OldestVersion}); it was not modified");
            }

            if (version == Migrations.CurrentVersion)
            {
                Validate(database, path);
            }
            else
            {
                // The documents get mapped after the migration; here every page is read once.
                foreach (var name in collections)
                {
                    _ = database.GetCollection(name).FindAll().Count();
                }
            }

            return version;
        }
        catch (Exception exception) when (IsReadFailure(exception))
        {
            throw new StoreException($"{path} is damaged: {exception.Message}; it was not modified", exception);
        }
        finally
        {
            DisposeQuietly(database);
        }
    }

    /// <summary>All steps from <paramref name="version"/> and the check that every document then maps, in one
    /// transaction: any failure leaves the store at <paramref name="version"/>.</summary>
    private static void Migrate(LiteDatabase database, string path, int version) =>
        RunTransaction(database, path, $"migrate from schema {version}", () =>
        {
            foreach (var step in Migrations.From(version))
            {
                step.Apply(database);
            }

            var meta = database.GetCollection(MetaCollection).FindById(MetaId);
            meta["schemaVersion"] = Migrations.CurrentVersion;
            database.GetCollection(MetaCollection).Update(meta);
            Validate(database, path);
        });

    private static int ReadVersion(BsonDocument meta, string path)
    {
        var fields = new BsonFields(MetaCollection, meta);
        var version = fields.Int32("schemaVersion");
        _ = fields.Time("createdAt");
        return fields.Error is { } error ? throw Damaged(path, error) : version;
    }

    internal static BsonDocument MetaDocument(int version, DateTimeOffset created) => new()
    {
        ["_id"] = MetaId,
        ["schemaVersion"] = version,
        ["createdAt"] = UserBson.TimeText(created),
    };

    /// <summary>Maps every document once: a damaged or foreign document is refused now, not on first use.</summary>
    private static void Validate(LiteDatabase database, string path)
    {
        try
        {
            _ = ReadConfig(database, path);
            _ = ReadUsers(database, path);
            foreach (var document in database.GetCollection(AuditBson.Collection).FindAll())
            {
                _ = AuditBson.FromBson(document, out var error) ?? throw Damaged(path, error!);
            }
        }
        catch (Exception exception) when (IsReadFailure(exception))
        {
            throw new StoreException($"{path} is damaged: {exception.Message}; it was not modified", exception);
        }
    }

    private static void RunTransaction(LiteDatabase database, string path, string what, Action action)
    {
        database.BeginTrans();
        try
        {
            action();
            database.Commit();
        }
        catch (Exception exception)
        {
            database.Rollback();
            if (exception is StoreException)
            {
                throw;
            }

            throw new StoreException($"{path}: could not {what} ({exception.Message}); the store was left as it was", exception);
        }

        database.Checkpoint();
    }

    // LiteDB reports a damaged page in many ways (its own exception, a failed cast or index of a garbled buffer).
    private static bool IsReadFailure(Exception exception) => exception is not (StoreException or OutOfMemoryException);

    [UnsupportedOSPlatform("windows")]
    private static void CreateEmpty(string path)
    {
        var options = new FileStreamOptions
        {
            Mode = System.IO.FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = FileMode,
        };
        using var _ = new FileStream(path, options);
    }

    [UnsupportedOSPlatform("windows")]
    private static void TightenMode(string path, List<string>? notes)
    {
        if (!File.Exists(path))
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        if (mode != FileMode)
        {
            File.SetUnixFileMode(path, FileMode);
            if ((mode & GroupOrOther) != 0)
            {
                notes?.Add($"{path} had mode {Octal(mode)}, readable by others; set it to 0600");
            }
        }
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8).PadLeft(3, '0');

    private static void DisposeQuietly(LiteDatabase database)
    {
        try
        {
            database.Dispose();
        }
        catch (Exception exception) when (exception is LiteException or IOException or InvalidOperationException)
        {
            // Already refusing the file; the first problem is the one to report.
        }
    }
}
