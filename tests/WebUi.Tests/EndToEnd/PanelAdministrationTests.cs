using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Branchgate.Appliance.Api;
using Branchgate.WebUi.Api;
using Microsoft.Playwright;
using OtpNet;
using Xunit.Abstractions;

namespace Branchgate.WebUi.Tests.EndToEnd;

/// <summary>
/// The panel's administration against a real `branchgate serve`, in Debian's Chromium and with plain HTTP requests:
/// lockout through the sign-in page, antiforgery on every form endpoint, no key of the test in any page, an
/// encrypted backup downloaded, a change undone by restoring it, an interface edited and deleted, a TOTP second factor
/// enrolled and then required to sign in, and every main page on a phone-sized screen.
/// </summary>
[Collection(PanelCollection.Name)]
public sealed partial class PanelAdministrationTests(ITestOutputHelper output)
{
    private const string Password = "correct horse battery staple";
    private const string BackupPassphrase = "a long backup passphrase";

    /// <summary>Every main page of the panel (wg0 and its site branch-b exist).</summary>
    private static readonly string[] MainPages =
        ["/", "/sites/wg0", "/sites/wg0/new", "/sites/wg0/branch-b/edit", "/sites/wg0/worker", "/interfaces/new",
         "/interfaces/wg0/edit", "/coexistence", "/audit", "/users", "/backup", "/profile"];

    [Fact]
    public Task Lockout_antiforgery_secrets_backup_restore_interfaces_totp_and_the_phone_layout() =>
        PanelBrowser.WalkAsync(output, WalkAsync);

    private async Task WalkAsync(ApplianceUnderTest appliance)
    {
        // The first administrator and a second user (carol, to be locked out) straight through the API.
        using (var api = appliance.ApiClient())
        {
            using var setup = await api.PostAsync("v1/setup", JsonContent.Create(
                new SetupRequest { Token = appliance.SetupToken, Name = "admin", Password = Password },
                ApiClientJsonContext.Default.SetupRequest));
            Assert.Equal(HttpStatusCode.Created, setup.StatusCode);
            using var carol = await api.PostAsync("v1/users", JsonContent.Create(
                new CreateUserRequest { Name = "carol", Password = "carol's long password 1" },
                ApiClientJsonContext.Default.CreateUserRequest));
            Assert.Equal(HttpStatusCode.Created, carol.StatusCode);
        }

        // The secrets this test knows: the gateway's private key (root reads the export), the real peer's private key
        // and a preshared key the test types in. No page may ever show one.
        var secrets = new List<string> { File.ReadAllText(Path.Combine(appliance.Directory, "peer.key")).Trim() };
        using (var api = appliance.ApiClient())
        {
            var export = await api.GetStringAsync("v1/interfaces/wg0/export");
            secrets.Add(PrivateKeyLine().Match(export).Groups[1].Value);
        }

        var presharedKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        secrets.Add(presharedKey);
        Assert.All(secrets, s => Assert.Equal(44, s.Length));

        await AntiforgeryAsync(appliance);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await PanelBrowser.LaunchChromiumAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = appliance.BaseUrl.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };

        // Lockout through the panel: five wrong passwords lock carol; then even her right password is refused.
        for (var i = 0; i < 5; i++)
        {
            await SignInAsync(page, "carol", "not carol's password " + i);
        }

        await Expect(page.Locator("[data-testid=login-message]")).ToContainTextAsync("locked until");
        await SignInAsync(page, "carol", "carol's long password 1");
        await Expect(page.Locator("[data-testid=login-message]")).ToContainTextAsync("locked until");
        Assert.Equal("/login", new Uri(page.Url).AbsolutePath);
        await PanelBrowser.Shot(page, "login-locked");

