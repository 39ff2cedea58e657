using System.Diagnostics;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Netlink.Route;
using Branchgate.Platform.Linux.Netlink.Xfrm;

namespace Branchgate.Appliance.Coexistence;

/// <summary>
/// What the kernel of one network namespace holds that can steal or drop WireGuard traffic: the IPsec policies and
/// SAs, every routing table and the policy rules that choose between them, the local addresses (connected subnets)
/// and the links. An immutable snapshot: the checker reads it without I/O, and a migration step is simulated by
/// making a changed copy with <c>with</c>. <see cref="Unreadable"/> says what could not be read; a check over such a
/// view is never clean.
/// </summary>
public sealed record KernelView
{
    public static readonly KernelView Empty = new();

    public IReadOnlyList<XfrmPolicy> Policies { get; init; } = [];

    public IReadOnlyList<XfrmState> States { get; init; } = [];

    /// <summary>Routes of every table (main, local, 220, ...).</summary>
    public IReadOnlyList<IPRoute> Routes { get; init; } = [];

    /// <summary>Policy rules of both families; the checker orders them by priority itself.</summary>
    public IReadOnlyList<RoutingRule> Rules { get; init; } = [];

    public IReadOnlyList<AddressInfo> Addresses { get; init; } = [];

    public IReadOnlyList<LinkInfo> Links { get; init; } = [];

    /// <summary>One line per thing that could not be read, with the reason ("XFRM policies: Permission denied").</summary>
    public IReadOnlyList<string> Unreadable { get; init; } = [];

    /// <summary>The default time <see cref="Capture(TimeSpan?)"/> may take in all.</summary>
    public static readonly TimeSpan DefaultBudget = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Reads the kernel of the calling thread's network namespace. Never throws for what the kernel refuses (no
    /// XFRM support, permission denied, no answer in time): each part that fails is left empty and named in
    /// <see cref="Unreadable"/>. Each kernel reply is awaited at most 2 s and the whole capture stops reading once
    /// <paramref name="budget"/> (default <see cref="DefaultBudget"/>) has passed.
    /// </summary>
    public static KernelView Capture(TimeSpan? budget = null) => Capture(new NetlinkKernelSource(), budget ?? DefaultBudget);

    /// <summary>The capture over any source (tests give one that fails on purpose).</summary>
    internal static KernelView Capture(IKernelSource source, TimeSpan budget)
    {
        var unreadable = new List<string>();
        var clock = Stopwatch.StartNew();
        try
        {
            var links = Read(source.Links, "links", []);
            var addresses = Read(source.Addresses, "addresses", []);
            var routes = Read(source.Routes, "routes", []);
            var rules = Read(source.Rules, "policy rules", []);
            var policies = Read(source.Policies, "XFRM policies (IPsec SPD)", XfrmPolicyDumpEmpty);
            var states = Read(source.States, "XFRM states (IPsec SAD)", XfrmStateDumpEmpty);
            if (policies.Malformed > 0)
            {
                unreadable.Add($"XFRM policies: {policies.Malformed} message(s) could not be parsed and were skipped");
            }

            return new KernelView
            {
                Links = links,
                Addresses = addresses,
                Routes = routes,
                Rules = rules,
                Policies = policies.Policies,
                States = states.States,
                Unreadable = unreadable,
            };
        }
        finally
        {
            source.Dispose();
        }

        T Read<T>(Func<T> read, string what, T empty)
        {
            if (clock.Elapsed > budget)
            {
                unreadable.Add($"{what}: not read, the check ran out of its {budget.TotalSeconds:0.#} s budget");
                return empty;
            }

            try
            {
                return read();
            }
            catch (LinuxException e)
            {
                unreadable.Add($"{what}: {Explain(e)}");
                return empty;
            }
        }
    }

    private static readonly XfrmPolicyDump XfrmPolicyDumpEmpty = new([], 0, 0);
    private static readonly XfrmStateDump XfrmStateDumpEmpty = new([], 0);

    private static string Explain(LinuxException e) => e.Errno switch
    {
        Errno.EPROTONOSUPPORT => $"{e.Message} (this kernel has no XFRM/netlink support for it)",
        Errno.EPERM or Errno.EACCES => $"{e.Message} (reading it needs CAP_NET_ADMIN; run the check as root)",
        Errno.ETIMEDOUT => $"{e.Message} (the kernel did not answer in time)",
        _ => e.Message,
    };
}

/// <summary>Where <see cref="KernelView.Capture(IKernelSource, TimeSpan)"/> reads from; each call may throw a
/// <see cref="LinuxException"/>.</summary>
internal interface IKernelSource : IDisposable
{
    IReadOnlyList<LinkInfo> Links();

    IReadOnlyList<AddressInfo> Addresses();

    IReadOnlyList<IPRoute> Routes();

    IReadOnlyList<RoutingRule> Rules();

    XfrmPolicyDump Policies();

    XfrmStateDump States();
}

/// <summary>The kernel of the calling thread's namespace, over NETLINK_ROUTE and NETLINK_XFRM; sockets are opened
/// lazily so that a kernel without XFRM still yields routes.</summary>
internal sealed class NetlinkKernelSource : IKernelSource
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(2);
    private RouteNetlink? _route;
    private XfrmClient? _xfrm;

    private RouteNetlink Route => _route ??= new RouteNetlink { Timeout = ReplyTimeout };

    private XfrmClient Xfrm => _xfrm ??= new XfrmClient { Timeout = ReplyTimeout };

    public IReadOnlyList<LinkInfo> Links() => Route.ListLinks();

    public IReadOnlyList<AddressInfo> Addresses() => Route.ListAddresses();

    public IReadOnlyList<IPRoute> Routes() => Route.ListRoutes();

    public IReadOnlyList<RoutingRule> Rules() => Route.ListRules();

    public XfrmPolicyDump Policies() => Xfrm.DumpPolicies();

    public XfrmStateDump States() => Xfrm.DumpStates();

    public void Dispose()
    {
        _route?.Dispose();
        _xfrm?.Dispose();
    }
}
