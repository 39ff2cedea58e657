using System.Diagnostics;
using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests;

/// <summary>
/// The process contract of `wireguard-go IFACE`: background start that returns once ready, exit on SIGTERM and on
/// the socket file's deletion, and wg-quick's userspace mode.
/// </summary>
public class DaemonTests
{
    [Fact]
    public void Without_f_it_returns_once_ready_and_the_daemon_exits_on_sigterm_and_on_socket_removal()
    {
        using var ns = new ExtraNamespace("daemon");
        foreach (var ending in new[] { "sigterm", "socket" })
        {
            var iface = $"bgd{Environment.ProcessId % 100000}{ending[..2]}";
            var socket = $"/var/run/wireguard/{iface}.sock";
            try
            {
                // The parent returns only when the interface and the socket are there.
                ns.Exec($"{WireGuardSites.BranchgateBinary} {iface}");
                Assert.True(File.Exists(socket));
                // Owner only, as wireguard-go makes it (srwx------; the "0600" differs only in the meaningless x bit).
                Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(socket) & (UnixFileMode)0x3f);
                Assert.Contains(iface, ns.Exec($"ip link show {iface}"), StringComparison.Ordinal);
                Assert.Contains($"interface: {iface}", ns.Exec($"wg show {iface}"), StringComparison.Ordinal);
                var pid = DaemonPid(iface);
                Assert.NotNull(pid);
                using var daemon = Process.GetProcessById(pid.Value);
                if (ending == "sigterm")
                {
                    Shell.Run("kill", ["-TERM", pid.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                }
                else
                {
                    File.Delete(socket);
                }

                Assert.True(daemon.WaitForExit(10_000), $"the daemon did not exit after {ending}");
                Assert.DoesNotContain(iface, ns.Exec("ip link show"), StringComparison.Ordinal);
            }
            finally
            {
                if (DaemonPid(iface) is { } left)
                {
                    Shell.Run("kill", ["-KILL", left.ToString(System.Globalization.CultureInfo.InvariantCulture)], check: false);
                }

                File.Delete(socket);
            }
        }
    }

    [Fact]
    public void A_bad_interface_name_fails_in_the_parent_with_the_reason()
    {
        var error = Assert.Throws<InvalidOperationException>(
            () => Shell.Run(WireGuardSites.BranchgateBinary, ["-f", "a-name-far-too-long-for-linux"]));
        Assert.Contains("exited 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wg_quick_brings_a_site_up_and_down_with_branchgate_as_the_userspace_implementation()
    {
        using var sites = new WireGuardSites(Implementation.WireGuardGo, Implementation.WireGuardGo);
        sites.Configure();
        // Site C: a third namespace on the same veth segment would need a bridge; instead wg-quick replaces A's
        // daemon: A's interface is deleted and wg-quick brings a branchgate interface up in A's namespace.
        sites.A.Exec($"ip link del {sites.A.Interface}");
        Assert.True(sites.A.Daemon!.WaitForExit(10_000));
        var iface = $"bgq{Environment.ProcessId % 100000}";
        var dir = Path.GetDirectoryName(sites.A.PrivateKeyFile)!;
        var conf = Path.Combine(dir, iface + ".conf");
        File.WriteAllText(conf, $"""
            [Interface]
            PrivateKey = {File.ReadAllText(sites.A.PrivateKeyFile).Trim()}
            Address = {sites.A.TunnelV4}/24, {sites.A.TunnelV6}/64
            ListenPort = 51820
            MTU = 1380

            [Peer]
            PublicKey = {sites.B.PublicKey}
            AllowedIPs = {sites.B.TunnelV4}/32, {sites.B.TunnelV6}/128
            Endpoint = {sites.B.WanV4}:51821
            """);
        File.SetUnixFileMode(conf, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            sites.A.Exec($"WG_QUICK_USERSPACE_IMPLEMENTATION={WireGuardSites.BranchgateBinary} wg-quick up {conf}");
            Assert.Contains("mtu 1380", sites.A.Exec($"ip link show {iface}"), StringComparison.Ordinal);
            Assert.True(WireGuardSites.Ping(sites.A, sites.B.TunnelV4));
            Assert.True(WireGuardSites.Ping(sites.B, sites.A.TunnelV6));
            var pid = DaemonPid(iface);
            Assert.NotNull(pid);
            using var daemon = Process.GetProcessById(pid.Value);
            sites.A.Exec($"wg-quick down {conf}");
            Assert.True(daemon.WaitForExit(10_000), "the daemon did not exit after wg-quick down");
            Assert.False(File.Exists($"/var/run/wireguard/{iface}.sock"));
        }
        finally
        {
            if (DaemonPid(iface) is { } left)
            {
                Shell.Run("kill", ["-KILL", left.ToString(System.Globalization.CultureInfo.InvariantCulture)], check: false);
            }

            File.Delete($"/var/run/wireguard/{iface}.sock");
        }
    }

    /// <summary>The branchgate daemon serving <paramref name="iface"/> (names carry this test's PID, so it is ours).</summary>
    private static int? DaemonPid(string iface)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }

            try
            {
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                if (args.Length >= 2 && args[0].EndsWith("branchgate", StringComparison.Ordinal) && args[^1] == iface)
                {
                    return pid;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return null;
    }
}
