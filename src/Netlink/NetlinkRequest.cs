using Lb.Netlink.Protocol;

namespace Lb.Netlink;

/// <summary>Writes one request message (header, family header, attributes) into a writer.</summary>
public delegate void NetlinkMessageBuilder(ref NetlinkWriter writer);

/// <summary>Turns one reply message into a value; returns false to skip the message.</summary>
public delegate bool NetlinkMessageParser<T>(NetlinkMessage message, out T value);

/// <summary>
/// One encoded netlink request message and what it does, in words, for error messages
/// (e.g. "add IPVS service TCP 10.0.0.1:80"). The socket fills in the sequence number when it sends it.
/// </summary>
public sealed class NetlinkRequest
{
    public NetlinkRequest(byte[] message, string description)
    {
        if (message.Length < NetlinkConstants.NLMSG_HDRLEN)
            throw new ArgumentException("a netlink request needs at least a header", nameof(message));
        Message = message;
        Description = description;
    }

    /// <summary>The encoded message (the sequence number field is overwritten on send).</summary>
    public byte[] Message { get; }

    public string Description { get; }

    public ushort Flags => NetlinkMessageReader.ReadHost16(Message.AsSpan(6));

    public ushort Type => NetlinkMessageReader.ReadHost16(Message.AsSpan(4));

    /// <summary>Encodes a request with <paramref name="build"/> into an exactly-sized array.</summary>
    public static NetlinkRequest Create(string description, NetlinkMessageBuilder build, int maxLength = 4096)
    {
        Span<byte> scratch = maxLength <= 4096 ? stackalloc byte[maxLength] : new byte[maxLength];
        var writer = new NetlinkWriter(scratch);
        build(ref writer);
        return new NetlinkRequest(writer.Written.ToArray(), description);
    }

    public override string ToString() => Description;
}
