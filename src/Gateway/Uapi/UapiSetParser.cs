using System.Text;
using Branchgate.Crypto;

namespace Branchgate.Uapi;

/// <summary>What <see cref="UapiSetParser.AddLine"/> made of one line.</summary>
public enum UapiLineResult
{
    /// <summary>A valid key=value line; more may follow.</summary>
    Accepted,

    /// <summary>The empty line that ends the request.</summary>
    End,

    /// <summary>The line is bad; <see cref="UapiSetParser.Error"/> says why. The request is void.</summary>
    Rejected,
}

/// <summary>
/// Validates the lines of one <c>set=1</c> request, one at a time, with wireguard-go 0.0.20220316's rules
/// (device/uapi.go IpcSetOperation): each line is split at its first '='; a line without '=' is EPROTO; a
/// <c>public_key=</c> line starts a peer section; device keys are private_key, listen_port, fwmark and replace_peers,
/// peer keys update_only, remove, preshared_key, endpoint, persistent_keepalive_interval, replace_allowed_ips,
/// allowed_ip and protocol_version; any other key, a key in the wrong section or a bad value is EINVAL. Booleans must
/// be exactly <c>true</c>, protocol_version exactly <c>1</c>, keys exactly 64 hex digits of either case.
/// <para>
/// Unlike wireguard-go, which applies each line as it reads it (so the lines before a bad one stay applied), nothing is
/// applied here: <see cref="ToRequest"/> hands the whole validated request to <see cref="UapiApplier"/>. One extension:
/// <c>allowed_ip=-addr/cidr</c> removes one range, as the kernel and newer wireguard-tools (2025) do;
/// wireguard-go 0.0.20220316 answers EINVAL to it.
/// </para>
/// Never throws on input; a line is at most <see cref="MaxLineLength"/> bytes (the caller frames lines).
/// </summary>
public sealed class UapiSetParser : IDisposable
{
    /// <summary>The longest line wireguard-go's bufio.Scanner accepts (its 64 KiB buffer holds the line and '\n').</summary>
    public const int MaxLineLength = 65535;

    private readonly List<UapiOperation> _operations = [];
    private readonly Func<string, uint?> _interfaceIndex;
    private bool _inPeerSection;
    private int _lineNumber;
    private bool _handedOver;

    /// <param name="interfaceIndex">Resolves an IPv6 zone name to an interface index (null: unknown name); default
    /// <see cref="UapiInterfaceIndex.Resolve"/>.</param>
    public UapiSetParser(Func<string, uint?>? interfaceIndex = null) =>
        _interfaceIndex = interfaceIndex ?? UapiInterfaceIndex.Resolve;

    public UapiErrno Error { get; private set; }

    /// <summary>Why the request was rejected, in wireguard-go's words where it has them (for logs).</summary>
    public string? ErrorMessage { get; private set; }

    /// <summary>The line number (1-based, after <c>set=1</c>) of the rejected line.</summary>
    public int ErrorLine { get; private set; }

    public bool IsComplete { get; private set; }

    /// <summary>Validates one line, given without its '\n'; a trailing '\r' is dropped as bufio.ScanLines does.</summary>
    public UapiLineResult AddLine(ReadOnlySpan<byte> line)
    {
        if (Error != UapiErrno.None || IsComplete)
        {
            ThrowHelper.ThrowInvalidOperation("the request is already finished");
        }

        _lineNumber++;
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (line.IsEmpty)
        {
            IsComplete = true;
            return UapiLineResult.End;
        }

        if (line.Length > MaxLineLength)
        {
            return Reject(UapiErrno.Io, "failed to read input: token too long");
        }

        var equals = line.IndexOf((byte)'=');
        if (equals < 0)
        {
            return Reject(UapiErrno.Protocol, "failed to parse line " + Quote(line));
        }

        var key = Encoding.Latin1.GetString(line[..equals]);
        var value = Encoding.Latin1.GetString(line[(equals + 1)..]);
        var error = key == "public_key" ? ParsePublicKey(value)
            : _inPeerSection ? ParsePeerLine(key, value)
            : ParseDeviceLine(key, value);
        return error is null ? UapiLineResult.Accepted : Reject(UapiErrno.Invalid, error);
    }

    /// <summary>Marks the request complete without an empty line (the connection reached end of file).</summary>
    public void EndOfInput()
    {
        if (Error == UapiErrno.None)
        {
            IsComplete = true;
        }
    }

    /// <summary>The validated request; the parser's secrets pass to it (dispose the request, not the parser).</summary>
    public UapiSetRequest ToRequest()
    {
        if (Error != UapiErrno.None || !IsComplete)
        {
            ThrowHelper.ThrowInvalidOperation("only a complete, valid request can be applied");
        }

        _handedOver = true;
        return new UapiSetRequest([.. _operations]);
    }

    /// <summary>
    /// Rejects the request for a reason found while reading the next line (an I/O error, a size limit, a line too long
    /// to frame); <see cref="ErrorLine"/> is that next line.
    /// </summary>
    public void Fail(UapiErrno error, string message)
    {
        if (Error == UapiErrno.None)
        {
            _lineNumber++;
            Reject(error, message);
        }
    }

