using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Branchgate.Platform.Linux.Interop;
using Branchgate.Platform.Linux.Netlink;

namespace Branchgate.Platform.Linux.Tests.Netlink;

/// <summary>The netlink core against the real kernel: raw requests built by hand, so these do not depend on the
/// rtnetlink layer built on top.</summary>
public class NetlinkSocketTests
{
    private const ushort RTM_NEWLINK = 16;
    private const ushort RTM_GETLINK = 18;
    private const ushort RTM_NEWADDR = 20;
    private const ushort IFLA_IFNAME = 3;

    [Fact]
    public void Dump_of_links_sees_each_link_of_the_namespace()
    {
        using var ns = new NetNs("nlcore");
        ns.Exec("ip link add br-a type bridge && ip link add br-b type bridge");
        var names = ns.Run(() =>
        {
            using var socket = new NetlinkSocket(NetlinkProtocol.Route);
            var found = new List<string>();
            Span<byte> buffer = stackalloc byte[64];
            var w = new NetlinkWriter(buffer, RTM_GETLINK, 0);
            w.WriteHeader(new IfInfoMsg());
            socket.Dump(w.Message, "RTM_GETLINK", (type, payload) =>
            {
                Assert.Equal(RTM_NEWLINK, type);
                foreach (var a in new NetlinkAttributes(payload[Marshal.SizeOf<IfInfoMsg>()..]))
                {
                    if (a.Type == IFLA_IFNAME)
                    {
                        found.Add(a.AsString());
                    }
                }
            }, found.Clear);
            return found;
        });
        Assert.Equal(["br-a", "br-b", "lo"], names.Order());
    }

    [Fact]
    public void A_refused_request_names_the_request_and_the_errno()
    {
        using var ns = new NetNs("nlerr");
        var e = ns.Run(() =>
        {
            using var socket = new NetlinkSocket(NetlinkProtocol.Route);
            Span<byte> buffer = stackalloc byte[64];
            var w = new NetlinkWriter(buffer, RTM_NEWADDR, 0x400 /* NLM_F_CREATE */);
            w.WriteHeader(new IfAddrMsg { Family = 2, PrefixLength = 24, Index = 999_999 });
            Span<byte> address = [10, 9, 8, 7];
            w.Attribute(2 /* IFA_LOCAL */, address);
            w.Attribute(1 /* IFA_ADDRESS */, address);
            var message = w.Message.ToArray();
            return Assert.Throws<NetlinkException>(() => socket.Execute(message, "RTM_NEWADDR 10.9.8.7/24 dev #999999"));
        });
        Assert.Equal(Errno.ENODEV, e.Errno);
        Assert.StartsWith("RTM_NEWADDR 10.9.8.7/24 dev #999999: No such device", e.Message);
    }

    [Fact]
    public void Attribute_walk_stops_on_malformed_lengths_without_throwing()
    {
        byte[] data = [8, 0, 1, 0, 1, 2, 3, 4, /* bad: */ 200, 0, 2, 0, 9, 9];
        var seen = new List<ushort>();
        foreach (var a in new NetlinkAttributes(data))
        {
            seen.Add(a.Type);
            Assert.Equal(0x04030201u, a.U32);
        }

        Assert.Equal([1], seen);
        Assert.Equal(0x04030201u, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4)));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IfInfoMsg
    {
        public byte Family;
        public byte Pad;
        public ushort Type;
        public int Index;
        public uint Flags;
        public uint Change;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IfAddrMsg
    {
        public byte Family;
        public byte PrefixLength;
        public byte Flags;
        public byte Scope;
        public int Index;
    }
}
