using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Lb.Vrrp.Protocol;

/// <summary>The Internet checksum (RFC 1071), with the IPv4/IPv6 pseudo-headers VRRPv3 uses.</summary>
public static class VrrpChecksum
{
    /// <summary>Adds <paramref name="data"/> into a running 32-bit one's-complement sum.</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        var i = 0;
        for (; i + 1 < data.Length; i += 2)
            sum += (uint)((data[i] << 8) | data[i + 1]);
        if (i < data.Length)
            sum += (uint)(data[i] << 8);
        return sum;
    }

    /// <summary>Folds a running sum to the final complemented 16-bit checksum.</summary>
    public static ushort Fold(uint sum)
    {
        while ((sum >> 16) != 0)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>Sum of the pseudo-header for <paramref name="length"/> bytes of upper-layer protocol <paramref name="protocol"/>.</summary>
    public static uint PseudoHeader(IPAddress source, IPAddress destination, int length, byte protocol)
    {
        Span<byte> buf = stackalloc byte[40];
        uint sum = 0;
        if (source.AddressFamily == AddressFamily.InterNetwork)
        {
            source.TryWriteBytes(buf[..4], out _);
            destination.TryWriteBytes(buf.Slice(4, 4), out _);
            buf[8] = 0;
            buf[9] = protocol;
            BinaryPrimitives.WriteUInt16BigEndian(buf.Slice(10, 2), (ushort)length);
            return Add(sum, buf[..12]);
        }
        source.TryWriteBytes(buf[..16], out _);
        destination.TryWriteBytes(buf.Slice(16, 16), out _);
        BinaryPrimitives.WriteUInt32BigEndian(buf.Slice(32, 4), (uint)length);
        buf[36] = 0;
        buf[37] = 0;
        buf[38] = 0;
        buf[39] = protocol;
        return Add(sum, buf[..40]);
    }
}
