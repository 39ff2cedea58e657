using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Branchgate.WebUi.Tests.EndToEnd;

/// <summary>
/// What every browser walk of the panel shares: a gateway, peer and panel started for the walk (their logs written on
/// failure), Debian's Chromium with the flags a root CI box needs, screenshots into the artifacts folder, and the axe
/// scan that fails on serious or critical violations.
/// </summary>
internal static class PanelBrowser
{
    /// <summary>$BRANCHGATE_TEST_ARTIFACTS, or artifacts/ beside the tests.</summary>
    public static readonly string Artifacts = Environment.GetEnvironmentVariable("BRANCHGATE_TEST_ARTIFACTS") is { Length: > 0 } dir
        ? dir : Path.Combine(AppContext.BaseDirectory, "artifacts");

    /// <summary>Starts the appliance, runs <paramref name="walk"/> against it; on failure prints serve's and the panel's logs.</summary>
    public static async Task WalkAsync(ITestOutputHelper output, Func<ApplianceUnderTest, Task> walk)
    {
        Directory.CreateDirectory(Artifacts);
        using var appliance = await ApplianceUnderTest.StartAsync();
        try
        {
            await walk(appliance);
        }
        catch
        {
            output.WriteLine("--- serve ---\n" + appliance.ServeLog + "\n--- panel ---\n" + appliance.PanelLog);
            throw;
        }
    }

    /// <summary>Debian's Chromium (/usr/bin/chromium), headless, as root without a sandbox, no background traffic.</summary>
    public static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });

    public static async Task Shot(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, $"{name}.png"), FullPage = true });

    /// <summary>Logs every axe violation of the page and fails on a serious or critical one.</summary>
    public static async Task AssertAccessibleAsync(IPage page, string name, ITestOutputHelper output)
    {
        var result = await page.RunAxe();
        foreach (var violation in result.Violations)
        {
            output.WriteLine($"axe {name}: {violation.Impact} {violation.Id}: {violation.Help} ({violation.Nodes.Length} nodes)");
        }

        var serious = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, $"axe on {name}: " + string.Join("; ", serious.Select(v =>
            $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Take(3).Select(n => string.Join(" ", n.Target)))}")));
    }
}
