using System.Net;
using System.Net.Sockets;

namespace Branchgate.Appliance.Config;

/// <summary>The outcome of resolving a <see cref="SiteEndpoint"/>: the address to send to, or why there is none.</summary>
public sealed record EndpointResolution
{
    private EndpointResolution(IPEndPoint? endPoint, string? error)
    {
        EndPoint = endPoint;
        Error = error;
    }

    /// <summary>Where to send; null when <see cref="Error"/> says why not.</summary>
    public IPEndPoint? EndPoint { get; }

    /// <summary>"branch-b.example.net: name does not resolve (NXDOMAIN)"; null on success.</summary>
    public string? Error { get; }

    public bool Succeeded => EndPoint is not null;

    public static EndpointResolution Success(IPEndPoint endPoint) => new(endPoint, null);

    public static EndpointResolution Failure(string error) => new(null, error);
}

/// <summary>
/// Turns a site's endpoint into an address, with a bounded wait (<see cref="Timeout"/>). A literal needs no lookup.
/// For a name, the first IPv4 address wins and an IPv6 address is used only when there is no IPv4 one: branch
/// offices sit far more often behind IPv4-only uplinks than IPv6-only ones, and an IPv6 address that the gateway
/// cannot reach would leave the tunnel down where IPv4 would work (getaddrinfo's RFC 6724 order prefers IPv6 whenever
/// the host has any global IPv6 address, reachable or not). Resolution failures are results, never exceptions; only
/// the caller's own cancellation throws.
/// </summary>
public sealed class EndpointResolver
{
    /// <summary>How long one lookup may take before it counts as failed.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly TimeProvider _time;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _lookup;

    /// <param name="time">The clock the timeout runs on.</param>
    /// <param name="lookup">Name to addresses; default <see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>.
    /// It may throw <see cref="SocketException"/> (its error code is reported) or ignore the token (the timeout still holds).</param>
    public EndpointResolver(TimeProvider time, Func<string, CancellationToken, Task<IPAddress[]>>? lookup = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _lookup = lookup ?? Dns.GetHostAddressesAsync;
    }

    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled (not for a timeout).</exception>
    public async Task<EndpointResolution> ResolveAsync(SiteEndpoint endpoint, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!endpoint.IsDnsName)
        {
            return EndpointResolution.Success(new IPEndPoint(endpoint.Literal, endpoint.Port));
        }

        string host = endpoint.Host;
        using var lookupCancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        IPAddress[] addresses;
        try
        {
            var lookup = _lookup(host, lookupCancel.Token);
            addresses = await lookup.WaitAsync(Timeout, _time, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await lookupCancel.CancelAsync().ConfigureAwait(false);
            return EndpointResolution.Failure($"{host}: no answer from DNS within {Timeout.TotalSeconds:0} s (timeout)");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (SocketException e)
        {
            return EndpointResolution.Failure($"{host}: {Describe(e.SocketErrorCode)}");
        }
        catch (Exception e)
        {
            return EndpointResolution.Failure($"{host}: lookup failed ({e.GetType().Name}: {e.Message})");
        }

        var chosen = Array.Find(addresses ?? [], a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? Array.Find(addresses ?? [], a => a.AddressFamily == AddressFamily.InterNetworkV6);
        return chosen is null
            ? EndpointResolution.Failure($"{host}: name has no IPv4 or IPv6 address")
            : EndpointResolution.Success(new IPEndPoint(chosen, endpoint.Port));
    }

    private static string Describe(SocketError error) => error switch
    {
        SocketError.HostNotFound => "name does not resolve (NXDOMAIN)",
        SocketError.NoData => "name has no IPv4 or IPv6 address (NODATA)",
        SocketError.TryAgain => "temporary DNS failure (SERVFAIL or no DNS server reachable)",
        SocketError.NoRecovery => "DNS server refused the query or failed permanently",
        _ => $"lookup failed ({error})",
    };
}
