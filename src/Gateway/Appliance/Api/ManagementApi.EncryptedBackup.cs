using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Branchgate.Appliance.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Branchgate.Appliance.Api;

// Passphrase-encrypted backup and restore (BackupCipher). Only ciphertext leaves the gateway, so these are open to the
// socket's group (the admin panel) as well as to root, but only for a caller that names an existing administrator
// (or is root). The bodies are read as bytes and parsed by hand, so that the passphrase never becomes a string and
// is zeroed after use, with every buffer that held it or the plaintext store.
public sealed partial class ManagementApi
{
    private const string PassphraseField = "passphrase";
    private const string BackupField = "backup";

    /// <summary>POST /v1/backup/encrypted {"passphrase": "..."}: the store sealed under the passphrase.</summary>
    private async Task EncryptedBackupAsync(HttpContext context)
    {
        if (!await RequireAdministratorAsync(context).ConfigureAwait(false))
        {
            return;
        }

        var body = await ReadBodyAsync(context, _options.MaxRequestBytes).ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        byte[]? passphrase = null;
        byte[]? plaintext = null;
        try
        {
            if (!TryParseSecretRequest(body, wantBackup: false, out passphrase, out _, out var problem))
            {
                await Error(context, StatusCodes.Status400BadRequest, "the body is not a valid request", [problem]).ConfigureAwait(false);
                return;
            }

            using (var copy = new MemoryStream())
            {
                _service.Store.Backup(copy);
                plaintext = copy.ToArray();
                CryptographicOperations.ZeroMemory(copy.GetBuffer());
            }

            var sealedFile = BackupCipher.Seal(plaintext, passphrase);
            _service.Store.AppendAudit(new AuditEntry
            {
                Time = DateTimeOffset.UtcNow,
                Actor = Actor(context),
                Action = "backup.encrypted",
                Target = "store",
                Detail = $"{sealedFile.Length} bytes",
            });
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/octet-stream";
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.ContentDisposition =
                $"attachment; filename=\"branchgate-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}{BackupCipher.FileExtension}\"";
            context.Response.ContentLength = sealedFile.Length;
            await context.Response.Body.WriteAsync(sealedFile, context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            Zero(body, passphrase, plaintext);
        }
    }

    /// <summary>
    /// POST /v1/restore/encrypted {"passphrase": "...", "backup": "(base64 of the file)"}: opens the file and restores
    /// its configuration like POST /v1/restore. A wrong passphrase or a damaged file is a 400 and changes nothing.
    /// </summary>
    private async Task EncryptedRestoreAsync(HttpContext context)
    {
        if (!await RequireAdministratorAsync(context).ConfigureAwait(false))
        {
            return;
        }

        if (_options.OpenStore is null)
        {
            await Error(context, StatusCodes.Status501NotImplemented, "restore is not available").ConfigureAwait(false);
            return;
        }

        // base64 makes the body a third larger than the file.
        var body = await ReadBodyAsync(context, (_options.MaxRestoreBytes / 3 * 4) + 4096).ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        byte[]? passphrase = null;
        byte[]? sealedFile = null;
        byte[]? plaintext = null;
        ApplianceConfig? restored;
        try
        {
            if (!TryParseSecretRequest(body, wantBackup: true, out passphrase, out sealedFile, out var problem))
            {
                await Error(context, StatusCodes.Status400BadRequest, "the body is not a valid request", [problem]).ConfigureAwait(false);
                return;
            }

            plaintext = BackupCipher.Open(sealedFile, passphrase, out var openError);
            if (plaintext is null)
            {
                var why = BackupCipher.Describe(openError);
                _service.Store.AppendAudit(new AuditEntry
                {
                    Time = DateTimeOffset.UtcNow,
                    Actor = Actor(context),
                    Action = "restore",
                    Target = "encrypted backup",
                    Succeeded = false,
                    Detail = why,
                });
                await Error(context, StatusCodes.Status400BadRequest, "the backup was not restored: " + why).ConfigureAwait(false);
                return;
            }

            var opened = plaintext;
            restored = await ReadBackupConfigAsync(context, (file, token) => file.WriteAsync(opened, token).AsTask())
                .ConfigureAwait(false);
        }
        finally
        {
            Zero(body, passphrase, sealedFile, plaintext);
        }

        if (restored is null)
        {
            return;
        }

        var changes = ConfigDiff.Describe(_service.Current, restored);
        await ChangeAsync(context, "restore", "encrypted backup", _ => restored, StatusCodes.Status200OK,
            _ => new ChangeResponse { Changes = changes }).ConfigureAwait(false);
    }

    /// <summary>
    /// Root, or a caller that names an existing administrator in <see cref="UserHeader"/> (the panel's signed-in
    /// user); otherwise 403.
    /// </summary>
    private async Task<bool> RequireAdministratorAsync(HttpContext context)
    {
        var named = context.Request.Headers[UserHeader];
        if (named.Count == 1 && _service.Store.FindUser(named[0]!) is not null)
        {
            return true;
        }

        if (named.Count == 0 && Caller(context).IsRoot)
        {
            return true;
        }

        await Error(context, StatusCodes.Status403Forbidden,
            $"only a signed-in administrator ({UserHeader}) or root may back up or restore").ConfigureAwait(false);
        return false;
    }

    /// <summary>The whole body, at most <paramref name="limit"/> bytes, or null after answering 413.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContext context, long limit)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        if (context.Request.ContentLength > limit)
        {
            await Error(context, StatusCodes.Status413PayloadTooLarge, $"the body is larger than {limit} bytes").ConfigureAwait(false);
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    await Error(context, StatusCodes.Status413PayloadTooLarge, $"the body is larger than {limit} bytes").ConfigureAwait(false);
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(chunk);
            CryptographicOperations.ZeroMemory(buffer.GetBuffer());
        }
    }

