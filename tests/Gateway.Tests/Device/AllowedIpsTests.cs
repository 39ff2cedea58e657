using System.Net;
using Branchgate.Device;

namespace Branchgate.Tests.Device;

public class AllowedIpsTests
{
    internal sealed class Peer(string name)
    {
        public override string ToString() => name;
    }

    private readonly Peer _a = new("a");
    private readonly Peer _b = new("b");
    private readonly Peer _c = new("c");
    private readonly AllowedIps<Peer> _table = new();

    private static byte[] Bytes(string address) => IPAddress.Parse(address).GetAddressBytes();

    private void Insert(string prefix, Peer peer)
    {
        var slash = prefix.IndexOf('/', StringComparison.Ordinal);
        _table.Insert(Bytes(prefix[..slash]), int.Parse(prefix[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture), peer);
    }

    private Peer? Lookup(string address) => _table.Lookup(Bytes(address));

    private string[] Entries(Peer peer) => _table.EntriesFor(peer).Select(n => n.ToString()).ToArray();

    private void AssertStructure() => Assert.Null(_table.FindStructureError());

    [Fact]
    public void Empty_table_finds_nothing()
    {
        Assert.Null(Lookup("10.0.0.1"));
        Assert.Null(Lookup("2001:db8::1"));
        Assert.Equal(0, _table.Count);
        Assert.Empty(_table.EntriesFor(_a));
    }

    [Fact]
    public void Default_routes_match_every_address_of_their_family_only()
    {
        Insert("0.0.0.0/0", _a);
        Assert.Same(_a, Lookup("0.0.0.0"));
        Assert.Same(_a, Lookup("255.255.255.255"));
        Assert.Same(_a, Lookup("10.1.2.3"));
        Assert.Null(Lookup("::"));
        Assert.Null(Lookup("2001:db8::1"));

        Insert("::/0", _b);
        Assert.Same(_b, Lookup("::"));
        Assert.Same(_b, Lookup("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
        Assert.Same(_a, Lookup("10.1.2.3"));
        AssertStructure();
    }

    [Fact]
    public void Host_routes_match_exactly_one_address()
    {
        Insert("192.0.2.7/32", _a);
        Insert("2001:db8::7/128", _b);
        Assert.Same(_a, Lookup("192.0.2.7"));
        Assert.Null(Lookup("192.0.2.6"));
        Assert.Null(Lookup("192.0.2.8"));
        Assert.Same(_b, Lookup("2001:db8::7"));
        Assert.Null(Lookup("2001:db8::6"));
        Assert.Null(Lookup("2001:db8::8"));
        AssertStructure();
    }

    [Fact]
    public void The_longest_prefix_wins_whatever_the_insertion_order()
    {
        Insert("10.1.2.0/24", _c);
        Insert("10.0.0.0/8", _a);
        Insert("10.1.0.0/16", _b);
        Insert("10.1.2.128/25", _a);
        Assert.Same(_a, Lookup("10.200.0.1"));
        Assert.Same(_b, Lookup("10.1.3.1"));
        Assert.Same(_c, Lookup("10.1.2.1"));
        Assert.Same(_a, Lookup("10.1.2.200"));
        Assert.Null(Lookup("11.0.0.1"));

        Insert("2001:db8::/32", _a);
        Insert("2001:db8:1::/48", _b);
        Insert("2001:db8:1:2::/64", _c);
        Assert.Same(_a, Lookup("2001:db8:ffff::1"));
        Assert.Same(_b, Lookup("2001:db8:1:ffff::1"));
        Assert.Same(_c, Lookup("2001:db8:1:2::1"));
        AssertStructure();
    }

    [Fact]
    public void Prefixes_that_share_no_ancestor_get_a_branching_node_and_lose_it_on_removal()
    {
        Insert("10.0.0.0/24", _a);
        Insert("10.0.1.0/24", _b);
        Assert.Same(_a, Lookup("10.0.0.9"));
        Assert.Same(_b, Lookup("10.0.1.9"));
        Assert.Null(Lookup("10.0.2.9"));
        AssertStructure();

        Assert.True(_table.Remove(Bytes("10.0.0.0"), 24, _a));
        Assert.Null(Lookup("10.0.0.9"));
        Assert.Same(_b, Lookup("10.0.1.9"));
        AssertStructure();
    }

    [Fact]
    public void Reinserting_a_prefix_moves_it_to_the_new_peer()
    {
        Insert("10.0.0.0/8", _a);
        Insert("10.1.0.0/16", _a);
        Insert("10.0.0.0/8", _b);
        Assert.Same(_b, Lookup("10.2.0.1"));
        Assert.Same(_a, Lookup("10.1.0.1"));
        Assert.Equal(["10.1.0.0/16"], Entries(_a));
        Assert.Equal(["10.0.0.0/8"], Entries(_b));
        Assert.Equal(2, _table.Count);
        AssertStructure();
    }

    [Fact]
    public void Remove_only_removes_a_prefix_its_peer_owns()
    {
        Insert("10.0.0.0/8", _a);
        Assert.False(_table.Remove(Bytes("10.0.0.0"), 8, _b));
        Assert.False(_table.Remove(Bytes("10.0.0.0"), 16, _a));
        Assert.False(_table.Remove(Bytes("11.0.0.0"), 8, _a));
        Assert.False(_table.Remove(Bytes("::"), 8, _a));
        Assert.Same(_a, Lookup("10.0.0.1"));

        Assert.True(_table.Remove(IPNetwork.Parse("10.0.0.0/8"), _a));
        Assert.False(_table.Remove(IPNetwork.Parse("10.0.0.0/8"), _a));
        Assert.Null(Lookup("10.0.0.1"));
        Assert.Equal(0, _table.Count);
        AssertStructure();
    }

    [Fact]
    public void Removing_an_inner_prefix_keeps_the_ones_below_and_above_it()
    {
        Insert("10.0.0.0/8", _a);
        Insert("10.1.0.0/16", _b);
        Insert("10.1.1.0/24", _c);
        Insert("10.1.2.0/24", _c);
        Assert.True(_table.Remove(Bytes("10.1.0.0"), 16, _b));
        Assert.Same(_a, Lookup("10.1.3.1"));
        Assert.Same(_c, Lookup("10.1.1.1"));
        Assert.Same(_c, Lookup("10.1.2.1"));
        AssertStructure();

        // Inserting it again reuses the branching node left in its place.
        Insert("10.1.0.0/16", _b);
        Assert.Same(_b, Lookup("10.1.3.1"));
        AssertStructure();
    }

    [Fact]
    public void RemoveByPeer_removes_that_peers_prefixes_only()
    {
        Insert("10.0.0.0/8", _a);
        Insert("10.1.0.0/16", _b);
        Insert("10.1.1.0/24", _a);
        Insert("2001:db8::/32", _a);
        Insert("2001:db8:1::/48", _b);
        Assert.Equal(3, _table.RemoveByPeer(_a));
        Assert.Equal(0, _table.RemoveByPeer(_a));
        Assert.Null(Lookup("10.2.0.1"));
        Assert.Same(_b, Lookup("10.1.1.1"));
        Assert.Null(Lookup("2001:db8:2::1"));
        Assert.Same(_b, Lookup("2001:db8:1::1"));
        Assert.Empty(_table.EntriesFor(_a));
        Assert.Equal(2, _table.Count);
        AssertStructure();
    }

    [Fact]
    public void Families_are_separate_tries()
    {
        // 1.2.3.4 and ::102:304 have the same low 32 bits; they must not meet.
        Insert("1.2.3.4/32", _a);
        Insert("::102:304/128", _b);
        Assert.Same(_a, Lookup("1.2.3.4"));
        Assert.Same(_b, Lookup("::102:304"));
        Assert.Null(_table.Lookup(Bytes("::1.2.3.5")));
        Assert.Equal([IPNetwork.Parse("1.2.3.4/32")], _table.EntriesFor(_a));
        Assert.Equal([IPNetwork.Parse("::102:304/128")], _table.EntriesFor(_b));
    }

    [Fact]
    public void Ipv4_mapped_addresses_are_ipv6_as_in_wireguard_go()
    {
        Insert("1.2.3.0/24", _a);
        Insert("::ffff:1.2.3.4/128", _b);

        // A 4-byte lookup (IPv4 packet) sees only the IPv4 trie, a 16-byte one (IPv6 packet) only the IPv6 trie.
        Assert.Same(_a, Lookup("1.2.3.4"));
        Assert.Same(_b, _table.Lookup(Bytes("::ffff:1.2.3.4")));
        Assert.Null(_table.Lookup(Bytes("::ffff:1.2.3.5")));
        Assert.Equal(["::ffff:1.2.3.4/128"], Entries(_b));
    }

    [Fact]
    public void Host_bits_are_masked_on_insert_and_remove()
    {
        Insert("10.0.0.1/24", _a);
        Insert("fd00::1/8", _a);
        Assert.Equal(["10.0.0.0/24", "fd00::/8"], Entries(_a));
        Assert.Same(_a, Lookup("10.0.0.200"));
        Assert.Same(_a, Lookup("fdff::1"));

        Assert.True(_table.Remove(Bytes("10.0.0.99"), 24, _a));
        Assert.Equal(["fd00::/8"], Entries(_a));
        AssertStructure();
    }

    /// <summary>
    /// The same operations, in order, were sent to wireguard-go 0.0.20220316 through its UAPI socket; these are the
    /// allowed_ip lines its get=1 answered (a re-inserted prefix goes to the end of the list, even for the same peer).
    /// </summary>
    [Fact]
    public void EntriesFor_lists_prefixes_in_the_order_wireguard_go_does()
    {
        foreach (var p in new[] { "10.0.0.1/24", "192.168.0.0/16", "10.0.0.0/8", "fd00::1/8", "1.2.3.4/32", "::ffff:1.2.3.4/128", "0.0.0.0/0" })
        {
            Insert(p, _a);
        }

        Assert.Equal(["10.0.0.0/24", "192.168.0.0/16", "10.0.0.0/8", "fd00::/8", "1.2.3.4/32", "::ffff:1.2.3.4/128", "0.0.0.0/0"], Entries(_a));

        Insert("192.168.0.0/16", _a);
        Insert("10.0.0.77/24", _a);
        Insert("172.16.5.5/12", _a);
        Assert.Equal(
            ["10.0.0.0/8", "fd00::/8", "1.2.3.4/32", "::ffff:1.2.3.4/128", "0.0.0.0/0", "192.168.0.0/16", "10.0.0.0/24", "172.16.0.0/12"],
            Entries(_a));

        Insert("10.0.0.0/8", _b);
        Insert("9.9.9.9/32", _b);
        Insert("::ffff:10.1.1.1/104", _a);
        Assert.Equal(
            ["fd00::/8", "1.2.3.4/32", "::ffff:1.2.3.4/128", "0.0.0.0/0", "192.168.0.0/16", "10.0.0.0/24", "172.16.0.0/12", "::ffff:10.0.0.0/104"],
            Entries(_a));
        Assert.Equal(["10.0.0.0/8", "9.9.9.9/32"], Entries(_b));
        AssertStructure();
    }

    [Fact]
    public void Clear_empties_both_families()
    {
        Insert("10.0.0.0/8", _a);
        Insert("::/0", _b);
        _table.Clear();
        Assert.Equal(0, _table.Count);
        Assert.Null(Lookup("10.0.0.1"));
        Assert.Null(Lookup("::1"));
        Assert.Empty(_table.EntriesFor(_a));

        Insert("10.0.0.0/8", _a);
        Assert.Equal(["10.0.0.0/8"], Entries(_a));
        AssertStructure();
    }

    [Fact]
    public void IPNetwork_overloads_round_trip()
    {
        var v4 = IPNetwork.Parse("198.51.100.0/24");
        var v6 = IPNetwork.Parse("2001:db8:abcd::/48");
        _table.Insert(v4, _a);
        _table.Insert(v6, _a);
        Assert.Equal([v4, v6], _table.EntriesFor(_a));
        Assert.True(_table.Remove(v6, _a));
        Assert.Equal([v4], _table.EntriesFor(_a));
    }

    [Fact]
    public void Bad_arguments_are_programmer_errors()
    {
        Assert.Throws<ArgumentException>(() => _table.Insert(new byte[4], 33, _a));
        Assert.Throws<ArgumentException>(() => _table.Insert(new byte[16], 129, _a));
        Assert.Throws<ArgumentException>(() => _table.Insert(new byte[4], -1, _a));
        Assert.Throws<ArgumentException>(() => _table.Insert(new byte[5], 8, _a));
        Assert.Throws<ArgumentException>(() => _table.Lookup(new byte[3]));
        Assert.Throws<ArgumentException>(() => _table.Lookup([]));
        Assert.Equal(0, _table.Count);
    }
}
