using System.Text.Json;
using System.Text.Json.Serialization;

namespace Branchgate.Appliance.Coexistence;

/// <summary>
/// The JSON of `branchgate check --json` (and for anyone who shows a report): camelCase, severities as "error" and
/// "warning", source-generated (NativeAOT).
/// </summary>
public static class CoexistenceJson
{
    public static string Serialize(CoexistenceReport report, MigrationPlan? migration = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var output = new CheckOutput(report.ExitStatus, report.Errors.Count(), report.Warnings.Count(),
            [.. report.Findings.Select(ToOutput)], report.Unreadable, migration is null ? null : ToOutput(migration));
        return JsonSerializer.Serialize(output, CoexistenceJsonContext.Default.CheckOutput);
    }

    private static FindingOutput ToOutput(Finding f) => new(
        f.Severity == FindingSeverity.Error ? "error" : "warning", f.Code, f.Message, f.Interface, f.Site, f.Objects);

    private static ReportOutput ToOutput(CoexistenceReport r) =>
        new(r.ExitStatus, [.. r.Findings.Select(ToOutput)], r.Unreadable);

    private static MigrationOutput ToOutput(MigrationPlan plan) => new(
        plan.Interface, plan.Peer, plan.Subnet.ToString(), plan.IpsecObjects, ToOutput(plan.CheckNow),
        [.. plan.Steps.Select((s, i) => new StepOutput(i + 1, s.Title, s.Explanation, s.Commands, ToOutput(s.CheckAfter)))]);
}

internal sealed record CheckOutput(
    int ExitStatus, int Errors, int Warnings, IReadOnlyList<FindingOutput> Findings, IReadOnlyList<string> Unreadable,
    MigrationOutput? Migration);

internal sealed record FindingOutput(
    string Severity, string Code, string Message, string? Interface, string? Site, IReadOnlyList<string> Objects);

internal sealed record ReportOutput(int ExitStatus, IReadOnlyList<FindingOutput> Findings, IReadOnlyList<string> Unreadable);

internal sealed record MigrationOutput(
    string Interface, string Peer, string Subnet, IReadOnlyList<string> IpsecObjects, ReportOutput CheckNow,
    IReadOnlyList<StepOutput> Steps);

internal sealed record StepOutput(int Number, string Title, string Explanation, IReadOnlyList<string> Commands, ReportOutput CheckAfter);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CheckOutput))]
internal sealed partial class CoexistenceJsonContext : JsonSerializerContext;
