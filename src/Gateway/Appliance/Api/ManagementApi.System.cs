using System.Globalization;
using System.Text;
using Branchgate.Appliance.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Branchgate.Appliance.Api;

// The audit log, backup and restore of the store (root only: the file holds every private key), and /metrics.
public sealed partial class ManagementApi
{
    private const int MaxAuditPage = 1000;

    private async Task GetAuditAsync(HttpContext context)
    {
        var query = context.Request.Query;
        long? before = null;
        var take = 100;
        var errors = new List<string>();
        if (query.TryGetValue("before", out var beforeText))
        {
            if (long.TryParse(beforeText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                before = id;
            }
            else
            {
                errors.Add("before: an audit entry id");
            }
        }

        if (query.TryGetValue("take", out var takeText)
            && (!int.TryParse(takeText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out take) || take < 1 || take > MaxAuditPage))
        {
            errors.Add($"take: 1 to {MaxAuditPage}");
        }

        if (errors.Count > 0)
        {
            await Error(context, StatusCodes.Status400BadRequest, "bad query", errors).ConfigureAwait(false);
            return;
        }

        var entries = _service.Store.ReadAudit(before, take);
        await Json(context, StatusCodes.Status200OK, new AuditResponse
        {
            Entries = [.. entries.Select(ApiMapping.ToDto)],
            NextBefore = entries.Count == take ? entries[^1].Id : null,
        }, ApiJsonContext.Default.AuditResponse).ConfigureAwait(false);
    }

    private async Task BackupAsync(HttpContext context)
    {
        if (!await RequireRootAsync(context, "the backup").ConfigureAwait(false))
        {
            return;
        }

        using var copy = new MemoryStream();
        _service.Store.Backup(copy);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/octet-stream";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.ContentDisposition = "attachment; filename=\"branchgate-backup.db\"";
        context.Response.ContentLength = copy.Length;
        await context.Response.Body.WriteAsync(copy.GetBuffer().AsMemory(0, (int)copy.Length), context.RequestAborted).ConfigureAwait(false);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(copy.GetBuffer());
    }

    /// <summary>
    /// Replaces the configuration with the one in an uploaded backup, through the same validation, coexistence check
    /// and audit as any change. Users and the audit log stay as they are.
    /// </summary>
    private async Task RestoreAsync(HttpContext context)
    {
        if (!await RequireRootAsync(context, "a restore").ConfigureAwait(false))
        {
            return;
        }

        if (_options.OpenStore is null)
        {
            await Error(context, StatusCodes.Status501NotImplemented, "restore is not available").ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = _options.MaxRestoreBytes;
        }

        if (await ReadBackupConfigAsync(context, (file, token) => context.Request.Body.CopyToAsync(file, token))
            .ConfigureAwait(false) is not { } restored)
        {
            return;
        }

        var changes = ConfigDiff.Describe(_service.Current, restored);
        await ChangeAsync(context, "restore", "backup", _ => restored, StatusCodes.Status200OK,
            _ => new ChangeResponse { Changes = changes }).ConfigureAwait(false);
    }

    /// <summary>
    /// The configuration in a store file that <paramref name="write"/> puts into a private temporary file, or null
    /// after answering 400 (empty, not a store).
    /// </summary>
    private async Task<ApplianceConfig?> ReadBackupConfigAsync(HttpContext context, Func<Stream, CancellationToken, Task> write)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException();
        }

        var directory = Directory.CreateTempSubdirectory("branchgate-restore-");
        try
        {
            var path = Path.Combine(directory.FullName, "backup.db");
            long length;
            var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            await using (file.ConfigureAwait(false))
            {
                await write(file, context.RequestAborted).ConfigureAwait(false);
                length = file.Length;
            }

            if (length == 0)
            {
                await Error(context, StatusCodes.Status400BadRequest, "the body must be a backup file (GET /v1/backup)").ConfigureAwait(false);
                return null;
            }

            try
            {
                using var store = _options.OpenStore!(path);
                return store.LoadConfig();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await Error(context, StatusCodes.Status400BadRequest, "not a Branchgate backup",
                    [e.GetType().Name]).ConfigureAwait(false);
                return null;
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private async Task GetMetricsAsync(HttpContext context)
    {
        var text = ApplianceMetrics.Write(_service.Status());
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = PrometheusText.ContentType;
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), context.RequestAborted).ConfigureAwait(false);
    }
}
