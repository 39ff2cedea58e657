using System.Diagnostics;
using System.Net;
using System.Runtime.Versioning;
using Branchgate.Appliance.Config;
using Branchgate.Appliance.Model;
using Branchgate.Tests.Uapi;
using Branchgate.Uapi;
using static Branchgate.Tests.Appliance.Config.ConfigTestData;

namespace Branchgate.Tests.Appliance.Config;

/// <summary>
/// What we write, the real tools accept: `wg-quick strip` (wireguard-tools) reads the file, and `wg setconf` applies
/// the stripped result to a device served by our UAPI server (an in-memory device under a unique name in
/// /var/run/wireguard, where wg looks for userspace interfaces), so the device ends up with exactly our keys, ports,
/// endpoints, allowed IPs and keepalives.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class WgQuickToolTests : IDisposable
{
    private static int s_counter;
    private static readonly TimeSpan s_toolTimeout = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("bgcfg-").FullName;
    private readonly string _name = $"bgc{Environment.ProcessId % 100000}x{Interlocked.Increment(ref s_counter)}";

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Wg_quick_strip_and_wg_setconf_accept_a_written_file_and_configure_exactly_it()
    {
        var (iface, sites) = WgQuickWriteTests.FullExample();
        iface = iface with { Name = "wg7" };
        sites = [.. sites.Select(s => s.Endpoint is not null && s.Endpoint.StartsWith("vpn.", StringComparison.Ordinal)
            ? s with { Endpoint = "localhost:443" } : s)];
        ApplyWithWg(WgQuickFile.Write(iface, sites), iface, sites);
    }

    [Theory]
    [MemberData(nameof(WgQuickCorpusTests.Files), MemberType = typeof(WgQuickCorpusTests))]
    public void The_tools_accept_our_rewrite_of_every_corpus_file(string file)
    {
        var parsed = WgQuickCorpusTests.ParseFile(file);
        var iface = parsed.Interface!;
        // wg resolves names itself; only localhost resolves in every test environment.
        var sites = parsed.Sites.Select(s => s.Endpoint is { } e && SiteEndpoint.TryParse(e, out var ep, out _) && ep.IsDnsName
            ? s with { Endpoint = $"localhost:{ep.Port}" } : s).ToList();
        ApplyWithWg(WgQuickFile.Write(iface, sites), iface, sites);
    }

    [Theory]
    [MemberData(nameof(WgQuickCorpusTests.Files), MemberType = typeof(WgQuickCorpusTests))]
    public void The_corpus_files_themselves_are_accepted_by_wg_quick_strip(string file)
    {
        var copy = Path.Combine(_directory, "wgcorpus.conf");
        File.Copy(Path.Combine(CorpusDirectory, file), copy, overwrite: true);
        File.SetUnixFileMode(copy, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var (exit, _, error) = Run("wg-quick", "strip", copy);
        Assert.True(exit == 0, error);
    }

    private void ApplyWithWg(string text, InterfaceConfig iface, List<SiteConfig> sites)
    {
        var conf = Path.Combine(_directory, "wgtest.conf");
        File.WriteAllText(conf, text);
        File.SetUnixFileMode(conf, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var (exit, stripped, error) = Run("wg-quick", "strip", conf);
        Assert.True(exit == 0, "wg-quick strip: " + error);
        Assert.Equal("", error); // no warning either (the file is 0600)

        var strippedPath = Path.Combine(_directory, "stripped.conf");
        File.WriteAllText(strippedPath, stripped);
        var device = new InMemoryUapiTarget();
        using (UapiServer.Start(_name, device, new UapiServerOptions { InterfaceIndex = _ => null }))
        {
            (exit, _, error) = Run("wg", "setconf", _name, strippedPath);
            Assert.True(exit == 0, "wg setconf: " + error);
        }

        using var snapshot = device.Snapshot();
        Assert.True(snapshot.PrivateKey.SequenceEqual(iface.PrivateKey.Span), "private key");
        if (iface.ListenPort != 0)
        {
            Assert.Equal(iface.ListenPort, snapshot.ListenPort); // 0 lets the device choose
        }

        Assert.Equal(iface.FwMark, snapshot.Fwmark);
        var enabled = sites.Where(s => s.Enabled).ToList();
        Assert.Equal(enabled.Select(s => s.PublicKey), snapshot.Peers.Select(p => p.PublicKey));
        for (int i = 0; i < enabled.Count; i++)
        {
            var site = enabled[i];
            var peer = snapshot.Peers[i];
            Assert.True(peer.PresharedKey.SequenceEqual(site.PresharedKey is null ? [] : site.PresharedKey.Span), "preshared key");
            Assert.Equal(site.PersistentKeepalive, peer.PersistentKeepaliveInterval);
            Assert.Equal(site.AllowedIps.Select(p => p.ToIPNetwork()), peer.AllowedIps);
            if (site.Endpoint is null)
            {
                Assert.Null(peer.Endpoint);
            }
            else
            {
                Assert.True(SiteEndpoint.TryParse(site.Endpoint, out var endpoint, out _));
                Assert.NotNull(peer.Endpoint);
                Assert.Equal(endpoint.Port, peer.Endpoint.Port);
                Assert.True(endpoint.IsDnsName ? IPAddress.IsLoopback(peer.Endpoint.Address) : endpoint.Literal.Equals(peer.Endpoint.Address),
                    $"endpoint {peer.Endpoint} for {endpoint}");
            }
        }
    }

    private static (int Exit, string Out, string Error) Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["WG_ENDPOINT_RESOLUTION_RETRIES"] = "0";
        using var process = Process.Start(start) ?? throw new InvalidOperationException(tool + " did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(s_toolTimeout))
        {
            process.Kill();
            Assert.Fail($"{tool} did not finish within {s_toolTimeout}");
        }

        return (process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }
}
