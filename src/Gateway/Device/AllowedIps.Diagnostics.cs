namespace Branchgate.Device;

public sealed partial class AllowedIps<TPeer>
{
    /// <summary>
    /// Checks the trie's invariants and returns the first one broken, or null. For tests; takes the write lock and
    /// walks the whole table.
    /// </summary>
    internal string? FindStructureError()
    {
        lock (_writeLock)
        {
            var entries = 0;
            var error = Check(_root4, null, false, ref entries) ?? Check(_root6, null, true, ref entries);
            if (error is not null)
            {
                return error;
            }

            if (entries != _count)
            {
                return $"{entries} nodes have a peer but Count is {_count}";
            }

            var listed = 0;
            foreach (var (peer, list) in _entriesByPeer)
            {
                var walked = 0;
                for (var node = list.First; node is not null; node = node.PeerNext)
                {
                    if (!ReferenceEquals(node.Peer, peer))
                    {
                        return $"{node.ToNetwork()} is in the list of a peer that does not own it";
                    }

                    if (node.PeerNext is null && !ReferenceEquals(list.Last, node))
                    {
                        return "a peer list's last node is wrong";
                    }

                    walked++;
                }

                if (walked != list.Count || walked == 0)
                {
                    return $"a peer list holds {walked} nodes but counts {list.Count}";
                }

                listed += walked;
            }

            return listed == _count ? null : $"peer lists hold {listed} nodes but Count is {_count}";
        }
    }

    private static string? Check(Node? node, Node? parent, bool isIPv6, ref int entries)
    {
        if (node is null)
        {
            return null;
        }

        var name = node.ToNetwork().ToString();
        if (node.IsIPv6 != isIPv6)
        {
            return $"{name} is in the wrong family's trie";
        }

        if (!ReferenceEquals(node.Parent, parent))
        {
            return $"{name} has a wrong parent link";
        }

        if ((node.KeyHi & ~node.MaskHi) != 0 || (node.KeyLo & ~node.MaskLo) != 0)
        {
            return $"{name} has host bits set";
        }

        if (parent is not null)
        {
            if (node.PrefixLength <= parent.PrefixLength || !parent.Contains(node.KeyHi, node.KeyLo))
            {
                return $"{name} is not strictly inside its parent {parent.ToNetwork()}";
            }

            if (!ReferenceEquals(parent.Children[parent.Choose(node.KeyHi, node.KeyLo)], node))
            {
                return $"{name} hangs on the wrong side of {parent.ToNetwork()}";
            }
        }

        if (node.Peer is null && (node.Children[0] is null || node.Children[1] is null))
        {
            return $"{name} has no peer and fewer than two children";
        }

        if (node.Peer is not null)
        {
            entries++;
        }

        return Check(node.Children[0], node, isIPv6, ref entries) ?? Check(node.Children[1], node, isIPv6, ref entries);
    }
}
