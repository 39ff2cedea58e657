using System.Text;
using Branchgate.Appliance.Api;
using Branchgate.Appliance.Model;

namespace Branchgate.Tests.Appliance.Api;

/// <summary>The encrypted backup file: it opens with the passphrase only, and any change or cut is refused.</summary>
public sealed class BackupCipherTests
{
    // Small Argon2id parameters keep the tests fast; the file carries them, so Open uses what Seal used.
    private const int MemoryKib = 1024;
    private const int Passes = 1;

    private static readonly byte[] Passphrase = Encoding.UTF8.GetBytes("a long backup passphrase");

    [Fact]
    public void A_sealed_backup_opens_with_its_passphrase_and_holds_no_plaintext()
    {
        var key = WireGuardSecret.GeneratePrivateKey();
        var plaintext = Encoding.ASCII.GetBytes("store file with the key " + key.RevealBase64() + " in it");

        var file = BackupCipher.Seal(plaintext, Passphrase, MemoryKib, Passes);

        Assert.Equal("BGBACKUP"u8.ToArray(), file[..8]);
        Assert.Equal(BackupCipher.Version, file[8]);
        Assert.Equal(BackupCipher.HeaderSize + plaintext.Length + BackupCipher.TagSize, file.Length);
        var asText = Encoding.ASCII.GetString(file);
        Assert.DoesNotContain(key.RevealBase64(), asText, StringComparison.Ordinal);
        Assert.DoesNotContain("store file", asText, StringComparison.Ordinal);
        Assert.Equal(-1, file.AsSpan().IndexOf(key.RevealBase64().Length > 0 ? Convert.FromBase64String(key.RevealBase64()) : []));

        var opened = BackupCipher.Open(file, Passphrase, out var error);
        Assert.Equal(BackupOpenError.None, error);
        Assert.Equal(plaintext, opened);

        // The salt and nonce are random: the same input seals differently each time.
        Assert.NotEqual(file, BackupCipher.Seal(plaintext, Passphrase, MemoryKib, Passes));
    }

    [Fact]
    public void A_wrong_passphrase_is_refused()
    {
        var file = BackupCipher.Seal("backup"u8, Passphrase, MemoryKib, Passes);

        Assert.Null(BackupCipher.Open(file, Encoding.UTF8.GetBytes("a long backup passphrasE"), out var error));
        Assert.Equal(BackupOpenError.WrongPassphraseOrDamaged, error);
        Assert.Contains("wrong passphrase", BackupCipher.Describe(error), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_changed_byte_is_refused()
    {
        var file = BackupCipher.Seal("a backup of some length"u8, Passphrase, MemoryKib, Passes);

        // Algorithm byte, parameters, salt, nonce, ciphertext and tag. (Magic and version have their own answers.)
        for (var i = 9; i < file.Length; i++)
        {
            var tampered = (byte[])file.Clone();
            tampered[i] ^= 0x01;
            Assert.Null(BackupCipher.Open(tampered, Passphrase, out var error));
            Assert.True(error is BackupOpenError.WrongPassphraseOrDamaged or BackupOpenError.BadParameters, $"byte {i}: {error}");
        }
    }

    [Fact]
    public void A_cut_file_is_refused_at_every_length()
    {
        var file = BackupCipher.Seal("a backup of some length"u8, Passphrase, MemoryKib, Passes);

        for (var length = 0; length < file.Length; length++)
        {
            Assert.Null(BackupCipher.Open(file.AsSpan(0, length), Passphrase, out var error));
            Assert.NotEqual(BackupOpenError.None, error);
        }
    }

    [Fact]
    public void Other_files_versions_and_hostile_parameters_are_refused()
    {
        var file = BackupCipher.Seal("backup"u8, Passphrase, MemoryKib, Passes);

        Assert.Null(BackupCipher.Open("SQLite format 3\0 and more bytes than a header has......................"u8, Passphrase, out var error));
        Assert.Equal(BackupOpenError.NotABackup, error);

        var newer = (byte[])file.Clone();
        newer[8] = 2;
        Assert.Null(BackupCipher.Open(newer, Passphrase, out error));
        Assert.Equal(BackupOpenError.UnsupportedVersion, error);

        // 4 GiB of memory asked by the header: refused before any key derivation.
        var greedy = (byte[])file.Clone();
        greedy[10] = 0xff;
        Assert.Null(BackupCipher.Open(greedy, Passphrase, out error));
        Assert.Equal(BackupOpenError.BadParameters, error);
    }
}
