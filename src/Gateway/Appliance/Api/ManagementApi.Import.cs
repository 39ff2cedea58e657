using System.Text;
using Branchgate.Appliance.Config;
using Branchgate.Appliance.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Branchgate.Appliance.Api;

public sealed partial class ManagementApi
{
    /// <summary>Largest wg-quick file accepted by the import.</summary>
    private const int MaxImportBytes = 1 << 20;

    /// <summary>
    /// POST /v1/interfaces/{name}/import: a wg-quick file (text/plain) becomes interface {name} with its peers,
    /// replacing that interface and all its sites in one change (validated, checked, applied all or nothing, audited
    /// as "interface.import"). Root only: the file carries the gateway's private key. Unsupported keys (PostUp, ...)
    /// are reported in <c>warnings</c> and ignored.
    /// </summary>
    private async Task ImportInterfaceAsync(HttpContext context)
    {
        if (!await RequireRootAsync(context, "an import").ConfigureAwait(false))
        {
            return;
        }

        var name = Route(context, "name");
        if (!ApiMapping.IsValidInterfaceName(name))
        {
            await Error(context, StatusCodes.Status400BadRequest, "the interface name is not valid",
                ["name: an interface name of 1 to 15 bytes, without '/', ':' or whitespace"]).ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxImportBytes;
        }

        string text;
        using (var reader = new StreamReader(context.Request.Body, new UTF8Encoding(false, throwOnInvalidBytes: false)))
        {
            text = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        }

        var parsed = WgQuickFile.Parse(text, name);
        if (!parsed.Succeeded || parsed.Interface is null)
        {
            await Error(context, StatusCodes.Status400BadRequest, "the wg-quick file is not valid", parsed.Errors).ConfigureAwait(false);
            return;
        }

        var imported = parsed.Interface;
        await ChangeAsync(context, "interface.import", name, c => Replace(c, imported, parsed.Sites),
            StatusCodes.Status200OK,
            c => new ChangeResponse
            {
                Interface = c.FindInterface(name) is { } i ? ApiMapping.ToDto(i, c) : null,
                Warnings = parsed.Warnings,
            }).ConfigureAwait(false);
    }

    /// <summary><paramref name="config"/> with interface <paramref name="imported"/> and exactly <paramref name="sites"/>.</summary>
    internal static ApplianceConfig Replace(ApplianceConfig config, InterfaceConfig imported, IEnumerable<SiteConfig> sites)
    {
        var replaced = config.WithoutInterface(imported.Name).WithInterface(imported);
        return replaced with { Sites = [.. replaced.Sites, .. sites] };
    }
}
