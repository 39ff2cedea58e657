using System.Net;
using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Model;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Cli;

/// <summary>
/// `branchgate check`: the IPsec-coexistence and route-conflict report for the running WireGuard interfaces (read
/// through their UAPI sockets) or for a wg-quick file before it is applied, and the migration plan for one subnet.
/// Exit status: 0 clean, 1 warnings or something unreadable, 2 errors — and 2 with a message for bad arguments.
/// </summary>
internal static partial class CheckCommand
{
    public const string Usage =
        "Usage: branchgate check [--json] [--interface NAME] [--config FILE.conf] [--migrate CIDR --peer NAME]";

    private const int UsageError = 2;

    private sealed class Options
    {
        public bool Json { get; set; }

        public string? Interface { get; set; }

        public string? ConfigFile { get; set; }

        public IPPrefix? Migrate { get; set; }

        public string? Peer { get; set; }
    }

    public static int Run(ReadOnlySpan<string> args, TextWriter stdout, TextWriter stderr) =>
        Run(args, stdout, stderr, LiveConfiguration.SocketDirectory);

    internal static int Run(ReadOnlySpan<string> args, TextWriter stdout, TextWriter stderr, string socketDirectory)
    {
        if (!TryParse(args, stderr, out var options))
        {
            return UsageError;
        }

        (InterfaceConfig Interface, IReadOnlyList<SiteConfig> Sites)? fromFile = null;
        if (options.ConfigFile is { } file)
        {
            fromFile = ReadConfigFile(file, options.Interface, stderr);
            if (fromFile is null)
            {
                return UsageError;
            }

            options.Interface ??= fromFile.Value.Interface.Name;
        }

        var kernel = KernelView.Capture();
        var unreadable = new List<string>(kernel.Unreadable);
        var intended = LiveConfiguration.Read(kernel, unreadable, socketDirectory);
        if (fromFile is { } parsed)
        {
            intended = parsed.Sites.Aggregate(
                intended.WithoutInterface(parsed.Interface.Name).WithInterface(parsed.Interface),
                (config, site) => config.WithSite(site));
        }

        var resolved = ResolveEndpoints(intended, unreadable);
        var view = CoexistenceChecker.WithoutOwnRoutes(kernel with { Unreadable = unreadable }, intended);
        var report = CoexistenceChecker.Check(view, intended, resolved);
        if (options.Interface is { } only)
        {
            report = report with { Findings = [.. report.Findings.Where(f => Concerns(f, only))] };
        }

        MigrationPlan? plan = null;
        if (options.Migrate is { } subnet)
        {
            plan = MigrationPlanner.Plan(view, intended, options.Interface, options.Peer!, subnet, out string? error);
            if (plan is null)
            {
                stderr.WriteLine($"branchgate check: {error}");
                return UsageError;
            }
        }

        if (options.Json)
        {
            stdout.WriteLine(CoexistenceJson.Serialize(report, plan));
        }
        else
        {
            WriteText(stdout, report, intended, plan);
        }

        return plan is null ? report.ExitStatus : plan.Steps[^1].CheckAfter.ExitStatus;
    }

    private static bool TryParse(ReadOnlySpan<string> args, TextWriter stderr, out Options options)
    {
        options = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg == "--json")
            {
                options.Json = true;
                continue;
            }

            if (arg is not ("--interface" or "--config" or "--migrate" or "--peer"))
            {
                return Fail(stderr, $"unknown argument '{CommandLine.Sanitize(arg)}'");
            }

            if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                return Fail(stderr, $"{arg} needs a value");
            }

            string value = args[++i];
            switch (arg)
            {
                case "--interface":
                    if (!Uapi.UapiServer.IsValidInterfaceName(value))
                    {
                        return Fail(stderr, $"'{CommandLine.Sanitize(value)}' is not an interface name");
                    }

                    options.Interface = value;
                    break;
                case "--config":
                    options.ConfigFile = value;
                    break;
                case "--migrate":
                    if (!IPPrefix.TryParse(value, out var subnet, out string? error))
                    {
                        return Fail(stderr, $"--migrate: {CommandLine.Sanitize(error)}");
                    }

                    options.Migrate = subnet;
                    break;
                default:
                    options.Peer = value;
                    break;
            }
        }

        if ((options.Migrate is null) != (options.Peer is null))
        {
            return Fail(stderr, "--migrate CIDR and --peer NAME go together");
        }

        return true;
    }

    private static bool Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine($"branchgate check: {message}");
        stderr.WriteLine(Usage);
        return false;
    }

    /// <summary>Whether a finding is about the interface (its own, or an object line of it).</summary>
    private static bool Concerns(Finding finding, string iface) =>
        finding.Interface == iface || finding.Objects.Any(o => o.StartsWith(iface + " ", StringComparison.Ordinal));

    /// <summary>Resolves endpoint host names (2 s each at most); a name that does not resolve is noted as unreadable,
    /// since its endpoint could not be checked.</summary>
    private static Dictionary<string, IPAddress> ResolveEndpoints(ApplianceConfig config, List<string> unreadable)
    {
        var resolved = new Dictionary<string, IPAddress>(StringComparer.OrdinalIgnoreCase);
        foreach (var site in config.Sites.Where(s => s.Enabled && s.Endpoint is not null))
        {
            if (CoexistenceChecker.EndpointAddress(site.Endpoint, null) is not null)
            {
                continue;
            }

            int colon = site.Endpoint!.LastIndexOf(':');
            string host = colon > 0 ? site.Endpoint[..colon] : site.Endpoint;
            if (resolved.ContainsKey(host))
            {
                continue;
            }

            try
            {
                var lookup = Dns.GetHostAddressesAsync(host);
                if (lookup.Wait(TimeSpan.FromSeconds(2)) && lookup.Result.Length > 0)
                {
                    resolved[host] = lookup.Result[0];
                    continue;
                }
            }
            catch (AggregateException)
            {
            }
            catch (ArgumentException)
            {
            }

            unreadable.Add($"endpoint {CommandLine.Sanitize(site.Endpoint)} of peer {site.Name}: the name did not resolve, " +
                "so it was not checked against IPsec selectors");
        }

        return resolved;
    }
}
