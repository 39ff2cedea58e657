using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Branchgate.Appliance.Model;

namespace Branchgate.Appliance.Config;

/// <summary>
/// wg-quick configuration files (wg-quick(8), wg(8) "CONFIGURATION FILE FORMAT"): import with <see cref="Parse"/>,
/// export with <see cref="Write"/>.
/// <para>
/// wg-quick has no peer names or kinds; both travel in comments, the convention of wg-easy and wg-gen-web:
/// <c># Name = branch-b</c> (or <c># friendly_name = branch-b</c>), <c># Kind = site</c> or
/// <c># Kind = remote-worker</c>, and <c># Description = ...</c>, written directly before the [Peer] line or inside the
/// section. A comment block between two sections belongs to the [Peer] that follows it. A peer without a name is
/// called "peer-1", "peer-2"... by its position. A peer without a Kind comment is a remote worker when it has no
/// endpoint and its allowed IPs are all single addresses (/32 or /128: one device), and a site otherwise (a gateway
/// routing subnets, or one we dial).
/// </para>
/// </summary>
public static partial class WgQuickFile
{
    /// <summary>Larger files are refused unread (a hub with thousands of peers is well under this).</summary>
    public const int MaxFileChars = 8 * 1024 * 1024;

    /// <summary>
    /// Reads a wg-quick file as wg-quick and wg would (case-insensitive keys, '#' comments, CRLF, a BOM), into the
    /// interface <paramref name="interfaceName"/> and its sites. Never throws: every problem is an error or a warning
    /// with its line number. Run <see cref="ConfigValidator"/> on the result before storing it.
    /// </summary>
    public static WgQuickParseResult Parse(string text, string interfaceName)
    {
        var reader = new Reader(interfaceName ?? "");
        try
        {
            reader.Read(text);
            return reader.Finish();
        }
        catch (Exception e)
        {
            // A bug, not bad input; the file is refused rather than half read.
            return new WgQuickParseResult
            {
                Errors = [$"internal error while reading line {reader.LineNumber} ({e.GetType().Name}); the file was not read"],
            };
        }
    }

    /// <summary>
    /// A wg-quick file for <paramref name="iface"/> and its enabled <paramref name="sites"/> (a disabled site is left
    /// out: wg has no disabled peer, and wg-quick up would bring it up), with Name, Kind and Description comments so
    /// <see cref="Parse"/> gets the same sites back. The file holds the private key: treat it as a secret.
    /// </summary>
    /// <exception cref="ArgumentException">A site of another interface, or a value that cannot be written safely
    /// (an invalid name, endpoint or DNS entry); validate the config first.</exception>
    public static string Write(InterfaceConfig iface, IEnumerable<SiteConfig> sites)
    {
        ArgumentNullException.ThrowIfNull(iface);
        ArgumentNullException.ThrowIfNull(sites);
        var text = new StringBuilder();
        text.Append("# ").Append(Safe(iface.Name)).Append(", written by Branchgate. The Name, Kind and Description ")
            .Append("comments are\n# read back by Branchgate; wg and wg-quick ignore them.\n");
        text.Append("[Interface]\n");
        Line(text, "PrivateKey", iface.PrivateKey.RevealBase64());
        if (iface.ListenPort != 0)
        {
            Line(text, "ListenPort", Invariant(iface.ListenPort));
        }

        if (iface.FwMark != 0)
        {
            Line(text, "FwMark", "0x" + iface.FwMark.ToString("x", CultureInfo.InvariantCulture));
        }

        if (iface.Addresses.Count > 0)
        {
            Line(text, "Address", string.Join(", ", iface.Addresses));
        }

        if (iface.Mtu is { } mtu)
        {
            Line(text, "MTU", Invariant(mtu));
        }

        if (iface.Table != "auto")
        {
            RequireWritable(iface.Table, "Table", "table", allowColon: false);
            Line(text, "Table", iface.Table);
        }

        if (iface.Dns.Count > 0)
        {
            foreach (var entry in iface.Dns)
            {
                RequireWritable(entry, "DNS entry", "DNS", allowColon: true);
            }

            Line(text, "DNS", string.Join(", ", iface.Dns));
        }

        foreach (var site in sites)
        {
            WritePeer(text, iface, site);
        }

        return text.ToString();
    }

    private static void WritePeer(StringBuilder text, InterfaceConfig iface, SiteConfig site)
    {
        ArgumentNullException.ThrowIfNull(site);
        if (site.Interface != iface.Name)
        {
            throw new ArgumentException($"site {Safe(site.Name)} belongs to interface {Safe(site.Interface)}, not {Safe(iface.Name)}",
                nameof(site));
        }

        if (!ConfigValidator.IsValidSiteName(site.Name))
        {
            throw new ArgumentException($"site name '{Safe(site.Name)}' is not valid", nameof(site));
        }

        if (!site.Enabled)
        {
            return;
        }

        string? endpoint = null;
        if (site.Endpoint is not null)
        {
            if (!SiteEndpoint.TryParse(site.Endpoint, out var parsed, out string? error))
            {
                throw new ArgumentException($"site {site.Name}: {error}", nameof(site));
            }

            endpoint = parsed.ToString();
        }

        text.Append('\n');
        text.Append("# Name = ").Append(site.Name).Append('\n');
        text.Append("# Kind = ").Append(site.Kind == SiteKind.RemoteWorker ? RemoteWorkerKind : SiteKindText).Append('\n');
        if (!string.IsNullOrWhiteSpace(site.Description))
        {
            text.Append("# Description = ").Append(OneLine(site.Description)).Append('\n');
        }

        text.Append("[Peer]\n");
        Line(text, "PublicKey", site.PublicKey.ToBase64());
        if (site.PresharedKey is not null)
        {
            Line(text, "PresharedKey", site.PresharedKey.RevealBase64());
        }

        if (endpoint is not null)
        {
            Line(text, "Endpoint", endpoint);
        }

        if (site.AllowedIps.Count > 0)
        {
            Line(text, "AllowedIPs", string.Join(", ", site.AllowedIps));
        }

        if (site.PersistentKeepalive != 0)
        {
            Line(text, "PersistentKeepalive", Invariant(site.PersistentKeepalive));
        }
    }

    private const string SiteKindText = "site";
    private const string RemoteWorkerKind = "remote-worker";

    private static void Line(StringBuilder text, string key, string value) =>
        text.Append(key).Append(" = ").Append(value).Append('\n');

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A value that becomes part of a key line must not end the line, start a comment or hold a separator.</summary>
    private static void RequireWritable(string? value, string what, string paramName, bool allowColon)
    {
        if (string.IsNullOrEmpty(value) || value.Any(c => c is ',' or '#' or '=' || char.IsWhiteSpace(c) || char.IsControl(c)) ||
            (!allowColon && value.Contains(':', StringComparison.Ordinal)))
        {
            throw new ArgumentException($"{what} '{Safe(value)}' cannot be written to a wg-quick file", paramName);
        }
    }

    /// <summary>Comment text on one line: control characters (line breaks) become spaces.</summary>
    private static string OneLine(string text) =>
        string.Create(text.Length, text, static (span, source) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? ' ' : source[i];
            }
        }).Trim();

    private static string Safe(string? text) => SiteEndpoint.Show(text ?? "");

    /// <summary>Anything that looks like a base64 key (40+ base64 characters in a row) is cut out of messages.</summary>
    [GeneratedRegex("[A-Za-z0-9+/]{40,}=?", RegexOptions.CultureInvariant)]
    private static partial Regex KeyLike();

    internal static string Scrub(string message) => KeyLike().Replace(message, "(hidden)");
}
