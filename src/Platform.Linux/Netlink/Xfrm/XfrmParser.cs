using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Branchgate.Platform.Linux.Netlink.Xfrm;

/// <summary>
/// Pure parsers of NETLINK_XFRM messages: the payload after the 16-byte nlmsghdr in, a record out. They never throw on
/// bad input: a payload that is short, has a broken attribute chain, or holds values the kernel never sends gives
/// <see cref="XfrmParseStatus.Malformed"/>. Key material in SA attributes is never read; only algorithm names are.
/// </summary>
public static class XfrmParser
{
    /// <summary>Parses an XFRM_MSG_NEWPOLICY payload (struct xfrm_userpolicy_info, then attributes).</summary>
    /// <returns>Parsed; Skipped for a per-socket policy (direction 3..5); Malformed.</returns>
    public static XfrmParseStatus ParsePolicy(ReadOnlySpan<byte> payload, out XfrmPolicy? policy)
    {
        policy = null;
        if (!MemoryMarshal.TryRead(payload, out XfrmUserPolicyInfoRaw info) || info.Direction >= 2 * XfrmConstants.XFRM_POLICY_MAX)
        {
            return XfrmParseStatus.Malformed;
        }

        if (info.Direction >= XfrmConstants.XFRM_POLICY_MAX)
        {
            return XfrmParseStatus.Skipped;
        }

        var attributes = AttributesAfter<XfrmUserPolicyInfoRaw>(payload);
        var selector = XfrmSelector.From(info.Selector, XfrmConstants.AF_UNSPEC);
        if (selector is null || info.Action > (byte)XfrmPolicyAction.Block || !WellFormed(attributes))
        {
            return XfrmParseStatus.Malformed;
        }

        var type = XfrmPolicyType.Main;
        XfrmMark? mark = null;
        uint interfaceId = 0;
        IReadOnlyList<XfrmTemplate> templates = [];
        foreach (var a in new NetlinkAttributes(attributes))
        {
            switch (a.Type)
            {
                case XfrmConstants.XFRMA_TMPL:
                    var parsed = ParseTemplates(a.Value, info.Selector.Family);
                    if (parsed is null)
                    {
                        return XfrmParseStatus.Malformed;
                    }

                    templates = parsed;
                    break;
                case XfrmConstants.XFRMA_MARK:
                    if (!TryReadMark(a.Value, out var m))
                    {
                        return XfrmParseStatus.Malformed;
                    }

                    mark = m;
                    break;
                case XfrmConstants.XFRMA_IF_ID:
                    if (!TryReadU32(a.Value, out interfaceId))
                    {
                        return XfrmParseStatus.Malformed;
                    }

                    break;
                case XfrmConstants.XFRMA_POLICY_TYPE:
                    if (a.Value.Length < 1 || a.Value[0] > (byte)XfrmPolicyType.Sub)
                    {
                        return XfrmParseStatus.Malformed;
                    }

                    type = (XfrmPolicyType)a.Value[0];
                    break;
            }
        }

        policy = new XfrmPolicy
        {
            Selector = selector,
            Direction = (XfrmDirection)info.Direction,
            Action = (XfrmPolicyAction)info.Action,
            Priority = info.Priority,
            Index = info.Index,
            Flags = (XfrmPolicyFlags)info.Flags,
            Share = (XfrmShare)info.Share,
            Type = type,
            Mark = mark,
            InterfaceId = interfaceId,
            Templates = templates,
            Limits = Limits(info.Lifetime),
            Current = Current(info.Current),
        };
        return XfrmParseStatus.Parsed;
    }

