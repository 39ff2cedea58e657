using System.Collections.Concurrent;
using Branchgate.Crypto;

namespace Branchgate.Protocol;

/// <summary>The peers of one device by static public key.</summary>
public sealed class SessionDirectory : ISessionDirectory
{
    private readonly ConcurrentDictionary<NoisePublicKey, PeerSession> _sessions = new();

    public int Count => _sessions.Count;

    public IEnumerable<PeerSession> Sessions => _sessions.Values;

    public bool TryAdd(PeerSession session) => _sessions.TryAdd(session.RemoteStatic, session);

    public bool TryRemove(NoisePublicKey publicKey, out PeerSession? session) => _sessions.TryRemove(publicKey, out session);

    public PeerSession? Find(NoisePublicKey publicKey) => _sessions.GetValueOrDefault(publicKey);

    public PeerSession? FindSession(ReadOnlySpan<byte> publicKey) =>
        publicKey.Length == X25519.KeySize ? Find(new NoisePublicKey(publicKey)) : null;
}
