using Branchgate.Appliance.Coexistence;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Netlink;
using Branchgate.Platform.Linux.Netlink.Route;
using Branchgate.Platform.Linux.Netlink.Xfrm;
using static Branchgate.Tests.Appliance.Coexistence.KernelBuilder;

namespace Branchgate.Tests.Appliance.Coexistence;

public class KernelViewCaptureTests
{
    /// <summary>A kernel source whose XFRM side fails with an errno, or which is slow, and which counts its disposal.</summary>
    private sealed class FakeSource(Errno? xfrmFailure = null, TimeSpan delay = default) : IKernelSource
    {
        public bool Disposed { get; private set; }

        public IReadOnlyList<LinkInfo> Links() => Slow<IReadOnlyList<LinkInfo>>([new LinkInfo(2, "ipsec0", LinkFlags.Up, 1400, "tun")]);

        public IReadOnlyList<AddressInfo> Addresses() => Slow<IReadOnlyList<AddressInfo>>([Address("br0", "10.1.0.1/24")]);

        public IReadOnlyList<IPRoute> Routes() => Slow<IReadOnlyList<IPRoute>>([Route("10.2.0.0/24", "ipsec0", 220)]);

        public IReadOnlyList<RoutingRule> Rules() => Slow(StandardRules());

        public XfrmPolicyDump Policies() => xfrmFailure is { } e
            ? throw new NetlinkException("XFRM_MSG_GETPOLICY dump", e, null)
            : Slow(new XfrmPolicyDump([Policy(XfrmDirection.Out, "0.0.0.0/0", "10.2.0.0/24")], 0, 0));

        public XfrmStateDump States() => xfrmFailure is { } e
            ? throw new NetlinkException("XFRM_MSG_GETSA dump", e, null)
            : Slow(new XfrmStateDump([], 0));

        public void Dispose() => Disposed = true;

        private T Slow<T>(T value)
        {
            Thread.Sleep(delay);
            return value;
        }
    }

    [Fact]
    public void Everything_read_gives_a_view_with_nothing_unreadable()
    {
        var source = new FakeSource();
        var view = KernelView.Capture(source, TimeSpan.FromSeconds(5));
        Assert.Empty(view.Unreadable);
        Assert.Single(view.Policies);
        Assert.Single(view.Routes);
        Assert.True(source.Disposed);
    }

    [Theory]
    [InlineData(Errno.EPROTONOSUPPORT, "no XFRM")]
    [InlineData(Errno.EPERM, "CAP_NET_ADMIN")]
    [InlineData(Errno.ETIMEDOUT, "did not answer in time")]
    public void A_refused_xfrm_dump_is_named_and_the_routes_are_still_read(Errno errno, string explanation)
    {
        var view = KernelView.Capture(new FakeSource(errno), TimeSpan.FromSeconds(5));
        Assert.Equal(2, view.Unreadable.Count);
        Assert.Contains(view.Unreadable, u => u.StartsWith("XFRM policies", StringComparison.Ordinal) &&
            u.Contains(explanation, StringComparison.Ordinal));
        Assert.Single(view.Routes);
        Assert.Empty(view.Policies);
        // The table-220 route is still found, and the report is not clean either way.
        var report = CoexistenceChecker.Check(view, OnePeer("10.2.0.0/24"));
        Assert.Equal(2, report.ExitStatus);
        Assert.Equal(1, CoexistenceChecker.Check(view, OnePeer("10.5.0.0/24")).ExitStatus);
    }

    [Fact]
    public void A_capture_over_its_budget_stops_reading_and_says_so()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var view = KernelView.Capture(new FakeSource(delay: TimeSpan.FromMilliseconds(150)), TimeSpan.FromMilliseconds(200));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2));
        Assert.Contains(view.Unreadable, u => u.Contains("ran out of its", StringComparison.Ordinal));
        Assert.Contains(view.Unreadable, u => u.StartsWith("XFRM policies", StringComparison.Ordinal));
    }
}
