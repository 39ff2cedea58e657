using System.Runtime.Versioning;
using System.Security.Cryptography;
using Branchgate.Appliance.Model;
using Branchgate.Appliance.Store;
using LiteDB;
using static Branchgate.Tests.Appliance.Store.StoreTestData;

namespace Branchgate.Tests.Appliance.Store;

[UnsupportedOSPlatform("windows")]
public class ApplianceStoreTests
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public void Every_field_of_the_config_survives_a_commit_and_a_reopen()
    {
        using var dir = new TempDirectory();
        var path = dir.File("branchgate.db");
        var config = FullConfig();
        using (var store = ApplianceStore.Open(path))
        {
            Assert.Empty(store.LoadConfig().Interfaces);
            store.Commit(config, Audit());
            AssertSameConfig(config, store.LoadConfig());
        }

        using (var reopened = ApplianceStore.Open(path))
        {
            AssertSameConfig(config, reopened.LoadConfig());
            Assert.Empty(reopened.Notes);
        }

        // Secrets are stored as raw bytes, never as their base64 text.
        var bytes = File.ReadAllBytes(path);
        var psk = config.Sites[0].PresharedKey!;
        Assert.True(bytes.AsSpan().IndexOf(psk.Span) >= 0);
        Assert.True(bytes.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(psk.RevealBase64())) < 0);
    }

    [Fact]
    public void Users_and_audit_entries_round_trip_every_field()
    {
        using var dir = new TempDirectory();
        var path = dir.File("branchgate.db");
        var full = new UserRecord
        {
            Name = "ops@branch.example",
            PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
            TotpSecret = "JBSWY3DPEHPK3PXP",
            Role = "auditor",
            FailedLogins = 3,
            LockedUntil = new DateTimeOffset(2026, 11, 26, 13, 15, 0, TimeSpan.FromHours(2)).AddTicks(7),
            CreatedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1),
            LastTotpStep = 59_000_123,
        };
        var bare = new UserRecord { Name = "a", PasswordHash = "x" };
        var audit = Audit();
        using (var store = ApplianceStore.Open(path))
        {
            store.SaveUser(full, audit);
            store.SaveUser(bare, null);
        }

        using var reopened = ApplianceStore.Open(path);
        Assert.Equal(full, reopened.FindUser(full.Name));
        Assert.Equal(bare, reopened.FindUser("a"));
        Assert.Null(reopened.FindUser("nobody"));
        Assert.Equal(2, reopened.ListUsers().Count);
        var stored = Assert.Single(reopened.ReadAudit());
        Assert.True(stored.Id > 0);
        Assert.Equal(audit with { Id = stored.Id }, stored);
        Assert.Equal(audit.Time.Offset, stored.Time.Offset);

        var minimal = reopened.AppendAudit(new AuditEntry { Time = DateTimeOffset.UnixEpoch, Actor = "cli", Action = "x" });
        Assert.Equal(minimal, reopened.ReadAudit(take: 1)[0]);
    }

    [Fact]
    public void Users_are_replaced_and_deleted_with_their_audit_entry()
    {
        using var dir = new TempDirectory();
        using var store = ApplianceStore.Open(dir.File("b.db"));
        store.SaveUser(new UserRecord { Name = "u", PasswordHash = "1" }, null);
        store.SaveUser(new UserRecord { Name = "u", PasswordHash = "2" }, null);
        Assert.Equal("2", Assert.Single(store.ListUsers()).PasswordHash);
        Assert.Empty(store.ReadAudit());
        Assert.False(store.DeleteUser("v", Audit("user.delete", "v")));
        Assert.Empty(store.ReadAudit());
        Assert.True(store.DeleteUser("u", Audit("user.delete", "u")));
        Assert.Empty(store.ListUsers());
        Assert.Equal("user.delete", Assert.Single(store.ReadAudit()).Action);
    }

    [Fact]
    public void A_new_store_is_mode_0600_in_a_new_0700_directory_and_a_wider_file_is_tightened()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "var", "lib", "branchgate.db");
        using (var store = ApplianceStore.Open(path))
        {
            store.Commit(FullConfig(), Audit());
            Assert.Equal(Mode0600, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                File.GetUnixFileMode(Path.GetDirectoryName(path)!));
            Assert.Contains(store.Notes, n => n.Contains("created the directory", StringComparison.Ordinal));
            var log = ApplianceStore.LogPath(path);
            Assert.True(!File.Exists(log) || File.GetUnixFileMode(log) == Mode0600);
        }

        File.SetUnixFileMode(path, Mode0600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using (var store = ApplianceStore.Open(path))
        {
            Assert.Equal(Mode0600, File.GetUnixFileMode(path));
            Assert.Contains(store.Notes, n => n.Contains("0644", StringComparison.Ordinal) && n.Contains("0600", StringComparison.Ordinal));
        }

        Assert.False(File.Exists(ApplianceStore.LogPath(path)));
    }

    [Fact]
    public void A_version_1_store_is_migrated_in_place_and_keeps_its_data()
    {
        using var dir = new TempDirectory();
        var path = dir.File("v1.db");
        var config = FullConfig();
        using (var raw = RawDatabase(path))
        {
            raw.GetCollection("meta").Insert(new BsonDocument { ["_id"] = "store", ["schemaVersion"] = 1, ["createdAt"] = "2025-05-01T10:00:00.0000000+00:00" });
            // Version 1 users had neither "role" nor "lastTotpStep".
            raw.GetCollection("users").Insert(new BsonDocument
            {
                ["_id"] = "admin",
                ["name"] = "admin",
                ["passwordHash"] = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
                ["totpSecret"] = BsonValue.Null,
                ["failedLogins"] = 0,
                ["lockedUntil"] = BsonValue.Null,
                ["createdAt"] = "2025-05-01T10:00:00.0000000+00:00",
            });
            raw.GetCollection("interfaces").Insert(new BsonDocument
            {
                ["_id"] = 0,
                ["name"] = "wg0",
                ["privateKey"] = config.Interfaces[0].PrivateKey.Span.ToArray(),
                ["listenPort"] = 51820,
                ["addresses"] = new BsonArray(new BsonValue("10.9.0.1/24"), new BsonValue("fd00:9::1/64")),
                ["mtu"] = BsonValue.Null,
                ["fwMark"] = 0L,
                ["table"] = "auto",
                ["dns"] = new BsonArray(),
            });
            raw.GetCollection("audit", BsonAutoId.Int64).Insert(new BsonDocument
            {
                ["time"] = "2025-05-01T10:00:00.0000000+00:00",
                ["actor"] = "setup",
                ["action"] = "user.create",
                ["target"] = "admin",
                ["before"] = BsonValue.Null,
                ["after"] = BsonValue.Null,
                ["forced"] = false,
                ["succeeded"] = true,
                ["detail"] = BsonValue.Null,
            });
        }

        using (var store = ApplianceStore.Open(path))
        {
            Assert.Contains(store.Notes, n => n.Contains("migrated the store from schema 1 to 2", StringComparison.Ordinal));
            var user = Assert.Single(store.ListUsers());
            Assert.Equal("admin", user.Role);
            Assert.Null(user.LastTotpStep);
            var wg0 = Assert.Single(store.LoadConfig().Interfaces);
            Assert.Equal(config.Interfaces[0].PrivateKey, wg0.PrivateKey);
            Assert.Equal(2, wg0.Addresses.Count);
            Assert.Equal("user.create", Assert.Single(store.ReadAudit()).Action);
        }

        using (var raw = RawDatabase(path))
        {
            Assert.Equal(2, raw.GetCollection("meta").FindById("store")["schemaVersion"].AsInt32);
        }

        using var again = ApplianceStore.Open(path);
        Assert.Empty(again.Notes);
    }

    [Fact]
    public void A_store_of_a_newer_schema_is_refused_and_left_byte_identical()
    {
        using var dir = new TempDirectory();
        var path = dir.File("new.db");
        using (var store = ApplianceStore.Open(path))
        {
            store.Commit(FullConfig(), Audit());
        }

        using (var raw = RawDatabase(path))
        {
            var meta = raw.GetCollection("meta").FindById("store");
            meta["schemaVersion"] = 99;
            raw.GetCollection("meta").Update(meta);
        }

        var before = File.ReadAllBytes(path);
        var error = Assert.Throws<StoreException>(() => ApplianceStore.Open(path));
        Assert.Contains("newer Branchgate", error.Message, StringComparison.Ordinal);
        Assert.Contains("schema 99", error.Message, StringComparison.Ordinal);
        Assert.Contains("not modified", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], StoreFiles(dir));
    }

    public static TheoryData<string> DamagedFiles => new() { "random", "text", "truncated", "truncated-page", "foreign-litedb", "garbled-page" };

    [Theory]
    [MemberData(nameof(DamagedFiles))]
    public void A_damaged_or_foreign_file_is_refused_with_a_clear_message_and_left_byte_identical(string kind)
    {
        using var dir = new TempDirectory();
        var path = dir.File("branchgate.db");
        WriteDamaged(kind, path, dir);
        var before = File.ReadAllBytes(path);
        var mode = File.GetUnixFileMode(path);

        var error = Assert.Throws<StoreException>(() => ApplianceStore.Open(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Matches("is not a Branchgate store|is damaged", error.Message);
        Assert.Contains("it was not modified", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(mode, File.GetUnixFileMode(path));
        Assert.Equal([path], StoreFiles(dir));
    }

    [Fact]
    public void A_document_with_a_bad_field_is_reported_by_collection_document_and_field()
    {
        using var dir = new TempDirectory();
        var path = dir.File("b.db");
        using (var store = ApplianceStore.Open(path))
        {
            store.Commit(FullConfig(), Audit());
        }

        using (var raw = RawDatabase(path))
        {
            var site = raw.GetCollection("sites").FindById(1);
            site["allowedIps"] = new BsonArray(new BsonValue("10.9.0.7/32"), new BsonValue("10.2.0.1/24"));
            raw.GetCollection("sites").Update(site);
        }

        var before = File.ReadAllBytes(path);
        var error = Assert.Throws<StoreException>(() => ApplianceStore.Open(path));
        Assert.Contains("sites document 1: field 'allowedIps' item 1 '10.2.0.1/24'", error.Message, StringComparison.Ordinal);
        Assert.Contains("host bits", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_failing_commit_rolls_back_to_the_previous_state()
    {
        using var dir = new TempDirectory();
        var path = dir.File("b.db");
        var first = FullConfig();
        using (var store = ApplianceStore.Open(path))
        {
            store.Commit(first, Audit("first"));
            foreach (var point in new[] { "commit.interfaces", "commit.sites", "commit.commit" })
            {
                store.FailpointForTests = p =>
                {
                    if (p == point)
                    {
                        throw new IOException("disk on fire at " + p);
                    }
                };
                Assert.Throws<IOException>(() => store.Commit(WithCounter(7), Audit("second")));
                store.FailpointForTests = null;
                AssertSameConfig(first, store.LoadConfig());
                Assert.Equal("first", Assert.Single(store.ReadAudit()).Action);
            }

            store.FailpointForTests = p => throw new IOException(p);
            Assert.Throws<IOException>(() => store.SaveUser(new UserRecord { Name = "u", PasswordHash = "h" }, Audit("user.create")));
            store.FailpointForTests = null;
            Assert.Empty(store.ListUsers());

            // The store still works after the failures.
            store.Commit(WithCounter(8), Audit("third"));
            Assert.Equal(8, store.LoadConfig().Interfaces[0].ListenPort);
        }

        using var reopened = ApplianceStore.Open(path);
        Assert.Equal(8, reopened.LoadConfig().Interfaces[0].ListenPort);
        Assert.Equal(["third", "first"], reopened.ReadAudit().Select(a => a.Action));
    }

    [Fact]
    public void The_audit_log_is_append_only_with_increasing_ids_and_pages_newest_first()
    {
        using var dir = new TempDirectory();
        var path = dir.File("b.db");
        var ids = new List<long>();
        using (var store = ApplianceStore.Open(path))
        {
            for (var i = 0; i < 25; i++)
            {
                if (i % 5 == 0)
                {
                    store.Commit(WithCounter(i), Audit("commit-" + i));
                    ids.Add(store.ReadAudit(take: 1)[0].Id);
                }
                else
                {
                    ids.Add(store.AppendAudit(Audit("entry-" + i)).Id);
                }
            }
        }

        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());

        using var reopened = ApplianceStore.Open(path);
        var page1 = reopened.ReadAudit(take: 10);
        var page2 = reopened.ReadAudit(page1[^1].Id, 10);
        var page3 = reopened.ReadAudit(page2[^1].Id, 10);
        Assert.Empty(reopened.ReadAudit(page3[^1].Id, 10));
        Assert.Empty(reopened.ReadAudit(take: 0));
        var all = page1.Concat(page2).Concat(page3).ToList();
        Assert.Equal(Enumerable.Reverse(ids), all.Select(a => a.Id));
        Assert.Equal("entry-24", all[0].Action);
        Assert.Equal("commit-0", all[^1].Action);
        Assert.Equal(5, page3.Count);

        // A new entry after reopening continues the sequence.
        Assert.True(reopened.AppendAudit(Audit()).Id > ids[^1]);
    }

    [Fact]
    public void A_backup_restores_the_state_it_was_taken_at()
    {
        using var dir = new TempDirectory();
        var path = dir.File("branchgate.db");
        var saved = FullConfig();
        var backup = new MemoryStream();
        using (var store = ApplianceStore.Open(path))
        {
            store.Commit(saved, Audit("saved"));
            store.SaveUser(new UserRecord { Name = "admin", PasswordHash = "h" }, null);
            store.Backup(backup);
            store.Commit(WithCounter(1), Audit("later"));
            store.DeleteUser("admin", Audit("user.delete"));
        }

        Assert.Equal(0, backup.Length % 8192);
        backup.Position = 0;
        ApplianceStore.Restore(path, backup);

        Assert.Equal(Mode0600, File.GetUnixFileMode(path));
        Assert.Equal([path], StoreFiles(dir));
        using var restored = ApplianceStore.Open(path);
        AssertSameConfig(saved, restored.LoadConfig());
        Assert.Equal("admin", Assert.Single(restored.ListUsers()).Name);
        Assert.Equal("saved", Assert.Single(restored.ReadAudit()).Action);
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("random")]
    [InlineData("text")]
    [InlineData("truncated")]
    [InlineData("foreign-litedb")]
    [InlineData("newer")]
    public void A_restore_of_anything_but_a_supported_store_is_refused_and_the_store_is_unchanged(string kind)
    {
        using var dir = new TempDirectory();
        var path = dir.File("branchgate.db");
        var config = FullConfig();
        using (var store = ApplianceStore.Open(path))
        {
            store.Commit(config, Audit());
        }

        var upload = dir.File("upload");
        if (kind == "empty")
        {
            File.WriteAllBytes(upload, []);
        }
        else if (kind == "newer")
        {
            File.Copy(path, upload);
            using var raw = RawDatabase(upload);
            var meta = raw.GetCollection("meta").FindById("store");
            meta["schemaVersion"] = 3;
            raw.GetCollection("meta").Update(meta);
        }
        else
        {
            WriteDamaged(kind, upload, dir);
        }

        var before = File.ReadAllBytes(path);
        var uploaded = File.ReadAllBytes(upload);
        File.Delete(upload);

        var error = Assert.Throws<StoreException>(() => ApplianceStore.Restore(path, new MemoryStream(uploaded)));

        Assert.Contains("the store was not changed", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], StoreFiles(dir));
        using var store2 = ApplianceStore.Open(path);
        AssertSameConfig(config, store2.LoadConfig());
    }

    [Fact]
    public void A_store_is_opened_once_at_a_time_and_restored_only_when_closed()
    {
        using var dir = new TempDirectory();
        var path = dir.File("branchgate.db");
        var backup = new MemoryStream();
        using (var store = ApplianceStore.Open(path))
        {
            store.Commit(FullConfig(), Audit());
            store.Backup(backup);
            var before = File.ReadAllBytes(path);
            var error = Assert.Throws<StoreException>(() => ApplianceStore.Open(path));
            Assert.Contains("is in use", error.Message, StringComparison.Ordinal);
            backup.Position = 0;
            Assert.Contains("is in use", Assert.Throws<StoreException>(() => ApplianceStore.Restore(path, backup)).Message, StringComparison.Ordinal);
            Assert.Equal(before, File.ReadAllBytes(path));
            store.Commit(WithCounter(3), Audit());
        }

        Assert.Equal(Mode0600, File.GetUnixFileMode(ApplianceStore.LockPath(path)));
        using var reopened = ApplianceStore.Open(path);
        Assert.Equal(3, reopened.LoadConfig().Interfaces[0].ListenPort);
    }

    [Fact]
    public async Task Concurrent_writers_and_readers_see_whole_commits()
    {
        using var dir = new TempDirectory();
        using var store = ApplianceStore.Open(dir.File("b.db"));
        store.Commit(WithCounter(0), Audit());
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(() =>
        {
            for (var i = 1; i <= 20 && DateTime.UtcNow < deadline; i++)
            {
                store.Commit(WithCounter((w * 100) + i) with { Sites = [] }, Audit("w" + w));
                store.AppendAudit(Audit("a" + w));
            }
        })).ToArray();
        var reader = Task.Run(() =>
        {
            while (!writers.All(w => w.IsCompleted) && DateTime.UtcNow < deadline)
            {
                Assert.Single(store.LoadConfig().Interfaces);
            }
        });
        await Task.WhenAll([.. writers, reader]).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(121, store.ReadAudit(take: 1000).Count);
    }

    /// <summary>The files in the directory but the lock file (which stays, empty, after use).</summary>
    private static string[] StoreFiles(TempDirectory dir) =>
        [.. Directory.GetFiles(dir.Path).Where(f => !Path.GetFileName(f).EndsWith(".lock", StringComparison.Ordinal))];

    private static LiteDatabase RawDatabase(string path) =>
        new(new ConnectionString { Filename = path, Connection = ConnectionType.Direct });

    private static void WriteDamaged(string kind, string path, TempDirectory dir)
    {
        switch (kind)
        {
            case "random":
                File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(32 * 1024));
                break;
            case "text":
                File.WriteAllText(path, "[Interface]\nPrivateKey = not a database\n");
                break;
            case "truncated":
            case "truncated-page":
            case "garbled-page":
                var real = dir.File("real.db");
                using (var store = ApplianceStore.Open(real))
                {
                    for (var i = 0; i < 20; i++)
                    {
                        store.Commit(FullConfig(), Audit(target: new string('x', 2000)));
                    }
                }

                var bytes = File.ReadAllBytes(real);
                File.Delete(real);
                Assert.True(bytes.Length >= 4 * 8192, $"the real store is only {bytes.Length} bytes");
                if (kind == "garbled-page")
                {
                    RandomNumberGenerator.Fill(bytes.AsSpan(8192 + 100, 4000));
                    File.WriteAllBytes(path, bytes);
                }
                else
                {
                    var length = kind == "truncated" ? (bytes.Length / 2) + 1000 : (bytes.Length / 8192 / 2) * 8192;
                    File.WriteAllBytes(path, bytes[..length]);
                }

                break;
            case "foreign-litedb":
                using (var other = RawDatabase(path))
                {
                    other.GetCollection("customers").Insert(new BsonDocument { ["name"] = "ACME" });
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }
}
