using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Branchgate.Device;

/// <summary>
/// Cryptokey routing (paper 2): the allowed-IPs table maps an address to the peer whose allowed IP range is the longest
/// prefix containing it. One compressed binary (PATRICIA) trie per address family, as the kernel's allowedips.c and
/// wireguard-go's allowedips.go.
/// <para>
/// Locking rules. <see cref="Lookup"/> takes no lock, never waits and allocates nothing: the send path (destination
/// -> peer) and the receive path (inner source must belong to the sending peer) call it per packet on any number of
/// threads. Every other member serializes on an internal lock, so one writer at a time changes the table while the
/// readers go on. This is RCU without the grace period (the GC frees what no reader references any more):
/// - a node's prefix never changes after it is built, and a new node is complete before a Volatile.Write links it in;
/// - every published write (a peer set or cleared, a node linked in or cut out) leaves a valid trie holding either
///   the entries before the change or those after it, so a lookup racing one change answers as one of the two;
/// - a node that is cut out keeps its child links, so a reader standing on it still walks down into live nodes;
/// - every step goes to a strictly longer prefix, so a walk ends after at most 33 or 129 nodes;
/// - a node's peer is returned only if the address matches the node's prefix, and a node only ever holds peers
///   inserted for exactly its prefix, so no lookup returns a peer for an address none of its prefixes covered.
/// </para>
/// <para>
/// Host bits are masked on insert and remove (10.0.0.1/24 is stored and listed as 10.0.0.0/24), as wireguard-go
/// does for <c>allowed_ip=</c>. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are IPv6 addresses here, as in
/// wireguard-go: they live in the IPv6 trie and match only 16-byte lookups.
/// </para>
/// </summary>
public sealed partial class AllowedIps<TPeer>
    where TPeer : class
{
    private readonly Lock _writeLock = new();
    private readonly Dictionary<TPeer, PeerEntries> _entriesByPeer = new(ReferenceEqualityComparer.Instance);
    private Node? _root4;
    private Node? _root6;
    private int _count;

    /// <summary>How many prefixes the table holds, both families together.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// The peer owning the longest prefix that contains <paramref name="address"/> (4 or 16 bytes, network order),
    /// or null. Lock-free and allocation-free; safe while another thread changes the table.
    /// </summary>
    public TPeer? Lookup(ReadOnlySpan<byte> address)
    {
        Node? node;
        ulong hi, lo;
        if (address.Length == 4)
        {
            hi = (ulong)BinaryPrimitives.ReadUInt32BigEndian(address) << 32;
            lo = 0;
            node = Volatile.Read(ref _root4);
        }
        else if (address.Length == 16)
        {
            hi = BinaryPrimitives.ReadUInt64BigEndian(address);
            lo = BinaryPrimitives.ReadUInt64BigEndian(address[8..]);
            node = Volatile.Read(ref _root6);
        }
        else
        {
            ThrowHelper.ThrowArgument(nameof(address), "An address is 4 (IPv4) or 16 (IPv6) bytes.");
            return null;
        }

        TPeer? found = null;
        while (node is not null && node.Contains(hi, lo))
        {
            var peer = Volatile.Read(ref node.Peer);
            if (peer is not null)
            {
                found = peer;
            }

            node = Volatile.Read(ref node.Children[node.Choose(hi, lo)]);
        }

        return found;
    }

    /// <summary>
    /// Gives <paramref name="prefix"/> to <paramref name="peer"/>. A prefix already in the table moves to the new peer
    /// (and to the end of that peer's list, even when it is the same peer), as in the kernel and wireguard-go.
    /// </summary>
    public void Insert(IPNetwork prefix, TPeer peer)
    {
        Span<byte> address = stackalloc byte[16];
        Insert(Bytes(prefix, address), prefix.PrefixLength, peer);
    }

    /// <inheritdoc cref="Insert(IPNetwork, TPeer)"/>
    /// <remarks>Bits of <paramref name="address"/> beyond <paramref name="prefixLength"/> are ignored (masked).</remarks>
    public void Insert(ReadOnlySpan<byte> address, int prefixLength, TPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var (hi, lo) = MaskedKey(address, prefixLength);
        lock (_writeLock)
        {
            InsertLocked(ref RootFor(address.Length), hi, lo, prefixLength, peer, address.Length == 16);
        }
    }

    /// <summary>Removes <paramref name="prefix"/> if <paramref name="peer"/> owns it; returns whether it did.</summary>
    public bool Remove(IPNetwork prefix, TPeer peer)
    {
        Span<byte> address = stackalloc byte[16];
        return Remove(Bytes(prefix, address), prefix.PrefixLength, peer);
    }

    /// <inheritdoc cref="Remove(IPNetwork, TPeer)"/>
    /// <remarks>Bits of <paramref name="address"/> beyond <paramref name="prefixLength"/> are ignored (masked).</remarks>
    public bool Remove(ReadOnlySpan<byte> address, int prefixLength, TPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var (hi, lo) = MaskedKey(address, prefixLength);
        lock (_writeLock)
        {
            ref var root = ref RootFor(address.Length);
            var node = FindExact(root, hi, lo, prefixLength);
            if (node is null || !ReferenceEquals(node.Peer, peer))
            {
                return false;
            }

            RemoveLocked(ref root, node);
            return true;
        }
    }

    /// <summary>Removes every prefix of <paramref name="peer"/>; returns how many there were.</summary>
    public int RemoveByPeer(TPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_writeLock)
        {
            if (!_entriesByPeer.TryGetValue(peer, out var entries))
            {
                return 0;
            }

            var removed = 0;
            for (var node = entries.First; node is not null;)
            {
                var next = node.PeerNext;
                RemoveLocked(ref RootFor(node.IsIPv6 ? 16 : 4), node);
                removed++;
                node = next;
            }

            return removed;
        }
    }

    /// <summary>
    /// The prefixes of <paramref name="peer"/>, masked, in the order wireguard-go lists them for <c>wg show</c>: the
    /// order they were last inserted in, both families mixed.
    /// </summary>
    public IReadOnlyList<IPNetwork> EntriesFor(TPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_writeLock)
        {
            if (!_entriesByPeer.TryGetValue(peer, out var entries))
            {
                return [];
            }

            var result = new IPNetwork[entries.Count];
            var i = 0;
            for (var node = entries.First; node is not null; node = node.PeerNext)
            {
                result[i++] = node.ToNetwork();
            }

            return result;
        }
    }

    /// <summary>Empties the table. Lookups already running finish on the old trie.</summary>
    public void Clear()
    {
        lock (_writeLock)
        {
            Volatile.Write(ref _root4, null);
            Volatile.Write(ref _root6, null);
            _entriesByPeer.Clear();
            Volatile.Write(ref _count, 0);
        }
    }

    private void InsertLocked(ref Node? root, ulong hi, ulong lo, int prefixLength, TPeer peer, bool isIPv6)
    {
        // Walk down while the node's prefix contains the new one.
        Node? parent = null;
        var node = root;
        while (node is not null && node.PrefixLength <= prefixLength && node.Contains(hi, lo))
        {
            if (node.PrefixLength == prefixLength)
            {
                SetOwner(node, peer);
                return;
            }

            parent = node;
            node = node.Children[node.Choose(hi, lo)];
        }

        var added = new Node(hi, lo, prefixLength, isIPv6);
        SetOwner(added, peer);
        if (node is null)
        {
            // An empty slot below the longest containing prefix.
            added.Parent = parent;
            Publish(ref root, parent, added);
            return;
        }

        // node lies beside or below the new prefix: they branch at the first bit where they differ.
        var branch = Math.Min(CommonPrefixLength(node, hi, lo), prefixLength);
        Node top;
        if (branch == prefixLength)
        {
            // The new prefix contains node: node becomes its child.
            added.Children[added.Choose(node.KeyHi, node.KeyLo)] = node;
            top = added;
        }
        else
        {
            // Neither contains the other: a peerless branching node holds both.
            var (maskHi, maskLo) = Mask(branch);
            top = new Node(hi & maskHi, lo & maskLo, branch, isIPv6);
            top.Children[top.Choose(hi, lo)] = added;
            top.Children[top.Choose(node.KeyHi, node.KeyLo)] = node;
            added.Parent = top;
        }

        top.Parent = parent;
        node.Parent = top;
        Publish(ref root, parent, top);
    }

    private void RemoveLocked(ref Node? root, Node node)
    {
        Disown(node);
        if (node.Children[0] is not null && node.Children[1] is not null)
        {
            // Still needed as a branching node.
            return;
        }

        var child = node.Children[0] ?? node.Children[1];
        var parent = node.Parent;
        if (child is not null)
        {
            child.Parent = parent;
        }

        Replace(ref root, parent, node, child);
        node.Parent = null;
        if (child is not null || parent is null || parent.Peer is not null)
        {
            return;
        }

        // parent was a peerless branching node and now has one child left: splice it out too.
        var sibling = parent.Children[0] ?? parent.Children[1];
        var grandparent = parent.Parent;
        sibling!.Parent = grandparent;
        Replace(ref root, grandparent, parent, sibling);
        parent.Parent = null;
    }

    private static Node? FindExact(Node? node, ulong hi, ulong lo, int prefixLength)
    {
        while (node is not null && node.PrefixLength <= prefixLength && node.Contains(hi, lo))
        {
            if (node.PrefixLength == prefixLength)
            {
                return node;
            }

            node = node.Children[node.Choose(hi, lo)];
        }

        return null;
    }

    /// <summary>Links a fully built node into the slot that leads to its key (under parent, or the root).</summary>
    private static void Publish(ref Node? root, Node? parent, Node node)
    {
        if (parent is null)
        {
            Volatile.Write(ref root, node);
        }
        else
        {
            Volatile.Write(ref parent.Children[parent.Choose(node.KeyHi, node.KeyLo)], node);
        }
    }

    private static void Replace(ref Node? root, Node? parent, Node old, Node? replacement)
    {
        if (parent is null)
        {
            Volatile.Write(ref root, replacement);
        }
        else
        {
            Volatile.Write(ref parent.Children[ReferenceEquals(parent.Children[0], old) ? 0 : 1], replacement);
        }
    }

    private ref Node? RootFor(int addressLength) => ref addressLength == 16 ? ref _root6 : ref _root4;

    private static int CommonPrefixLength(Node node, ulong hi, ulong lo)
    {
        var x = node.KeyHi ^ hi;
        return x != 0 ? (int)ulong.LeadingZeroCount(x) : 64 + (int)ulong.LeadingZeroCount(node.KeyLo ^ lo);
    }

    /// <summary>The address as a 128-bit key (IPv4 in the top 32 bits), bits past the prefix cleared.</summary>
    private static (ulong Hi, ulong Lo) MaskedKey(ReadOnlySpan<byte> address, int prefixLength)
    {
        ulong hi, lo;
        if (address.Length == 4)
        {
            hi = (ulong)BinaryPrimitives.ReadUInt32BigEndian(address) << 32;
            lo = 0;
        }
        else if (address.Length == 16)
        {
            hi = BinaryPrimitives.ReadUInt64BigEndian(address);
            lo = BinaryPrimitives.ReadUInt64BigEndian(address[8..]);
        }
        else
        {
            ThrowHelper.ThrowArgument(nameof(address), "An address is 4 (IPv4) or 16 (IPv6) bytes.");
            return default;
        }

        if ((uint)prefixLength > (uint)(address.Length * 8))
        {
            ThrowHelper.ThrowArgument(nameof(prefixLength), "The prefix length is 0..32 for IPv4, 0..128 for IPv6.");
        }

        var (maskHi, maskLo) = Mask(prefixLength);
        return (hi & maskHi, lo & maskLo);
    }

    private static (ulong Hi, ulong Lo) Mask(int prefixLength) => prefixLength switch
    {
        0 => (0, 0),
        < 64 => (ulong.MaxValue << (64 - prefixLength), 0),
        64 => (ulong.MaxValue, 0),
        _ => (ulong.MaxValue, ulong.MaxValue << (128 - prefixLength)),
    };

    private static ReadOnlySpan<byte> Bytes(IPNetwork prefix, Span<byte> buffer)
    {
        var address = prefix.BaseAddress;
        if (address?.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            ThrowHelper.ThrowArgument(nameof(prefix), "Only IPv4 and IPv6 prefixes can be allowed IPs.");
        }

        address.TryWriteBytes(buffer, out var written);
        return buffer[..written];
    }
}
