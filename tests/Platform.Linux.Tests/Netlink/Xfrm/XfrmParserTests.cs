using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Branchgate.Platform.Linux.Netlink.Xfrm;
using static Branchgate.Platform.Linux.Tests.Netlink.Xfrm.XfrmFixture;

namespace Branchgate.Platform.Linux.Tests.Netlink.Xfrm;

/// <summary>The pure parsers against byte fixtures laid out from linux/xfrm.h, and against hostile bytes.</summary>
public class XfrmParserTests
{
    private static readonly byte[] EncryptionKey = Convert.FromHexString("5EC2E7C0FFEE5EC2E7C0FFEE5EC2E7C0");
    private static readonly byte[] AuthenticationKey =
        Convert.FromHexString("A17BEEF0A17BEEF0A17BEEF0A17BEEF0A17BEEF0A17BEEF0A17BEEF0A17BEEF0");

    private static readonly ulong[] Limits = [1, 2, 3, 4, 5, 6, 7, ulong.MaxValue];
    private static readonly ulong[] Current = [10, 11, 1_700_000_000, 0];

    internal static byte[] FullPolicy() => Concat(
        PolicyInfo(s => Selector(s, IPAddress.Parse("10.1.2.3"), 16, IPAddress.Parse("10.2.0.0"), 24, proto: 6,
                sport: 1234, sportMask: 0xffff, dport: 443, dportMask: 0xffff, ifindex: 3),
            dir: 1, action: 0, priority: 100, index: 0x1009, flags: 3, limits: Limits, current: Current),
        Attribute(XFRMA_TMPL, Concat(
            Template(IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.2"), reqid: 5, spi: 0x01020304),
            Template(IPAddress.Parse("2001:db8::1"), IPAddress.Parse("2001:db8::2"), reqid: 6, mode: 0, optional: true))),
        Attribute(XFRMA_POLICY_TYPE, [1, 0, 0, 0, 0, 0]),
        Attribute(XFRMA_MARK, Mark(0x10, 0xff)),
        Attribute(XFRMA_IF_ID, U32(7)));

    internal static byte[] FullState() => Concat(
        SaInfo(s => Selector(s, IPAddress.Parse("fd00::5"), 64, IPAddress.Parse("fd01::"), 48, proto: 17,
                dport: 53, dportMask: 0xffff),
            src: IPAddress.Parse("2001:db8::1"), dst: IPAddress.Parse("2001:db8::2"), spi: 0xc0ffee01, mode: 1,
            reqid: 9, seq: 77, replayWindow: 32, flags: 0x81, limits: Limits, current: Current, stats: [32, 2, 1]),
        Attribute(XFRMA_ALG_AUTH, Algorithm("hmac(sha256)", AuthenticationKey)),
        Attribute(XFRMA_ALG_AUTH_TRUNC, Algorithm("hmac(sha256)", AuthenticationKey, extra: 128)),
        Attribute(XFRMA_ALG_CRYPT, Algorithm("cbc(aes)", EncryptionKey)),
        Attribute(XFRMA_ENCAP, Encap(2, 4500, 4501, IPAddress.Parse("2001:db8::99"))),
        Attribute(XFRMA_MARK, Mark(0x20, 0xf0)),
        Attribute(XFRMA_SET_MARK, U32(0x300)),
        Attribute(XFRMA_SET_MARK_MASK, U32(0xf00)),
        Attribute(XFRMA_IF_ID, U32(9)));

    [Fact]
    public void Policy_fixture_parses_field_by_field()
    {
        Assert.Equal(XfrmParseStatus.Parsed, XfrmParser.ParsePolicy(FullPolicy(), out var p));
        Assert.NotNull(p);
        var s = p.Selector;
        Assert.Equal(AddressFamily.InterNetwork, s.Family);
        Assert.Equal(IPAddress.Parse("10.1.2.3"), s.Source);
        Assert.Equal(16, s.SourcePrefixLength);
        Assert.Equal(IPNetwork.Parse("10.1.0.0/16"), s.SourceNetwork);
        Assert.Equal(IPNetwork.Parse("10.2.0.0/24"), s.DestinationNetwork);
        Assert.Equal(6, s.Protocol);
        Assert.Equal((1234, 0xffff, 443, 0xffff), (s.SourcePort, s.SourcePortMask, s.DestinationPort, s.DestinationPortMask));
        Assert.Equal(3, s.InterfaceIndex);
        Assert.Equal(XfrmDirection.Out, p.Direction);
        Assert.Equal(XfrmPolicyAction.Allow, p.Action);
        Assert.Equal(100u, p.Priority);
        Assert.Equal(0x1009u, p.Index);
        Assert.Equal(XfrmPolicyFlags.LocalOk | XfrmPolicyFlags.Icmp, p.Flags);
        Assert.Equal(XfrmPolicyType.Sub, p.Type);
        Assert.Equal(new XfrmMark(0x10, 0xff), p.Mark);
        Assert.Equal(7u, p.InterfaceId);
        Assert.Equal(new XfrmLifetimeLimits(1, 2, 3, 4, 5, 6, 7, XfrmLifetimeLimits.Unlimited), p.Limits);
        Assert.Equal(new XfrmLifetimeCurrent(10, 11, 1_700_000_000, 0), p.Current);

        Assert.Equal(2, p.Templates.Count);
        var t = p.Templates[0];
        Assert.Equal((AddressFamily.InterNetwork, "192.0.2.1", "192.0.2.2"), (t.Family, t.Source.ToString(), t.Destination.ToString()));
        Assert.Equal((0x01020304u, (byte)50, XfrmMode.Tunnel, 5u, false), (t.Spi, t.Protocol, t.Mode, t.RequestId, t.Optional));
        Assert.Equal((0xffffffffu, 0xfffffffeu, 0xfffffffdu), (t.AuthenticationAlgorithms, t.EncryptionAlgorithms, t.CompressionAlgorithms));
        var t6 = p.Templates[1];
        Assert.Equal((AddressFamily.InterNetworkV6, "2001:db8::1", "2001:db8::2"), (t6.Family, t6.Source.ToString(), t6.Destination.ToString()));
        Assert.Equal((XfrmMode.Transport, 6u, true), (t6.Mode, t6.RequestId, t6.Optional));
    }

    [Fact]
    public void Policy_without_attributes_is_main_unmarked_and_without_templates()
    {
        var bytes = PolicyInfo(s => Selector(s, IPAddress.Parse("fd00::"), 8, IPAddress.Parse("::"), 0), dir: 2, action: 1);
        Assert.Equal(XfrmParseStatus.Parsed, XfrmParser.ParsePolicy(bytes, out var p));
        Assert.Equal((XfrmDirection.Forward, XfrmPolicyAction.Block, XfrmPolicyType.Main), (p!.Direction, p.Action, p.Type));
        Assert.Null(p.Mark);
        Assert.Equal(0u, p.InterfaceId);
        Assert.Empty(p.Templates);
        Assert.Equal(IPNetwork.Parse("fd00::/8"), p.Selector.SourceNetwork);
        Assert.Equal(IPNetwork.Parse("::/0"), p.Selector.DestinationNetwork);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Socket_policies_are_skipped(byte dir)
    {
        var bytes = PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0), dir);
        Assert.Equal(XfrmParseStatus.Skipped, XfrmParser.ParsePolicy(bytes, out var p));
        Assert.Null(p);
    }