    /// <summary>Parses an XFRM_MSG_NEWSA payload (struct xfrm_usersa_info, then attributes), keys left unread.</summary>
    public static XfrmParseStatus ParseState(ReadOnlySpan<byte> payload, out XfrmState? state)
    {
        state = null;
        if (!MemoryMarshal.TryRead(payload, out XfrmUserSaInfoRaw info)
            || info.Family is not (XfrmConstants.AF_INET or XfrmConstants.AF_INET6)
            || info.Mode >= XfrmConstants.XFRM_MODE_MAX)
        {
            return XfrmParseStatus.Malformed;
        }

        var attributes = AttributesAfter<XfrmUserSaInfoRaw>(payload);
        var selector = XfrmSelector.From(info.Selector, info.Family);
        if (selector is null || !WellFormed(attributes))
        {
            return XfrmParseStatus.Malformed;
        }

        var extra = new StateAttributes();
        foreach (var a in new NetlinkAttributes(attributes))
        {
            if (!extra.Read(a, info.Family))
            {
                return XfrmParseStatus.Malformed;
            }
        }

        state = new XfrmState
        {
            Selector = selector,
            Family = XfrmSelector.ToAddressFamily(info.Family),
            Source = info.Saddr.ToAddress(info.Family),
            Destination = info.Id.Daddr.ToAddress(info.Family),
            Spi = NetworkOrder.ToHost(info.Id.SpiBigEndian),
            Protocol = info.Id.Proto,
            Mode = (XfrmMode)info.Mode,
            RequestId = info.RequestId,
            Sequence = info.Sequence,
            ReplayWindow = info.ReplayWindow,
            Flags = (XfrmStateFlags)info.Flags,
            Limits = Limits(info.Lifetime),
            Current = Current(info.Current),
            Statistics = new XfrmStatistics(info.Stats.ReplayWindow, info.Stats.Replay, info.Stats.IntegrityFailed),
            Mark = extra.Mark,
            OutputMark = extra.OutputMarkValue is { } v ? new XfrmMark(v, extra.OutputMarkMask ?? uint.MaxValue) : null,
            InterfaceId = extra.InterfaceId,
            AeadAlgorithm = extra.Aead,
            EncryptionAlgorithm = extra.Encryption,
            AuthenticationAlgorithm = extra.AuthenticationTruncated ?? extra.Authentication,
            CompressionAlgorithm = extra.Compression,
            Encapsulation = extra.Encapsulation,
        };
        return XfrmParseStatus.Parsed;
    }

    /// <summary>Parses an XFRM_MSG_GETDEFAULT reply (struct xfrm_userpolicy_default).</summary>
    public static bool TryParseDefaultPolicy(ReadOnlySpan<byte> payload, out XfrmDefaultPolicy policy)
    {
        policy = default;
        if (!MemoryMarshal.TryRead(payload, out XfrmUserPolicyDefaultRaw raw)
            || raw.In > (byte)XfrmDefaultAction.Accept
            || raw.Forward > (byte)XfrmDefaultAction.Accept
            || raw.Out > (byte)XfrmDefaultAction.Accept)
        {
            return false;
        }

        policy = new XfrmDefaultPolicy((XfrmDefaultAction)raw.In, (XfrmDefaultAction)raw.Forward, (XfrmDefaultAction)raw.Out);
        return true;
    }

    /// <summary>The attributes after a fixed header, which netlink pads to 4 bytes.</summary>
    private static ReadOnlySpan<byte> AttributesAfter<T>(ReadOnlySpan<byte> payload)
        where T : unmanaged
    {
        int start = Nl.Align(Unsafe.SizeOf<T>());
        return start >= payload.Length ? default : payload[start..];
    }

    /// <summary>
    /// True when the attribute chain covers the span exactly: <see cref="NetlinkAttributes"/> stops quietly at a broken
    /// length, which would turn a truncated message into a policy with fewer templates; here it is refused instead.
    /// </summary>
    private static bool WellFormed(ReadOnlySpan<byte> attributes)
    {
        while (attributes.Length > 0)
        {
            if (attributes.Length < 4)
            {
                return false;
            }

            int length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            if (length < 4 || length > attributes.Length)
            {
                return false;
            }

            attributes = attributes[Math.Min(Nl.Align(length), attributes.Length)..];
        }

        return true;
    }

    private static List<XfrmTemplate>? ParseTemplates(ReadOnlySpan<byte> value, ushort policyFamily)
    {
        int size = Unsafe.SizeOf<XfrmUserTemplateRaw>();
        if (value.Length % size != 0)
        {
            return null;
        }

        var templates = new List<XfrmTemplate>(value.Length / size);
        for (int offset = 0; offset < value.Length; offset += size)
        {
            var template = XfrmTemplate.From(MemoryMarshal.Read<XfrmUserTemplateRaw>(value[offset..]), policyFamily);
            if (template is null)
            {
                return null;
            }

            templates.Add(template);
        }

        return templates;
    }

