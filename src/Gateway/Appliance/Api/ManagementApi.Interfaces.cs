using System.Text;
using Microsoft.AspNetCore.Http;

namespace Branchgate.Appliance.Api;

// /v1/interfaces: the gateway's WireGuard interfaces, and the wg-quick export (root only: it holds the private key).
public sealed partial class ManagementApi
{
    private Task ListInterfacesAsync(HttpContext context)
    {
        var config = _service.Current;
        return Json(context, StatusCodes.Status200OK,
            new InterfaceListResponse([.. config.Interfaces.Select(i => ApiMapping.ToDto(i, config))]),
            ApiJsonContext.Default.InterfaceListResponse);
    }

    private Task GetInterfaceAsync(HttpContext context)
    {
        var config = _service.Current;
        return config.FindInterface(Route(context, "name")) is { } found
            ? Json(context, StatusCodes.Status200OK, ApiMapping.ToDto(found, config), ApiJsonContext.Default.InterfaceDto)
            : NotFound(context, "interface");
    }

    private async Task CreateInterfaceAsync(HttpContext context)
    {
        if (await ReadJsonAsync(context, ApiJsonContext.Default.InterfaceRequest).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        var errors = new List<string>();
        if (!ApiMapping.IsValidInterfaceName(request.Name))
        {
            errors.Add("name: an interface name of 1 to 15 bytes, without '/', ':' or whitespace");
        }

        var name = request.Name ?? "";
        var config = ApiMapping.ToModel(request, name, current: null, errors);
        if (config is null || errors.Count > 0)
        {
            await Error(context, StatusCodes.Status400BadRequest, "the interface is not valid", errors).ConfigureAwait(false);
            return;
        }

        if (_service.Current.FindInterface(name) is not null)
        {
            await Error(context, StatusCodes.Status409Conflict, $"interface {name} exists (use PUT to change it)").ConfigureAwait(false);
            return;
        }

        await ChangeAsync(context, "interface.create", name, c => c.WithInterface(config), StatusCodes.Status201Created,
            c => new ChangeResponse { Interface = c.FindInterface(name) is { } i ? ApiMapping.ToDto(i, c) : null }).ConfigureAwait(false);
    }

    private async Task UpdateInterfaceAsync(HttpContext context)
    {
        var name = Route(context, "name");
        if (_service.Current.FindInterface(name) is not { } current)
        {
            await NotFound(context, "interface").ConfigureAwait(false);
            return;
        }

        if (await ReadJsonAsync(context, ApiJsonContext.Default.InterfaceRequest).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        var errors = new List<string>();
        if (request.Name is not null && request.Name != name)
        {
            errors.Add("name: an interface cannot be renamed (create a new one)");
        }

        var config = ApiMapping.ToModel(request, name, current, errors);
        if (config is null || errors.Count > 0)
        {
            await Error(context, StatusCodes.Status400BadRequest, "the interface is not valid", errors).ConfigureAwait(false);
            return;
        }

        await ChangeAsync(context, "interface.update", name, c => c.WithInterface(config), StatusCodes.Status200OK,
            c => new ChangeResponse { Interface = c.FindInterface(name) is { } i ? ApiMapping.ToDto(i, c) : null }).ConfigureAwait(false);
    }

    private async Task DeleteInterfaceAsync(HttpContext context)
    {
        var name = Route(context, "name");
        if (_service.Current.FindInterface(name) is null)
        {
            await NotFound(context, "interface").ConfigureAwait(false);
            return;
        }

        await ChangeAsync(context, "interface.delete", name, c => c.WithoutInterface(name), StatusCodes.Status200OK,
            _ => new ChangeResponse()).ConfigureAwait(false);
    }

    private async Task ExportInterfaceAsync(HttpContext context)
    {
        var config = _service.Current;
        if (config.FindInterface(Route(context, "name")) is not { } found)
        {
            await NotFound(context, "interface").ConfigureAwait(false);
            return;
        }

        if (!await RequireRootAsync(context, "the export").ConfigureAwait(false))
        {
            return;
        }

        var text = _options.ExportWgQuick(found, config.SitesOf(found.Name));
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{found.Name}.conf\"";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), context.RequestAborted).ConfigureAwait(false);
    }
}
