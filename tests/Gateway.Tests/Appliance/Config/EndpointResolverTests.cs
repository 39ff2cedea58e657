using System.Net;
using System.Net.Sockets;
using Branchgate.Appliance.Config;
using Microsoft.Extensions.Time.Testing;

namespace Branchgate.Tests.Appliance.Config;

public sealed class EndpointResolverTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    private static SiteEndpoint Endpoint(string text)
    {
        Assert.True(SiteEndpoint.TryParse(text, out var endpoint, out string? error), error);
        return endpoint;
    }

    private static Func<string, CancellationToken, Task<IPAddress[]>> Answer(params string[] addresses) =>
        (_, _) => Task.FromResult(addresses.Select(IPAddress.Parse).ToArray());

    [Fact]
    public async Task A_literal_needs_no_lookup()
    {
        var resolver = new EndpointResolver(new FakeTimeProvider(), (_, _) => throw new InvalidOperationException("no lookup expected"));
        var v4 = await resolver.ResolveAsync(Endpoint("198.51.100.7:51820"), default);
        var v6 = await resolver.ResolveAsync(Endpoint("[2001:db8::7]:51821"), default);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.51.100.7"), 51820), v4.EndPoint);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::7"), 51821), v6.EndPoint);
    }

    [Fact]
    public async Task The_first_IPv4_address_is_preferred_even_when_IPv6_comes_first()
    {
        var resolver = new EndpointResolver(new FakeTimeProvider(), Answer("2001:db8::1", "198.51.100.9", "198.51.100.10"));
        var result = await resolver.ResolveAsync(Endpoint("branch-b.example.net:51820"), default);
        Assert.True(result.Succeeded);
        Assert.Null(result.Error);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.51.100.9"), 51820), result.EndPoint);
    }

    [Fact]
    public async Task IPv6_is_used_when_there_is_no_IPv4_address()
    {
        var resolver = new EndpointResolver(new FakeTimeProvider(), Answer("2001:db8::1", "2001:db8::2"));
        var result = await resolver.ResolveAsync(Endpoint("branch-b.example.net:51820"), default);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 51820), result.EndPoint);
    }

    [Fact]
    public async Task The_lookup_gets_the_host_name_without_the_port()
    {
        string? asked = null;
        var resolver = new EndpointResolver(new FakeTimeProvider(), (name, _) =>
        {
            asked = name;
            return Task.FromResult(new[] { IPAddress.Loopback });
        });
        await resolver.ResolveAsync(Endpoint("branch-b.example.net:51820"), default);
        Assert.Equal("branch-b.example.net", asked);
    }

    [Theory]
    [InlineData(SocketError.HostNotFound, "branch-b.example.net: name does not resolve (NXDOMAIN)")]
    [InlineData(SocketError.NoData, "branch-b.example.net: name has no IPv4 or IPv6 address (NODATA)")]
    [InlineData(SocketError.TryAgain, "branch-b.example.net: temporary DNS failure")]
    [InlineData(SocketError.NoRecovery, "branch-b.example.net: DNS server refused")]
    [InlineData(SocketError.NetworkUnreachable, "branch-b.example.net: lookup failed (NetworkUnreachable)")]
    public async Task Lookup_failures_are_results_with_a_clear_message(SocketError code, string message)
    {
        var resolver = new EndpointResolver(new FakeTimeProvider(), (_, _) => throw new SocketException((int)code));
        var result = await resolver.ResolveAsync(Endpoint("branch-b.example.net:51820"), default);
        Assert.False(result.Succeeded);
        Assert.Null(result.EndPoint);
        Assert.StartsWith(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_faulted_task_and_an_unexpected_exception_are_results_too()
    {
        var faulted = new EndpointResolver(new FakeTimeProvider(),
            (_, _) => Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound)));
        Assert.Equal("x.example: name does not resolve (NXDOMAIN)",
            (await faulted.ResolveAsync(Endpoint("x.example:1"), default)).Error);

        var odd = new EndpointResolver(new FakeTimeProvider(), (_, _) => throw new InvalidOperationException("odd"));
        Assert.Equal("x.example: lookup failed (InvalidOperationException: odd)",
            (await odd.ResolveAsync(Endpoint("x.example:1"), default)).Error);
    }

    [Fact]
    public async Task No_addresses_at_all_is_a_failure()
    {
        var resolver = new EndpointResolver(new FakeTimeProvider(), Answer());
        var result = await resolver.ResolveAsync(Endpoint("branch-b.example.net:51820"), default);
        Assert.Equal("branch-b.example.net: name has no IPv4 or IPv6 address", result.Error);
    }

    [Fact]
    public async Task A_lookup_that_never_answers_times_out_after_five_seconds_and_is_cancelled()
    {
        var time = new FakeTimeProvider();
        var lookupCancelled = new TaskCompletionSource();
        var resolver = new EndpointResolver(time, (_, token) =>
        {
            token.Register(() => lookupCancelled.TrySetResult());
            return new TaskCompletionSource<IPAddress[]>().Task; // ignores the token, as a stuck resolver might
        });

        var pending = resolver.ResolveAsync(Endpoint("slow.example.net:51820"), default);
        time.Advance(TimeSpan.FromSeconds(4.9));
        await Task.Delay(50);
        Assert.False(pending.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(0.2));
        var result = await pending.WaitAsync(s_bound);
        Assert.Equal("slow.example.net: no answer from DNS within 5 s (timeout)", result.Error);
        await lookupCancelled.Task.WaitAsync(s_bound);
        Assert.Equal(TimeSpan.FromSeconds(5), EndpointResolver.Timeout);
    }

    [Fact]
    public async Task The_callers_cancellation_throws()
    {
        var resolver = new EndpointResolver(new FakeTimeProvider(), (_, _) => new TaskCompletionSource<IPAddress[]>().Task);
        using var cts = new CancellationTokenSource();
        var pending = resolver.ResolveAsync(Endpoint("slow.example.net:51820"), cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(s_bound));
    }

    [Fact]
    public async Task Localhost_resolves_with_the_real_resolver_to_loopback_IPv4_first()
    {
        var resolver = new EndpointResolver(TimeProvider.System);
        var result = await resolver.ResolveAsync(Endpoint("localhost:51820"), default).WaitAsync(s_bound);
        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 51820), result.EndPoint);
    }
}
