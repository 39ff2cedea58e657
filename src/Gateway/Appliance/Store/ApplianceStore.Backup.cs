using System.Runtime.Versioning;
using System.Security.Cryptography;

namespace Branchgate.Appliance.Store;

// Backup: the data file after a checkpoint is the whole store, so a copy of its bytes under the lock is consistent.
// Restore: the upload becomes a temporary file beside the store, is opened and validated as a store (migrated if it
// is of an older schema), and only then renamed over the store (rename(2) replaces it atomically).
public sealed partial class ApplianceStore
{
    public void Backup(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        lock (_gate)
        {
            ThrowIfDisposed();
            _database.Checkpoint();
            using var file = new FileStream(Path, System.IO.FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            file.CopyTo(destination);
        }
    }

    /// <summary>
    /// Replaces the store at <paramref name="storePath"/> with the backup in <paramref name="backup"/>. The caller has
    /// disposed its <see cref="ApplianceStore"/> on that path first (a store still open is refused: the lock file is
    /// held) and opens a new one afterwards. The backup is
    /// refused unless it opens as a Branchgate store of a schema this version supports; then the existing store is
    /// left untouched.
    /// </summary>
    /// <exception cref="StoreException">The backup is not a usable store (the message says why).</exception>
    public static void Restore(string storePath, Stream backup)
    {
        ArgumentException.ThrowIfNullOrEmpty(storePath);
        ArgumentNullException.ThrowIfNull(backup);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the appliance store needs Unix file modes");
        }

        var fullPath = System.IO.Path.GetFullPath(storePath);
        var directory = System.IO.Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory, DirectoryMode);
        var temporary = System.IO.Path.Combine(directory,
            $".{System.IO.Path.GetFileName(fullPath)}.restore-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
        using var storeLock = AcquireLock(fullPath);
        try
        {
            CopyToNewFile(backup, temporary);
            if (new FileInfo(temporary).Length == 0)
            {
                throw new StoreException("the backup is empty; the store was not changed");
            }

            try
            {
                using var check = Open(temporary);
            }
            catch (StoreException exception)
            {
                var why = exception.Message.Replace(temporary, "the backup", StringComparison.Ordinal)
                    .Replace("; it was not modified", "", StringComparison.Ordinal);
                throw new StoreException($"the backup was refused ({why}); the store was not changed", exception);
            }

            // The replaced store's write-ahead log (normally gone after a clean close) must not be replayed onto the
            // restored file.
            var log = LogPath(fullPath);
            if (File.Exists(log))
            {
                File.Delete(log);
            }

            File.SetUnixFileMode(temporary, FileMode);
            File.Move(temporary, fullPath, overwrite: true);
        }
        finally
        {
            DeleteIfExists(temporary);
            DeleteIfExists(LogPath(temporary));
            DeleteIfExists(LockPath(temporary));
        }
    }

    [UnsupportedOSPlatform("windows")]
    private static void CopyToNewFile(Stream source, string path)
    {
        var options = new FileStreamOptions
        {
            Mode = System.IO.FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = FileMode,
        };
        using var file = new FileStream(path, options);
        source.CopyTo(file);
        file.Flush(flushToDisk: true);
    }

    private static void DeleteIfExists(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }
}
