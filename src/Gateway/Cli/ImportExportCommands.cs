using System.Text.Json;
using Branchgate.Appliance.Api;
using Branchgate.Appliance.Config;
using Branchgate.Appliance.Model;
using Branchgate.Appliance.Store;

namespace Branchgate.Cli;

/// <summary>
/// `branchgate import FILE.conf` and `branchgate export IFACE`: wg-quick files in and out of the appliance. While
/// `branchgate serve` runs they go through its management API (so the change is validated, checked, applied and
/// audited by the service); when it does not, they read or write the store file directly.
/// </summary>
internal static class ImportExportCommands
{
    public const string ImportUsage =
        "Usage: branchgate import FILE.conf [--name IFACE] [--force] [--db PATH] [--api-socket PATH]";

    public const string ExportUsage = "Usage: branchgate export IFACE [--db PATH] [--api-socket PATH]";

    private sealed class Options
    {
        public string? Positional { get; set; }

        public string? Name { get; set; }

        public bool Force { get; set; }

        public string Db { get; set; } = ApplianceStore.DefaultPath;

        public string ApiSocket { get; set; } = ManagementApiOptions.DefaultSocketPath;
    }

    public static int Import(ReadOnlySpan<string> args, TextWriter stdout, TextWriter stderr)
    {
        if (Parse(args, allowImportFlags: true, stderr, ImportUsage) is not { Positional: { } file } options)
        {
            return 1;
        }

        var name = options.Name ?? Path.GetFileNameWithoutExtension(file);
        if (ConfigValidator.InterfaceNameError(name) is { } nameError)
        {
            stderr.WriteLine($"branchgate import: {nameError} (name the interface with --name)");
            return 1;
        }

        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"branchgate import: cannot read {CommandLine.Sanitize(file)}: {e.Message}");
            return 1;
        }

        using (var api = ApiClient.TryConnect(options.ApiSocket))
        {
            if (api is not null)
            {
                var path = $"v1/interfaces/{Uri.EscapeDataString(name)}/import" + (options.Force ? "?force=true" : "");
                var (status, body) = api.SendAsync(HttpMethod.Post, path, text).GetAwaiter().GetResult();
                if (status != 200)
                {
                    stderr.WriteLine($"branchgate import: {ApiClient.DescribeError(status, body)}");
                    return 1;
                }

                var response = JsonSerializer.Deserialize(body, ApiJsonContext.Default.ChangeResponse);
                foreach (var warning in response?.Warnings ?? [])
                {
                    stderr.WriteLine($"warning: {warning}");
                }

                foreach (var finding in response?.Findings ?? [])
                {
                    stderr.WriteLine($"{finding.Severity}: {finding.Message}");
                }

                stdout.WriteLine($"imported {name} with {response?.Interface?.SiteCount ?? 0} peer(s) into the running gateway" +
                    (response?.Forced == true ? " (coexistence errors overridden with --force)" : ""));
                return 0;
            }
        }

        return ImportIntoStore(name, text, options, stdout, stderr);
    }

    private static int ImportIntoStore(string name, string text, Options options, TextWriter stdout, TextWriter stderr)
    {
        var parsed = WgQuickFile.Parse(text, name);
        foreach (var warning in parsed.Warnings)
        {
            stderr.WriteLine($"warning: {warning}");
        }

        if (!parsed.Succeeded || parsed.Interface is null)
        {
            stderr.WriteLine("branchgate import: the file is not valid; nothing was changed");
            foreach (var error in parsed.Errors)
            {
                stderr.WriteLine($"  {error}");
            }

            return 1;
        }

        try
        {
            using var store = ApplianceStore.Open(options.Db);
            var before = store.LoadConfig();
            var after = ManagementApi.Replace(before, parsed.Interface, parsed.Sites);
            var errors = ConfigValidator.Validate(after);
            if (errors.Count > 0)
            {
                stderr.WriteLine("branchgate import: the configuration would not be valid; nothing was changed");
                foreach (var error in errors)
                {
                    stderr.WriteLine($"  {error}");
                }

                return 1;
            }

            store.Commit(after, new AuditEntry
            {
                Time = DateTimeOffset.UtcNow,
                Actor = "cli",
                Action = "interface.import",
                Target = name,
                Detail = $"{parsed.Sites.Count} peer(s) from a wg-quick file",
            });
            stdout.WriteLine($"imported {name} with {parsed.Sites.Count} peer(s) into {options.Db}; " +
                "`branchgate serve` applies it when it starts");
            return 0;
        }
        catch (StoreException e)
        {
            stderr.WriteLine($"branchgate import: {e.Message}");
            return 1;
        }
    }

    public static int Export(ReadOnlySpan<string> args, TextWriter stdout, TextWriter stderr)
    {
        if (Parse(args, allowImportFlags: false, stderr, ExportUsage) is not { Positional: { } name } options)
        {
            return 1;
        }

        using (var api = ApiClient.TryConnect(options.ApiSocket))
        {
            if (api is not null)
            {
                var (status, body) = api.SendAsync(HttpMethod.Get, $"v1/interfaces/{Uri.EscapeDataString(name)}/export")
                    .GetAwaiter().GetResult();
                if (status != 200)
                {
                    stderr.WriteLine($"branchgate export: {ApiClient.DescribeError(status, body)}");
                    return 1;
                }

                stdout.Write(body);
                return 0;
            }
        }

        try
        {
            using var store = ApplianceStore.Open(options.Db);
            var config = store.LoadConfig();
            if (config.FindInterface(name) is not { } found)
            {
                stderr.WriteLine($"branchgate export: no interface {CommandLine.Sanitize(name)} in {options.Db}");
                return 1;
            }

            stdout.Write(WgQuickFile.Write(found, config.SitesOf(name)));
            return 0;
        }
        catch (StoreException e)
        {
            stderr.WriteLine($"branchgate export: {e.Message}");
            return 1;
        }
    }

    private static Options? Parse(ReadOnlySpan<string> args, bool allowImportFlags, TextWriter stderr, string usage)
    {
        var options = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "--db" when i + 1 < args.Length:
                    options.Db = args[++i];
                    break;
                case "--api-socket" when i + 1 < args.Length:
                    options.ApiSocket = args[++i];
                    break;
                case "--name" when allowImportFlags && i + 1 < args.Length:
                    options.Name = args[++i];
                    break;
                case "--force" when allowImportFlags:
                    options.Force = true;
                    break;
                default:
                    if (options.Positional is null && !arg.StartsWith('-'))
                    {
                        options.Positional = arg;
                        break;
                    }

                    stderr.WriteLine($"branchgate: unexpected argument '{CommandLine.Sanitize(arg)}'");
                    stderr.WriteLine(usage);
                    return null;
            }
        }

        if (options.Positional is null)
        {
            stderr.WriteLine(usage);
            return null;
        }

        return options;
    }
}
