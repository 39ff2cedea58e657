using System.Net;
using Branchgate.Crypto;
using Branchgate.Device;
using Branchgate.Protocol;

namespace Branchgate.Fuzz;

/// <summary>
/// Two in-memory WireGuard nodes, A and B, with an established session, on a frozen clock (keypairs never expire, so a
/// long run keeps reaching the transport path). Inputs are delivered to B the way WireGuardDevice's receive loop
/// handles a datagram: MessageHandler, then for data the inner packet's header and the allowed-IPs source check.
/// The first input byte picks how the rest is used, so the fuzzer gets past the MACs and the AEAD:
/// 0 raw datagram; 1 handshake message of the right size with a valid mac1; 2 a real transport message from A with
/// the input XORed over it; 3 a real transport message from A whose plaintext is the input; 4 a real initiation
/// from A with the input XORed over it and mac1 recomputed. Bit 7 of the first byte sets "under load".
/// </summary>
internal sealed class InboundFixture : IDisposable
{
    public static readonly InboundFixture Instance = new();

    private static readonly byte[] SourceAddress = [192, 0, 2, 1, 0xca, 0x6c];

    private readonly FrozenTime _time = new();
    private readonly Node _a;
    private readonly Node _b;
    private readonly AllowedIps<PeerSession> _allowedAtB = new();
    private readonly CookieGenerator _macsToB;
    private readonly byte[] _reply = new byte[Messages.ResponseSize];

    private InboundFixture()
    {
        _a = new Node(_time, 1);
        _b = new Node(_time, 2);
        _a.AddPeer(_b.Identity.PublicKey);
        _b.AddPeer(_a.Identity.PublicKey);
        _allowedAtB.Insert(IPNetwork.Parse("10.0.0.0/24"), _b.Session);
        _macsToB = new CookieGenerator(_b.Identity.PublicKey, _time);

        var initiation = new byte[Messages.InitiationSize];
        _a.Session.WriteInitiation(initiation, isRetry: false);
        var response = new byte[Messages.ResponseSize];
        var atB = _b.Handler.Handle(initiation, SourceAddress, false, response);
        var atA = _a.Handler.Handle(response.AsSpan(0, atB.Length), SourceAddress, false, new byte[Messages.ResponseSize]);
        if (atA.Outcome != MessageOutcome.HandshakeComplete)
        {
            throw new InvalidOperationException("the fixture's handshake failed");
        }

        // Confirm B's keypair with a keepalive from A.
        Deliver(Seal([]));
    }

    public void Receive(byte[] input)
    {
        if (input.Length == 0)
        {
            Deliver([]);
            return;
        }

        bool underLoad = (input[0] & 0x80) != 0;
        var rest = input.AsSpan(1);
        switch (input[0] & 0x7f)
        {
            case 0:
                Deliver(rest.ToArray(), underLoad);
                break;
            case 1:
                {
                    var size = rest.Length > 0 && (rest[0] & 1) != 0 ? Messages.ResponseSize : Messages.InitiationSize;
                    var message = new byte[size];
                    rest[..Math.Min(rest.Length, size)].CopyTo(message);
                    message[0] = size == Messages.ResponseSize ? (byte)MessageType.Response : (byte)MessageType.Initiation;
                    message[1] = message[2] = message[3] = 0;
                    _macsToB.AddMacs(message);
                    Deliver(message, underLoad);
                    break;
                }

            case 2:
                {
                    var message = Seal(TestPacket);
                    Xor(message, rest);
                    Deliver(message, underLoad);
                    break;
                }

            case 3:
                Deliver(Seal(rest[..Math.Min(rest.Length, Constants.DefaultMtu)]), underLoad);
                break;
            default:
                {
                    var message = new byte[Messages.InitiationSize];
                    _a.Session.WriteInitiation(message, isRetry: true);
                    Xor(message, rest);
                    message[0] = (byte)MessageType.Initiation;
                    _macsToB.AddMacs(message);
                    Deliver(message, underLoad);
                    break;
                }
        }
    }

    /// <summary>An IPv4 header from 10.0.0.2 to 10.0.1.1 with no payload (protocol 253).</summary>
    private static readonly byte[] TestPacket =
        [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 253, 0, 0, 10, 0, 0, 2, 10, 0, 1, 1];

    private static void Xor(byte[] message, ReadOnlySpan<byte> with)
    {
        for (int i = 0; i < Math.Min(message.Length, with.Length); i++)
        {
            message[i] ^= with[i];
        }
    }

    private byte[] Seal(ReadOnlySpan<byte> plaintext)
    {
        var buffer = new byte[Messages.TransportHeaderSize + plaintext.Length + 64];
        plaintext.CopyTo(buffer.AsSpan(Messages.TransportHeaderSize));
        var sent = _a.Session.Encrypt(buffer, plaintext.Length, Constants.DefaultMtu);
        return sent.Status == SendStatus.Sealed ? buffer[..sent.Length] : [];
    }

    private void Deliver(byte[] datagram, bool underLoad = false)
    {
        var result = _b.Handler.Handle(datagram, SourceAddress, underLoad, _reply);
        if (result.Outcome != MessageOutcome.Data)
        {
            return;
        }

        var plaintext = datagram.AsSpan(Messages.TransportHeaderSize, result.Length);
        if (InnerPacket.TryParse(plaintext, out int version, out int length, out _))
        {
            _ = ReferenceEquals(_allowedAtB.Lookup(InnerPacket.Source(plaintext, version)), result.Session);
            _ = plaintext[..length];
        }
    }

    public void Dispose()
    {
        _macsToB.Dispose();
        _a.Dispose();
        _b.Dispose();
    }

    private sealed class Node : IDisposable
    {
        public Node(TimeProvider time, int seed)
        {
            Time = time;
            Seed = seed;
            Identity = new NoiseIdentity(NoisePrivateKey.Generate());
            Handler = new MessageHandler(Identity, Indices, Directory, time);
        }

        public TimeProvider Time { get; }

        public int Seed { get; }

        public NoiseIdentity Identity { get; }

        public IndexTable Indices { get; } = new();

        public SessionDirectory Directory { get; } = new();

        public MessageHandler Handler { get; }

        public PeerSession Session { get; private set; } = null!;

        public void AddPeer(NoisePublicKey peer)
        {
            Session = new PeerSession(peer, Indices, Time, new Random(Seed));
            Session.SetIdentity(Identity);
            Directory.TryAdd(Session);
        }

        public void Dispose()
        {
            Session?.Dispose();
            Handler.Dispose();
            Identity.Dispose();
        }
    }

    /// <summary>A clock that never moves.</summary>
    private sealed class FrozenTime : TimeProvider
    {
        private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;

        public override long GetTimestamp() => 1_000_000_000;
    }
}
