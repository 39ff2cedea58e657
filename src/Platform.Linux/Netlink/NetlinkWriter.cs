using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Branchgate.Platform.Linux.Netlink;

/// <summary>
/// Builds one netlink request in a caller-owned buffer: the 16-byte nlmsghdr, the family's fixed header (a blittable
/// struct), then attributes (rtattr/nlattr: u16 length, u16 type, value, padded to 4), nested where needed.
/// The sequence number and port id are filled in by <see cref="NetlinkSocket"/> when sending.
/// </summary>
public ref struct NetlinkWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public NetlinkWriter(Span<byte> buffer, ushort type, ushort flags)
    {
        if (buffer.Length < Nl.HeaderLength)
        {
            throw new ArgumentException("buffer too small for a netlink header", nameof(buffer));
        }

        _buffer = buffer;
        _buffer.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[6..], flags);
        _length = Nl.HeaderLength;
    }

    public readonly ushort Type => BinaryPrimitives.ReadUInt16LittleEndian(_buffer[4..]);

    /// <summary>The finished message (its length field is kept current).</summary>
    public readonly Span<byte> Message => _buffer[.._length];

    /// <summary>Appends the family header (ifinfomsg, ifaddrmsg, rtmsg, fib_rule_hdr, xfrm_userpolicy_id ...).</summary>
    public void WriteHeader<T>(in T header)
        where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in header));
        Append(bytes, pad: true);
    }

    public void Attribute(ushort type, scoped ReadOnlySpan<byte> value)
    {
        int total = 4 + value.Length;
        if (total > ushort.MaxValue)
        {
            throw new ArgumentException("netlink attribute too long", nameof(value));
        }

        Ensure(Nl.Align(total));
        var at = _buffer[_length..];
        BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)total);
        BinaryPrimitives.WriteUInt16LittleEndian(at[2..], type);
        value.CopyTo(at[4..]);
        _length += Nl.Align(total);
        SyncLength();
    }

    public void AttributeU8(ushort type, byte value) => Attribute(type, [value]);

    public void AttributeU16(ushort type, ushort value)
    {
        Span<byte> v = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(v, value);
        Attribute(type, v);
    }

    public void AttributeU32(ushort type, uint value)
    {
        Span<byte> v = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(v, value);
        Attribute(type, v);
    }

    /// <summary>An attribute holding a NUL-terminated string (interface names).</summary>
    public void AttributeString(ushort type, string value)
    {
        Span<byte> v = stackalloc byte[Encoding.UTF8.GetMaxByteCount(value.Length) + 1];
        int n = Encoding.UTF8.GetBytes(value, v);
        v[n] = 0;
        Attribute(type, v[..(n + 1)]);
    }

    /// <summary>An attribute holding an address in network byte order (4 or 16 bytes).</summary>
    public void AttributeAddress(ushort type, IPAddress address)
    {
        Span<byte> v = stackalloc byte[16];
        if (!address.TryWriteBytes(v, out int n))
        {
            throw new ArgumentException("unsupported address", nameof(address));
        }

        Attribute(type, v[..n]);
    }

    /// <summary>Starts a nested attribute; pass the returned offset to <see cref="EndNested"/>.</summary>
    public int BeginNested(ushort type)
    {
        Ensure(4);
        int start = _length;
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[(start + 2)..], (ushort)(type | Nl.NLA_F_NESTED));
        _length += 4;
        SyncLength();
        return start;
    }

    public void EndNested(int start) =>
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[start..], (ushort)(_length - start));

    public static int FamilyOf(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? 10 : 2;

    private void Append(scoped ReadOnlySpan<byte> bytes, bool pad)
    {
        int size = pad ? Nl.Align(bytes.Length) : bytes.Length;
        Ensure(size);
        bytes.CopyTo(_buffer[_length..]);
        _length += size;
        SyncLength();
    }

    private readonly void Ensure(int more)
    {
        if (_length + more > _buffer.Length)
        {
            throw new ArgumentException("netlink request does not fit its buffer");
        }
    }

    private readonly void SyncLength() => BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)_length);
}
