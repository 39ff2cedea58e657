using Branchgate.Uapi;

namespace Branchgate.Tests.Uapi;

/// <summary>Helpers shared by the UAPI tests.</summary>
internal static class UapiTestText
{
    public static string Hex(byte fill) => Convert.ToHexStringLower(Enumerable.Repeat(fill, 32).ToArray());

    /// <summary>The get answer for the device's state now.</summary>
    public static string Get(IUapiTarget target)
    {
        using var snapshot = target.Snapshot();
        using var answer = UapiFormatter.FormatGet(snapshot);
        return answer.ToString();
    }

    /// <summary>Parses and applies a set body the way the server does; returns the errno it would answer.</summary>
    public static UapiErrno Set(IUapiTarget target, string body)
    {
        using var parsed = UapiParser.ParseSet(body, name => name == "lo" ? 1u : null);
        return parsed.Request is null ? parsed.Error : UapiApplier.Apply(parsed.Request, target);
    }
}