    /// <summary>
    /// {"passphrase": "...", "backup": "base64"} (backup only when <paramref name="wantBackup"/>), strictly: unknown or
    /// repeated fields, a passphrase of fewer than 12 characters, anything else is refused with a reason.
    /// </summary>
    internal static bool TryParseSecretRequest(ReadOnlySpan<byte> json, bool wantBackup, out byte[] passphrase,
        out byte[] backup, out string problem)
    {
        passphrase = [];
        backup = [];
        problem = "";
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 4 });
        byte[]? foundPassphrase = null;
        byte[]? foundBackup = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "the body must be a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isPassphrase = reader.ValueTextEquals(PassphraseField);
                var isBackup = wantBackup && reader.ValueTextEquals(BackupField);
                if (!isPassphrase && !isBackup)
                {
                    problem = $"{reader.GetString()}: unknown field";
                    return false;
                }

                if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    problem = $"{(isPassphrase ? PassphraseField : BackupField)}: a string";
                    return false;
                }

                if ((isPassphrase && foundPassphrase is not null) || (isBackup && foundBackup is not null))
                {
                    problem = $"{(isPassphrase ? PassphraseField : BackupField)}: given twice";
                    return false;
                }

                if (isPassphrase)
                {
                    var unescaped = new byte[reader.ValueSpan.Length];
                    var length = reader.CopyString(unescaped);
                    foundPassphrase = unescaped[..length];
                    CryptographicOperations.ZeroMemory(unescaped);
                }
                else if (!reader.TryGetBytesFromBase64(out foundBackup))
                {
                    problem = "backup: base64 of the encrypted backup file";
                    return false;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                problem = "the body must be one JSON object";
                return false;
            }
        }
        catch (JsonException)
        {
            problem = "the body is not valid JSON";
            return false;
        }
        finally
        {
            if (problem.Length > 0 && foundPassphrase is not null)
            {
                CryptographicOperations.ZeroMemory(foundPassphrase);
            }
        }

        if (foundPassphrase is null || (wantBackup && foundBackup is null))
        {
            problem = $"required field missing: {(foundPassphrase is null ? PassphraseField : BackupField)}";
            return false;
        }

        int characters;
        try
        {
            characters = new UTF8Encoding(false, true).GetCharCount(foundPassphrase);
        }
        catch (ArgumentException)
        {
            characters = -1;
        }

        if (characters < BackupCipher.MinPassphraseBytes || foundPassphrase.Length > BackupCipher.MaxPassphraseBytes)
        {
            CryptographicOperations.ZeroMemory(foundPassphrase);
            problem = $"passphrase: at least {BackupCipher.MinPassphraseBytes} characters (at most {BackupCipher.MaxPassphraseBytes} bytes)";
            return false;
        }

        passphrase = foundPassphrase;
        backup = foundBackup ?? [];
        return true;
    }

    private static void Zero(params byte[]?[] buffers)
    {
        foreach (var buffer in buffers)
        {
            if (buffer is not null)
            {
                CryptographicOperations.ZeroMemory(buffer);
            }
        }
    }
}
