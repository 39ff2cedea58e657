using System.Buffers;
using System.Globalization;
using Branchgate.Appliance.Model;
using Branchgate.Crypto;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Appliance.Config;

public static partial class WgQuickFile
{
    private enum Section
    {
        None,
        Interface,
        Peer,
        Unknown,
    }

    private enum MetaKey
    {
        Name,
        Kind,
        Description,
    }

    private readonly record struct Meta(MetaKey Key, string Value, int Line);

    private sealed class InterfaceDraft
    {
        public int Line;
        public WireGuardSecret? PrivateKey;
        public ushort ListenPort;
        public List<InterfaceAddress> Addresses = [];
        public int? Mtu;
        public uint FwMark;
        public string Table = "auto";
        public List<string> Dns = [];
        public HashSet<string> Seen = new(StringComparer.OrdinalIgnoreCase);
    }

    private sealed class PeerDraft
    {
        public int Line;
        public NoisePublicKey? PublicKey;
        public WireGuardSecret? PresharedKey;
        public string? Endpoint;
        public List<IPPrefix> AllowedIps = [];
        public ushort Keepalive;
        public string? Name;
        public int NameLine;
        public SiteKind? Kind;
        public string? Description;
        public HashSet<string> Seen = new(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>One pass over the lines; a line that cannot be read is an error and changes nothing.</summary>
    private sealed class Reader(string interfaceName)
    {
        private static readonly SearchValues<char> s_hexDigits = SearchValues.Create("0123456789abcdefABCDEF");
        private static readonly string[] s_unsupported = ["SaveConfig", "PreUp", "PostUp", "PreDown", "PostDown"];

        private readonly List<string> _errors = [];
        private readonly List<string> _warnings = [];
        private readonly List<PeerDraft> _peers = [];
        private readonly List<Meta> _pendingMeta = [];
        private InterfaceDraft? _interface;
        private Section _section;
        private bool _wholeFileRead;

        public int LineNumber { get; private set; }

        public void Read(string? text)
        {
            if (text is null)
            {
                _errors.Add("no text");
                return;
            }

            if (text.Length > MaxFileChars)
            {
                _errors.Add($"the file is larger than {MaxFileChars / (1024 * 1024)} MiB; not read");
                return;
            }

            var rest = text.AsSpan();
            if (rest.StartsWith("\uFEFF"))
            {
                rest = rest[1..];
            }

            while (!rest.IsEmpty)
            {
                LineNumber++;
                int newline = rest.IndexOf('\n');
                var line = newline < 0 ? rest : rest[..newline];
                rest = newline < 0 ? [] : rest[(newline + 1)..];
                if (line.EndsWith("\r"))
                {
                    line = line[..^1];
                }

                ReadLine(line);
            }

            AttachPendingMeta(_section == Section.Peer ? _peers[^1] : null);
            _wholeFileRead = true;
        }

        private void ReadLine(ReadOnlySpan<char> line)
        {
            int hash = line.IndexOf('#');
            var content = (hash < 0 ? line : line[..hash]).Trim();
            if (content.IsEmpty)
            {
                if (hash >= 0)
                {
                    ReadComment(line[(hash + 1)..]);
                }

                return;
            }

            if (content[0] == '[')
            {
                ReadSectionHeader(content);
                return;
            }

            int equals = content.IndexOf('=');
            if (equals < 0)
            {
                Error("expected Key = Value, a [Section] or a comment");
                return;
            }

            var key = content[..equals].Trim().ToString();
            var value = content[(equals + 1)..].Trim().ToString();
            switch (_section)
            {
                case Section.None:
                    Error($"{KeyName(key)} comes before any section; a wg-quick file starts with [Interface] or [Peer]");
                    break;
                case Section.Unknown:
                    break; // the section header was already reported
                case Section.Interface:
                    _pendingMeta.Clear();
                    ReadInterfaceKey(_interface!, key, value);
                    break;
                case Section.Peer:
                    AttachPendingMeta(_peers[^1]);
                    ReadPeerKey(_peers[^1], key, value);
                    break;
            }
        }

        private void ReadSectionHeader(ReadOnlySpan<char> header)
        {
            if (header.Equals("[Interface]", StringComparison.OrdinalIgnoreCase))
            {
                AttachPendingMeta(_section == Section.Peer ? _peers[^1] : null);
                _section = Section.Interface;
                _interface ??= new InterfaceDraft { Line = LineNumber };
            }
            else if (header.Equals("[Peer]", StringComparison.OrdinalIgnoreCase))
            {
                var peer = new PeerDraft { Line = LineNumber };
                _peers.Add(peer);
                _section = Section.Peer;
                AttachPendingMeta(peer);
            }
            else
            {
                _pendingMeta.Clear();
                _section = Section.Unknown;
                Error("unknown section; wg-quick knows [Interface] and [Peer]");
            }
        }

        /// <summary>Name, Kind and Description comments wait for the next key or section line to know their peer.</summary>
        private void ReadComment(ReadOnlySpan<char> comment)
        {
            comment = comment.TrimStart('#').Trim();
            int separator = comment.IndexOfAny('=', ':');
            if (separator <= 0)
            {
                return;
            }

            var key = comment[..separator].Trim();
            MetaKey? meta = key.Equals("Name", StringComparison.OrdinalIgnoreCase) ||
                key.Equals("friendly_name", StringComparison.OrdinalIgnoreCase) ? MetaKey.Name
                : key.Equals("Kind", StringComparison.OrdinalIgnoreCase) ? MetaKey.Kind
                : key.Equals("Description", StringComparison.OrdinalIgnoreCase) ? MetaKey.Description
                : null;
            if (meta is { } found)
            {
                _pendingMeta.Add(new Meta(found, comment[(separator + 1)..].Trim().ToString(), LineNumber));
            }
        }

        private void AttachPendingMeta(PeerDraft? peer)
        {
            if (peer is not null)
            {
                foreach (var meta in _pendingMeta)
                {
                    ApplyMeta(peer, meta);
                }
            }

            _pendingMeta.Clear();
        }

        private void ApplyMeta(PeerDraft peer, Meta meta)
        {
            switch (meta.Key)
            {
                case MetaKey.Name when peer.Name is not null:
                    Warning(meta.Line, "a second name comment for the same peer; the first name is kept");
                    break;
                case MetaKey.Name:
                    peer.Name = SiteName(peer, meta);
                    peer.NameLine = meta.Line;
                    break;
                case MetaKey.Kind:
                    peer.Kind = ParseKind(meta);
                    break;
                case MetaKey.Description:
                    peer.Description = OneLine(meta.Value) is { Length: > 0 } description ? description : null;
                    break;
            }
        }

        /// <summary>A name that is not a valid site name is made one ("Alice's laptop" -> "Alice-s-laptop") and kept
        /// whole as the description.</summary>
        private string? SiteName(PeerDraft peer, Meta meta)
        {
            if (ConfigValidator.IsValidSiteName(meta.Value))
            {
                return meta.Value;
            }

            var cleaned = new string([.. meta.Value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-')])
                .Trim('-');
            while (cleaned.Contains("--", StringComparison.Ordinal))
            {
                cleaned = cleaned.Replace("--", "-", StringComparison.Ordinal);
            }

            if (cleaned.Length > ConfigValidator.MaxSiteNameLength)
            {
                cleaned = cleaned[..ConfigValidator.MaxSiteNameLength];
            }

            peer.Description ??= OneLine(meta.Value) is { Length: > 0 } description ? description : null;
            if (cleaned.Length == 0)
            {
                Warning(meta.Line, "the peer name has no letters or digits; the peer gets a numbered name");
                return null;
            }

            Warning(meta.Line, $"peer name '{SiteEndpoint.Show(meta.Value)}' is not a site name (letters, digits, " +
                $"'.', '_', '-'); using '{cleaned}'");
            return cleaned;
        }

        private SiteKind? ParseKind(Meta meta)
        {
            var value = meta.Value.Replace('_', '-').Replace(" ", "", StringComparison.Ordinal);
            if (value.Equals("site", StringComparison.OrdinalIgnoreCase))
            {
                return SiteKind.Site;
            }

            if (value.Equals("remote-worker", StringComparison.OrdinalIgnoreCase) ||
                value.Equals("remoteworker", StringComparison.OrdinalIgnoreCase))
            {
                return SiteKind.RemoteWorker;
            }

            Warning(meta.Line, $"Kind '{SiteEndpoint.Show(meta.Value)}' is neither site nor remote-worker; ignored");
            return null;
        }

        private void ReadInterfaceKey(InterfaceDraft draft, string key, string value)
        {
            if (s_unsupported.FirstOrDefault(k => k.Equals(key, StringComparison.OrdinalIgnoreCase)) is { } unsupported)
            {
                Warning(LineNumber, $"{unsupported} is not supported by the gateway; ignored");
                return;
            }

            string? known = KnownKey(key, "Address", "ListenPort", "PrivateKey", "MTU", "Table", "FwMark", "DNS");
            if (known is null)
            {
                Error($"{KeyName(key)} is not an [Interface] key");
                return;
            }

            if (known is not ("Address" or "DNS") && !draft.Seen.Add(known))
            {
                Warning(LineNumber, $"{known} is given again; the last value is used (as wg-quick does)");
            }

            switch (known)
            {
                case "Address":
                    ReadAddresses(draft, value);
                    break;
                case "ListenPort":
                    if (TryParseDecimal(value, ushort.MaxValue, out uint port))
                    {
                        draft.ListenPort = (ushort)port;
                    }
                    else
                    {
                        Error("ListenPort must be a number from 0 to 65535");
                    }

                    break;
                case "PrivateKey":
                    if (WireGuardSecret.TryParseBase64(value, out var secret))
                    {
                        draft.PrivateKey = secret;
                    }
                    else
                    {
                        Error("PrivateKey is not a WireGuard key (44 characters of base64, as `wg genkey` prints)");
                    }

                    break;
                case "MTU":
                    if (TryParseDecimal(value, ushort.MaxValue, out uint mtu) && mtu > 0)
                    {
                        draft.Mtu = (int)mtu;
                    }
                    else
                    {
                        Error($"MTU '{SiteEndpoint.Show(value)}' is not a number from 1 to 65535");
                    }

                    break;
                case "Table":
                    ReadTable(draft, value);
                    break;
                case "FwMark":
                    ReadFwMark(draft, value);
                    break;
                case "DNS":
                    ReadDns(draft, value);
                    break;
            }
        }

        private void ReadAddresses(InterfaceDraft draft, string value)
        {
            // wg-quick turns commas into spaces and splits on white space.
            foreach (var item in value.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            {
                string text = item.Contains('/', StringComparison.Ordinal) ? item : item + HostLength(item);
                if (InterfaceAddress.TryParse(text, out var address, out string? error))
                {
                    draft.Addresses.Add(address);
                }
                else
                {
                    Error($"Address: {error}");
                }
            }
        }

        private void ReadTable(InterfaceDraft draft, string value)
        {
            if (value.Equals("auto", StringComparison.OrdinalIgnoreCase) || value.Equals("off", StringComparison.OrdinalIgnoreCase))
            {
                draft.Table = value.ToLowerInvariant();
            }
            else if (value.Equals("main", StringComparison.OrdinalIgnoreCase))
            {
                draft.Table = RouteTable.Main.ToString(CultureInfo.InvariantCulture);
            }
            else if (TryParseDecimal(value, uint.MaxValue, out uint table) && table != 0)
            {
                draft.Table = table.ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                Error($"Table '{SiteEndpoint.Show(value)}' is not auto, off, main or a table number 1..4294967295 " +
                    "(named tables from rt_tables are not supported)");
            }
        }

        private void ReadFwMark(InterfaceDraft draft, string value)
        {
            if (value.Equals("off", StringComparison.OrdinalIgnoreCase))
            {
                draft.FwMark = 0;
                return;
            }

            bool ok = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? value.Length is > 2 and <= 10 && !value.AsSpan(2).ContainsAnyExcept(s_hexDigits) &&
                    uint.TryParse(value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out draft.FwMark)
                : TryParseDecimal(value, uint.MaxValue, out draft.FwMark);
            if (!ok)
            {
                Error($"FwMark '{SiteEndpoint.Show(value)}' is not off, a decimal number or 0x followed by hex digits (32 bits)");
            }
        }

        private void ReadDns(InterfaceDraft draft, string value)
        {
            // wg-quick sorts entries into servers (addresses) and search domains; both are kept in order.
            foreach (var item in value.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            {
                bool ok = ConfigValidator.IsValidDnsEntry(item);
                if (ok)
                {
                    draft.Dns.Add(item);
                }
                else
                {
                    Error($"DNS '{SiteEndpoint.Show(item)}' is neither an IP address nor a search domain");
                }
            }
        }

        private void ReadPeerKey(PeerDraft peer, string key, string value)
        {
            string? known = KnownKey(key, "PublicKey", "PresharedKey", "Endpoint", "AllowedIPs", "PersistentKeepalive");
            if (known is null)
            {
                Error($"{KeyName(key)} is not a [Peer] key");
                return;
            }

            if (known != "AllowedIPs" && !peer.Seen.Add(known))
            {
                Warning(LineNumber, $"{known} is given again in this [Peer]; the last value is used (as wg does)");
            }

            switch (known)
            {
                case "PublicKey":
                    if (NoisePublicKey.TryParseBase64(value, out var publicKey))
                    {
                        peer.PublicKey = publicKey;
                    }
                    else
                    {
                        Error("PublicKey is not a WireGuard key (44 characters of base64, as `wg pubkey` prints)");
                    }

                    break;
                case "PresharedKey":
                    if (value.Length == 0)
                    {
                        peer.PresharedKey = null;
                    }
                    else if (WireGuardSecret.TryParseBase64(value, out var psk))
                    {
                        peer.PresharedKey = psk;
                    }
                    else
                    {
                        Error("PresharedKey is not a WireGuard key (44 characters of base64, as `wg genpsk` prints)");
                    }

                    break;
                case "Endpoint":
                    if (SiteEndpoint.TryParse(value, out var endpoint, out string? error))
                    {
                        peer.Endpoint = endpoint.ToString();
                    }
                    else
                    {
                        Error($"Endpoint: {error}");
                    }

                    break;
                case "AllowedIPs":
                    ReadAllowedIps(peer, value);
                    break;
                case "PersistentKeepalive":
                    if (value.Equals("off", StringComparison.OrdinalIgnoreCase))
                    {
                        peer.Keepalive = 0;
                    }
                    else if (TryParseDecimal(value, ushort.MaxValue, out uint seconds))
                    {
                        peer.Keepalive = (ushort)seconds;
                    }
                    else
                    {
                        Error($"PersistentKeepalive '{SiteEndpoint.Show(value)}' is not off or a number of seconds from 0 to 65535");
                    }

                    break;
            }
        }

        /// <summary>Like wg: a bare address is a single-address range, and host bits are cleared (with a warning,
        /// since 10.1.0.1/24 is often a typo for a narrower range).</summary>
        private void ReadAllowedIps(PeerDraft peer, string value)
        {
            if (value.Length == 0)
            {
                return;
            }

            foreach (var raw in value.Split(','))
            {
                var item = raw.Trim();
                string text = item.Contains('/', StringComparison.Ordinal) ? item : item + HostLength(item);
                if (IPPrefix.TryParse(text, out var prefix, out _))
                {
                    AddAllowedIp(peer, prefix);
                }
                else if (InterfaceAddress.TryParse(text, out var withHostBits, out string? error))
                {
                    var network = withHostBits.Network;
                    Warning(LineNumber, $"AllowedIPs {withHostBits} has host bits set; it is read as {network} (as wg does)");
                    AddAllowedIp(peer, network);
                }
                else
                {
                    Error(item.Length == 0 ? "AllowedIPs has an empty entry (a stray comma)" : $"AllowedIPs: {error}");
                }
            }
        }

        private static void AddAllowedIp(PeerDraft peer, IPPrefix prefix)
        {
            if (!peer.AllowedIps.Contains(prefix))
            {
                peer.AllowedIps.Add(prefix);
            }
        }

        public WgQuickParseResult Finish()
        {
            if (ConfigValidator.InterfaceNameError(interfaceName) is { } nameError)
            {
                _errors.Add($"interface name '{SiteEndpoint.Show(interfaceName)}': {nameError}");
            }

            InterfaceConfig? iface = null;
            if (_interface is null)
            {
                if (_wholeFileRead)
                {
                    _errors.Add("no [Interface] section");
                }
            }
            else if (_interface.PrivateKey is null)
            {
                _errors.Add($"line {_interface.Line}: [Interface] has no valid PrivateKey");
            }
            else
            {
                iface = new InterfaceConfig
                {
                    Name = interfaceName,
                    PrivateKey = _interface.PrivateKey,
                    ListenPort = _interface.ListenPort,
                    Addresses = [.. _interface.Addresses],
                    Mtu = _interface.Mtu,
                    FwMark = _interface.FwMark,
                    Table = _interface.Table,
                    Dns = [.. _interface.Dns],
                };
            }

            return new WgQuickParseResult
            {
                Interface = iface,
                Sites = BuildSites(),
                Errors = [.. _errors.Select(Scrub)],
                Warnings = [.. _warnings.Select(Scrub)],
            };
        }

        private List<SiteConfig> BuildSites()
        {
            var named = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var peer in _peers.Where(p => p.Name is not null))
            {
                if (!named.TryAdd(peer.Name!, peer.NameLine))
                {
                    _errors.Add($"line {peer.NameLine}: peer name '{peer.Name}' is already used at line {named[peer.Name!]}");
                }
            }

            var sites = new List<SiteConfig>();
            for (int i = 0; i < _peers.Count; i++)
            {
                var peer = _peers[i];
                if (peer.PublicKey is null)
                {
                    _errors.Add($"line {peer.Line}: [Peer] has no valid PublicKey");
                    continue;
                }

                sites.Add(new SiteConfig
                {
                    Name = peer.Name ?? NumberedName(i + 1, named),
                    Interface = interfaceName,
                    Kind = peer.Kind ?? GuessKind(peer),
                    PublicKey = peer.PublicKey,
                    PresharedKey = peer.PresharedKey,
                    Endpoint = peer.Endpoint,
                    AllowedIps = [.. peer.AllowedIps],
                    PersistentKeepalive = peer.Keepalive,
                    Description = peer.Description,
                });
            }

            return sites;
        }

        private static string NumberedName(int position, Dictionary<string, int> taken)
        {
            string name = $"peer-{position}";
            for (int suffix = 2; taken.ContainsKey(name); suffix++)
            {
                name = $"peer-{position}-{suffix}";
            }

            taken[name] = 0;
            return name;
        }

        /// <summary>One device: single addresses only and no endpoint to dial. Anything else routes or is dialled: a site.</summary>
        private static SiteKind GuessKind(PeerDraft peer) =>
            peer.Endpoint is null && peer.AllowedIps.Count > 0 &&
            peer.AllowedIps.All(p => p.PrefixLength == (p.IsIPv6 ? 128 : 32))
                ? SiteKind.RemoteWorker
                : SiteKind.Site;

        private static string? KnownKey(string key, params string[] keys) =>
            keys.FirstOrDefault(k => k.Equals(key, StringComparison.OrdinalIgnoreCase));

        /// <summary>A key name worth quoting back: short and a plain word. Anything else (a pasted key, garbage) is
        /// not echoed.</summary>
        private static string KeyName(string key) =>
            key.Length is > 0 and <= 24 && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && char.IsAsciiLetter(key[0])
                ? $"'{key}'"
                : "this key";

        private static string HostLength(string address) => address.Contains(':', StringComparison.Ordinal) ? "/128" : "/32";

        private static bool TryParseDecimal(string text, uint max, out uint value)
        {
            value = 0;
            if (text.Length is 0 or > 10 || !text.All(char.IsAsciiDigit) ||
                !ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong wide) || wide > max)
            {
                return false;
            }

            value = (uint)wide;
            return true;
        }

        private void Error(string message) => _errors.Add($"line {LineNumber}: {message}");

        private void Warning(int line, string message) => _warnings.Add($"line {line}: {message}");
    }
}
