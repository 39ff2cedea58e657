using System.Globalization;
using System.Text.Json;

namespace Branchgate.Platform.Linux.Tests.Netlink.Route;

/// <summary>Reads `ip -j` output the way iproute2 prints it: names for well-known numbers, fields left out when they
/// have their default value.</summary>
internal static class IpJson
{
    public static string? Text(this JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.Number ? v.GetRawText() : v.GetString() : null;

    public static bool Has(this JsonElement e, string name) => e.TryGetProperty(name, out _);

    /// <summary>Table names iproute2 prints ("main", "local", "default") back to numbers.</summary>
    public static uint Table(string? text) => text switch
    {
        null or "main" => 254,
        "local" => 255,
        "default" => 253,
        _ => uint.Parse(text, CultureInfo.InvariantCulture),
    };

    public static byte Protocol(string? text) => text switch
    {
        null or "boot" => 3,
        "redirect" => 1,
        "kernel" => 2,
        "static" => 4,
        "ra" => 9,
        "dhcp" => 16,
        "bird" => 12,
        _ => byte.Parse(text, CultureInfo.InvariantCulture),
    };

    public static byte Scope(string? text) => text switch
    {
        null or "global" or "universe" => 0,
        "site" => 200,
        "link" => 253,
        "host" => 254,
        "nowhere" => 255,
        _ => byte.Parse(text, CultureInfo.InvariantCulture),
    };

    public static byte RouteType(string? text) => text switch
    {
        null or "unicast" => 1,
        "local" => 2,
        "broadcast" => 3,
        "anycast" => 4,
        "multicast" => 5,
        "blackhole" => 6,
        "unreachable" => 7,
        "prohibit" => 8,
        "throw" => 9,
        _ => throw new ArgumentException("route type " + text),
    };

    /// <summary>"default" and bare host addresses back to prefixes ("10.1.0.1" -> "10.1.0.1/32").</summary>
    public static string Prefix(string? text, bool v6) => text switch
    {
        null or "default" => v6 ? "::/0" : "0.0.0.0/0",
        _ when text.Contains('/', StringComparison.Ordinal) => text,
        _ => text + (v6 ? "/128" : "/32"),
    };
}
