using System.Net;
using System.Net.Sockets;
using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Netlink.Route;

public sealed partial class RouteNetlink
{
    /// <summary>
    /// Adds an address to a link (`ip addr add 10.1.0.1/24 dev br0`). For IPv6, <see cref="AddressFlags.NoDad"/> makes
    /// the address usable at once (no duplicate address detection); <see cref="AddressFlags.NoPrefixRoute"/> leaves the
    /// on-link prefix route to the caller.
    /// </summary>
    /// <exception cref="NetlinkException">EEXIST when the link already has it; ENODEV for an unknown link.</exception>
    public void AddAddress(string link, InterfaceAddress address, AddressFlags flags = AddressFlags.None)
    {
        ValidateLinkName(link, nameof(link));
        string description = $"RTM_NEWADDR {address} dev {link}";
        int index = ResolveLink(link, description);
        Span<byte> buffer = stackalloc byte[Rtnl.RequestBufferLength];
        var request = new NetlinkWriter(buffer, Rtnl.RTM_NEWADDR, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL);
        WriteAddress(ref request, index, address, peer: null, flags);
        Execute(request.Message, description);
    }

    /// <summary>Removes an address (same address and prefix length) from a link (`ip addr del 10.1.0.1/24 dev br0`).</summary>
    /// <exception cref="NetlinkException">EADDRNOTAVAIL when the link has no such address; ENODEV for an unknown link.</exception>
    public void DeleteAddress(string link, InterfaceAddress address)
    {
        ValidateLinkName(link, nameof(link));
        string description = $"RTM_DELADDR {address} dev {link}";
        DeleteAddress(ResolveLink(link, description), address, peer: null, description);
    }

    /// <summary>Removes an address as listed by <see cref="ListAddresses"/> (point-to-point peers included).</summary>
    public void DeleteAddress(AddressInfo address)
    {
        ArgumentNullException.ThrowIfNull(address);
        DeleteAddress(address.LinkIndex, address.Address, address.Peer, $"RTM_DELADDR {address.Address} dev {address.Link}");
    }

    /// <summary>
    /// The addresses of every link, or of <paramref name="link"/> only, of one family or (Unspecified) both, ordered by
    /// link index then as the kernel lists them (IPv4 before IPv6).
    /// </summary>
    /// <exception cref="NetlinkException">"link 'nosuch0': No such device" when <paramref name="link"/> is unknown.</exception>
    public IReadOnlyList<AddressInfo> ListAddresses(string? link = null, AddressFamily family = AddressFamily.Unspecified)
    {
        byte familyByte = FamilyByte(family, nameof(family));
        var names = LinkNames();
        int only = 0;
        if (link is not null)
        {
            ValidateLinkName(link, nameof(link));
            only = names.FirstOrDefault(n => n.Value == link).Key;
            if (only == 0)
            {
                throw new NetlinkException($"link '{link}'", Errno.ENODEV, null);
            }
        }

        Span<byte> buffer = stackalloc byte[64];
        var request = new NetlinkWriter(buffer, Rtnl.RTM_GETADDR, 0);
        request.WriteHeader(new IfAddrMsg { Family = familyByte });
        var addresses = new List<AddressInfo>();
        _socket.Dump(request.Message, "RTM_GETADDR (list addresses)", (type, payload) =>
        {
            if (type == Rtnl.RTM_NEWADDR && TryParseAddress(payload, names, out var address) &&
                (only == 0 || address.LinkIndex == only) &&
                (family == AddressFamily.Unspecified || address.Address.Family == family))
            {
                addresses.Add(address);
            }
        }, addresses.Clear);
        return [.. addresses.OrderBy(a => a.LinkIndex)];
    }

    private void DeleteAddress(int index, InterfaceAddress address, IPAddress? peer, string description)
    {
        Span<byte> buffer = stackalloc byte[Rtnl.RequestBufferLength];
        var request = new NetlinkWriter(buffer, Rtnl.RTM_DELADDR, 0);
        WriteAddress(ref request, index, address, peer, AddressFlags.None);
        Execute(request.Message, description, Errno.EADDRNOTAVAIL, "the link has no such address");
    }

    /// <summary>
    /// ifaddrmsg and attributes. IFA_LOCAL is the interface's own address, IFA_ADDRESS the peer's on point-to-point
    /// links and otherwise the same address; IPv4 and IPv6 both accept that pair (the kernel's IPv6 side takes
    /// IFA_LOCAL first). Sending IFA_ADDRESS also makes an IPv4 delete match the prefix length, not just the address.
    /// </summary>
    private static void WriteAddress(ref NetlinkWriter request, int index, InterfaceAddress address, IPAddress? peer, AddressFlags flags)
    {
        request.WriteHeader(new IfAddrMsg
        {
            Family = FamilyByte(address.Family, nameof(address)),
            PrefixLength = (byte)address.PrefixLength,
            Flags = (byte)((uint)flags & 0xff),
            Index = index,
        });
        request.AttributeAddress(Rtnl.IFA_LOCAL, address.Address);
        request.AttributeAddress(Rtnl.IFA_ADDRESS, peer ?? address.Address);
        if (flags != AddressFlags.None)
        {
            request.AttributeU32(Rtnl.IFA_FLAGS, (uint)flags);
        }
    }

    internal static bool TryParseAddress(ReadOnlySpan<byte> payload, Dictionary<int, string> names, out AddressInfo info)
    {
        info = null!;
        if (!TryReadHeader<IfAddrMsg>(payload, out var header, out var attributes) ||
            FamilyOf(header.Family) is null || !names.TryGetValue(header.Index, out string? link))
        {
            return false;
        }

        IPAddress? local = null, address = null, broadcast = null;
        string? label = null;
        uint flags = header.Flags;
        foreach (var attribute in attributes)
        {
            switch (attribute.Type)
            {
                case Rtnl.IFA_LOCAL:
                    local = attribute.AsAddress();
                    break;
                case Rtnl.IFA_ADDRESS:
                    address = attribute.AsAddress();
                    break;
                case Rtnl.IFA_BROADCAST:
                    broadcast = attribute.AsAddress();
                    break;
                case Rtnl.IFA_LABEL:
                    label = attribute.AsString();
                    break;
                case Rtnl.IFA_FLAGS:
                    flags = attribute.U32;
                    break;
            }
        }

        var own = local ?? address;
        if (own is null || IPPrefix.Validate(own, header.PrefixLength, requireNoHostBits: false) is not null)
        {
            return false;
        }

        var peer = local is not null && address is not null && !address.Equals(local) ? address : null;
        info = new AddressInfo(header.Index, link, new InterfaceAddress(own, header.PrefixLength), peer, broadcast,
            (RouteScope)header.Scope, (AddressFlags)flags, label);
        return true;
    }
}
