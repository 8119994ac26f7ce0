using System.Net;
using System.Net.Sockets;
using Lb.Netlink.Protocol;
using Lb.Netlink.Route;
using Xunit;
using static Lb.Netlink.Tests.Bytes;

namespace Lb.Netlink.Tests.Route;

/// <summary>RTM_NEWROUTE / RTM_DELROUTE / RTM_NEWRULE / RTM_DELRULE encoded byte for byte from the C layouts (struct rtmsg,
/// rtnexthop, fib_rule_hdr), and decoded back.</summary>
public class RtnetlinkRouteMessagesTests
{
    private static string H(byte[] b) => Convert.ToHexString(b);

    private static readonly RouteEntry Multipath = new()
    {
        Destination = IPAddress.Parse("10.20.0.0"),
        DestinationLength = 16,
        Table = 1000,
        Protocol = 18,
        Type = 1,
        PreferredSource = IPAddress.Parse("10.0.0.100"),
        Priority = 50,
        Metrics = [new RouteMetric(2, 1400)],
        NextHops =
        [
            new RouteNextHopEntry { Gateway = IPAddress.Parse("10.0.0.1"), InterfaceIndex = 2, Hops = 1 },
            new RouteNextHopEntry { Gateway = IPAddress.Parse("10.0.0.9"), InterfaceIndex = 3, Hops = 0, Flags = 4 },
        ],
    };

    [Fact]
    public void New_multipath_route_in_a_large_table_with_metric_prefsrc_and_mtu()
    {
        var req = RtnetlinkRouteMessages.NewRoute(Multipath, RouteAddMode.Create, "10.20.0.0/16 nexthop …");
        // rtmsg { family=AF_INET, dst_len=16, src_len=0, tos=0, table=RT_TABLE_UNSPEC (1000 > 255), protocol=18, scope=0, type=1, flags=0 }
        var expected = Msg(24, 0x01 | 0x04 | 0x400, 0, 0,
            [2, 16, 0, 0, 0, 18, 0, 1], U32(0),
            Attr(15, U32(1000)),                 // RTA_TABLE
            Attr(1, [10, 20, 0, 0]),             // RTA_DST
            Attr(7, [10, 0, 0, 100]),            // RTA_PREFSRC
            Attr(6, U32(50)),                    // RTA_PRIORITY
            Attr(8, Attr(2, U32(1400))),         // RTA_METRICS { RTAX_MTU }
            Attr(9,                              // RTA_MULTIPATH: rtnexthop { len, flags, hops, ifindex } + RTA_GATEWAY
                U16(16), [0, 1], I32(2), Attr(5, [10, 0, 0, 1]),
                U16(16), [4, 0], I32(3), Attr(5, [10, 0, 0, 9])));
        Assert.Equal(H(expected), H(req.Message));
        Assert.Equal("add route 10.20.0.0/16 nexthop …", req.Description);
    }

    [Fact]
    public void Add_modes_set_keepalived_flags_and_delete_has_no_create()
    {
        var r = new RouteEntry { Destination = IPAddress.Parse("10.1.0.0"), DestinationLength = 24, Type = 6, Protocol = 18 };
        Assert.Equal(0x405, RtnetlinkRouteMessages.NewRoute(r).Flags);
        Assert.Equal(0x605, RtnetlinkRouteMessages.NewRoute(r, RouteAddMode.Exclusive).Flags);
        Assert.Equal(0xC05, RtnetlinkRouteMessages.NewRoute(r, RouteAddMode.Append).Flags);
        Assert.Equal(0x505, RtnetlinkRouteMessages.NewRoute(r, RouteAddMode.Replace).Flags);
        var del = RtnetlinkRouteMessages.DelRoute(r with { Scope = 255 });
        Assert.Equal(H(Msg(25, 0x05, 0, 0, [2, 24, 0, 0, 254, 18, 255, 6], U32(0), Attr(1, [10, 1, 0, 0]))), H(del.Message));
    }

