using Branchgate.WebUi.Security;

namespace Branchgate.WebUi.Tests.Components;

public sealed class CircuitSessionTests
{
    [Fact]
    public void A_circuit_goes_idle_after_the_cookies_idle_timeout_without_activity()
    {
        var last = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
        Assert.False(CircuitSessionValidator.IsIdle(last, last.AddMinutes(29)));
        Assert.False(CircuitSessionValidator.IsIdle(last, last + PanelAuthentication.IdleTimeout));
        Assert.True(CircuitSessionValidator.IsIdle(last, last.AddMinutes(31)));
    }
}
