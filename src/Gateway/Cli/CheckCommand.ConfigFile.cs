using Branchgate.Appliance.Config;
using Branchgate.Appliance.Model;

namespace Branchgate.Cli;

internal static partial class CheckCommand
{
    /// <summary>
    /// Reads a wg-quick file for the interface <paramref name="interfaceName"/> (default: the file's name without
    /// ".conf", as wg-quick does); null, with the reasons on stderr, when it cannot be used. The parser's warnings
    /// (what it normalized or ignored) go to stderr too; its messages never contain keys.
    /// </summary>
    private static (InterfaceConfig Interface, IReadOnlyList<SiteConfig> Sites)? ReadConfigFile(
        string path, string? interfaceName, TextWriter stderr)
    {
        string shown = CommandLine.Sanitize(path);
        string name = interfaceName ?? Path.GetFileNameWithoutExtension(path);
        if (!Uapi.UapiServer.IsValidInterfaceName(name))
        {
            stderr.WriteLine($"branchgate check: '{CommandLine.Sanitize(name)}' (from {shown}) is not an interface name; " +
                "name the interface with --interface");
            return null;
        }

        string text;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > WgQuickFile.MaxFileChars)
            {
                stderr.WriteLine($"branchgate check: {shown} is larger than {WgQuickFile.MaxFileChars} bytes; not read");
                return null;
            }

            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            stderr.WriteLine($"branchgate check: cannot read {shown}: {e.Message}");
            return null;
        }

        var result = WgQuickFile.Parse(text, name);
        foreach (var warning in result.Warnings)
        {
            stderr.WriteLine($"branchgate check: {shown}: note: {warning}");
        }

        if (!result.Succeeded)
        {
            foreach (var error in result.Errors.DefaultIfEmpty("no [Interface] section with a PrivateKey"))
            {
                stderr.WriteLine($"branchgate check: {shown}: {error}");
            }

            return null;
        }

        return (result.Interface!, result.Sites);
    }
}
