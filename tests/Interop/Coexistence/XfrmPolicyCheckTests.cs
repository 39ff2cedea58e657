using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests.Coexistence;

/// <summary>
/// `branchgate check` against real XFRM policies installed with `ip xfrm policy add` in the namespace of a running
/// branchgate interface configured with `wg`: whose allowed IPs include 10.2.0.0/24 and whose endpoint is the other
/// site's WAN address. Each policy is reported, or not, exactly as the checker specifies.
/// </summary>
public class XfrmPolicyCheckTests
{
    private const string Tmpl = "tmpl src 192.0.2.1 dst 192.0.2.2 proto esp mode tunnel";

    /// <summary>Sets up site A: a LAN bridge 10.1.0.1/24 and peer B with allowed IPs 10.2.0.0/24 too.</summary>
    private static WireGuardSites SiteWithPeer()
    {
        var sites = new WireGuardSites(Implementation.Branchgate, Implementation.Branchgate);
        try
        {
            sites.Configure();
            sites.A.Exec("ip link add lan0 type bridge && ip addr add 10.1.0.1/24 dev lan0 && ip link set lan0 up");
            sites.A.Wg($"set {sites.A.Interface} peer {sites.B.PublicKey} allowed-ips {sites.B.TunnelV4}/32,10.2.0.0/24");
            return sites;
        }
        catch
        {
            sites.Dispose();
            throw;
        }
    }