    [Fact]
    public void New_rule_with_from_to_fwmark_mask_iif_priority_and_protocol()
    {
        var rule = new RuleEntry
        {
            Source = IPAddress.Parse("192.168.2.0"),
            SourceLength = 24,
            Destination = IPAddress.Parse("10.9.0.0"),
            DestinationLength = 16,
            Table = 100,
            Priority = 200,
            FwMark = 0x10,
            FwMask = 0xff,
            InputInterface = "eth0",
            Protocol = 18,
            Flags = 2,
        };
        var req = RtnetlinkRouteMessages.NewRule(rule);
        // fib_rule_hdr { family, dst_len, src_len, tos, table, res1, res2, action=FR_ACT_TO_TBL, flags=FIB_RULE_INVERT }
        var expected = Msg(32, 0x01 | 0x04 | 0x400 | 0x200, 0, 0,
            [2, 16, 24, 0, 100, 0, 0, 1], U32(2),
            Attr(2, [192, 168, 2, 0]),       // FRA_SRC
            Attr(1, [10, 9, 0, 0]),          // FRA_DST
            Attr(6, U32(200)),               // FRA_PRIORITY
            Attr(10, U32(0x10)),             // FRA_FWMARK
            Attr(16, U32(0xff)),             // FRA_FWMASK
            Attr(3, Str("eth0")),            // FRA_IIFNAME
            Attr(21, U8(18)));               // FRA_PROTOCOL
        Assert.Equal(H(expected), H(req.Message));

        // a table above 255 goes in FRA_TABLE; delete: RTM_DELRULE with ACK only
        var del = RtnetlinkRouteMessages.DelRule(new RuleEntry { Table = 1000, Priority = 5 });
        Assert.Equal(H(Msg(33, 0x05, 0, 0, [2, 0, 0, 0, 0, 0, 0, 1], U32(0), Attr(15, U32(1000)), Attr(6, U32(5)))), H(del.Message));
    }

    [Fact]
    public void Decodes_what_it_encodes()
    {
        var v6 = new RouteEntry
        {
            Family = AddressFamily.InterNetworkV6,
            Destination = IPAddress.Parse("2001:db8:1::"),
            DestinationLength = 48,
            Gateway = IPAddress.Parse("fe80::1"),
            OutputInterface = 4,
            Table = 254,
            Protocol = 18,
            Priority = 1024,
            Preference = 1,
            Metrics = [new RouteMetric(1, 4), new RouteMetric(2, 1280)],
            CongestionControl = "cubic",
        };
        foreach (var r in new[] { Multipath, v6, new RouteEntry { Type = 7, Protocol = 18 } })
        {
            var bytes = RtnetlinkRouteMessages.NewRoute(r).Message;
            var reader = new NetlinkMessageReader(bytes);
            Assert.True(reader.TryRead(out var m));
            Assert.True(RtnetlinkRouteMessages.TryParseRoute(m, out var back));
            Assert.Equal(r, back);
        }
        var rule = new RuleEntry
        {
            Family = AddressFamily.InterNetworkV6,
            Source = IPAddress.Parse("2001:db8::"),
            SourceLength = 32,
            Action = 2,
            GotoTarget = 300,
            Priority = 100,
            OutputInterface = "eth1",
            UidRange = (10, 20),
            SourcePorts = (1000, 2000),
            DestinationPorts = (80, 80),
            IpProtocol = 6,
            TunnelId = 0x0102030405060708,
            SuppressPrefixLength = 0,
        };
        var rr = new NetlinkMessageReader(RtnetlinkRouteMessages.NewRule(rule).Message);
        Assert.True(rr.TryRead(out var rm));
        Assert.True(RtnetlinkRouteMessages.TryParseRule(rm, out var ruleBack));
        Assert.Equal(rule, ruleBack);
    }

    [Fact]
    public void Refuses_mixed_families_and_bad_prefixes()
    {
        Assert.Throws<ArgumentException>(() => RtnetlinkRouteMessages.NewRoute(new RouteEntry { Destination = IPAddress.Parse("::1"), DestinationLength = 128 }));
        Assert.Throws<ArgumentException>(() => RtnetlinkRouteMessages.NewRoute(new RouteEntry { DestinationLength = 33 }));
        Assert.Throws<ArgumentException>(() => RtnetlinkRouteMessages.NewRule(new RuleEntry { InputInterface = "a-name-longer-than-15" }));
    }
}
