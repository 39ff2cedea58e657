using Branchgate.Appliance.Model;

namespace Branchgate.Cli;

internal static partial class CheckCommand
{
    /// <summary>Reads a wg-quick file; null (with a message) when it cannot be used.</summary>
    private static (InterfaceConfig Interface, IReadOnlyList<SiteConfig> Sites)? ReadConfigFile(
        string path, string? interfaceName, TextWriter stderr)
    {
        _ = path;
        _ = interfaceName;
        stderr.WriteLine("branchgate check: --config needs the wg-quick parser, which this build does not have yet");
        return null;
    }
}
