using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Branchgate.Platform.Linux.Netlink;

/// <summary>One attribute of a netlink message: its type (flags masked off) and value.</summary>
public readonly ref struct NetlinkAttribute
{
    public NetlinkAttribute(ushort type, ReadOnlySpan<byte> value)
    {
        Type = type;
        Value = value;
    }

    public ushort Type { get; }

    public ReadOnlySpan<byte> Value { get; }

    public byte U8 => Value.Length >= 1 ? Value[0] : (byte)0;

    public ushort U16 => Value.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(Value) : (ushort)0;

    public uint U32 => Value.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Value) : 0;

    public ulong U64 => Value.Length >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(Value) : 0;

    /// <summary>The value as a string up to its NUL.</summary>
    public string AsString()
    {
        int end = Value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? Value : Value[..end]);
    }

    /// <summary>The value as an IPv4 (4 bytes) or IPv6 (16 bytes) address; null for any other length.</summary>
    public IPAddress? AsAddress() => Value.Length is 4 or 16 ? new IPAddress(Value) : null;

    public NetlinkAttributes Nested => new(Value);
}

/// <summary>
/// Walks the attributes in a span. Malformed input (a length shorter than the header or running past the end) ends the
/// walk instead of throwing: parsers of kernel replies must not crash on surprises.
/// </summary>
public readonly ref struct NetlinkAttributes
{
    private readonly ReadOnlySpan<byte> _data;

    public NetlinkAttributes(ReadOnlySpan<byte> data) => _data = data;

    public Enumerator GetEnumerator() => new(_data);

    public ref struct Enumerator
    {
        private ReadOnlySpan<byte> _rest;

        internal Enumerator(ReadOnlySpan<byte> data)
        {
            _rest = data;
            Current = default;
        }

        public NetlinkAttribute Current { get; private set; }

        public bool MoveNext()
        {
            if (_rest.Length < 4)
            {
                return false;
            }

            int length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
            ushort type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & Nl.NLA_TYPE_MASK);
            if (length < 4 || length > _rest.Length)
            {
                _rest = default;
                return false;
            }

            Current = new NetlinkAttribute(type, _rest[4..length]);
            int next = Math.Min(Nl.Align(length), _rest.Length);
            _rest = _rest[next..];
            return true;
        }
    }
}
