using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Netlink.Route;
using Microsoft.AspNetCore.Http;

namespace Branchgate.Appliance.Api;

// /v1/interfaces/{name}/sites: branch sites and remote workers (the interface's peers). Preshared keys are only ever
// presence flags here; a remote worker's own key pair is made by the gateway and its file shown once.
public sealed partial class ManagementApi
{
    private Task ListSitesAsync(HttpContext context)
    {
        var config = _service.Current;
        var name = Route(context, "name");
        return config.FindInterface(name) is null
            ? NotFound(context, "interface")
            : Json(context, StatusCodes.Status200OK, new SiteListResponse([.. config.SitesOf(name).Select(ApiMapping.ToDto)]),
                ApiJsonContext.Default.SiteListResponse);
    }

    private Task GetSiteAsync(HttpContext context)
    {
        var config = _service.Current;
        var name = Route(context, "name");
        if (config.FindInterface(name) is null)
        {
            return NotFound(context, "interface");
        }

        return config.FindSite(name, Route(context, "site")) is { } site
            ? Json(context, StatusCodes.Status200OK, ApiMapping.ToDto(site), ApiJsonContext.Default.SiteDto)
            : NotFound(context, "site");
    }

    private async Task CreateSiteAsync(HttpContext context)
    {
        var interfaceName = Route(context, "name");
        if (_service.Current.FindInterface(interfaceName) is null)
        {
            await NotFound(context, "interface").ConfigureAwait(false);
            return;
        }

        if (await ReadJsonAsync(context, ApiJsonContext.Default.SiteRequest).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        var errors = new List<string>();
        if (!ApiMapping.IsValidSiteName(request.Name))
        {
            errors.Add("name: letters, digits, '-', '_', '.'; 1 to 64 characters");
        }

        var name = request.Name ?? "";
        var site = ApiMapping.ToModel(request, interfaceName, name, current: null, errors);
        if (site is null || errors.Count > 0)
        {
            await Error(context, StatusCodes.Status400BadRequest, "the site is not valid", errors).ConfigureAwait(false);
            return;
        }

        if (_service.Current.FindSite(interfaceName, name) is not null)
        {
            await Error(context, StatusCodes.Status409Conflict, $"site {name} exists on {interfaceName} (use PUT to change it)").ConfigureAwait(false);
            return;
        }

        await ChangeSiteAsync(context, "site.create", site, StatusCodes.Status201Created).ConfigureAwait(false);
    }

    private async Task UpdateSiteAsync(HttpContext context)
    {
        var interfaceName = Route(context, "name");
        var name = Route(context, "site");
        var config = _service.Current;
        if (config.FindInterface(interfaceName) is null)
        {
            await NotFound(context, "interface").ConfigureAwait(false);
            return;
        }

        if (config.FindSite(interfaceName, name) is not { } current)
        {
            await NotFound(context, "site").ConfigureAwait(false);
            return;
        }

        if (await ReadJsonAsync(context, ApiJsonContext.Default.SiteRequest).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        var errors = new List<string>();
        if (request.Name is not null && request.Name != name)
        {
            errors.Add("name: a site cannot be renamed (create a new one and delete this one)");
        }

        var site = ApiMapping.ToModel(request, interfaceName, name, current, errors);
        if (site is null || errors.Count > 0)
        {
            await Error(context, StatusCodes.Status400BadRequest, "the site is not valid", errors).ConfigureAwait(false);
            return;
        }

        await ChangeSiteAsync(context, "site.update", site, StatusCodes.Status200OK).ConfigureAwait(false);
    }

    private async Task DeleteSiteAsync(HttpContext context)
    {
        var interfaceName = Route(context, "name");
        var name = Route(context, "site");
        var config = _service.Current;
        if (config.FindInterface(interfaceName) is null)
        {
            await NotFound(context, "interface").ConfigureAwait(false);
            return;
        }

        if (config.FindSite(interfaceName, name) is null)
        {
            await NotFound(context, "site").ConfigureAwait(false);
            return;
        }

        await ChangeAsync(context, "site.delete", $"{interfaceName}/{name}", c => c.WithoutSite(interfaceName, name),
            StatusCodes.Status200OK, _ => new ChangeResponse()).ConfigureAwait(false);
    }

    private Task ChangeSiteAsync(HttpContext context, string action, SiteConfig site, int success) =>
        ChangeAsync(context, action, $"{site.Interface}/{site.Name}", c => c.WithSite(site), success,
            c => new ChangeResponse { Site = c.FindSite(site.Interface, site.Name) is { } s ? ApiMapping.ToDto(s) : null });

    /// <summary>
    /// A remote worker in one step: a new key pair for the worker's device (and a preshared key), the peer added to
    /// the interface, and the worker's wg-quick file returned once. The worker's private key is not kept anywhere;
    /// the gateway's private key is never in the answer.
    /// </summary>
    private async Task CreateRemoteWorkerAsync(HttpContext context)
    {
        var interfaceName = Route(context, "name");
        if (_service.Current.FindInterface(interfaceName) is not { } gateway)
        {
            await NotFound(context, "interface").ConfigureAwait(false);
            return;
        }

        if (await ReadJsonAsync(context, ApiJsonContext.Default.RemoteWorkerRequest).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        var errors = new List<string>();
        if (!ApiMapping.IsValidSiteName(request.Name))
        {
            errors.Add("name: letters, digits, '-', '_', '.'; 1 to 64 characters");
        }

        var addresses = new List<InterfaceAddress>();
        foreach (var (text, i) in request.Addresses.Select((t, i) => (t, i)))
        {
            if (InterfaceAddress.TryParse(text, out var address, out var error))
            {
                addresses.Add(address);
            }
            else
            {
                errors.Add($"addresses[{i}]: {error}");
            }
        }

        if (request.Addresses.Count == 0)
        {
            errors.Add("addresses: at least one tunnel address for the worker, e.g. 10.9.0.5/32");
        }

        if (ApiMapping.EndpointError(request.GatewayEndpoint) is { } endpointError)
        {
            errors.Add("gatewayEndpoint: " + endpointError);
        }

        var clientAllowedIps = request.ClientAllowedIps is null
            ? [.. gateway.Addresses.Select(a => a.Network).Distinct()]
            : ApiMapping.ParsePrefixes(request.ClientAllowedIps, "clientAllowedIps", errors);
        if (errors.Count > 0)
        {
            await Error(context, StatusCodes.Status400BadRequest, "the remote worker is not valid", errors).ConfigureAwait(false);
            return;
        }

        if (_service.Current.FindSite(interfaceName, request.Name) is not null)
        {
            await Error(context, StatusCodes.Status409Conflict, $"site {request.Name} exists on {interfaceName}").ConfigureAwait(false);
            return;
        }

        var workerKey = WireGuardSecret.GeneratePrivateKey();
        var presharedKey = request.PresharedKey ? WireGuardSecret.GeneratePresharedKey() : null;
        var site = new SiteConfig
        {
            Name = request.Name,
            Interface = interfaceName,
            Kind = SiteKind.RemoteWorker,
            PublicKey = workerKey.DerivePublicKey(),
            PresharedKey = presharedKey,
            AllowedIps = [.. addresses.Select(a => IPPrefix.Host(a.Address))],
            Enabled = true,
            Description = request.Description,
        };

        var force = Force(context);
        var result = await _service.ChangeAsync("site.create", $"{interfaceName}/{site.Name}", c => c.WithSite(site),
            new ChangeOptions(Actor(context), force), context.RequestAborted).ConfigureAwait(false);
        if (!result.Applied)
        {
            await RefusedAsync(context, result, force).ConfigureAwait(false);
            return;
        }

        // The worker's side: its own [Interface] and the gateway as its one [Peer].
        var workerInterface = new InterfaceConfig
        {
            Name = "wg0",
            PrivateKey = workerKey,
            Addresses = addresses,
            Dns = [.. request.Dns ?? gateway.Dns],
        };
        var gatewayPeer = new SiteConfig
        {
            Name = interfaceName,
            Interface = "wg0",
            PublicKey = gateway.PublicKey,
            PresharedKey = presharedKey,
            Endpoint = request.GatewayEndpoint,
            AllowedIps = clientAllowedIps,
            PersistentKeepalive = request.PersistentKeepalive,
        };
        var response = new RemoteWorkerResponse
        {
            Site = ApiMapping.ToDto(site),
            WgQuick = _options.ExportWgQuick(workerInterface, [gatewayPeer]),
            Forced = force && result.Check.HasErrors,
            Findings = [.. result.Check.Findings.Select(ApiMapping.ToDto)],
        };
        await Json(context, StatusCodes.Status201Created, response, ApiJsonContext.Default.RemoteWorkerResponse).ConfigureAwait(false);
    }
}
