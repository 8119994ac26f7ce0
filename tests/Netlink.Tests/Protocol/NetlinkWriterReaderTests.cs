using System.Net;
using Lb.Netlink.Protocol;
using Xunit;
using static Lb.Netlink.Tests.Bytes;

namespace Lb.Netlink.Tests.Protocol;

public class NetlinkWriterReaderTests
{
    [Fact]
    public void Host_is_little_endian_as_the_hand_built_bytes_assume() => Assert.True(BitConverter.IsLittleEndian);

    [Fact]
    public void Writes_header_attributes_padding_and_nested_lengths_byte_for_byte()
    {
        Span<byte> buffer = stackalloc byte[256];
        var w = new NetlinkWriter(buffer);
        using (w.BeginMessage(0x1234, 0x0305, 7, 9))
        {
            w.WriteGenericHeader(3, 1);
            w.WriteUInt8(1, 0xAB);
            w.WriteUInt16(2, 0x0102);
            w.WriteUInt16BigEndian(3, 80);
            w.WriteUInt32(4, 0xDEADBEEF);
            w.WriteUInt64(5, 0x0102030405060708);
            w.WriteString(6, "wrr");
            using (w.BeginNested(7))
            {
                w.WriteUInt32(1, 5);
                using (w.BeginNested(2, setNestedFlag: false))
                    w.WriteString(1, "abcde");
            }
            w.WriteAddress(8, IPAddress.Parse("10.1.2.3"), padTo: 16);
        }
        var expected = Msg(0x1234, 0x0305, 7, 9,
            Genl(3, 1),
            Attr(1, U8(0xAB)),
            Attr(2, U16(0x0102)),
            Attr(3, Be16(80)),
            Attr(4, U32(0xDEADBEEF)),
            Attr(5, U64(0x0102030405060708)),
            Attr(6, Str("wrr")),
            Nest(7, Attr(1, U32(5)), Attr(2, Attr(1, Str("abcde")))),
            Attr(8, [10, 1, 2, 3], new byte[12]));
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(w.Written));
        // Spot-check the hand-built layout itself: 1-byte attribute is 5 bytes long, padded to 8.
        Assert.Equal(Hex("0500 0100 AB000000"), Attr(1, U8(0xAB)));
    }

    [Fact]
    public void Writer_refuses_to_overrun_its_buffer()
    {
        var buffer = new byte[20];
        var ex = Assert.Throws<InvalidOperationException>(() =>
        {
            var w = new NetlinkWriter(buffer);
            using (w.BeginMessage(16, 1))
                w.WriteUInt32(1, 1);
        });
        Assert.Contains("does not fit", ex.Message);
    }

    [Fact]
    public void Reads_nested_attributes_with_and_without_the_nested_flag()
    {
        var payload = Cat(
            Nest(1, Attr(1, U32(42)), Attr(2, Str("x"))),
            Attr(2, Attr(1, U32(43))),
            Attr(3, U16(7)));
        var r = new NetlinkAttributeReader(payload);
        Assert.True(r.TryRead(out var a));
        Assert.Equal(1, a.Type);
        Assert.True(a.HasNestedFlag);
        var n = a.Nested;
        Assert.True(n.TryRead(out var inner));
        Assert.Equal(42u, inner.GetUInt32());
        Assert.True(n.TryRead(out inner));
        Assert.Equal("x", inner.GetString());
        Assert.False(n.TryRead(out _));

        Assert.True(r.TryRead(out a));
        Assert.Equal(2, a.Type);
        Assert.False(a.HasNestedFlag);
        n = a.Nested;
        Assert.True(n.TryRead(out inner));
        Assert.Equal(43u, inner.GetUInt32());

        Assert.True(r.TryRead(out a));
        Assert.Equal(7, a.GetUInt16());
        Assert.False(r.TryRead(out _));
    }

    [Theory]
    [InlineData("0800 0100 01000000 0300")]        // 2 bytes left: shorter than an attribute header
    [InlineData("0C00 0100 01000000")]             // claims 12 bytes, 8 present
    [InlineData("0200 0100 01000000")]             // claims 2 bytes: less than its own header
    [InlineData("FFFF 0100 01000000")]             // claims 65535 bytes
    public void Attribute_reader_throws_a_format_exception_for_truncated_or_lying_lengths(string hex)
    {
        var bytes = Hex(hex);
        var ex = Assert.Throws<NetlinkFormatException>(() =>
        {
            var r = new NetlinkAttributeReader(bytes);
            while (r.TryRead(out _))
            {
            }
        });
        Assert.Contains("attribute", ex.Message);
    }

    [Fact]
    public void Attribute_getters_refuse_payloads_that_are_too_short()
    {
        var bytes = Attr(5, U16(1));
        var r = new NetlinkAttributeReader(bytes);
        Assert.True(r.TryRead(out var a));
        try
        {
            a.GetUInt32();
            Assert.Fail("expected a format exception");
        }
        catch (NetlinkFormatException e)
        {
            Assert.Contains("needs 4", e.Message);
        }
    }

    [Fact]
    public void Message_reader_walks_several_messages_and_rejects_lying_lengths()
    {
        var datagram = Cat(Msg(16, 2, 1, 5, U32(1)), Msg(3, 2, 1, 5, I32(0)));
        var r = new NetlinkMessageReader(datagram);
        Assert.True(r.TryRead(out var m));
        Assert.Equal(16, m.Type);
        Assert.Equal(1u, m.Sequence);
        Assert.Equal(5u, m.PortId);
        Assert.Equal(4, m.Payload.Length);
        Assert.True(r.TryRead(out m));
        Assert.Equal(NetlinkConstants.NLMSG_DONE, m.Type);
        Assert.False(r.TryRead(out _));

        var lying = Msg(16, 0, 1, 0, U32(1));
        lying[0] = 200; // nlmsg_len 200 in a 20-byte datagram
        Assert.Throws<NetlinkFormatException>(() =>
        {
            var rr = new NetlinkMessageReader(lying);
            rr.TryRead(out _);
        });
        Assert.Throws<NetlinkFormatException>(() =>
        {
            var rr = new NetlinkMessageReader(lying.AsSpan(0, 10));
            rr.TryRead(out _);
        });
    }

    [Fact]
    public void Message_with_payload_shorter_than_its_family_header_is_rejected()
    {
        var bytes = Msg(16, 0, 1, 0, [1, 2]);
        Assert.Throws<NetlinkFormatException>(() =>
        {
            var r = new NetlinkMessageReader(bytes);
            r.TryRead(out var m);
            m.Attributes(4);
        });
    }
}
