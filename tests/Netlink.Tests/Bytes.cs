using System.Buffers.Binary;
using System.Text;

namespace Lb.Netlink.Tests;

/// <summary>
/// Builds expected wire bytes by hand, field by field, from the C header layouts (host byte order is
/// little-endian on the machines these tests run on; the tests assert it).
/// </summary>
internal static class Bytes
{
    public static byte[] U8(byte v) => [v];

    public static byte[] U16(ushort v)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        return b;
    }

    public static byte[] Be16(ushort v)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, v);
        return b;
    }

    public static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    public static byte[] I32(int v) => U32(unchecked((uint)v));

    public static byte[] U64(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    public static byte[] Str(string s) => [.. Encoding.ASCII.GetBytes(s), 0];

    public static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Pad(byte[] b) => b.Length % 4 == 0 ? b : [.. b, .. new byte[4 - b.Length % 4]];

    /// <summary>struct nlattr { u16 nla_len; u16 nla_type; } + payload, padded to 4.</summary>
    public static byte[] Attr(ushort type, params byte[][] payload)
    {
        var p = Cat(payload);
        return Pad(Cat(U16((ushort)(4 + p.Length)), U16(type), p));
    }

    /// <summary>A nested attribute with NLA_F_NESTED (0x8000) set.</summary>
    public static byte[] Nest(ushort type, params byte[][] children) => Attr((ushort)(type | 0x8000), children);

    /// <summary>struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; } + payload.</summary>
    public static byte[] Msg(ushort type, ushort flags, uint seq, uint pid, params byte[][] payload)
    {
        var p = Cat(payload);
        return Cat(U32((uint)(16 + p.Length)), U16(type), U16(flags), U32(seq), U32(pid), p);
    }

    /// <summary>struct genlmsghdr { u8 cmd; u8 version; u16 reserved; }.</summary>
    public static byte[] Genl(byte cmd, byte version = 1) => [cmd, version, 0, 0];

    /// <summary>Zeroes the sequence field (bytes 8..11) for comparing requests whose sequence the socket assigns.</summary>
    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
}
