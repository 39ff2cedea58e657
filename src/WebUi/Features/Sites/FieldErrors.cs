using System.Text.RegularExpressions;

namespace Branchgate.WebUi.Features.Sites;

/// <summary>
/// The API's error details sorted by the field they name: "allowedIps[1]: ... has host bits set" belongs under the
/// allowed IPs field; a detail that names no field ("site wg0/b: allowed IPs overlap ...") is shown above the form.
/// </summary>
public sealed partial class FieldErrors
{
    private readonly Dictionary<string, List<string>> _byField = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _general = [];

    public static FieldErrors Empty { get; } = new();

    public IReadOnlyList<string> General => _general;

    public bool Any => _general.Count > 0 || _byField.Count > 0;

    public static FieldErrors From(IEnumerable<string> details)
    {
        var errors = new FieldErrors();
        foreach (var detail in details)
        {
            var match = FieldPrefix().Match(detail);
            if (match.Success)
            {
                var field = match.Groups["field"].Value;
                if (!errors._byField.TryGetValue(field, out var list))
                {
                    errors._byField[field] = list = [];
                }

                list.Add(match.Groups["index"].Success
                    ? $"entry {int.Parse(match.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture) + 1}: {match.Groups["message"].Value}"
                    : match.Groups["message"].Value);
            }
            else
            {
                errors._general.Add(detail);
            }
        }

        return errors;
    }

    /// <summary>The messages for one field (its JSON name: "publicKey", "allowedIps").</summary>
    public IReadOnlyList<string> For(string field) => _byField.TryGetValue(field, out var list) ? list : [];

    /// <summary>MudBlazor's ErrorText: the field's messages on one line, or null.</summary>
    public string? TextFor(string field) => For(field) is { Count: > 0 } list ? string.Join(" ", list) : null;

    [GeneratedRegex(@"^(?<field>[a-z][A-Za-z]*)(\[(?<index>\d{1,4})\])?: (?<message>.+)$", RegexOptions.Singleline)]
    private static partial Regex FieldPrefix();
}
