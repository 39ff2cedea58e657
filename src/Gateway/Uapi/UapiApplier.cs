namespace Branchgate.Uapi;

/// <summary>
/// Applies a validated set request to a device with wireguard-go 0.0.20220316's semantics (device/uapi.go):
/// <list type="bullet">
/// <item>a <c>public_key</c> line finds the peer or creates it; the device's own public key selects a placeholder, so
/// the section is ignored;</item>
/// <item><c>update_only=true</c> removes the peer again if this section's <c>public_key</c> line created it (whatever
/// the lines between did stays undone with it, including allowed IPs they took from other peers), and ignores the rest
/// of the section;</item>
/// <item><c>remove=true</c> removes the peer (absent: created, then removed: nothing) and ignores the rest of the
/// section;</item>
/// <item>allowed IPs are added in order and move between peers; <c>replace_allowed_ips</c> clears them first.</item>
/// </list>
/// One difference, so that a request either applies or changes nothing where we can tell in advance: the operations
/// that can fail at run time on the device level (<c>listen_port</c>, <c>fwmark</c>: EADDRINUSE) run first, in request
/// order, before anything else. wireguard-go runs them where they stand, leaving the lines before them applied. A
/// device refusing a new peer (EINVAL) still stops the request midway, as in wireguard-go.
/// </summary>
public static class UapiApplier
{
    public static UapiErrno Apply(UapiSetRequest request, IUapiTarget target)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(target);
        using (target.LockConfiguration())
        {
            return ApplyDeviceBindings(request, target) is var error && error != UapiErrno.None
                ? error
                : ApplyInOrder(request, target);
        }
    }

    private static UapiErrno ApplyDeviceBindings(UapiSetRequest request, IUapiTarget target)
    {
        foreach (var operation in request.Operations)
        {
            var bound = operation.Kind switch
            {
                UapiOperationKind.SetListenPort => target.TrySetListenPort((ushort)operation.Number),
                UapiOperationKind.SetFwmark => target.TrySetFwmark((uint)operation.Number),
                _ => true,
            };
            if (!bound)
            {
                return UapiErrno.AddressInUse;
            }
        }

        return UapiErrno.None;
    }

    private static UapiErrno ApplyInOrder(UapiSetRequest request, IUapiTarget target)
    {
        var section = new PeerSection();
        foreach (var operation in request.Operations)
        {
            switch (operation.Kind)
            {
                case UapiOperationKind.SetPrivateKey:
                    target.SetPrivateKey(operation.Key);
                    break;
                case UapiOperationKind.ReplacePeers:
                    target.RemoveAllPeers();
                    break;
                case UapiOperationKind.Peer:
                    section.End();
                    if (!section.Begin(target, operation.PublicKey!))
                    {
                        return UapiErrno.Invalid;
                    }

                    break;
                case UapiOperationKind.UpdateOnly:
                    if (section.Created)
                    {
                        section.Remove(target);
                    }

                    break;
                case UapiOperationKind.RemovePeer:
                    section.Remove(target);
                    break;
                default:
                    section.Peer?.Apply(operation);
                    break;
            }
        }

        section.End();
        return UapiErrno.None;
    }

    private static void Apply(this IUapiPeer peer, UapiOperation operation)
    {
        switch (operation.Kind)
        {
            case UapiOperationKind.SetPresharedKey:
                peer.SetPresharedKey(operation.Key);
                break;
            case UapiOperationKind.SetEndpoint:
                peer.SetEndpoint(operation.Endpoint!);
                break;
            case UapiOperationKind.SetPersistentKeepalive:
                peer.SetPersistentKeepalive((ushort)operation.Number);
                break;
            case UapiOperationKind.ReplaceAllowedIps:
                peer.ClearAllowedIps();
                break;
            case UapiOperationKind.AddAllowedIp:
                peer.AddAllowedIp(operation.Prefix);
                break;
            case UapiOperationKind.RemoveAllowedIp:
                peer.RemoveAllowedIp(operation.Prefix);
                break;
        }
    }

    /// <summary>The peer a section works on; null once the section is a placeholder (own key, removed).</summary>
    private struct PeerSection
    {
        public IUapiPeer? Peer;
        public bool Created;

        public bool Begin(IUapiTarget target, Crypto.NoisePublicKey publicKey)
        {
            Created = false;
            Peer = null;
            if (target.IsOwnPublicKey(publicKey))
            {
                return true;
            }

            Peer = target.FindPeer(publicKey);
            if (Peer is null)
            {
                Peer = target.CreatePeer(publicKey);
                Created = Peer is not null;
            }

            return Peer is not null;
        }

        public void Remove(IUapiTarget target)
        {
            if (Peer is not null)
            {
                target.RemovePeer(Peer);
            }

            Peer = null;
            Created = false;
        }

        public void End()
        {
            Peer?.EndUpdate();
            Peer = null;
        }
    }
}
