using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Branchgate.Uapi;

/// <summary>
/// Writes UAPI answers byte for byte as wireguard-go 0.0.20220316 does (device/uapi.go IpcGetOperation, IpcHandle).
/// A get answer lists, in this order: private_key, listen_port, fwmark (each only when non-zero); then per peer
/// public_key, preshared_key (always, 64 zeros for none), protocol_version=1, endpoint (when known),
/// last_handshake_time_sec, last_handshake_time_nsec, tx_bytes, rx_bytes, persistent_keepalive_interval (always,
/// even 0), one allowed_ip line per range; then <c>errno=0</c> and an empty line.
/// </summary>
public static class UapiFormatter
{
    /// <summary>The whole answer to <c>get=1</c>, in a buffer that zeroes itself (it holds keys) on dispose.</summary>
    public static UapiAnswer FormatGet(UapiDeviceSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var answer = new UapiAnswer(256 + (snapshot.Peers.Count * 512));
        if (!snapshot.PrivateKey.IsEmpty && snapshot.PrivateKey.ContainsAnyExcept((byte)0))
        {
            answer.AppendKey("private_key", snapshot.PrivateKey);
        }

        if (snapshot.ListenPort != 0)
        {
            answer.AppendNumber("listen_port", snapshot.ListenPort);
        }

        if (snapshot.Fwmark != 0)
        {
            answer.AppendNumber("fwmark", snapshot.Fwmark);
        }

        var text = new StringBuilder(64);
        foreach (var peer in snapshot.Peers)
        {
            answer.AppendKey("public_key", peer.PublicKey.Span);
            answer.AppendKey("preshared_key", peer.PresharedKey);
            answer.AppendAscii("protocol_version=1\n");
            if (peer.Endpoint is { } endpoint)
            {
                text.Clear().Append("endpoint=");
                UapiAddressText.AppendEndpoint(text, endpoint);
                answer.AppendAscii(text.Append('\n').ToString());
            }

            answer.AppendNumber("last_handshake_time_sec", peer.LastHandshakeTimeSeconds);
            answer.AppendNumber("last_handshake_time_nsec", peer.LastHandshakeTimeNanoseconds);
            answer.AppendNumber("tx_bytes", peer.TransmittedBytes);
            answer.AppendNumber("rx_bytes", peer.ReceivedBytes);
            answer.AppendNumber("persistent_keepalive_interval", peer.PersistentKeepaliveInterval);
            foreach (var prefix in peer.AllowedIps)
            {
                text.Clear().Append("allowed_ip=");
                UapiAddressText.AppendPrefix(text, prefix);
                answer.AppendAscii(text.Append('\n').ToString());
            }
        }

        answer.AppendAscii(FormatErrno(UapiErrno.None));
        return answer;
    }

    /// <summary>The status line and empty line ending every answer: <c>errno=0</c> or <c>errno=-22</c>.</summary>
    public static string FormatErrno(UapiErrno error) =>
        error == UapiErrno.None ? "errno=0\n\n" : "errno=-" + ((int)error).ToString(CultureInfo.InvariantCulture) + "\n\n";
}

/// <summary>An answer's bytes; zeroed when disposed or grown, since a get answer carries the private key.</summary>
public sealed class UapiAnswer : IDisposable
{
    private byte[] _buffer;
    private int _length;

    internal UapiAnswer(int capacity) => _buffer = new byte[capacity];

    public ReadOnlyMemory<byte> Bytes => _buffer.AsMemory(0, _length);

    /// <summary>The answer as text; only for tests and diagnostics (the string cannot be zeroed).</summary>
    public override string ToString() => Encoding.Latin1.GetString(Bytes.Span);

    internal void AppendAscii(string text)
    {
        var target = Grow(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            target[i] = (byte)text[i];
        }
    }

    internal void AppendNumber(string key, long value) =>
        AppendAscii(key + "=" + value.ToString(CultureInfo.InvariantCulture) + "\n");

    internal void AppendNumber(string key, ulong value) =>
        AppendAscii(key + "=" + value.ToString(CultureInfo.InvariantCulture) + "\n");

    internal void AppendKey(string key, ReadOnlySpan<byte> value)
    {
        const string Hex = "0123456789abcdef";
        AppendAscii(key);
        AppendAscii("=");
        var target = Grow(64);
        for (var i = 0; i < 32; i++)
        {
            var b = i < value.Length ? value[i] : (byte)0;
            target[2 * i] = (byte)Hex[b >> 4];
            target[(2 * i) + 1] = (byte)Hex[b & 0xf];
        }

        AppendAscii("\n");
    }

    private Span<byte> Grow(int count)
    {
        if (_length + count > _buffer.Length)
        {
            var larger = new byte[Math.Max(_buffer.Length * 2, _length + count)];
            _buffer.AsSpan(0, _length).CopyTo(larger);
            CryptographicOperations.ZeroMemory(_buffer);
            _buffer = larger;
        }

        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_buffer);
        _length = 0;
    }
}