    [Fact]
    public void State_fixture_parses_names_but_no_key_reaches_the_result()
    {
        Assert.Equal(XfrmParseStatus.Parsed, XfrmParser.ParseState(FullState(), out var st));
        Assert.NotNull(st);
        Assert.Equal(AddressFamily.InterNetworkV6, st.Family);
        Assert.Equal((IPAddress.Parse("2001:db8::1"), IPAddress.Parse("2001:db8::2")), (st.Source, st.Destination));
        Assert.Equal((0xc0ffee01u, (byte)50, XfrmMode.Tunnel, 9u, 77u), (st.Spi, st.Protocol, st.Mode, st.RequestId, st.Sequence));
        Assert.Equal((byte)32, st.ReplayWindow);
        Assert.Equal(XfrmStateFlags.NoEcn | XfrmStateFlags.ExtendedSequenceNumbers, st.Flags);
        Assert.Equal(new XfrmStatistics(32, 2, 1), st.Statistics);
        Assert.Equal(new XfrmLifetimeLimits(1, 2, 3, 4, 5, 6, 7, XfrmLifetimeLimits.Unlimited), st.Limits);
        Assert.Equal(new XfrmLifetimeCurrent(10, 11, 1_700_000_000, 0), st.Current);
        Assert.Equal(IPNetwork.Parse("fd00::/64"), st.Selector.SourceNetwork);
        Assert.Equal((17, 53, 0xffff), (st.Selector.Protocol, st.Selector.DestinationPort, st.Selector.DestinationPortMask));
        Assert.Equal(new XfrmMark(0x20, 0xf0), st.Mark);
        Assert.Equal(new XfrmMark(0x300, 0xf00), st.OutputMark);
        Assert.Equal(9u, st.InterfaceId);
        Assert.Equal("cbc(aes)", st.EncryptionAlgorithm);
        Assert.Equal("hmac(sha256)", st.AuthenticationAlgorithm);
        Assert.Null(st.AeadAlgorithm);
        Assert.Null(st.CompressionAlgorithm);
        Assert.Equal(new XfrmEncapsulation(2, 4500, 4501, IPAddress.Parse("2001:db8::99")), st.Encapsulation);

        AssertNoKeyMaterial(st, EncryptionKey, AuthenticationKey);
    }

