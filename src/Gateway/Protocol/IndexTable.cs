using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Branchgate.Protocol;

/// <summary>What a receiver index points at: a handshake in progress, or an established keypair of that session.</summary>
public readonly record struct IndexEntry(PeerSession Session, Keypair? Keypair);

/// <summary>
/// Random 32-bit receiver indices, unique per device (paper 5.4.2: "I_i is randomly generated"). Responses, cookie
/// replies and transport data find their session and keypair here. Lookups are lock-free and allocate nothing.
/// </summary>
public sealed class IndexTable
{
    private readonly ConcurrentDictionary<uint, IndexEntry> _entries = new();

    public int Count => _entries.Count;

    /// <summary>Reserves a fresh random index for a handshake of <paramref name="session"/>.</summary>
    public uint Register(PeerSession session)
    {
        while (true)
        {
            // Zero stands for "no index" in the sessions, so it is never handed out.
            var index = (uint)RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
            if (index != 0 && _entries.TryAdd(index, new IndexEntry(session, null)))
            {
                return index;
            }
        }
    }

    /// <summary>The handshake's index now names the keypair it produced (so in-flight transport data finds it).</summary>
    public void Bind(uint index, Keypair keypair)
    {
        if (_entries.TryGetValue(index, out var entry) && ReferenceEquals(entry.Session, keypair.Session))
        {
            _entries[index] = entry with { Keypair = keypair };
        }
    }

    public bool TryLookup(uint index, out IndexEntry entry) => _entries.TryGetValue(index, out entry);

    /// <summary>Frees an index, only if it still belongs to <paramref name="session"/>.</summary>
    public void Remove(uint index, PeerSession session)
    {
        if (_entries.TryGetValue(index, out var entry) && ReferenceEquals(entry.Session, session))
        {
            _entries.TryRemove(new KeyValuePair<uint, IndexEntry>(index, entry));
        }
    }
}
