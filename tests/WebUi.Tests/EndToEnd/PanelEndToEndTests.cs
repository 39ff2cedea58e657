using System.Net;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Branchgate.WebUi.Tests.EndToEnd;

/// <summary>
/// The panel in Debian's Chromium against a real `branchgate serve`: first-run setup, sign-in and sign-out, refused
/// sessions, a site added, listed on the dashboard and edited, saves the gateway refuses (an overlap with another site:
/// 400; with the appliance's LAN: 409 with the coexistence finding), a remote worker's QR code, and the audit log of it
/// all. Screenshots of each main page go to $BRANCHGATE_TEST_ARTIFACTS (default: artifacts/ beside the tests).
/// </summary>
[Collection(PanelCollection.Name)]
public sealed class PanelEndToEndTests(ITestOutputHelper output)
{
    private const string Password = "correct horse battery staple";
    private const string OtherKey = "Zx8BmxgB0cI+OiTL2mW5A5N1Sg6X7q6Zf8vTqZ9r0Fo=";

    [Fact]
    public Task An_administrator_sets_up_signs_in_manages_sites_and_workers_and_sees_the_audit_log() =>
        PanelBrowser.WalkAsync(output, WalkAsync);

    private async Task WalkAsync(ApplianceUnderTest appliance)
    {
        // Without a session the panel answers no page: it sends the browser to sign in.
        using (var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }))
        {
            foreach (var path in new[] { "", "sites", "sites/wg0/new", "audit", "coexistence", "users" })
            {
                using var answer = await http.GetAsync(new Uri(appliance.BaseUrl, path));
                Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
                Assert.StartsWith($"{appliance.BaseUrl}login", answer.Headers.Location?.ToString(), StringComparison.Ordinal);
            }

            using var login = await http.GetAsync(new Uri(appliance.BaseUrl, "login"));
            Assert.Contains("frame-ancestors 'none'", string.Join(";", login.Headers.GetValues("Content-Security-Policy")),
                StringComparison.Ordinal);
            Assert.Equal("nosniff", Assert.Single(login.Headers.GetValues("X-Content-Type-Options")));

            // A form posted without the antiforgery token (a cross-site request) is refused.
            foreach (var path in new[] { "login", "logout" })
            {
                using var form = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["_handler"] = "login",
                    ["Input.Name"] = "admin",
                    ["Input.Password"] = "whatever it is",
                });
                using var forged = await http.PostAsync(new Uri(appliance.BaseUrl, path), form);
                Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
            }
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await PanelBrowser.LaunchChromiumAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = appliance.BaseUrl.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };

        // First run: no administrator, so sign-in leads to setup. The gateway's password rule comes back word for word.
        await page.GotoAsync("/sites");
        await page.WaitForURLAsync("**/setup");
        await PanelBrowser.Shot(page, "setup");
        await page.FillAsync("#token", appliance.SetupToken);
        await page.FillAsync("#name", "admin");
        await page.FillAsync("#password", "short");
        await page.FillAsync("#confirm", "short");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("[data-testid=setup-message]")).ToContainTextAsync("12 characters");
        await page.FillAsync("#password", Password);
        await page.FillAsync("#confirm", Password);
        await page.ClickAsync("button[type=submit]");
        await WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=signed-in-user]")).ToHaveTextAsync("admin");

        // Sign out; a wrong password is refused; the right one signs in.
        await page.ClickAsync("[data-testid=sign-out]");
        await page.WaitForURLAsync("**/login?signedOut=1");
        await page.FillAsync("#name", "admin");
        await page.FillAsync("#password", "not the password at all");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("[data-testid=login-message]")).ToHaveTextAsync("Wrong name or password.");
        await PanelBrowser.Shot(page, "login-refused");
        await PanelBrowser.AssertAccessibleAsync(page, "login", output);
        await page.FillAsync("#name", "admin");
        await page.FillAsync("#password", Password);
        await page.ClickAsync("button[type=submit]");
        await WaitInteractiveAsync(page);

        // A site: added, listed, on the dashboard, edited.
        await page.GotoAsync("/sites");
        await WaitInteractiveAsync(page);
        await page.ClickAsync("[data-testid=add-site]");
        await FillSiteAsync(page, "branch-b", appliance.PeerPublicKey, "10.2.0.0/24", ApplianceUnderTest.PeerEndpoint);
        await page.ClickAsync("[data-testid=save-site]");
        var row = page.Locator("[data-testid=site-row][data-site=branch-b]");
        await Expect(row).ToContainTextAsync("10.2.0.0/24");
        await PanelBrowser.Shot(page, "sites");
        await PanelBrowser.AssertAccessibleAsync(page, "sites", output);

        // The real peer sends traffic through the tunnel; the dashboard shows the site come online by itself.
        Assert.True(appliance.PingGatewayFromPeer(), "no ping through the tunnel from the peer to 10.9.0.1");
        await page.ClickAsync("nav >> text=Dashboard");
        var peer = page.Locator("[data-testid=peer-row][data-peer=branch-b]");
        await Expect(peer.Locator("[data-testid=peer-state]")).ToHaveTextAsync("online", new() { Timeout = 20_000 });
        await Expect(peer.Locator("[data-testid=peer-handshake]")).ToContainTextAsync("s ago");
        await Expect(peer).ToContainTextAsync("192.168.77.2:51821");
        // The dashboard fetches the status again by itself, without a reload.
        var refreshed = await page.Locator("[data-testid=refreshed]").TextContentAsync();
        await Expect(page.Locator("[data-testid=refreshed]")).Not.ToHaveTextAsync(refreshed ?? "", new() { Timeout = 10_000 });
        // ... and draws the peer's throughput from successive counters.
        await Expect(peer.Locator("[data-testid=peer-throughput] svg")).ToBeVisibleAsync(new() { Timeout = 15_000 });
        await PanelBrowser.Shot(page, "dashboard");
        await PanelBrowser.AssertAccessibleAsync(page, "dashboard", output);

        await page.GotoAsync("/sites/wg0");
        await WaitInteractiveAsync(page);
        await row.Locator("[data-testid=edit-site]").ClickAsync();
        await page.FillAsync("#site-description", "Lyon office");
        await page.FillAsync("#site-keepalive", "25");
        await page.ClickAsync("[data-testid=save-site]");
        await Expect(row).ToContainTextAsync("Lyon office");
        await row.Locator("[data-testid=toggle-site]").ClickAsync();
        await Expect(row).ToContainTextAsync("disabled");
        await row.Locator("[data-testid=toggle-site]").ClickAsync();
        await Expect(row).ToContainTextAsync("enabled");

        // Refused saves: an overlap with branch-b (the validator: 400), then a range an IPsec policy captures (the
        // coexistence check: 409, with the finding, its kernel object and the Force choice). Nothing is added.
        await page.ClickAsync("[data-testid=add-site]");
        await FillSiteAsync(page, "branch-c", OtherKey, "10.2.0.128/25", "");
        await page.ClickAsync("[data-testid=save-site]");
        await Expect(page.Locator("[data-testid=form-error]")).ToContainTextAsync("overlap");
        await page.FillAsync("#site-allowed-ips", "10.3.0.0/24");
        await page.ClickAsync("[data-testid=save-site]");
        var finding = page.Locator("[data-testid=finding-error]").Filter(new() { HasText = "ipsec-policy-overlap" });
        await Expect(finding).ToContainTextAsync("10.3.0.0/24");
        await Expect(finding).ToContainTextAsync("xfrm policy");
        await Expect(page.Locator("[data-testid=force]")).ToBeVisibleAsync();
        await PanelBrowser.Shot(page, "site-blocked");

        // A remote worker: the gateway makes its keys; its file is shown once, with a QR code.
        await page.GotoAsync("/sites/wg0");
        await WaitInteractiveAsync(page);
        await page.ClickAsync("[data-testid=add-worker]");
        await page.FillAsync("#worker-name", "laptop-anna");
        await page.FillAsync("#worker-addresses", "10.9.0.5/32");
        await page.FillAsync("#worker-endpoint", "vpn.example.com:51820");
        await page.ClickAsync("[data-testid=create-worker]");
        var qr = page.Locator("[data-testid=worker-qr]");
        await Expect(qr).ToBeVisibleAsync();
        Assert.True(await qr.EvaluateAsync<int>("img => img.naturalWidth") > 100, "the QR code image did not load");
        var file = await page.Locator("[data-testid=worker-wgquick]").TextContentAsync() ?? "";
        Assert.Contains("[Interface]", file, StringComparison.Ordinal);
        Assert.Contains("PrivateKey = ", file, StringComparison.Ordinal);
        Assert.Contains("Endpoint = vpn.example.com:51820", file, StringComparison.Ordinal);
        await PanelBrowser.Shot(page, "remote-worker");

        // Deleting it asks first, then removes the row.
        await page.GotoAsync("/sites/wg0");
        await WaitInteractiveAsync(page);
        var worker = page.Locator("[data-testid=site-row][data-site=laptop-anna]");
        await worker.Locator("[data-testid=delete-site]").ClickAsync();
        await worker.Locator("[data-testid=confirm-delete]").ClickAsync();
        await Expect(worker).ToHaveCountAsync(0);

        // A second administrator, through the users page.
        await page.ClickAsync("nav >> text=Users");
        await page.FillAsync("#new-user-name", "bob");
        await page.FillAsync("#new-user-password", "another long passphrase");
        await page.ClickAsync("[data-testid=add-user]");
        await Expect(page.Locator("[data-testid=user-row][data-user=bob]")).ToBeVisibleAsync();
        await PanelBrowser.Shot(page, "users");
        await PanelBrowser.AssertAccessibleAsync(page, "users", output);

        // Bob signs in elsewhere; once admin removes him, his session cookie opens no page any more.
        await using (var bobContext = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = appliance.BaseUrl.ToString() }))
        {
            var bob = await bobContext.NewPageAsync();
            await bob.GotoAsync("/login");
            await bob.FillAsync("#name", "bob");
            await bob.FillAsync("#password", "another long passphrase");
            await bob.ClickAsync("button[type=submit]");
            await WaitInteractiveAsync(bob);
            await Expect(bob.Locator("[data-testid=signed-in-user]")).ToHaveTextAsync("bob");

            var bobRow = page.Locator("[data-testid=user-row][data-user=bob]");
            await bobRow.Locator("[data-testid=remove-user]").ClickAsync();
            await bobRow.Locator("[data-testid=confirm-remove-user]").ClickAsync();
            await Expect(bobRow).ToHaveCountAsync(0);

            await bob.GotoAsync("/sites");
            await bob.WaitForURLAsync("**/login?returnUrl=*");
        }

        // The audit log names the administrator for each change, and the refused one.
        await page.ClickAsync("nav >> text=Audit log");
        ILocator Audit(string action, string target) =>
            page.Locator($"[data-testid=audit-row][data-action='{action}'][data-target='{target}']");
        await Expect(Audit("site.create", "wg0/branch-b")).ToContainTextAsync("admin");
        await Expect(Audit("site.update", "wg0/branch-b")).ToHaveCountAsync(3); // edit, disable, enable
        await Expect(Audit("site.create", "wg0/laptop-anna")).ToContainTextAsync("admin");
        await Expect(Audit("site.delete", "wg0/laptop-anna")).ToContainTextAsync("admin");
        // The refused saves are audited as well.
        await Expect(Audit("site.create", "wg0/branch-c").First).ToContainTextAsync("refused");
        await PanelBrowser.Shot(page, "audit");
        await PanelBrowser.AssertAccessibleAsync(page, "audit", output);

        await page.ClickAsync("nav >> text=Coexistence");
        await Expect(page.Locator("h1")).ToHaveTextAsync("IPsec coexistence and route conflicts");
        await PanelBrowser.Shot(page, "coexistence");

        // A second interface, made in the panel; the gateway brings it up and the dashboard lists it.
        await page.GotoAsync("/sites");
        await WaitInteractiveAsync(page);
        await page.ClickAsync("[data-testid=add-interface]");
        await page.FillAsync("#iface-name", "wg1");
        await page.FillAsync("#iface-port", "51830");
        await page.FillAsync("#iface-addresses", "10.10.0.1/24");
        await page.ClickAsync("[data-testid=create-interface]");
        await page.WaitForURLAsync("**/sites/wg1");
        await page.ClickAsync("nav >> text=Dashboard");
        await Expect(page.Locator("h2", new() { HasText = "wg1" })).ToBeVisibleAsync();

        // A phone-sized screen: the drawer folds away, tables scroll; still no serious accessibility finding.
        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync("/");
        await WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=peer-row][data-peer=branch-b]")).ToBeAttachedAsync();
        await PanelBrowser.Shot(page, "dashboard-phone");
        await PanelBrowser.AssertAccessibleAsync(page, "dashboard-phone", output);

        // Sign-out ends the session: the dashboard is no longer served.
        await page.ClickAsync("[data-testid=sign-out]");
        await page.WaitForURLAsync("**/login?signedOut=1");
        await page.GotoAsync("/");
        await page.WaitForURLAsync("**/login?returnUrl=*");

        Assert.True(consoleErrors.Count == 0, "browser console errors: " + string.Join(" | ", consoleErrors));
    }

    private static async Task FillSiteAsync(IPage page, string name, string key, string allowedIps, string endpoint)
    {
        await WaitInteractiveAsync(page);
        await page.FillAsync("#site-name", name);
        await page.FillAsync("#site-public-key", key);
        await page.FillAsync("#site-allowed-ips", allowedIps);
        await page.FillAsync("#site-endpoint", endpoint);
    }

    /// <summary>The circuit is up (MainLayout renders the marker only when interactive): clicks reach components.</summary>
    private static Task WaitInteractiveAsync(IPage page) =>
        page.Locator("[data-testid=interactive]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

}
