using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Tests;

public class NetNsTests
{
    [Fact]
    public void Run_executes_inside_the_namespace_and_Dispose_removes_it()
    {
        string name;
        using (var ns = new NetNs("self"))
        {
            name = ns.Name;
            ns.Exec("ip link add br-probe type bridge");
            // The bridge exists only inside: /sys/class/net is per namespace as seen through our thread after setns
            // (sysfs is mounted per mount namespace, so ask the kernel through a netlink-free probe: if_nametoindex).
            int inside = ns.Run(() => IfIndex("br-probe"));
            Assert.True(inside > 0);
            Assert.Equal(0, IfIndex("br-probe"));
        }

        Assert.DoesNotContain(name, Shell.Run("ip", ["netns", "list"]));
    }

    [Fact]
    public void LinuxException_names_the_request_and_the_errno()
    {
        var e = new LinuxException("RTM_NEWROUTE 10.2.0.0/24 table 220", Errno.EEXIST);
        Assert.Equal("RTM_NEWROUTE 10.2.0.0/24 table 220: File exists", e.Message);
        Assert.Equal(Errno.EEXIST, e.Errno);
    }

    [Fact]
    public async Task Waker_unblocks_a_wait_on_an_idle_descriptor()
    {
        using var waker = new Waker();
        using var idle = FileDescriptor.FromResult(Libc.EventFd(0, Libc.EFD_CLOEXEC), "eventfd");
        var started = Environment.TickCount64;
        var t = Task.Run(() => waker.WaitReadable(idle.Value, 30_000));
        await Task.Delay(100);
        waker.Signal();
        Assert.False(await t.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(Environment.TickCount64 - started < 10_000);
    }

    private static int IfIndex(string name) => (int)IfNameToIndex(name);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "if_nametoindex")]
    private static extern uint IfNameToIndex([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string name);
}
