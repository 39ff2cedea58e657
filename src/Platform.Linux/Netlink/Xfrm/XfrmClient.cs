using Branchgate.Platform.Linux.Interop;

namespace Branchgate.Platform.Linux.Netlink.Xfrm;

/// <summary>
/// Reads the kernel's IPsec databases over NETLINK_XFRM, read-only: the policies (SPD), the SAs (SAD, without keys)
/// and the default actions. Works in the network namespace of the thread that creates it; every request needs
/// CAP_NET_ADMIN there (the kernel refuses even reads with EPERM otherwise). A message that cannot be parsed is
/// counted and skipped, never thrown; a kernel refusal or silence is a <see cref="NetlinkException"/> naming the request.
/// Calls are serialised on one netlink socket, so one client may be shared by threads of the control path.
/// </summary>
public sealed class XfrmClient : IDisposable
{
    private readonly NetlinkSocket _socket;

    public XfrmClient() => _socket = new NetlinkSocket(NetlinkProtocol.Xfrm);

    /// <summary>How long to wait for each reply from the kernel.</summary>
    public TimeSpan Timeout
    {
        get => _socket.Timeout;
        set => _socket.Timeout = value;
    }

    /// <summary>All SPD policies (in, out, forward; main and sub); per-socket policies are counted, not returned.</summary>
    public XfrmPolicyDump DumpPolicies()
    {
        var policies = new List<XfrmPolicy>();
        int socketPolicies = 0;
        int malformed = 0;
        Span<byte> request = stackalloc byte[Nl.HeaderLength];
        var writer = new NetlinkWriter(request, XfrmConstants.XFRM_MSG_GETPOLICY, 0);
        _socket.Dump(writer.Message, "XFRM_MSG_GETPOLICY dump", (type, payload) =>
        {
            XfrmPolicy? policy = null;
            var status = type == XfrmConstants.XFRM_MSG_NEWPOLICY
                ? XfrmParser.ParsePolicy(payload, out policy)
                : XfrmParseStatus.Malformed;
            switch (status)
            {
                case XfrmParseStatus.Parsed:
                    policies.Add(policy!);
                    break;
                case XfrmParseStatus.Skipped:
                    socketPolicies++;
                    break;
                default:
                    malformed++;
                    break;
            }
        }, () =>
        {
            policies.Clear();
            socketPolicies = 0;
            malformed = 0;
        });
        return new XfrmPolicyDump(policies, socketPolicies, malformed);
    }

    /// <summary>All SAs, larval ones included, with algorithm names but never keys.</summary>
    public XfrmStateDump DumpStates()
    {
        var states = new List<XfrmState>();
        int malformed = 0;
        Span<byte> request = stackalloc byte[Nl.HeaderLength];
        var writer = new NetlinkWriter(request, XfrmConstants.XFRM_MSG_GETSA, 0);
        _socket.Dump(writer.Message, "XFRM_MSG_GETSA dump", (type, payload) =>
        {
            if (type == XfrmConstants.XFRM_MSG_NEWSA && XfrmParser.ParseState(payload, out var state) == XfrmParseStatus.Parsed)
            {
                states.Add(state!);
            }
            else
            {
                malformed++;
            }
        }, () =>
        {
            states.Clear();
            malformed = 0;
        });
        return new XfrmStateDump(states, malformed);
    }

    /// <summary>
    /// The action for traffic no policy matches, per direction (`ip xfrm policy getdefault`). Null when the kernel
    /// predates default policies (before Linux 5.16), where every direction accepts.
    /// </summary>
    public XfrmDefaultPolicy? GetDefaultPolicy()
    {
        Span<byte> request = stackalloc byte[Nl.HeaderLength + 4];
        var writer = new NetlinkWriter(request, XfrmConstants.XFRM_MSG_GETDEFAULT, Nl.NLM_F_ACK);
        writer.WriteHeader(new XfrmUserPolicyDefaultRaw());
        XfrmDefaultPolicy? result = null;
        try
        {
            // NetlinkSocket has no "request with a reply" call: Execute discards replies. A dump call with NLM_F_ACK
            // set does it: the kernel answers this get with one XFRM_MSG_GETDEFAULT message and then the ack, which
            // ends the dump loop. The dump flags are ignored by this request's handler.
            _socket.Dump(writer.Message, "XFRM_MSG_GETDEFAULT", (type, payload) =>
            {
                if (type == XfrmConstants.XFRM_MSG_GETDEFAULT && XfrmParser.TryParseDefaultPolicy(payload, out var p))
                {
                    result = p;
                }
            });
        }
        catch (NetlinkException e) when (e.Errno == Errno.EINVAL)
        {
            return null;
        }

        return result ?? throw new NetlinkException("XFRM_MSG_GETDEFAULT", Errno.EBADMSG, "no parsable reply");
    }

    public void Dispose() => _socket.Dispose();
}