    private UapiLineResult Reject(UapiErrno error, string message)
    {
        Error = error;
        ErrorMessage = message;
        ErrorLine = _lineNumber;
        DisposeOperations();
        return UapiLineResult.Rejected;
    }

    private string? ParseDeviceLine(string key, string value)
    {
        switch (key)
        {
            case "private_key":
                var privateKey = new byte[X25519.KeySize];
                if (!KeyEncoding.TryFromHex(value, privateKey))
                {
                    return "failed to set private_key: invalid key";
                }

                // As NoisePrivateKey.FromMaybeZeroHex: all zeros means "no key", anything else is clamped.
                if (!privateKey.AsSpan().ContainsAnyExcept((byte)0))
                {
                    privateKey = [];
                }
                else
                {
                    X25519.Clamp(privateKey);
                }

                Add(UapiOperation.WithKey(UapiOperationKind.SetPrivateKey, _lineNumber, privateKey));
                return null;
            case "listen_port":
                return AddNumber(UapiOperationKind.SetListenPort, value, ushort.MaxValue, "failed to parse listen_port");
            case "fwmark":
                return AddNumber(UapiOperationKind.SetFwmark, value, uint.MaxValue, "invalid fwmark");
            case "replace_peers":
                return AddFlag(UapiOperationKind.ReplacePeers, value, "failed to set replace_peers");
            default:
                return "invalid UAPI device key: " + key;
        }
    }

    private string? ParsePublicKey(string value)
    {
        Span<byte> bytes = stackalloc byte[X25519.KeySize];
        if (!KeyEncoding.TryFromHex(value, bytes))
        {
            return "failed to get peer by public key: invalid key";
        }

        _inPeerSection = true;
        Add(UapiOperation.ForPeer(_lineNumber, new NoisePublicKey(bytes)));
        return null;
    }

    private string? ParsePeerLine(string key, string value)
    {
        switch (key)
        {
            case "update_only":
                return AddFlag(UapiOperationKind.UpdateOnly, value, "failed to set update only");
            case "remove":
                return AddFlag(UapiOperationKind.RemovePeer, value, "failed to set remove");
            case "preshared_key":
                var presharedKey = new byte[X25519.KeySize];
                if (!KeyEncoding.TryFromHex(value, presharedKey))
                {
                    return "failed to set preshared key: invalid key";
                }

                Add(UapiOperation.WithKey(UapiOperationKind.SetPresharedKey, _lineNumber,
                    presharedKey.AsSpan().ContainsAnyExcept((byte)0) ? presharedKey : []));
                return null;
            case "endpoint":
                if (!UapiAddressText.TryParseEndpoint(value, _interfaceIndex, out var endpoint))
                {
                    return "failed to set endpoint " + value;
                }

                Add(UapiOperation.ForEndpoint(_lineNumber, endpoint!));
                return null;
            case "persistent_keepalive_interval":
                return AddNumber(UapiOperationKind.SetPersistentKeepalive, value, ushort.MaxValue,
                    "failed to set persistent keepalive interval");
            case "replace_allowed_ips":
                return AddFlag(UapiOperationKind.ReplaceAllowedIps, value, "failed to replace allowedips");
            case "allowed_ip":
                var remove = value.StartsWith('-');
                if (!UapiAddressText.TryParsePrefix(remove ? value.AsSpan(1) : value, out var prefix))
                {
                    return "failed to set allowed ip: " + value;
                }

                Add(UapiOperation.ForPrefix(remove ? UapiOperationKind.RemoveAllowedIp : UapiOperationKind.AddAllowedIp,
                    _lineNumber, prefix));
                return null;
            case "protocol_version":
                if (value != "1")
                {
                    return "invalid protocol version: " + value;
                }

                Add(UapiOperation.Simple(UapiOperationKind.ProtocolVersion, _lineNumber));
                return null;
            default:
                return "invalid UAPI peer key: " + key;
        }
    }

    private string? AddNumber(UapiOperationKind kind, string value, ulong max, string error)
    {
        if (!UapiAddressText.TryParseUnsigned(value, max, out var number))
        {
            return error + ": " + value;
        }

        Add(UapiOperation.WithNumber(kind, _lineNumber, number));
        return null;
    }

    private string? AddFlag(UapiOperationKind kind, string value, string error)
    {
        if (value != "true")
        {
            return error + ", invalid value: " + value;
        }

        Add(UapiOperation.Simple(kind, _lineNumber));
        return null;
    }

    private void Add(UapiOperation operation) => _operations.Add(operation);

    private static string Quote(ReadOnlySpan<byte> line)
    {
        const int Shown = 64;
        var text = Encoding.Latin1.GetString(line.Length > Shown ? line[..Shown] : line);
        return "\"" + text + (line.Length > Shown ? "...\"" : "\"");
    }

    private void DisposeOperations()
    {
        foreach (var operation in _operations)
        {
            operation.Dispose();
        }

        _operations.Clear();
    }

    /// <summary>Zeroes the keys of a request that was rejected or never handed over.</summary>
    public void Dispose()
    {
        if (!_handedOver)
        {
            DisposeOperations();
        }
    }
}
