using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using static Lb.Netlink.Protocol.NetlinkConstants;

namespace Lb.Netlink.Protocol;

/// <summary>
/// Writes netlink messages and attributes into a caller-provided span, in host byte order, every
/// element padded to 4 bytes. Messages and nested attributes are opened with a scope whose
/// <c>Dispose</c> fills in the length. Writing past the end of the span throws
/// <see cref="InvalidOperationException"/>; nothing is allocated.
/// </summary>
public ref struct NetlinkWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public NetlinkWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _position;

    public readonly ReadOnlySpan<byte> Written => _buffer[.._position];

    /// <summary>Starts a message; disposing the scope writes <c>nlmsg_len</c>.</summary>
    [UnscopedRef]
    public LengthScope BeginMessage(ushort type, ushort flags, uint sequence = 0, uint portId = 0)
    {
        var start = _position;
        var header = Reserve(NLMSG_HDRLEN);
        WriteHost32(header, 0);
        WriteHost16(header[4..], type);
        WriteHost16(header[6..], flags);
        WriteHost32(header[8..], sequence);
        WriteHost32(header[12..], portId);
        return new LengthScope(_buffer, ref _position, start, is32: true);
    }

    /// <summary>Writes the generic netlink header (<c>struct genlmsghdr</c>).</summary>
    public void WriteGenericHeader(byte command, byte version)
    {
        var span = Reserve(4);
        span[0] = command;
        span[1] = version;
        span[2] = 0;
        span[3] = 0;
    }

    /// <summary>Writes raw bytes (a fixed family header such as ifaddrmsg), padded to 4.</summary>
    public void WriteBytes(scoped ReadOnlySpan<byte> bytes)
    {
        var span = Reserve(Align(bytes.Length));
        bytes.CopyTo(span);
        span[bytes.Length..].Clear();
    }

    /// <summary>Reserves <paramref name="length"/> zeroed bytes (padded to 4) and returns them for the caller to fill.</summary>
    public Span<byte> WriteZeroes(int length)
    {
        var span = Reserve(Align(length));
        span.Clear();
        return span[..length];
    }

    /// <summary>Opens a nested attribute; disposing the scope writes its <c>nla_len</c>. NLA_F_NESTED is set unless <paramref name="setNestedFlag"/> is false.</summary>
    [UnscopedRef]
    public LengthScope BeginNested(ushort type, bool setNestedFlag = true)
    {
        var start = _position;
        var header = Reserve(NLA_HDRLEN);
        WriteHost16(header, 0);
        WriteHost16(header[2..], setNestedFlag ? (ushort)(type | NLA_F_NESTED) : type);
        return new LengthScope(_buffer, ref _position, start, is32: false);
    }

    public void WriteAttribute(ushort type, scoped ReadOnlySpan<byte> payload)
    {
        var total = NLA_HDRLEN + payload.Length;
        if (total > ushort.MaxValue)
            throw new InvalidOperationException($"netlink attribute {type} is {payload.Length} bytes, more than an attribute can hold");
        var span = Reserve(Align(total));
        WriteHost16(span, (ushort)total);
        WriteHost16(span[2..], type);
        payload.CopyTo(span[NLA_HDRLEN..]);
        span[total..].Clear();
    }

    public void WriteUInt8(ushort type, byte value) => WriteAttribute(type, [value]);

    public void WriteUInt16(ushort type, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        WriteHost16(b, value);
        WriteAttribute(type, b);
    }

    /// <summary>A 16-bit value in network byte order (ports).</summary>
    public void WriteUInt16BigEndian(ushort type, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, value);
        WriteAttribute(type, b);
    }

    public void WriteUInt32(ushort type, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        WriteHost32(b, value);
        WriteAttribute(type, b);
    }

    public void WriteUInt64(ushort type, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        if (BitConverter.IsLittleEndian)
            BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        else
            BinaryPrimitives.WriteUInt64BigEndian(b, value);
        WriteAttribute(type, b);
    }

    /// <summary>A NUL-terminated string attribute (NLA_NUL_STRING / NLA_STRING).</summary>
    public void WriteString(ushort type, string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        Span<byte> b = count < 256 ? stackalloc byte[count + 1] : new byte[count + 1];
        Encoding.UTF8.GetBytes(value, b);
        b[count] = 0;
        WriteAttribute(type, b);
    }

    /// <summary>The address bytes (4 for IPv4, 16 for IPv6), zero-padded to <paramref name="padTo"/> when given (IPVS's union nf_inet_addr).</summary>
    public void WriteAddress(ushort type, IPAddress address, int padTo = 0)
    {
        Span<byte> b = stackalloc byte[16];
        b.Clear();
        if (!address.TryWriteBytes(b, out var written))
            throw new InvalidOperationException($"cannot encode address {address}");
        WriteAttribute(type, b[..Math.Max(written, padTo)]);
    }

    private Span<byte> Reserve(int length)
    {
        if (_position + length > _buffer.Length)
            throw new InvalidOperationException($"netlink message does not fit its {_buffer.Length}-byte buffer (needs {_position + length})");
        var span = _buffer.Slice(_position, length);
        _position += length;
        return span;
    }

    internal static void WriteHost16(Span<byte> span, ushort value)
    {
        if (BitConverter.IsLittleEndian)
            BinaryPrimitives.WriteUInt16LittleEndian(span, value);
        else
            BinaryPrimitives.WriteUInt16BigEndian(span, value);
    }

    internal static void WriteHost32(Span<byte> span, uint value)
    {
        if (BitConverter.IsLittleEndian)
            BinaryPrimitives.WriteUInt32LittleEndian(span, value);
        else
            BinaryPrimitives.WriteUInt32BigEndian(span, value);
    }

    /// <summary>Closes a message or nested attribute: <see cref="Dispose"/> writes the length of everything written since it was opened.</summary>
    public ref struct LengthScope
    {
        private readonly Span<byte> _buffer;
        private readonly ref int _position;
        private readonly int _start;
        private readonly bool _is32;
        private bool _closed;

        internal LengthScope(Span<byte> buffer, ref int position, int start, bool is32)
        {
            _buffer = buffer;
            _position = ref position;
            _start = start;
            _is32 = is32;
            _closed = false;
        }

        public void Dispose()
        {
            if (_closed)
                return;
            _closed = true;
            var length = _position - _start;
            if (_is32)
            {
                WriteHost32(_buffer[_start..], (uint)length);
            }
            else
            {
                if (length > ushort.MaxValue)
                    throw new InvalidOperationException($"nested netlink attribute is {length} bytes, more than an attribute can hold");
                WriteHost16(_buffer[_start..], (ushort)length);
            }
        }
    }
}
