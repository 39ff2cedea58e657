using System.Diagnostics;
using Branchgate.Interop.Tests.Harness;

namespace Branchgate.Interop.Tests.Coexistence;

/// <summary>
/// One charon (strongSwan's IKE daemon) in a network namespace, configured from files in a directory of its own:
/// /run is bind-mounted from that directory inside the private mount namespace `ip netns exec` gives the process (so
/// it vanishes with it), the vici socket lives there, and the log goes to charon.log. Dispose kills the charon it
/// started, by PID, and deletes the directory.
/// </summary>
public sealed class StrongSwan : IDisposable
{
    private readonly Process _charon;

    /// <param name="ns">The namespace to run in.</param>
    /// <param name="libipsec">True: userspace ESP through an ipsec0 TUN (kernel-libipsec), no XFRM policies. False:
    /// the default kernel-netlink mode, which installs XFRM policies (and fails to add SAs on a kernel without ESP).</param>
    /// <param name="swanctlConf">The swanctl.conf text (connections and secrets).</param>
    public StrongSwan(string ns, bool libipsec, string swanctlConf)
    {
        Namespace = ns;
        Directory = System.IO.Directory.CreateTempSubdirectory($"bgswan{Environment.ProcessId}-").FullName;
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "run"));
        string plugins = libipsec
            ? "random nonce aes sha1 sha2 hmac gmp kdf kernel-libipsec kernel-netlink socket-default vici updown"
            : "random nonce aes sha1 sha2 hmac gmp kdf kernel-netlink socket-default vici updown";
        File.WriteAllText(ConfPath, $$"""
            charon {
              load = {{plugins}}
              install_virtual_ip = no
              plugins {
                vici { socket = unix://{{Directory}}/charon.vici }
              }
              filelog {
                log { path = {{Directory}}/charon.log
                  default = 1
                  ike = 2
                  chd = 2
                  knl = 2 }
              }
            }
            swanctl { socket = unix://{{Directory}}/charon.vici }
            """);
        File.WriteAllText(SwanctlPath, swanctlConf);
        _charon = Shell.Start("ip", ["netns", "exec", ns, "sh", "-c",
            $"mount --bind {Directory}/run /run && STRONGSWAN_CONF={ConfPath} exec /usr/lib/ipsec/charon"]);
        _charon.OutputDataReceived += (_, _) => { };
        _charon.ErrorDataReceived += (_, _) => { };
        _charon.BeginOutputReadLine();
        _charon.BeginErrorReadLine();
        try
        {
            if (!Shell.WaitFor(() => File.Exists(Path.Combine(Directory, "charon.vici")) || _charon.HasExited, TimeSpan.FromSeconds(15))
                || _charon.HasExited)
            {
                throw new InvalidOperationException($"charon did not start in {ns}: {Log}");
            }

            Swanctl($"--load-all --file {SwanctlPath}");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Namespace { get; }

    public string Directory { get; }

    public int Pid => _charon.Id;

    public string ConfPath => Path.Combine(Directory, "strongswan.conf");

    public string SwanctlPath => Path.Combine(Directory, "swanctl.conf");

    public string Log
    {
        get
        {
            var path = Path.Combine(Directory, "charon.log");
            return File.Exists(path) ? File.ReadAllText(path) : "(no log)";
        }
    }

    /// <summary>`swanctl ARGS` against this charon.</summary>
    public string Swanctl(string args, bool check = true) =>
        Shell.Run("ip", ["netns", "exec", Namespace, "sh", "-c", $"STRONGSWAN_CONF={ConfPath} swanctl {args}"], check, timeoutMs: 30_000);

    /// <summary>A site-to-site connection with a PSK, one child carrying <paramref name="localTs"/> to
    /// <paramref name="remoteTs"/>.</summary>
    public static string SiteToSite(string localAddress, string remoteAddress, string localId, string remoteId,
        string localTs, string remoteTs, string startAction) => $$"""
        connections {
          s2s {
            version = 2
            local_addrs = {{localAddress}}
            remote_addrs = {{remoteAddress}}
            proposals = aes128-sha256-modp2048
            local { auth = psk
              id = {{localId}} }
            remote { auth = psk
              id = {{remoteId}} }
            children {
              net {
                local_ts = {{localTs}}
                remote_ts = {{remoteTs}}
                esp_proposals = aes128-sha256-modp2048
                start_action = {{startAction}}
              }
            }
          }
        }
        secrets {
          ike-s2s {
            id-a = {{localId}}
            id-b = {{remoteId}}
            secret = "branchgate-coexistence-test"
          }
        }
        """;

    public void Dispose()
    {
        Shell.Kill(_charon, entireProcessTree: false);
        _charon.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
