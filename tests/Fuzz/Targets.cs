using System.Text;
using System.Text.Json;
using Branchgate.Appliance.Api;
using Branchgate.Appliance.Config;
using Branchgate.Appliance.Users;
using Branchgate.Platform.Linux.Netlink;
using Branchgate.Platform.Linux.Netlink.Route;
using Branchgate.Platform.Linux.Netlink.Xfrm;
using Branchgate.Protocol;
using Branchgate.Uapi;

namespace Branchgate.Fuzz;

/// <summary>
/// The fuzz targets. Each takes one input and must return normally whatever the input is: an exception escaping a
/// target is a finding (the product's parsers return errors, they do not throw). Exceptions the product itself
/// catches at that boundary (JsonException in the management API) are caught here too, and only those.
/// </summary>
internal static class Targets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["messages"] = Messages,
        ["inbound"] = Inbound,
        ["uapi"] = Uapi,
        ["wgquick"] = WgQuick,
        ["netlink"] = Netlink,
        ["apijson"] = ApiJson,
    };

    /// <summary>The stateless message and inner-packet parsers.</summary>
    private static void Messages(byte[] data)
    {
        var type = Protocol.Messages.Classify(data, out _);
        if (type is MessageType.Transport or MessageType.Initiation or MessageType.Response or MessageType.CookieReply)
        {
            _ = Protocol.Messages.ReceiverIndex(data, type);
            _ = Protocol.Messages.Mac1Offset(data.Length);
        }

        if (InnerPacket.TryParse(data, out int version, out int length, out _))
        {
            _ = InnerPacket.Source(data.AsSpan(0, length), version);
            _ = InnerPacket.Destination(data.AsSpan(0, length), version);
        }
    }

    /// <summary>The whole inbound path of a device with one established peer (see <see cref="InboundFixture"/>).</summary>
    private static void Inbound(byte[] data) => InboundFixture.Instance.Receive(data);

    /// <summary>A <c>set=1</c> body as the UAPI socket would receive it.</summary>
    private static void Uapi(byte[] data)
    {
        using var result = UapiParser.ParseSet(data, name => name == "lo" ? 1u : null);
    }

    private static void WgQuick(byte[] data) => _ = WgQuickFile.Parse(Encoding.UTF8.GetString(data), "wg0");

    /// <summary>The first byte chooses the reply kind; the rest is the payload after the nlmsghdr.</summary>
    private static void Netlink(byte[] data)
    {
        if (data.Length == 0)
        {
            return;
        }

        var payload = data.AsSpan(1);
        var names = new Dictionary<int, string> { [1] = "lo", [2] = "eth0" };
        switch (data[0] % 8)
        {
            case 0: _ = XfrmParser.ParsePolicy(payload, out _); break;
            case 1: _ = XfrmParser.ParseState(payload, out _); break;
            case 2: _ = XfrmParser.TryParseDefaultPolicy(payload, out _); break;
            case 3: _ = RouteNetlink.TryParseLink(payload, out _); break;
            case 4: _ = RouteNetlink.TryParseAddress(payload, names, out _); break;
            case 5: _ = RouteNetlink.TryParseRoute(payload, names, out _); break;
            case 6: _ = RouteNetlink.TryParseRule(payload, out _); break;
            default: Walk(new NetlinkAttributes(payload), 0); break;
        }
    }

    private static void Walk(NetlinkAttributes attributes, int depth)
    {
        foreach (var attribute in attributes)
        {
            _ = attribute.U8 + attribute.U16 + attribute.U32;
            _ = attribute.U64;
            _ = attribute.AsString();
            _ = attribute.AsAddress();
            if (depth < 4)
            {
                Walk(attribute.Nested, depth + 1);
            }
        }
    }

    /// <summary>The first byte chooses the request type; the rest is the body, deserialized as the API does and then
    /// checked with the validators the endpoints use.</summary>
    private static void ApiJson(byte[] data)
    {
        if (data.Length == 0)
        {
            return;
        }

        var body = data.AsSpan(1);
        var context = ApiJsonContext.Default;
        var errors = new List<string>();
        try
        {
            switch (data[0] % 7)
            {
                case 0:
                    if (JsonSerializer.Deserialize(body, context.InterfaceRequest) is { } iface)
                    {
                        _ = ApiMapping.ToModel(iface, "wg0", current: null, errors);
                    }

                    break;
                case 1:
                    if (JsonSerializer.Deserialize(body, context.SiteRequest) is { } site)
                    {
                        _ = ApiMapping.ToModel(site, "wg0", "site", current: null, errors);
                    }

                    break;
                case 2:
                    if (JsonSerializer.Deserialize(body, context.RemoteWorkerRequest) is { } worker)
                    {
                        _ = ApiMapping.IsValidSiteName(worker.Name);
                        _ = ApiMapping.ParsePrefixes(worker.Addresses, "addresses", errors);
                        _ = ApiMapping.ParsePrefixes(worker.ClientAllowedIps, "clientAllowedIps", errors);
                        _ = ApiMapping.EndpointError(worker.GatewayEndpoint);
                    }

                    break;
                case 3:
                    if (JsonSerializer.Deserialize(body, context.CreateUserRequest) is { } user)
                    {
                        _ = UserDirectory.IsValidName(user.Name);
                        _ = UserDirectory.CheckPassword(user.Name, user.Password);
                    }

                    break;
                case 4:
                    if (JsonSerializer.Deserialize(body, context.PasswordRequest) is { } password)
                    {
                        _ = UserDirectory.CheckPassword("admin", password.Password);
                    }

                    break;
                case 5:
                    if (JsonSerializer.Deserialize(body, context.LoginRequest) is { } login)
                    {
                        _ = UserDirectory.IsValidName(login.Name);
                    }

                    break;
                default:
                    if (JsonSerializer.Deserialize(body, context.SetupRequest) is { } setup)
                    {
                        _ = UserDirectory.IsValidName(setup.Name);
                        _ = UserDirectory.CheckPassword(setup.Name, setup.Password);
                    }

                    break;
            }
        }
        catch (JsonException)
        {
            // The management API answers 400 to these (ManagementApi.ReadJsonAsync).
        }
    }
}
