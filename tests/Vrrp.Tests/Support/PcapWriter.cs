using System.Buffers.Binary;

namespace Lb.Vrrp.Tests.Support;

/// <summary>Writes a classic libpcap file: a 24-byte global header, then a 16-byte header per record.</summary>
internal static class PcapWriter
{
    public const uint LinkTypeRaw = 101;
    public const uint LinkTypeEthernet = 1;

    public static void Write(string path, uint linkType, IEnumerable<byte[]> packets)
    {
        using var fs = File.Create(path);
        Span<byte> h = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(h[0..], 0xa1b2c3d4);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], linkType);
        fs.Write(h);
        uint ts = 1_700_000_000;
        var r = new byte[16];
        foreach (var p in packets)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(0), ts++);
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), 0);
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(8), (uint)p.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(12), (uint)p.Length);
            fs.Write(r);
            fs.Write(p);
        }
    }

    /// <summary>Wraps an IPv6 payload in a 40-byte IPv6 header.</summary>
    public static byte[] Ipv6(System.Net.IPAddress src, System.Net.IPAddress dst, byte nextHeader, byte hopLimit, byte[] payload)
    {
        var b = new byte[40 + payload.Length];
        b[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)payload.Length);
        b[6] = nextHeader;
        b[7] = hopLimit;
        src.TryWriteBytes(b.AsSpan(8, 16), out _);
        dst.TryWriteBytes(b.AsSpan(24, 16), out _);
        payload.CopyTo(b, 40);
        return b;
    }
}
