using Branchgate.Appliance.Api;
using Branchgate.WebUi.Features.Dashboard;
using Bunit;
using MudBlazor.Services;

namespace Branchgate.WebUi.Tests.Components;

public sealed class StatusTableTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private readonly BunitContext _context = new();

    public StatusTableTests()
    {
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _context.Services.AddMudServices();
    }

    // MudBlazor's services are only asynchronously disposable.
    public void Dispose() => _context.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Fact]
    public void Each_peer_shows_online_offline_or_disabled_with_its_handshake_age_and_counters()
    {
        var iface = new InterfaceStatusDto
        {
            Name = "wg0",
            PublicKey = "x",
            ListenPort = 51820,
            Up = true,
            Addresses = ["10.9.0.1/24"],
            Peers =
            [
                new PeerStatusDto
                {
                    Name = "branch-b", PublicKey = "b", Enabled = true, Online = true, Endpoint = "192.0.2.7:51820",
                    LastHandshake = Now.AddSeconds(-12), ReceivedBytes = 1536, TransmittedBytes = 10, HandshakeFailures = 0,
                },
                new PeerStatusDto
                {
                    Name = "branch-c", PublicKey = "c", Enabled = true, Online = false, ConfiguredEndpoint = "c.example.net:51820",
                    LastHandshake = null, HandshakeFailures = 4,
                },
                new PeerStatusDto
                {
                    Name = "old", PublicKey = "d", Enabled = false, Online = false, LastHandshake = Now.AddHours(-3),
                },
            ],
        };

        var table = _context.Render<StatusTable>(p => p.Add(t => t.Interface, iface).Add(t => t.Now, Now));

        var rows = table.FindAll("[data-testid=peer-row]");
        Assert.Equal(3, rows.Count);
        Assert.Equal("online", Cell(rows[0], "peer-state"));
        Assert.Equal("12 s ago", Cell(rows[0], "peer-handshake"));
        Assert.Contains("192.0.2.7:51820", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("1.5 KiB", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Equal("offline", Cell(rows[1], "peer-state"));
        Assert.Equal("never", Cell(rows[1], "peer-handshake"));
        Assert.Equal("4", Cell(rows[1], "peer-failures"));
        // No live endpoint yet: the configured one is shown.
        Assert.Contains("c.example.net:51820", rows[1].TextContent, StringComparison.Ordinal);
        Assert.Equal("disabled", Cell(rows[2], "peer-state"));
        Assert.Equal("3 h ago", Cell(rows[2], "peer-handshake"));
        Assert.Equal("up", table.Find("[data-testid=iface-state]").TextContent.Trim());
    }

    private static string Cell(AngleSharp.Dom.IElement row, string testId) =>
        row.QuerySelector($"[data-testid={testId}]")?.TextContent.Trim() ?? "(missing)";
}