    private static bool TryReadMark(ReadOnlySpan<byte> value, out XfrmMark mark)
    {
        bool ok = MemoryMarshal.TryRead(value, out XfrmMarkRaw raw);
        mark = new XfrmMark(raw.Value, raw.Mask);
        return ok;
    }

    private static bool TryReadU32(ReadOnlySpan<byte> value, out uint result) => MemoryMarshal.TryRead(value, out result);

    /// <summary>
    /// The name that starts struct xfrm_algo / _auth / _aead: up to its NUL within the 64-byte field and never past it,
    /// so the key that follows is not touched. Null when the attribute is shorter than the name and key length.
    /// </summary>
    private static string? AlgorithmName(ReadOnlySpan<byte> value)
    {
        if (value.Length < XfrmConstants.AlgorithmNameLength + sizeof(uint))
        {
            return null;
        }

        var field = value[..XfrmConstants.AlgorithmNameLength];
        int end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    private static XfrmLifetimeLimits Limits(in XfrmLifetimeConfigRaw raw) => new(
        raw.SoftByteLimit, raw.HardByteLimit, raw.SoftPacketLimit, raw.HardPacketLimit,
        raw.SoftAddExpiresSeconds, raw.HardAddExpiresSeconds, raw.SoftUseExpiresSeconds, raw.HardUseExpiresSeconds);

    private static XfrmLifetimeCurrent Current(in XfrmLifetimeCurrentRaw raw) =>
        new(raw.Bytes, raw.Packets, raw.AddTime, raw.UseTime);

    /// <summary>The optional attributes of an SA, collected while walking them.</summary>
    private struct StateAttributes
    {
        public XfrmMark? Mark;
        public uint? OutputMarkValue;
        public uint? OutputMarkMask;
        public uint InterfaceId;
        public string? Aead;
        public string? Encryption;
        public string? Authentication;
        public string? AuthenticationTruncated;
        public string? Compression;
        public XfrmEncapsulation? Encapsulation;

        /// <summary>Takes in one attribute; false when it is malformed.</summary>
        public bool Read(NetlinkAttribute a, ushort family)
        {
            switch (a.Type)
            {
                case XfrmConstants.XFRMA_ALG_AEAD:
                    return (Aead = AlgorithmName(a.Value)) is not null;
                case XfrmConstants.XFRMA_ALG_CRYPT:
                    return (Encryption = AlgorithmName(a.Value)) is not null;
                case XfrmConstants.XFRMA_ALG_AUTH:
                    return (Authentication = AlgorithmName(a.Value)) is not null;
                case XfrmConstants.XFRMA_ALG_AUTH_TRUNC:
                    return (AuthenticationTruncated = AlgorithmName(a.Value)) is not null;
                case XfrmConstants.XFRMA_ALG_COMP:
                    return (Compression = AlgorithmName(a.Value)) is not null;
                case XfrmConstants.XFRMA_MARK:
                    bool ok = TryReadMark(a.Value, out var mark);
                    Mark = mark;
                    return ok;
                case XfrmConstants.XFRMA_SET_MARK:
                    ok = TryReadU32(a.Value, out uint value);
                    OutputMarkValue = value;
                    return ok;
                case XfrmConstants.XFRMA_SET_MARK_MASK:
                    ok = TryReadU32(a.Value, out uint mask);
                    OutputMarkMask = mask;
                    return ok;
                case XfrmConstants.XFRMA_IF_ID:
                    return TryReadU32(a.Value, out InterfaceId);
                case XfrmConstants.XFRMA_ENCAP:
                    if (!MemoryMarshal.TryRead(a.Value, out XfrmEncapTemplateRaw encap))
                    {
                        return false;
                    }

                    Encapsulation = new XfrmEncapsulation(
                        encap.Type,
                        NetworkOrder.ToHost(encap.SportBigEndian),
                        NetworkOrder.ToHost(encap.DportBigEndian),
                        encap.OriginalAddress.ToAddress(family));
                    return true;
                default:
                    return true;
            }
        }
    }
}
