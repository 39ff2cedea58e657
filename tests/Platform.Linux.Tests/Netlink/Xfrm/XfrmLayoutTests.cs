using System.Runtime.CompilerServices;
using Branchgate.Platform.Linux.Netlink.Xfrm;

namespace Branchgate.Platform.Linux.Tests.Netlink.Xfrm;

/// <summary>The managed mirrors of linux/xfrm.h have the C sizes and field offsets (gcc, x86-64 and arm64).</summary>
public class XfrmLayoutTests
{
    [Fact]
    public void Struct_sizes_match_the_kernel_header()
    {
        Assert.Equal(16, Unsafe.SizeOf<XfrmAddressRaw>());
        Assert.Equal(56, Unsafe.SizeOf<XfrmSelectorRaw>());
        Assert.Equal(24, Unsafe.SizeOf<XfrmIdRaw>());
        Assert.Equal(64, Unsafe.SizeOf<XfrmLifetimeConfigRaw>());
        Assert.Equal(32, Unsafe.SizeOf<XfrmLifetimeCurrentRaw>());
        Assert.Equal(168, Unsafe.SizeOf<XfrmUserPolicyInfoRaw>());
        Assert.Equal(64, Unsafe.SizeOf<XfrmUserTemplateRaw>());
        Assert.Equal(12, Unsafe.SizeOf<XfrmStatsRaw>());
        Assert.Equal(224, Unsafe.SizeOf<XfrmUserSaInfoRaw>());
        Assert.Equal(8, Unsafe.SizeOf<XfrmMarkRaw>());
        Assert.Equal(24, Unsafe.SizeOf<XfrmEncapTemplateRaw>());
        Assert.Equal(6, Unsafe.SizeOf<XfrmUserPolicyTypeRaw>());
        Assert.Equal(3, Unsafe.SizeOf<XfrmUserPolicyDefaultRaw>());
    }

    [Fact]
    public void Selector_field_offsets_match_the_kernel_header()
    {
        var s = default(XfrmSelectorRaw);
        Assert.Equal(0, Offset(ref s, ref s.Daddr));
        Assert.Equal(16, Offset(ref s, ref s.Saddr));
        Assert.Equal(32, Offset(ref s, ref s.DportBigEndian));
        Assert.Equal(34, Offset(ref s, ref s.DportMaskBigEndian));
        Assert.Equal(36, Offset(ref s, ref s.SportBigEndian));
        Assert.Equal(38, Offset(ref s, ref s.SportMaskBigEndian));
        Assert.Equal(40, Offset(ref s, ref s.Family));
        Assert.Equal(42, Offset(ref s, ref s.PrefixLengthDestination));
        Assert.Equal(43, Offset(ref s, ref s.PrefixLengthSource));
        Assert.Equal(44, Offset(ref s, ref s.Proto));
        Assert.Equal(48, Offset(ref s, ref s.IfIndex));
        Assert.Equal(52, Offset(ref s, ref s.User));
    }

    [Fact]
    public void Policy_and_template_field_offsets_match_the_kernel_header()
    {
        var p = default(XfrmUserPolicyInfoRaw);
        Assert.Equal(56, Offset(ref p, ref p.Lifetime));
        Assert.Equal(120, Offset(ref p, ref p.Current));
        Assert.Equal(152, Offset(ref p, ref p.Priority));
        Assert.Equal(156, Offset(ref p, ref p.Index));
        Assert.Equal(160, Offset(ref p, ref p.Direction));
        Assert.Equal(161, Offset(ref p, ref p.Action));
        Assert.Equal(162, Offset(ref p, ref p.Flags));
        Assert.Equal(163, Offset(ref p, ref p.Share));

        var t = default(XfrmUserTemplateRaw);
        Assert.Equal(16, Offset(ref t, ref t.Id.SpiBigEndian));
        Assert.Equal(20, Offset(ref t, ref t.Id.Proto));
        Assert.Equal(24, Offset(ref t, ref t.Family));
        Assert.Equal(28, Offset(ref t, ref t.Saddr));
        Assert.Equal(44, Offset(ref t, ref t.RequestId));
        Assert.Equal(48, Offset(ref t, ref t.Mode));
        Assert.Equal(49, Offset(ref t, ref t.Share));
        Assert.Equal(50, Offset(ref t, ref t.Optional));
        Assert.Equal(52, Offset(ref t, ref t.AuthAlgorithms));
        Assert.Equal(56, Offset(ref t, ref t.EncryptionAlgorithms));
        Assert.Equal(60, Offset(ref t, ref t.CompressionAlgorithms));
    }

    [Fact]
    public void State_field_offsets_match_the_kernel_header()
    {
        var s = default(XfrmUserSaInfoRaw);
        Assert.Equal(56, Offset(ref s, ref s.Id));
        Assert.Equal(72, Offset(ref s, ref s.Id.SpiBigEndian));
        Assert.Equal(76, Offset(ref s, ref s.Id.Proto));
        Assert.Equal(80, Offset(ref s, ref s.Saddr));
        Assert.Equal(96, Offset(ref s, ref s.Lifetime));
        Assert.Equal(160, Offset(ref s, ref s.Current));
        Assert.Equal(192, Offset(ref s, ref s.Stats));
        Assert.Equal(204, Offset(ref s, ref s.Sequence));
        Assert.Equal(208, Offset(ref s, ref s.RequestId));
        Assert.Equal(212, Offset(ref s, ref s.Family));
        Assert.Equal(214, Offset(ref s, ref s.Mode));
        Assert.Equal(215, Offset(ref s, ref s.ReplayWindow));
        Assert.Equal(216, Offset(ref s, ref s.Flags));

        var e = default(XfrmEncapTemplateRaw);
        Assert.Equal(2, Offset(ref e, ref e.SportBigEndian));
        Assert.Equal(4, Offset(ref e, ref e.DportBigEndian));
        Assert.Equal(8, Offset(ref e, ref e.OriginalAddress));
    }

    private static int Offset<TStruct, TField>(ref TStruct s, ref TField field) =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TStruct, byte>(ref s), ref Unsafe.As<TField, byte>(ref field));
}
