using System.Net;
using Lb.Netlink.Protocol;
using Lb.Netlink.Route;
using Xunit;
using static Lb.Netlink.Tests.Bytes;

namespace Lb.Netlink.Tests.Route;

public class RtnetlinkMessagesTests
{
    private static string H(byte[] b) => Convert.ToHexString(b);

    [Fact]
    public void New_ipv4_address_with_peer_broadcast_label_and_flags()
    {
        var a = new InterfaceAddress(7, IPAddress.Parse("10.1.2.3"), 24)
        {
            Peer = IPAddress.Parse("10.1.2.9"),
            Broadcast = IPAddress.Parse("10.1.2.255"),
            Label = "eth0:vip",
            Scope = AddressScope.Link,
            Flags = AddressFlags.NoDad | AddressFlags.NoPrefixRoute,
        };
        var req = RtnetlinkMessages.NewAddress(a, "eth0");
        // ifaddrmsg { family=AF_INET, prefixlen=24, flags=low 8 bits, scope=253, index=7 }
        var expected = Msg(20, 0x01 | 0x04 | 0x400 | 0x200, 0, 0,
            [2, 24, 0x02, 253], U32(7),
            Attr(2, [10, 1, 2, 3]),        // IFA_LOCAL
            Attr(1, [10, 1, 2, 9]),        // IFA_ADDRESS = peer
            Attr(4, [10, 1, 2, 255]),      // IFA_BROADCAST
            Attr(3, Str("eth0:vip")),      // IFA_LABEL
            Attr(8, U32(0x202)));          // IFA_FLAGS
        Assert.Equal(H(expected), H(req.Message));
        Assert.Equal("add address 10.1.2.3 peer 10.1.2.9/24 on eth0", req.Description);
    }

    [Fact]
    public void Delete_ipv6_address_and_set_link_and_dumps()
    {
        var v6 = IPAddress.Parse("2001:db8::5");
        var del = RtnetlinkMessages.DelAddress(new InterfaceAddress(3, v6, 64));
        Assert.Equal(H(Msg(21, 0x05, 0, 0, [10, 64, 0, 0], U32(3), Attr(2, v6.GetAddressBytes()), Attr(1, v6.GetAddressBytes()))), H(del.Message));

        // ifinfomsg { family=0, pad, type=0, index=4, flags=IFF_UP, change=IFF_UP }
        Assert.Equal(H(Msg(16, 0x05, 0, 0, [0, 0], U16(0), I32(4), U32(1), U32(1))), H(RtnetlinkMessages.SetLinkUp(4, true).Message));
        Assert.Equal(H(Msg(16, 0x05, 0, 0, [0, 0], U16(0), I32(4), U32(0), U32(1))), H(RtnetlinkMessages.SetLinkUp(4, false).Message));
        Assert.Equal(H(Msg(18, 0x301, 0, 0, new byte[16])), H(RtnetlinkMessages.GetLinks().Message));
        Assert.Equal(H(Msg(22, 0x301, 0, 0, [10, 0, 0, 0], U32(0))), H(RtnetlinkMessages.GetAddresses(System.Net.Sockets.AddressFamily.InterNetworkV6).Message));
    }

    [Fact]
    public void Decodes_link_and_address_notifications()
    {
        var link = Msg(16, 0, 0, 0, [0, 0], U16(1), I32(5), U32(0x11043), U32(0),
            Attr(3, Str("eth5")), Attr(4, U32(9000)), Attr(16, U8(6)), Attr(1, [0x02, 0, 0, 0, 0, 0x42]));
        var addr4 = Msg(20, 0, 0, 0, [2, 32, 0x80, 0], U32(5), Attr(1, [10, 0, 0, 2]), Attr(2, [10, 0, 0, 1]), Attr(3, Str("eth5")), Attr(8, U32(0x280)));
        var del6 = Msg(21, 0, 0, 0, [10, 64, 0, 253], U32(5), Attr(1, IPAddress.Parse("fe80::1").GetAddressBytes()));
        var dellink = Msg(17, 0, 0, 0, [0, 0], U16(1), I32(5), U32(0), U32(0), Attr(3, Str("eth5")));
        var events = RtnetlinkMonitor.Parse(Cat(link, addr4, del6, dellink));
        Assert.Equal(4, events.Count);
        var l = Assert.IsType<LinkEvent>(events[0]);
        Assert.Equal((5, "eth5", 9000, LinkOperationalState.Up), (l.Link.Index, l.Link.Name, l.Link.Mtu, l.Link.OperationalState));
        Assert.True(l.Link.IsUp && l.Link.HasCarrier);
        Assert.Equal("020000000042", l.Link.HardwareAddress!.ToString());
        var a = Assert.IsType<AddressEvent>(events[1]);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), a.Address.Address);
        Assert.Equal(IPAddress.Parse("10.0.0.2"), a.Address.Peer);
        Assert.Equal(AddressFlags.Permanent | AddressFlags.NoPrefixRoute, a.Address.Flags);
        var d = Assert.IsType<AddressEvent>(events[2]);
        Assert.True(d.Removed);
        Assert.Equal(AddressScope.Link, d.Address.Scope);
        Assert.Null(d.Address.Peer);
        Assert.True(Assert.IsType<LinkEvent>(events[3]).Removed);
    }

    [Fact]
    public void Truncated_family_headers_throw_format_exceptions()
    {
        Assert.Throws<NetlinkFormatException>(() => RtnetlinkMonitor.Parse(Msg(16, 0, 0, 0, [0, 0, 0, 0])));
        Assert.Throws<NetlinkFormatException>(() => RtnetlinkMonitor.Parse(Msg(20, 0, 0, 0, [2, 24])));
        Assert.Throws<NetlinkFormatException>(() => RtnetlinkMonitor.Parse(Msg(20, 0, 0, 0, [2, 24, 0, 0], U32(1), Attr(2, [10, 0]))));
    }

    [Fact]
    public void Invalid_addresses_are_rejected_before_sending()
    {
        Assert.Contains("prefix", Assert.Throws<ArgumentException>(() => RtnetlinkMessages.NewAddress(new InterfaceAddress(1, IPAddress.Parse("10.0.0.1"), 33))).Message);
        Assert.Contains("broadcast", Assert.Throws<ArgumentException>(() => RtnetlinkMessages.NewAddress(new InterfaceAddress(1, IPAddress.IPv6Loopback, 128) { Broadcast = IPAddress.Loopback })).Message);
        Assert.Contains("label", Assert.Throws<ArgumentException>(() => RtnetlinkMessages.NewAddress(new InterfaceAddress(1, IPAddress.Loopback, 8) { Label = new string('l', 16) })).Message);
        Assert.Contains("index", Assert.Throws<ArgumentException>(() => RtnetlinkMessages.NewAddress(new InterfaceAddress(0, IPAddress.Loopback, 8))).Message);
    }
}