    [Fact]
    public void Aead_name_is_read_and_a_name_without_nul_stops_at_64_bytes_before_the_key()
    {
        var longName = new string('n', 64);
        var bytes = Concat(
            SaInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0, family: 0),
                IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.2"), spi: 0x100),
            Attribute(XFRMA_ALG_AEAD, Algorithm("rfc4106(gcm(aes))", EncryptionKey, extra: 128)),
            Attribute(XFRMA_ALG_COMP, Algorithm(longName, AuthenticationKey)));
        Assert.Equal(XfrmParseStatus.Parsed, XfrmParser.ParseState(bytes, out var st));
        Assert.Equal("rfc4106(gcm(aes))", st!.AeadAlgorithm);
        Assert.Equal(longName, st.CompressionAlgorithm);
        Assert.Equal(AddressFamily.Unspecified, st.Selector.Family);
        Assert.Equal(IPAddress.Any, st.Selector.Source);
        Assert.Null(st.Mark);
        Assert.Null(st.OutputMark);
        Assert.Null(st.Encapsulation);
        AssertNoKeyMaterial(st, EncryptionKey, AuthenticationKey);
    }

    [Fact]
    public void Default_policy_reply_parses()
    {
        Assert.True(XfrmParser.TryParseDefaultPolicy([2, 2, 1, 0], out var d));
        Assert.Equal(new XfrmDefaultPolicy(XfrmDefaultAction.Accept, XfrmDefaultAction.Accept, XfrmDefaultAction.Block), d);
        Assert.False(XfrmParser.TryParseDefaultPolicy([2, 2], out _));
        Assert.False(XfrmParser.TryParseDefaultPolicy([2, 9, 2], out _));
    }

    public static TheoryData<string, byte[]> MalformedPolicies() => new()
    {
        { "empty", [] },
        { "direction 6", PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0), dir: 6) },
        { "action 2", PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0), dir: 1, action: 2) },
        { "family 0", PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0, family: 0), dir: 1) },
        { "family 7", PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0, family: 7), dir: 1) },
        { "IPv4 prefix 33", PolicyInfo(s => Selector(s, IPAddress.Any, 33, IPAddress.Any, 0), dir: 1) },
        { "IPv6 prefix 129", PolicyInfo(s => Selector(s, IPAddress.IPv6Any, 0, IPAddress.IPv6Any, 129), dir: 0) },
        {
            "template array not a multiple of 64", Concat(PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0), dir: 1),
                Attribute(XFRMA_TMPL, Template(IPAddress.Any, IPAddress.Any, 1).AsSpan(0, 60)))
        },
        {
            "template mode 5", Concat(PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0), dir: 1),
                Attribute(XFRMA_TMPL, Template(IPAddress.Any, IPAddress.Any, 1, mode: 5)))
        },
        {
            "template family 3", Concat(PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0), dir: 1),
                Attribute(XFRMA_TMPL, Template(IPAddress.Any, IPAddress.Any, 1, family: 3)))
        },
        {
            "short mark", Concat(PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0), dir: 1),
                Attribute(XFRMA_MARK, U32(1)))
        },
        {
            "short if_id", Concat(PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0), dir: 1),
                Attribute(XFRMA_IF_ID, [1, 2]))
        },
        {
            "policy type 2", Concat(PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0), dir: 1),
                Attribute(XFRMA_POLICY_TYPE, [2, 0, 0, 0, 0, 0]))
        },
        {
            "attribute running past the end", Concat(PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0), dir: 1),
                [200, 0, 21, 0, 1, 2, 3, 4])
        },
        {
            "attribute length below its header", Concat(PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0), dir: 1),
                [2, 0, 21, 0])
        },
        { "stray bytes after the header", Concat(PolicyInfo(s => Selector(s, IPAddress.Any, 0, IPAddress.Any, 0), dir: 1), [1, 2]) },
    };

    [Theory]
    [MemberData(nameof(MalformedPolicies))]
    public void Malformed_policies_are_refused_without_an_exception(string why, byte[] bytes)
    {
        Assert.True(XfrmParser.ParsePolicy(bytes, out var p) == XfrmParseStatus.Malformed, why);
        Assert.Null(p);
    }

    public static TheoryData<string, byte[]> MalformedStates() => new()
    {
        { "empty", [] },
        { "outer family 0", State(b => b[212] = 0) },
        { "mode 7", State(b => b[214] = 7) },
        { "selector prefix 200", State(b => b[42] = 200) },
        { "short algorithm", Concat(State(_ => { }), Attribute(XFRMA_ALG_CRYPT, new byte[60])) },
        { "short encap", Concat(State(_ => { }), Attribute(XFRMA_ENCAP, new byte[20])) },
        { "short output mark", Concat(State(_ => { }), Attribute(XFRMA_SET_MARK, [1])) },
        { "truncated attribute chain", FullState()[..^3] },
    };

    [Theory]
    [MemberData(nameof(MalformedStates))]
    public void Malformed_states_are_refused_without_an_exception(string why, byte[] bytes)
    {
        Assert.True(XfrmParser.ParseState(bytes, out var st) == XfrmParseStatus.Malformed, why);
        Assert.Null(st);
    }

    [Fact]
    public void Every_truncation_of_a_policy_or_state_is_parsed_shorter_or_refused_never_thrown()
    {
        var policy = FullPolicy();
        for (int length = 0; length < policy.Length; length++)
        {
            var status = XfrmParser.ParsePolicy(policy.AsSpan(0, length), out var p);
            if (length < PolicyInfoSize)
            {
                Assert.Equal(XfrmParseStatus.Malformed, status);
            }
            else if (status == XfrmParseStatus.Parsed)
            {
                // Only a cut exactly between attributes still parses: it loses whole attributes, never part of one.
                Assert.True(p!.Templates.Count is 0 or 2);
            }
        }

        var state = FullState();
        for (int length = 0; length < state.Length; length++)
        {
            var status = XfrmParser.ParseState(state.AsSpan(0, length), out var st);
            Assert.True(length >= SaInfoSize || status == XfrmParseStatus.Malformed);
            if (st is not null)
            {
                AssertNoKeyMaterial(st, EncryptionKey, AuthenticationKey);
            }
        }
    }

    [Fact]
    public void Random_bytes_and_random_corruptions_never_throw()
    {
        var random = new Random(20240603);
        byte[][] seeds = [FullPolicy(), FullState()];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        for (int i = 0; i < 20_000 && DateTime.UtcNow < deadline; i++)
        {
            byte[] bytes;
            if (i % 2 == 0)
            {
                bytes = new byte[random.Next(0, 600)];
                random.NextBytes(bytes);
            }
            else
            {
                bytes = (byte[])seeds[random.Next(seeds.Length)].Clone();
                for (int flips = random.Next(1, 8); flips > 0; flips--)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }

                bytes = bytes[..random.Next(bytes.Length + 1)];
            }

            XfrmParser.ParsePolicy(bytes, out var p);
            XfrmParser.ParseState(bytes, out var st);
            _ = XfrmParser.TryParseDefaultPolicy(bytes, out _);

            // What does parse must be usable: the derived networks must not throw either.
            _ = p?.Selector.SourceNetwork;
            _ = p?.Selector.DestinationNetwork;
            _ = st?.Selector.SourceNetwork;
            _ = st?.Selector.DestinationNetwork;
        }
    }

    private static byte[] State(Action<byte[]> corrupt)
    {
        var b = SaInfo(s => Selector(s, IPAddress.Parse("10.0.0.1"), 32, IPAddress.Parse("10.0.0.2"), 32),
            IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.2"), spi: 0x100);
        corrupt(b);
        return b;
    }

    /// <summary>
    /// No key appears in the record's text, in any string it holds, or in any byte-carrying property: the types have none.
    /// </summary>
    internal static void AssertNoKeyMaterial(XfrmState state, params byte[][] keys)
    {
        var text = state.ToString();
        foreach (var key in keys)
        {
            Assert.DoesNotContain(Convert.ToHexString(key), text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Convert.ToHexString(key[..4]), text, StringComparison.OrdinalIgnoreCase);
            foreach (var name in new[] { state.AeadAlgorithm, state.EncryptionAlgorithm, state.AuthenticationAlgorithm, state.CompressionAlgorithm })
            {
                Assert.True(name is null || !name.Contains(System.Text.Encoding.Latin1.GetString(key[..4]), StringComparison.Ordinal));
            }
        }

        foreach (var type in new[] { typeof(XfrmState), typeof(XfrmSelector), typeof(XfrmEncapsulation), typeof(XfrmStatistics) })
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                Assert.False(
                    property.PropertyType == typeof(byte[]) || property.PropertyType.Name.Contains("Memory", StringComparison.Ordinal),
                    $"{type.Name}.{property.Name} could carry key bytes");
            }
        }
    }
}
