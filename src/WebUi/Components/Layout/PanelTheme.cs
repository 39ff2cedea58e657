using MudBlazor;

namespace Branchgate.WebUi.Components.Layout;

/// <summary>
/// MudBlazor's palette with the signal colours darkened so that text in them reaches WCAG AA contrast (4.5:1) on
/// white and white text on them does too; the defaults (#f44336 error, #00c853 success) do not.
/// </summary>
internal static class PanelTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1e40af",
            Error = "#b71c1c",
            Success = "#1b5e20",
            Warning = "#8a4b00",
            Info = "#0d47a1",
        },
    };
}