        await SignInAsync(page, "admin", Password);
        await WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=signed-in-user]")).ToHaveTextAsync("admin");

        // A site with a preshared key, through the panel.
        await page.GotoAsync("/sites/wg0/new");
        await WaitInteractiveAsync(page);
        await page.FillAsync("#site-name", "branch-b");
        await page.FillAsync("#site-public-key", appliance.PeerPublicKey);
        await page.FillAsync("#site-allowed-ips", "10.2.0.0/24");
        await page.FillAsync("#site-endpoint", ApplianceUnderTest.PeerEndpoint);
        await page.FillAsync("#site-psk", presharedKey);
        await page.ClickAsync("[data-testid=save-site]");
        await Expect(page.Locator("[data-testid=site-row][data-site=branch-b]")).ToContainTextAsync("10.2.0.0/24");

        // Item: no page's HTML holds a key, neither as the browser has it nor as the server sends it.
        foreach (var path in MainPages)
        {
            await page.GotoAsync(path);
            await WaitInteractiveAsync(page);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            var html = await page.ContentAsync();
            foreach (var key in secrets)
            {
                Assert.False(html.Contains(key, StringComparison.Ordinal), $"{path} shows a secret of the test");
            }
        }

        // Interfaces: an edit refused inline, an edit saved, an interface deleted after confirming.
        await page.GotoAsync("/sites/wg0");
        await WaitInteractiveAsync(page);
        await page.ClickAsync("[data-testid=edit-interface]");
        await page.WaitForURLAsync("**/interfaces/wg0/edit");
        await WaitInteractiveAsync(page);
        await Expect(page.Locator("#iface-addresses")).ToHaveValueAsync("10.9.0.1/24");
        await page.FillAsync("#iface-addresses", "10.9.0.1/33");
        await page.ClickAsync("[data-testid=save-interface]");
        // The API's "addresses[0]: ..." appears under the field as "entry 1: ...".
        await Expect(page.Locator("[data-testid=form-error]")).ToBeVisibleAsync();
        await Expect(page.GetByText("entry 1:")).ToBeVisibleAsync();
        await PanelBrowser.Shot(page, "interface-refused");
        await page.FillAsync("#iface-addresses", "10.9.0.1/24");
        await page.FillAsync("#iface-port", "51825");
        await page.ClickAsync("[data-testid=save-interface]");
        await page.WaitForURLAsync("**/sites/wg0");
        using (var api = appliance.ApiClient())
        {
            var wg0 = await api.GetFromJsonAsync("v1/interfaces/wg0", ApiClientJsonContext.Default.InterfaceDto);
            Assert.Equal(51825, wg0!.ListenPort);
            using var created = await api.PostAsync("v1/interfaces", JsonContent.Create(
                new InterfaceRequest { Name = "wg2", ListenPort = 51840, Addresses = ["10.12.0.1/24"] },
                ApiClientJsonContext.Default.InterfaceRequest));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await page.GotoAsync("/interfaces/wg2/edit");
        await WaitInteractiveAsync(page);
        await page.ClickAsync("[data-testid=delete-interface]");
        await page.ClickAsync("[data-testid=confirm-delete-interface]");
        await page.WaitForURLAsync("**/sites");
        using (var api = appliance.ApiClient())
        {
            using var gone = await api.GetAsync("v1/interfaces/wg2");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        // Backup: the passphrase twice (a mismatch keeps the button off), then the gateway's encrypted file downloads.
        await page.GotoAsync("/backup");
        await WaitInteractiveAsync(page);
        await page.FillAsync("#backup-passphrase", BackupPassphrase);
        await page.FillAsync("#backup-confirm", BackupPassphrase + "x");
        await Expect(page.Locator("[data-testid=download-backup]")).ToBeDisabledAsync();
        await Expect(page.Locator("[data-testid=backup-hint]")).ToContainTextAsync("differ");
        await page.FillAsync("#backup-confirm", BackupPassphrase);
        await Expect(page.Locator("[data-testid=download-backup]")).ToBeEnabledAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("[data-testid=download-backup]"));
        var backupPath = Path.Combine(PanelBrowser.Artifacts, "backup.bgbackup");
        await download.SaveAsAsync(backupPath);
        var backup = await File.ReadAllBytesAsync(backupPath);
        Assert.Equal("BGBACKUP", Encoding.ASCII.GetString(backup, 0, 8));
        var backupText = Encoding.Latin1.GetString(backup);
        Assert.All(secrets, s => Assert.DoesNotContain(s, backupText, StringComparison.Ordinal));
        Assert.All(secrets, s => Assert.Equal(-1, backup.AsSpan().IndexOf(Convert.FromBase64String(s))));
        await PanelBrowser.Shot(page, "backup");
        await PanelBrowser.AssertAccessibleAsync(page, "backup", output);

        // A change after the backup: branch-b is deleted.
        await page.GotoAsync("/sites/wg0");
        await WaitInteractiveAsync(page);
        var row = page.Locator("[data-testid=site-row][data-site=branch-b]");
        await row.Locator("[data-testid=delete-site]").ClickAsync();
        await row.Locator("[data-testid=confirm-delete]").ClickAsync();
        await Expect(row).ToHaveCountAsync(0);

        // Restore: a wrong passphrase changes nothing; the right one brings branch-b back and says so.
        await page.GotoAsync("/backup");
        await WaitInteractiveAsync(page);
        await page.SetInputFilesAsync("#restore-file", backupPath);
        await Expect(page.Locator("[data-testid=restore-file-size]")).ToContainTextAsync($"{backup.Length} bytes");
        await page.FillAsync("#restore-passphrase", "not the passphrase at all");
        await page.Locator("[data-testid=restore-confirm] input").CheckAsync();
        await page.ClickAsync("[data-testid=restore-backup]");
        await Expect(page.Locator("[data-testid=restore-error]")).ToContainTextAsync("wrong passphrase");
        await page.FillAsync("#restore-passphrase", BackupPassphrase);
        await page.ClickAsync("[data-testid=restore-backup]");
        await Expect(page.Locator("[data-testid=restore-changes]")).ToContainTextAsync("site wg0/branch-b added");
        await PanelBrowser.Shot(page, "restored");
        await page.GotoAsync("/sites/wg0");
        await WaitInteractiveAsync(page);
        await Expect(row).ToContainTextAsync("10.2.0.0/24");
        await Expect(row).ToContainTextAsync("yes");

        // TOTP: enrolled on the profile page with a code computed here; a wrong code is refused.
        await page.GotoAsync("/profile");
        await WaitInteractiveAsync(page);
        await page.ClickAsync("[data-testid=totp-begin]");
        var qr = page.Locator("[data-testid=totp-qr]");
        await Expect(qr).ToBeVisibleAsync();
        Assert.True(await qr.EvaluateAsync<int>("img => img.naturalWidth") > 100, "the QR code image did not load");
        var secret = (await page.Locator("[data-testid=totp-secret]").TextContentAsync() ?? "").Trim();
        var totp = new Totp(Base32Encoding.ToBytes(secret));
        await page.FillAsync("#totp-code", WrongCode(totp));
        await page.ClickAsync("[data-testid=totp-confirm]");
        await Expect(page.Locator("[data-testid=totp-error]")).ToContainTextAsync("does not match");
        await page.FillAsync("#totp-code", totp.ComputeTotp(DateTime.UtcNow));
        await PanelBrowser.Shot(page, "profile-totp");
        await PanelBrowser.AssertAccessibleAsync(page, "profile", output);
        await page.ClickAsync("[data-testid=totp-confirm]");
        await Expect(page.Locator("[data-testid=totp-state]")).ToContainTextAsync("On:");

        // Sign out; the password alone is not enough any more, a wrong code is refused, the next code signs in (the
        // code that confirmed the enrolment may not be used again).
        await page.ClickAsync("[data-testid=sign-out]");
        await page.WaitForURLAsync("**/login?signedOut=1");
        await SignInAsync(page, "admin", Password);
        await Expect(page.Locator("[data-testid=login-message]")).ToContainTextAsync("second factor");
        await page.FillAsync("#password", Password);
        await page.FillAsync("#totp", WrongCode(totp));
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("[data-testid=login-message]")).ToHaveTextAsync("Wrong name or password.");
        await page.FillAsync("#name", "admin");
        await page.FillAsync("#password", Password);
        if (!await page.Locator("#totp").IsVisibleAsync())
        {
            await page.ClickAsync("button[type=submit]");
            await page.FillAsync("#password", Password);
        }

        await page.FillAsync("#totp", totp.ComputeTotp(DateTime.UtcNow.AddSeconds(30)));
        await page.ClickAsync("button[type=submit]");
        await WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=signed-in-user]")).ToHaveTextAsync("admin");

        // A phone-sized screen: every main page fits the width (tables scroll inside themselves), the menu navigates.
        await page.SetViewportSizeAsync(390, 844);
        foreach (var path in MainPages)
        {
            await page.GotoAsync(path);
            await WaitInteractiveAsync(page);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await PanelBrowser.Shot(page, "phone" + (path == "/" ? "-dashboard" : path.Replace('/', '-')));
            var (scroll, client) = await WidthsAsync(page);
            Assert.True(scroll <= client, $"{path} is {scroll} px wide on a {client} px screen; too wide: "
                + await page.EvaluateAsync<string>(TooWide));
        }

        foreach (var (link, url) in new[] { ("Audit log", "**/audit"), ("Backup", "**/backup"), ("Dashboard", "**/") })
        {
            var item = page.Locator("nav").GetByRole(AriaRole.Link, new() { Name = link, Exact = true });
            // The drawer slides (225 ms) after a navigation: look once it has settled, open it when it is folded away.
            await page.WaitForTimeoutAsync(500);
            // (A folded drawer may not render its links at all.)
            if (await item.CountAsync() == 0 || !await item.EvaluateAsync<bool>("e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= innerWidth; }"))
            {
                await page.ClickAsync("button[aria-label=Menu]");
                await Expect(item).ToBeInViewportAsync();
            }

            await item.ClickAsync();
            await page.WaitForURLAsync(url);
        }

        Assert.True(consoleErrors.Count == 0, "browser console errors: " + string.Join(" | ", consoleErrors));
    }

    /// <summary>
    /// Forms posted with plain HTTP: without an antiforgery token and with a wrong one, sign-in, sign-out and the
    /// backup download are refused; with the page's own token a signed-in backup download works.
    /// </summary>
    private static async Task AntiforgeryAsync(ApplianceUnderTest appliance)
    {
        var cookies = new CookieContainer();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies });
        var loginPage = await http.GetStringAsync(new Uri(appliance.BaseUrl, "login"));
        var token = TokenOf(loginPage);

        Dictionary<string, string> Login(string? antiforgery)
        {
            var form = new Dictionary<string, string>
            {
                ["_handler"] = "login",
                ["Input.Name"] = "admin",
                ["Input.Password"] = Password,
            };
            if (antiforgery is not null)
            {
                form["__RequestVerificationToken"] = antiforgery;
            }

            return form;
        }

        foreach (var forged in new[] { null, "CfDJ8forged" + token[^20..], token[..^4] + "AAAA" })
        {
            using var content = new FormUrlEncodedContent(Login(forged));
            using var refused = await http.PostAsync(new Uri(appliance.BaseUrl, "login"), content);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        using (var content = new FormUrlEncodedContent(Login(token)))
        {
            using var signedIn = await http.PostAsync(new Uri(appliance.BaseUrl, "login"), content);
            Assert.True(signedIn.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found,
                $"sign-in with the page's token answered {signedIn.StatusCode}");
        }

        var backupPage = await http.GetStringAsync(new Uri(appliance.BaseUrl, "backup"));
        var pageToken = TokenOf(backupPage);
        foreach (var forged in new[] { null, pageToken[..^4] + "AAAA" })
        {
            var form = new Dictionary<string, string> { ["passphrase"] = BackupPassphrase, ["confirm"] = BackupPassphrase };
            if (forged is not null)
            {
                form["__RequestVerificationToken"] = forged;
            }

            using var content = new FormUrlEncodedContent(form);
            using var refused = await http.PostAsync(new Uri(appliance.BaseUrl, "backup/download"), content);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.NotEqual("application/octet-stream", refused.Content.Headers.ContentType?.MediaType);
        }

        using (var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["passphrase"] = BackupPassphrase,
            ["confirm"] = BackupPassphrase,
            ["__RequestVerificationToken"] = pageToken,
        }))
        {
            using var file = await http.PostAsync(new Uri(appliance.BaseUrl, "backup/download"), content);
            Assert.Equal(HttpStatusCode.OK, file.StatusCode);
            Assert.Equal("BGBACKUP", Encoding.ASCII.GetString((await file.Content.ReadAsByteArrayAsync())[..8]));
        }

        using (var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = pageToken[..^4] + "AAAA" }))
        {
            using var signOut = await http.PostAsync(new Uri(appliance.BaseUrl, "logout"), content);
            Assert.Equal(HttpStatusCode.BadRequest, signOut.StatusCode);
        }
    }

    private static string TokenOf(string html) =>
        AntiforgeryInput().Match(html) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException("no antiforgery token in the page");

    private static string WrongCode(Totp totp)
    {
        var now = DateTime.UtcNow;
        var near = new[] { -1, 0, 1 }.Select(steps => totp.ComputeTotp(now.AddSeconds(30 * steps))).ToHashSet();
        return Enumerable.Range(0, 10).Select(i => $"{i}{i}{i}{i}{i}{i}").First(code => !near.Contains(code));
    }

    private static async Task SignInAsync(IPage page, string name, string password)
    {
        if (!page.Url.Contains("/login", StringComparison.Ordinal))
        {
            await page.GotoAsync("/login");
        }

        await page.FillAsync("#name", name);
        await page.FillAsync("#password", password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForLoadStateAsync(LoadState.DOMContentLoaded);
    }

    /// <summary>The outermost elements that reach beyond the screen's right edge (for the failure message).</summary>
    private const string TooWide = """
        () => {
            const edge = document.documentElement.clientWidth + 1;
            const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > edge
                && !(e.parentElement && e.parentElement.getBoundingClientRect().right > edge));
            const name = e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`;
            const chain = [];
            for (let e = wide[0]; e; e = e.parentElement) {
                chain.push(`${name(e)} w=${Math.round(e.getBoundingClientRect().width)} sw=${e.scrollWidth} ox=${getComputedStyle(e).overflowX}`);
            }
            return wide.slice(0, 5).map(e => `${name(e)} (${Math.round(e.getBoundingClientRect().right)} px)`).join(', ')
                + ' | ' + chain.join(' < ');
        }
        """;

    private static async Task<(int Scroll, int Client)> WidthsAsync(IPage page)
    {
        var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]");
        return (widths[0], widths[1]);
    }

    /// <summary>The circuit is up (MainLayout renders the marker only when interactive): clicks reach components.</summary>
    private static Task WaitInteractiveAsync(IPage page) =>
        page.Locator("[data-testid=interactive]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);


    [GeneratedRegex(@"PrivateKey = (\S+)")]
    private static partial Regex PrivateKeyLine();

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryInput();
}

/// <summary>The end-to-end tests run one after the other: each starts a gateway, a peer and a panel.</summary>
[CollectionDefinition(Name)]
public sealed class PanelCollection
{
    public const string Name = "Panel end to end";
}
