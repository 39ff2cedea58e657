using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Netlink.Route;

public sealed partial class RouteNetlink
{
    /// <summary>Every link of the namespace, in index order.</summary>
    public IReadOnlyList<LinkInfo> ListLinks()
    {
        Span<byte> buffer = stackalloc byte[64];
        var request = new NetlinkWriter(buffer, Rtnl.RTM_GETLINK, 0);
        request.WriteHeader(new IfInfoMsg { Family = Rtnl.AF_UNSPEC });
        var links = new List<LinkInfo>();
        _socket.Dump(request.Message, "RTM_GETLINK (list links)", (type, payload) =>
        {
            if (type == Rtnl.RTM_NEWLINK && TryParseLink(payload, out var link))
            {
                links.Add(link);
            }
        }, links.Clear);
        links.Sort((a, b) => a.Index.CompareTo(b.Index));
        return links;
    }

    /// <summary>The link named <paramref name="name"/>, or null when there is none.</summary>
    /// <exception cref="ArgumentException">The name is not a valid interface name (e.g. longer than 15 bytes).</exception>
    public LinkInfo? FindLink(string name)
    {
        ValidateLinkName(name, nameof(name));
        return ListLinks().FirstOrDefault(l => l.Name == name);
    }

    /// <summary>The link named <paramref name="name"/>.</summary>
    /// <exception cref="NetlinkException">No such link: "link 'nosuch0': No such device" (ENODEV).</exception>
    public LinkInfo GetLink(string name) =>
        FindLink(name) ?? throw new NetlinkException($"link '{name}'", Errno.ENODEV, null);

    /// <summary>The link with index <paramref name="index"/>.</summary>
    /// <exception cref="NetlinkException">No such link: "link #42: No such device" (ENODEV).</exception>
    public LinkInfo GetLink(int index) =>
        ListLinks().FirstOrDefault(l => l.Index == index) ??
        throw new NetlinkException($"link #{index}", Errno.ENODEV, null);

    /// <summary>The index of the link named <paramref name="name"/> (throws like <see cref="GetLink(string)"/>).</summary>
    public int GetLinkIndex(string name) => GetLink(name).Index;

    /// <summary>The name of the link with index <paramref name="index"/> (throws like <see cref="GetLink(int)"/>).</summary>
    public string GetLinkName(int index) => GetLink(index).Name;

    /// <summary>Sets a link administratively up or down (`ip link set NAME up|down`).</summary>
    /// <exception cref="NetlinkException">"link 'nosuch0' set up: No such device" and other kernel refusals.</exception>
    public void SetLinkUp(string name, bool up)
    {
        ValidateLinkName(name, nameof(name));
        Span<byte> buffer = stackalloc byte[Rtnl.RequestBufferLength];
        var request = new NetlinkWriter(buffer, Rtnl.RTM_SETLINK, 0);
        request.WriteHeader(new IfInfoMsg { Family = Rtnl.AF_UNSPEC, Flags = up ? Rtnl.IFF_UP : 0, Change = Rtnl.IFF_UP });
        request.AttributeString(Rtnl.IFLA_IFNAME, name);
        Execute(request.Message, $"link '{name}' set {(up ? "up" : "down")}");
    }

    /// <summary>Sets a link's MTU (`ip link set NAME mtu MTU`); the kernel refuses values outside the device's range.</summary>
    public void SetLinkMtu(string name, int mtu)
    {
        ValidateLinkName(name, nameof(name));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mtu);
        Span<byte> buffer = stackalloc byte[Rtnl.RequestBufferLength];
        var request = new NetlinkWriter(buffer, Rtnl.RTM_SETLINK, 0);
        request.WriteHeader(new IfInfoMsg { Family = Rtnl.AF_UNSPEC });
        request.AttributeString(Rtnl.IFLA_IFNAME, name);
        request.AttributeU32(Rtnl.IFLA_MTU, (uint)mtu);
        Execute(request.Message, $"link '{name}' set mtu {mtu}");
    }

    /// <summary>Index -> name of every link, for naming the interfaces in address and route dumps.</summary>
    private Dictionary<int, string> LinkNames() => ListLinks().ToDictionary(l => l.Index, l => l.Name);

    /// <summary>Resolves a link name for a request whose description names the link ("... dev nosuch0"); an unknown
    /// name fails with ENODEV and that description, before the request is sent.</summary>
    private int ResolveLink(string name, string description) =>
        ListLinks().FirstOrDefault(l => l.Name == name)?.Index ??
        throw new NetlinkException(description, Errno.ENODEV, null);

    internal static bool TryParseLink(ReadOnlySpan<byte> payload, out LinkInfo link)
    {
        link = null!;
        if (!TryReadHeader<IfInfoMsg>(payload, out var header, out var attributes))
        {
            return false;
        }

        string? name = null;
        string? kind = null;
        int mtu = 0;
        foreach (var attribute in attributes)
        {
            switch (attribute.Type)
            {
                case Rtnl.IFLA_IFNAME:
                    name = attribute.AsString();
                    break;
                case Rtnl.IFLA_MTU:
                    mtu = (int)attribute.U32;
                    break;
                case Rtnl.IFLA_LINKINFO:
                    foreach (var info in attribute.Nested)
                    {
                        if (info.Type == Rtnl.IFLA_INFO_KIND)
                        {
                            kind = info.AsString();
                        }
                    }

                    break;
            }
        }

        if (name is null)
        {
            return false;
        }

        link = new LinkInfo(header.Index, name, (LinkFlags)header.Flags, mtu, kind);
        return true;
    }
}
