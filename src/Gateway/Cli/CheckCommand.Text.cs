using Branchgate.Appliance.Coexistence;
using Branchgate.Appliance.Model;

namespace Branchgate.Cli;

/// <summary>The human text of `branchgate check`: errors, then warnings, then what could not be read, each finding
/// with the kernel and configuration objects it names, indented below it.</summary>
internal static partial class CheckCommand
{
    private static void WriteText(TextWriter output, CoexistenceReport report, ApplianceConfig checkedConfig, MigrationPlan? plan)
    {
        if (plan is not null)
        {
            WritePlan(output, plan);
            return;
        }

        if (checkedConfig.Interfaces.Count == 0)
        {
            output.WriteLine("No WireGuard interface runs in this namespace (no UAPI socket of one in " +
                $"{LiveConfiguration.SocketDirectory}), so there is nothing to check against the kernel.");
        }
        else
        {
            output.WriteLine($"Checked {string.Join(", ", checkedConfig.Interfaces.Select(i => i.Name))} " +
                $"({checkedConfig.Sites.Count} peer(s)) against the kernel's IPsec policies, routes, rules and addresses.");
        }

        WriteReport(output, report, "");
    }

    private static void WriteReport(TextWriter output, CoexistenceReport report, string indent)
    {
        if (report.Findings.Count == 0 && report.Unreadable.Count == 0)
        {
            output.WriteLine($"{indent}Clean: no conflicts.");
            return;
        }

        WriteGroup(output, "ERRORS (traffic would be lost or misrouted)", report.Errors.ToList(), indent);
        WriteGroup(output, "WARNINGS", report.Warnings.ToList(), indent);
        if (report.Unreadable.Count > 0)
        {
            output.WriteLine($"{indent}COULD NOT READ (so this is not a clean bill):");
            foreach (var line in report.Unreadable)
            {
                output.WriteLine($"{indent}  - {line}");
            }
        }

        output.WriteLine($"{indent}Result: {report.Errors.Count()} error(s), {report.Warnings.Count()} warning(s), " +
            $"{report.Unreadable.Count} unreadable; exit status {report.ExitStatus}.");
    }

    private static void WriteGroup(TextWriter output, string title, List<Finding> findings, string indent)
    {
        if (findings.Count == 0)
        {
            return;
        }

        output.WriteLine($"{indent}{title}:");
        foreach (var finding in findings)
        {
            output.WriteLine($"{indent}  [{finding.Code}] {finding.Message}");
            foreach (var line in finding.Objects)
            {
                output.WriteLine($"{indent}      {line}");
            }
        }
    }

    private static void WritePlan(TextWriter output, MigrationPlan plan)
    {
        output.WriteLine($"Migration of {plan.Subnet} from IPsec to peer {plan.Peer} on {plan.Interface}");
        if (plan.IpsecObjects.Count > 0)
        {
            output.WriteLine("IPsec carries it today through:");
            foreach (var line in plan.IpsecObjects)
            {
                output.WriteLine($"    {line}");
            }
        }

        output.WriteLine($"Adding {plan.Subnet} to the peer now, the check would say:");
        WriteReport(output, AboutSubnet(plan.CheckNow, plan, output), "  ");
        int number = 1;
        foreach (var step in plan.Steps)
        {
            output.WriteLine();
            output.WriteLine($"Step {number++}: {step.Title}");
            output.WriteLine($"  {step.Explanation}");
            foreach (var command in step.Commands)
            {
                output.WriteLine($"    $ {command}");
            }

            output.WriteLine($"  After this step the check says about {plan.Subnet}:");
            WriteReport(output, AboutSubnet(step.CheckAfter, plan, null), "    ");
        }
    }

    /// <summary>The findings about the migrated subnet (the rest is the plain check's business; the JSON has all).
    /// The first time, says how many others there are.</summary>
    private static CoexistenceReport AboutSubnet(CoexistenceReport report, MigrationPlan plan, TextWriter? noteTo)
    {
        string mark = $" allowed-ips {plan.Subnet}";
        var about = report.Findings.Where(f => f.Objects.Any(o => o.EndsWith(mark, StringComparison.Ordinal))).ToList();
        int others = report.Findings.Count - about.Count;
        if (noteTo is not null && others > 0)
        {
            noteTo.WriteLine($"  ({others} other finding(s) not about {plan.Subnet}: see `branchgate check`.)");
        }

        return report with { Findings = about };
    }
}
