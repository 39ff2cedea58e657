namespace Branchgate.Appliance.Coexistence;

public enum FindingSeverity
{
    Warning = 1,
    Error = 2,
}

/// <summary>
/// One problem found: a stable <see cref="Code"/> (e.g. "ipsec-policy-overlap", "table-220-route",
/// "endpoint-in-ipsec-selector", "lan-overlap", "peer-overlap", "route-via-other-interface", "config-invalid"), a
/// sentence a network engineer recognises, and the kernel or configuration objects involved, each as one line of text
/// ("xfrm policy out src 10.1.0.0/24 dst 10.2.0.0/24 priority 375423 tmpl 192.0.2.1->192.0.2.2").
/// </summary>
public sealed record Finding(FindingSeverity Severity, string Code, string Message, IReadOnlyList<string> Objects)
{
    /// <summary>The interface and site the finding is about, when it is about one.</summary>
    public string? Interface { get; init; }

    public string? Site { get; init; }
}

/// <summary>
/// The result of a coexistence check. <see cref="Unreadable"/> lists what could not be looked at (XFRM not supported,
/// permission refused, a dump that did not finish in time): a report with anything there is never "clean".
/// </summary>
public sealed record CoexistenceReport(IReadOnlyList<Finding> Findings, IReadOnlyList<string> Unreadable)
{
    public static readonly CoexistenceReport Clean = new([], []);

    public IEnumerable<Finding> Errors => Findings.Where(f => f.Severity == FindingSeverity.Error);

    public IEnumerable<Finding> Warnings => Findings.Where(f => f.Severity == FindingSeverity.Warning);

    public bool HasErrors => Findings.Any(f => f.Severity == FindingSeverity.Error);

    /// <summary>The exit status of `branchgate check`: 0 clean, 1 warnings (or something unreadable), 2 errors.</summary>
    public int ExitStatus => HasErrors ? 2 : Findings.Count > 0 || Unreadable.Count > 0 ? 1 : 0;
}
