using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;

namespace Branchgate.Device;

public sealed partial class AllowedIps<TPeer>
{
    /// <summary>
    /// One trie node: a prefix as a 128-bit key (IPv4 in the top 32 bits) and its mask, both fixed at construction.
    /// A node with a peer is a table entry; a node without one only branches and then always has two children.
    /// Readers use <see cref="Contains"/>, <see cref="Choose"/>, <see cref="Peer"/> and <see cref="Children"/>; the
    /// other fields belong to the writer.
    /// </summary>
    private sealed class Node
    {
        public readonly ulong KeyHi;
        public readonly ulong KeyLo;
        public readonly ulong MaskHi;
        public readonly ulong MaskLo;
        public readonly int PrefixLength;
        public readonly bool IsIPv6;

        // The bit after the prefix decides the child: which half of the key holds it, and its shift there.
        private readonly bool _chooseFromLo;
        private readonly int _chooseShift;

        /// <summary>Written with Volatile.Write, read with Volatile.Read.</summary>
        public TPeer? Peer;

        /// <summary>Written with Volatile.Write once the node is reachable; read with Volatile.Read.</summary>
        public ChildPair Children;

        public Node? Parent;
        public Node? PeerPrevious;
        public Node? PeerNext;

        public Node(ulong keyHi, ulong keyLo, int prefixLength, bool isIPv6)
        {
            var (maskHi, maskLo) = Mask(prefixLength);
            KeyHi = keyHi;
            KeyLo = keyLo;
            MaskHi = maskHi;
            MaskLo = maskLo;
            PrefixLength = prefixLength;
            IsIPv6 = isIPv6;
            _chooseFromLo = prefixLength >= 64;

            // A full-length node (/32, /128) has no children; its shift only has to stay in range.
            _chooseShift = 63 - (prefixLength & 63);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Contains(ulong hi, ulong lo) => (((hi ^ KeyHi) & MaskHi) | ((lo ^ KeyLo) & MaskLo)) == 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Choose(ulong hi, ulong lo) => (int)(((_chooseFromLo ? lo : hi) >> _chooseShift) & 1);

        public IPNetwork ToNetwork()
        {
            Span<byte> bytes = stackalloc byte[16];
            if (IsIPv6)
            {
                BinaryPrimitives.WriteUInt64BigEndian(bytes, KeyHi);
                BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], KeyLo);
            }
            else
            {
                BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(KeyHi >> 32));
                bytes = bytes[..4];
            }

            return new IPNetwork(new IPAddress(bytes), PrefixLength);
        }
    }

    [InlineArray(2)]
    private struct ChildPair
    {
        private Node? _element;
    }

    /// <summary>One peer's nodes, oldest first (a doubly linked list through the nodes, like the kernel's peer list).</summary>
    private sealed class PeerEntries
    {
        public Node? First;
        public Node? Last;
        public int Count;
    }

    /// <summary>Gives <paramref name="node"/> to <paramref name="peer"/> at the end of the peer's list.</summary>
    private void SetOwner(Node node, TPeer peer)
    {
        if (node.Peer is { } previous)
        {
            Unlink(node, previous);
        }
        else
        {
            Volatile.Write(ref _count, _count + 1);
        }

        if (!_entriesByPeer.TryGetValue(peer, out var entries))
        {
            entries = new PeerEntries();
            _entriesByPeer.Add(peer, entries);
        }

        node.PeerPrevious = entries.Last;
        if (entries.Last is null)
        {
            entries.First = node;
        }
        else
        {
            entries.Last.PeerNext = node;
        }

        entries.Last = node;
        entries.Count++;
        Volatile.Write(ref node.Peer, peer);
    }

    /// <summary>Takes <paramref name="node"/> away from its peer; the node stays in the trie.</summary>
    private void Disown(Node node)
    {
        Unlink(node, node.Peer!);
        Volatile.Write(ref node.Peer, null);
        Volatile.Write(ref _count, _count - 1);
    }

    private void Unlink(Node node, TPeer peer)
    {
        var entries = _entriesByPeer[peer];
        if (node.PeerPrevious is null)
        {
            entries.First = node.PeerNext;
        }
        else
        {
            node.PeerPrevious.PeerNext = node.PeerNext;
        }

        if (node.PeerNext is null)
        {
            entries.Last = node.PeerPrevious;
        }
        else
        {
            node.PeerNext.PeerPrevious = node.PeerPrevious;
        }

        node.PeerPrevious = null;
        node.PeerNext = null;
        if (--entries.Count == 0)
        {
            _entriesByPeer.Remove(peer);
        }
    }
}
