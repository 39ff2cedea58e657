using System.Buffers.Binary;
using System.Net;
using System.Text;
using Branchgate.Crypto;
using Branchgate.Protocol;

namespace Branchgate.Cli;

/// <summary>
/// `branchgate demo`: two branch offices as in-memory peers. Office A has a packet for office B and no session yet,
/// so it stages the packet and starts a handshake; the messages cross a simulated WAN; then data flows both ways.
/// Everything is the real protocol core; only the wire is a method call.
/// </summary>
internal static class HandshakeDemo
{
    public static int Run(ReadOnlySpan<string> rest, TextWriter stdout, TextWriter stderr)
    {
        if (!CommandLine.NoArguments("demo", rest, stderr))
        {
            return 1;
        }

        using var a = new Office("office-a", IPAddress.Parse("10.1.0.1"));
        using var b = new Office("office-b", IPAddress.Parse("10.2.0.1"));
        a.Connect(b);
        b.Connect(a);
        stdout.WriteLine($"{a.Name}: public key {a.Identity.PublicKey}");
        stdout.WriteLine($"{b.Name}: public key {b.Identity.PublicKey}");

        // A has data for B but no keypair: the packet waits while a handshake starts.
        var packet = Ipv4Udp(a.LanAddress, b.LanAddress, "hello from office A");
        var buffer = new byte[2048];
        packet.CopyTo(buffer.AsSpan(Messages.TransportHeaderSize));
        var sent = a.Session.Encrypt(buffer, packet.Length, Constants.DefaultMtu);
        stdout.WriteLine($"{a.Name}: no session with {b.Name} yet ({sent.Status}); packet staged, starting handshake");

        var wire = new byte[2048];
        var length = a.Session.WriteInitiation(wire, isRetry: false);
        stdout.WriteLine($"{a.Name} -> {b.Name}: handshake initiation, {length} bytes");
        var reply = new byte[2048];
        var atB = b.Handler.Handle(wire.AsSpan(0, length), a.WanAddress, underLoad: false, reply);
        if (atB.Outcome != MessageOutcome.Reply)
        {
            return Fail(stderr, $"{b.Name} dropped the initiation: {atB.Reason}");
        }

        stdout.WriteLine($"{b.Name} -> {a.Name}: handshake response, {atB.Length} bytes");
        var atA = a.Handler.Handle(reply.AsSpan(0, atB.Length), b.WanAddress, underLoad: false, wire);
        if (atA.Outcome != MessageOutcome.HandshakeComplete)
        {
            return Fail(stderr, $"{a.Name} dropped the response: {atA.Reason}");
        }

        stdout.WriteLine($"{a.Name}: handshake complete, sending the staged packet");
        sent = a.Session.Encrypt(buffer, packet.Length, Constants.DefaultMtu);
        var delivered = b.Handler.Handle(buffer.AsSpan(0, sent.Length), a.WanAddress, underLoad: false, reply);
        if (delivered.Outcome != MessageOutcome.Data)
        {
            return Fail(stderr, $"{b.Name} dropped the data: {delivered.Reason}");
        }

        stdout.WriteLine($"{a.Name} -> {b.Name}: transport data, {sent.Length} bytes on the wire; {b.Name} " +
            $"got \"{Payload(buffer.AsSpan(Messages.TransportHeaderSize, delivered.Length))}\"" +
            (delivered.HandshakeCompleted ? " (this confirmed the new session on its side)" : ""));

        var answer = Ipv4Udp(b.LanAddress, a.LanAddress, "hello back from office B");
        answer.CopyTo(buffer.AsSpan(Messages.TransportHeaderSize));
        sent = b.Session.Encrypt(buffer, answer.Length, Constants.DefaultMtu);
        var onTheWire = buffer.AsSpan(0, sent.Length).ToArray(); // opening is in place: keep the datagram to replay it
        delivered = a.Handler.Handle(buffer.AsSpan(0, sent.Length), b.WanAddress, underLoad: false, reply);
        if (delivered.Outcome != MessageOutcome.Data)
        {
            return Fail(stderr, $"{a.Name} dropped the data: {delivered.Reason}");
        }

        stdout.WriteLine($"{b.Name} -> {a.Name}: transport data, {sent.Length} bytes on the wire; {a.Name} " +
            $"got \"{Payload(buffer.AsSpan(Messages.TransportHeaderSize, delivered.Length))}\"");

        // The same datagram again is a replay and is refused.
        var replayed = a.Handler.Handle(onTheWire, b.WanAddress, underLoad: false, reply);
        stdout.WriteLine($"{a.Name}: the same datagram again is {replayed.Outcome} ({replayed.Reason})");
        stdout.WriteLine($"tunnel up: {a.Name} sent {a.Session.TxBytes} bytes, {b.Name} sent {b.Session.TxBytes} bytes");
        return replayed.Reason == DropReason.Replay ? 0 : 1;
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine($"demo: {message}");
        return 1;
    }

    private static string Payload(ReadOnlySpan<byte> packet) =>
        InnerPacket.TryParse(packet, out _, out var length, out _) ? Encoding.ASCII.GetString(packet[28..length]) : "?";

    /// <summary>A minimal IPv4/UDP packet (checksums left zero: nothing here routes it).</summary>
    internal static byte[] Ipv4Udp(IPAddress source, IPAddress destination, string text)
    {
        var payload = Encoding.ASCII.GetBytes(text);
        var packet = new byte[28 + payload.Length];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        packet[8] = 64;
        packet[9] = 17;
        source.TryWriteBytes(packet.AsSpan(12), out _);
        destination.TryWriteBytes(packet.AsSpan(16), out _);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(20), 40000);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(22), 7);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(24), (ushort)(8 + payload.Length));
        payload.CopyTo(packet.AsSpan(28));
        return packet;
    }

    internal sealed class Office : IDisposable
    {
        private readonly SessionDirectory _directory = new();
        private readonly IndexTable _indices = new();

        public Office(string name, IPAddress lanAddress)
        {
            Name = name;
            LanAddress = lanAddress;
            Identity = new NoiseIdentity(NoisePrivateKey.Generate());
            Handler = new MessageHandler(Identity, _indices, _directory, TimeProvider.System);
            WanAddress = Encoding.ASCII.GetBytes(name);
        }

        public string Name { get; }

        public IPAddress LanAddress { get; }

        public byte[] WanAddress { get; }

        public NoiseIdentity Identity { get; }

        public MessageHandler Handler { get; }

        public PeerSession Session { get; private set; } = null!;

        public void Connect(Office other)
        {
            Session = new PeerSession(other.Identity.PublicKey, _indices, TimeProvider.System);
            Session.SetIdentity(Identity);
            _directory.TryAdd(Session);
        }

        public void Dispose()
        {
            Session.Dispose();
            Handler.Dispose();
            Identity.Dispose();
        }
    }
}
