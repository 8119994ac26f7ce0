using System.Net;
using System.Net.Sockets;
using Lb.Netlink.Generic;
using Lb.Netlink.Ipvs;
using Lb.Netlink.Protocol;
using Lb.Netlink.Route;
using Xunit;
using static Lb.Netlink.Tests.Bytes;

namespace Lb.Netlink.Tests.Protocol;

/// <summary>
/// Every decoder, fed truncated and corrupted versions of valid replies, either decodes, declines, or
/// throws <see cref="NetlinkFormatException"/> — never an out-of-range or other exception.
/// </summary>
public class MalformedInputTests
{
    private static IEnumerable<(bool Rtnetlink, byte[] Bytes)> Samples()
    {
        yield return (false, Msg(0x25, 2, 1, 1, Genl(1), Nest(1,
            Attr(1, U16(2)), Attr(2, U16(6)), Attr(3, [10, 0, 0, 1], new byte[12]), Attr(4, Be16(80)), Attr(6, Str("wrr")),
            Attr(7, U32(3), U32(~0u)), Attr(8, U32(5)), Attr(9, U32(~0u)), Nest(12, Attr(1, U64(5)), Attr(4, U64(9))), Nest(10, Attr(1, U32(1))))));
        yield return (false, Msg(0x25, 2, 1, 1, Genl(5), Nest(2,
            Attr(1, IPAddress.Parse("2001:db8::1").GetAddressBytes()), Attr(2, Be16(80)), Attr(3, U32(2)), Attr(4, U32(1)), Attr(11, U16(10)), Attr(13, U8(1)), Nest(12, Attr(1, U64(1))))));
        yield return (false, Msg(0x25, 2, 1, 1, Genl(9), Nest(3, Attr(1, U32(1)), Attr(2, Str("eth0")), Attr(3, U32(1)), Attr(5, [224, 0, 0, 81]))));
        yield return (false, Msg(0x25, 0, 1, 1, Genl(14), Attr(1, U32(0x10201)), Attr(2, U32(4096))));
        yield return (false, Msg(0x25, 0, 1, 1, Genl(12), Attr(4, U32(1)), Attr(5, U32(2)), Attr(6, U32(3))));
        yield return (false, Msg(0x10, 0, 1, 1, Genl(1), Attr(1, U16(0x25)), Attr(2, Str("IPVS")), Attr(3, U32(1)),
            Nest(7, Nest(1, Attr(1, Str("grp")), Attr(2, U32(9))))));
        yield return (true, Msg(16, 0, 0, 0, [0, 0], U16(1), I32(5), U32(0x11043), U32(0), Attr(3, Str("eth5")), Attr(4, U32(1500)), Attr(16, U8(6)), Attr(1, [2, 0, 0, 0, 0, 1])));
        yield return (true, Msg(20, 0, 0, 0, [2, 24, 0x80, 0], U32(5), Attr(1, [10, 0, 0, 2]), Attr(2, [10, 0, 0, 1]), Attr(3, Str("eth5")), Attr(4, [10, 0, 0, 255]), Attr(8, U32(0x80))));
        yield return (true, Msg(20, 0, 0, 0, [10, 64, 0, 0], U32(5), Attr(1, IPAddress.Parse("2001:db8::1").GetAddressBytes()), Attr(8, U32(2))));
    }

    private static void DecodeEverything(byte[] datagram, bool rtnetlink)
    {
        // Generic netlink's GENL_ID_CTRL (16) is also RTM_NEWLINK's number: the protocol decides, as on a socket.
        var r = new NetlinkMessageReader(datagram);

        while (r.TryRead(out var m))
        {
            if (m.Type == 0x25)
            {
                _ = IpvsMessages.TryParseService(m, out _) || IpvsMessages.TryParseDestination(m, AddressFamily.InterNetwork, out _)
                    || IpvsMessages.TryParseDaemon(m, out _) || IpvsMessages.TryParseInfo(m, out _) || IpvsMessages.TryParseConfig(m, out _);
            }
            else if (m.Type == GenericNetlinkConstants.GENL_ID_CTRL && !rtnetlink)
            {
                GenericNetlinkFamily.TryParse(m, out _);
            }
        }
        if (rtnetlink)
            RtnetlinkMonitor.Parse(datagram);
    }

    [Fact]
    public void Valid_samples_decode()
    {
        foreach (var (rt, s) in Samples())
            DecodeEverything(s, rt);
    }

    [Fact]
    public void Truncated_and_corrupted_replies_only_ever_throw_format_exceptions()
    {
        var random = new Random(20261121);
        var cases = 0;
        foreach (var (rt, sample) in Samples())
        {
            var variants = new List<byte[]>();
            for (var cut = 0; cut < sample.Length; cut++)
            {
                var t = sample[..cut];
                if (t.Length >= 4)
                    BitConverter.TryWriteBytes(t.AsSpan(0, 4), (uint)t.Length); // a header that agrees with the cut: the inner lengths lie
                variants.Add(t);
            }
            for (var i = 0; i < 400; i++)
            {
                var v = (byte[])sample.Clone();
                var flips = random.Next(1, 4);
                for (var f = 0; f < flips; f++)
                    v[random.Next(16, v.Length)] = (byte)random.Next(256);
                variants.Add(v);
            }
            foreach (var v in variants)
            {
                cases++;
                try
                {
                    DecodeEverything(v, rt);
                }
                catch (NetlinkFormatException)
                {
                }
                catch (Exception e)
                {
                    Assert.Fail($"decoding {Convert.ToHexString(v)} threw {e.GetType().Name}: {e.Message}");
                }
            }
        }
        Assert.True(cases > 3000);
    }
}