    [Fact]
    public void Policies_overlapping_adjacent_and_disjoint_in_each_direction_with_and_without_marks()
    {
        using var sites = SiteWithPeer();
        var a = sites.A;
        // (policy, the code expected or null for "nothing reported")
        var cases = new (string Policy, string? Code)[]
        {
            ("src 10.1.0.0/24 dst 10.2.0.0/24 dir out", "ipsec-policy-overlap"),
            ("src 10.1.0.0/24 dst 10.2.0.0/16 dir out", "ipsec-policy-overlap"),
            ("src 10.1.0.0/24 dst 10.2.0.128/25 dir out", "ipsec-policy-overlap"),
            ("src 10.1.0.0/24 dst 10.2.1.0/24 dir out", null), // adjacent
            ("src 10.1.0.0/24 dst 10.3.0.0/24 dir out", null), // disjoint
            ("src 10.2.0.0/24 dst 10.1.0.0/24 dir out", null), // out: only the destination matters
            ("src 10.2.0.0/24 dst 10.1.0.0/24 dir in", "ipsec-policy-overlap"),
            ("src 10.2.1.0/24 dst 10.1.0.0/24 dir in", null),
            ("src 10.2.0.0/24 dst 10.1.0.0/24 dir fwd", "ipsec-policy-overlap"),
            ("src 10.1.0.0/24 dst 10.2.0.0/24 dir fwd", "ipsec-policy-overlap"),
            ("src 10.3.0.0/24 dst 10.1.0.0/24 dir fwd", null),
            ("src 10.1.0.0/24 dst 10.2.0.0/24 dir out mark 0x10 mask 0xff", null),
            ("src 10.2.0.0/24 dst 10.1.0.0/24 dir in mark 0x10 mask 0xff", null),
            ("src 10.2.0.0/24 dst 10.1.0.0/24 dir fwd mark 0x10 mask 0xff", null),
            ("src 10.1.0.0/24 dst 10.2.0.0/24 dir out mark 0 mask 0xff", "ipsec-policy-overlap"), // matches unmarked
            ($"src 0.0.0.0/0 dst {a.WanV4[..a.WanV4.LastIndexOf('.')]}.0/24 dir out", "endpoint-in-ipsec-selector"),
        };
        var failures = new List<string>();
        foreach (var (policy, code) in cases)
        {
            a.Exec("ip xfrm policy flush");
            a.Exec($"ip xfrm policy add {policy} {Tmpl}");
            var result = CheckCli.Run(a.Namespace, $"--json --interface {a.Interface}");
            var codes = result.Codes.ToList();
            bool ok = code is null
                ? codes.Count == 0 && result.ExitCode == 0
                : codes.SequenceEqual([code]) && result.ExitCode == 2 &&
                    result.Findings[0].Objects.Contains("xfrm policy src ", StringComparison.Ordinal);
            if (!ok)
            {
                failures.Add($"{policy}: expected {code ?? "nothing"}, got {result}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    [Fact]
    public void A_wg_quick_file_is_checked_before_its_interface_exists()
    {
        using var sites = SiteWithPeer();
        var a = sites.A;
        a.Exec($"ip xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out {Tmpl}");
        var directory = Directory.CreateTempSubdirectory($"bgcheck{Environment.ProcessId}-").FullName;
        try
        {
            string Conf(string allowed)
            {
                var path = Path.Combine(directory, "wgnew0.conf");
                File.WriteAllText(path, $"""
                    [Interface]
                    PrivateKey = {File.ReadAllText(a.PrivateKeyFile).Trim()}
                    Address = 10.77.0.1/24

                    [Peer]
                    # Name = branch2
                    PublicKey = {sites.B.PublicKey}
                    AllowedIPs = {allowed}
                    Endpoint = {sites.B.WanV4}:51821
                    """);
                return path;
            }

            var refused = CheckCli.Run(a.Namespace, $"--json --config {Conf("10.2.0.0/25")}");
            Assert.True(refused.ExitCode == 2, refused.ToString());
            var finding = Assert.Single(refused.Findings, f => f.Severity == "error");
            Assert.Equal("ipsec-policy-overlap", finding.Code);
            // The running interface's peer has 10.2.0.0/24: the file's peer overlaps it across interfaces.
            Assert.Contains(refused.Findings, f => f.Code == "peer-overlap" && f.Severity == "warning");
            Assert.Contains("wgnew0 peer branch2 allowed-ips 10.2.0.0/25", finding.Objects, StringComparison.Ordinal);
            var text = CheckCli.Run(a.Namespace, $"--config {Conf("10.2.0.0/25")}");
            Assert.Contains("ERRORS", text.Stdout, StringComparison.Ordinal);
            Assert.Contains("xfrm policy src 10.1.0.0/24 dst 10.2.0.0/24 dir out", text.Stdout, StringComparison.Ordinal);

            var accepted = CheckCli.Run(a.Namespace, $"--json --config {Conf("10.4.0.0/24")}");
            Assert.True(accepted.ExitCode == 0, accepted.ToString());
            Assert.Contains("Clean", CheckCli.Run(a.Namespace, $"--config {Conf("10.4.0.0/24")}").Stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Ten_thousand_policies_are_read_and_checked_in_bounded_time()
    {
        using var sites = SiteWithPeer();
        var a = sites.A;
        var batch = Path.Combine(Path.GetTempPath(), $"bgxfrm{Environment.ProcessId}.batch");
        try
        {
            using (var writer = File.CreateText(batch))
            {
                for (int i = 0; i < 10_000; i++)
                {
                    writer.WriteLine($"xfrm policy add src 172.16.{i / 256}.{i % 256}/32 dst 172.17.{i / 256}.{i % 256}/32 dir out {Tmpl}");
                }

                writer.WriteLine($"xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out priority 7 {Tmpl}");
            }

            a.Exec($"ip -batch {batch}", timeoutMs: 120_000);
            var (result, elapsed) = CheckCli.Timed(a.Namespace, $"--json --interface {a.Interface}");
            Assert.True(elapsed < TimeSpan.FromSeconds(20), $"took {elapsed}");
            Assert.Equal(2, result.ExitCode);
            var finding = Assert.Single(result.Findings);
            Assert.Contains("priority 7", finding.Message, StringComparison.Ordinal);
            Assert.Empty(result.Unreadable);
        }
        finally
        {
            File.Delete(batch);
        }
    }

    [Fact]
    public void Without_the_right_to_read_xfrm_the_check_says_so_and_is_never_clean()
    {
        using var sites = SiteWithPeer();
        var a = sites.A;
        // As nobody, without capabilities: the XFRM dumps are refused (EPERM) and the UAPI socket is root's.
        var result = CheckCli.Run(a.Namespace, "--json", asUser: "65534");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(result.Unreadable, u => u.StartsWith("XFRM policies", StringComparison.Ordinal) &&
            u.Contains("CAP_NET_ADMIN", StringComparison.Ordinal));
        var text = CheckCli.Run(a.Namespace, "", asUser: "65534");
        Assert.Contains("COULD NOT READ", text.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, text.ExitCode);
    }

    [Fact]
    public void Bad_arguments_exit_2_with_a_message_and_touch_nothing()
    {
        using var sites = SiteWithPeer();
        foreach (var args in new[] { "--bogus", "--migrate 10.2.0.1/24 --peer x", "--migrate 10.2.0.0/24", "--interface", "--peer x" })
        {
            var result = CheckCli.Run(sites.A.Namespace, args);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("branchgate check:", result.Stderr, StringComparison.Ordinal);
        }

        var unknownPeer = CheckCli.Run(sites.A.Namespace, "--migrate 10.2.0.0/24 --peer nosuch");
        Assert.Equal(2, unknownPeer.ExitCode);
        Assert.Contains("no peer 'nosuch'", unknownPeer.Stderr, StringComparison.Ordinal);
    }
}
