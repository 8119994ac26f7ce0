using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using static Lb.Netlink.Protocol.NetlinkConstants;

namespace Lb.Netlink.Protocol;

/// <summary>One netlink message inside a datagram: the header fields and the payload after the header.</summary>
public readonly ref struct NetlinkMessage
{
    public NetlinkMessage(ushort type, ushort flags, uint sequence, uint portId, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Flags = flags;
        Sequence = sequence;
        PortId = portId;
        Payload = payload;
    }

    public ushort Type { get; }
    public ushort Flags { get; }
    public uint Sequence { get; }
    public uint PortId { get; }
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>For a generic netlink message: the command of its genlmsghdr.</summary>
    public byte GenericCommand => Payload.Length >= 4 ? Payload[0] : throw new NetlinkFormatException($"generic netlink message type {Type} has a {Payload.Length}-byte payload, shorter than genlmsghdr");

    /// <summary>Attributes that follow a fixed family header of <paramref name="headerLength"/> bytes (4 for generic netlink).</summary>
    public NetlinkAttributeReader Attributes(int headerLength)
    {
        if (Payload.Length < headerLength)
            throw new NetlinkFormatException($"netlink message type {Type} has a {Payload.Length}-byte payload, shorter than its {headerLength}-byte family header");
        return new NetlinkAttributeReader(Payload[Align(headerLength)..]);
    }
}

/// <summary>
/// Walks the netlink messages of one datagram. Never reads out of bounds: a header that is truncated
/// or whose length lies throws <see cref="NetlinkFormatException"/>.
/// </summary>
public ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _remaining;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram)
    {
        _remaining = datagram;
    }

    public bool TryRead(out NetlinkMessage message)
    {
        message = default;
        if (_remaining.IsEmpty)
            return false;
        if (_remaining.Length < NLMSG_HDRLEN)
            throw new NetlinkFormatException($"truncated netlink header: {_remaining.Length} bytes left, a header needs {NLMSG_HDRLEN}");
        var length = ReadHost32(_remaining);
        if (length < NLMSG_HDRLEN || length > (uint)_remaining.Length)
            throw new NetlinkFormatException($"netlink message claims length {length}, but {_remaining.Length} bytes are left (minimum {NLMSG_HDRLEN})");
        var len = (int)length;
        message = new NetlinkMessage(
            ReadHost16(_remaining[4..]),
            ReadHost16(_remaining[6..]),
            ReadHost32(_remaining[8..]),
            ReadHost32(_remaining[12..]),
            _remaining[NLMSG_HDRLEN..len]);
        var next = Align(len);
        _remaining = next >= _remaining.Length ? default : _remaining[next..];
        return true;
    }

    internal static ushort ReadHost16(ReadOnlySpan<byte> span) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(span) : BinaryPrimitives.ReadUInt16BigEndian(span);

    internal static uint ReadHost32(ReadOnlySpan<byte> span) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(span) : BinaryPrimitives.ReadUInt32BigEndian(span);

    internal static ulong ReadHost64(ReadOnlySpan<byte> span) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReadUInt64LittleEndian(span) : BinaryPrimitives.ReadUInt64BigEndian(span);
}

/// <summary>
/// Walks a sequence of netlink attributes. <see cref="TryRead"/> returns false at the end and throws
/// <see cref="NetlinkFormatException"/> for a truncated attribute or one whose length lies.
/// </summary>
public ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _remaining;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes)
    {
        _remaining = attributes;
    }

    public bool TryRead(out NetlinkAttribute attribute)
    {
        attribute = default;
        if (_remaining.IsEmpty)
            return false;
        if (_remaining.Length < NLA_HDRLEN)
            throw new NetlinkFormatException($"truncated netlink attribute: {_remaining.Length} bytes left, an attribute header needs {NLA_HDRLEN}");
        var length = NetlinkMessageReader.ReadHost16(_remaining);
        var rawType = NetlinkMessageReader.ReadHost16(_remaining[2..]);
        if (length < NLA_HDRLEN || length > _remaining.Length)
            throw new NetlinkFormatException($"netlink attribute type {rawType & NLA_TYPE_MASK} claims length {length}, but {_remaining.Length} bytes are left (minimum {NLA_HDRLEN})");
        attribute = new NetlinkAttribute(rawType, _remaining[NLA_HDRLEN..length]);
        var next = Align(length);
        _remaining = next >= _remaining.Length ? default : _remaining[next..];
        return true;
    }
}

/// <summary>One attribute: its type (flags stripped), whether NLA_F_NESTED was set, and its payload.</summary>
public readonly ref struct NetlinkAttribute
{
    public NetlinkAttribute(ushort rawType, ReadOnlySpan<byte> payload)
    {
        RawType = rawType;
        Payload = payload;
    }

    public ushort RawType { get; }
    public ushort Type => (ushort)(RawType & NLA_TYPE_MASK);
    public bool HasNestedFlag => (RawType & NLA_F_NESTED) != 0;
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>The attributes nested inside this one; accepted with or without NLA_F_NESTED (old kernels omit it).</summary>
    public NetlinkAttributeReader Nested => new(Payload);

    public byte GetUInt8() => Payload.Length >= 1 ? Payload[0] : throw Short(1);

    public ushort GetUInt16() => Payload.Length >= 2 ? NetlinkMessageReader.ReadHost16(Payload) : throw Short(2);

    public ushort GetUInt16BigEndian() => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : throw Short(2);

    public uint GetUInt32() => Payload.Length >= 4 ? NetlinkMessageReader.ReadHost32(Payload) : throw Short(4);

    public int GetInt32() => unchecked((int)GetUInt32());

    public ulong GetUInt64() => Payload.Length >= 8 ? NetlinkMessageReader.ReadHost64(Payload) : throw Short(8);

    /// <summary>A string up to the first NUL (or the whole payload when there is none).</summary>
    public string GetString()
    {
        var end = Payload.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? Payload : Payload[..end]);
    }

    /// <summary>An address of <paramref name="family"/>: the first 4 or 16 bytes of the payload.</summary>
    public IPAddress GetAddress(AddressFamily family)
    {
        var size = family == AddressFamily.InterNetworkV6 ? 16 : 4;
        if (Payload.Length < size)
            throw Short(size);
        return new IPAddress(Payload[..size]);
    }

    /// <summary>An address whose family is given by the payload length (4 or 16 bytes).</summary>
    public IPAddress GetAddress() => Payload.Length switch
    {
        4 or 16 => new IPAddress(Payload),
        _ => throw new NetlinkFormatException($"netlink attribute type {Type} holds {Payload.Length} bytes, not an IPv4 (4) or IPv6 (16) address"),
    };

    private NetlinkFormatException Short(int need) =>
        new($"netlink attribute type {Type} holds {Payload.Length} bytes, needs {need}");
}
