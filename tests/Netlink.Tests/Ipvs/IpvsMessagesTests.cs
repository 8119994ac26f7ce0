using System.Net;
using System.Net.Sockets;
using Lb.Netlink.Ipvs;
using Lb.Netlink.Protocol;
using Xunit;
using static Lb.Netlink.Tests.Bytes;

namespace Lb.Netlink.Tests.Ipvs;

/// <summary>IPVS requests byte for byte, built by hand from linux/ip_vs.h; replies decoded from hand-built bytes.</summary>
public class IpvsMessagesTests
{
    private const ushort Fam = 0x25;
    private const ushort ReqAck = 0x01 | 0x04;
    private const ushort Dump = 0x01 | 0x300;

    private static string H(byte[] b) => Convert.ToHexString(b);

    private static byte[] V4Key(byte proto, byte[] addr, ushort port) => Cat(
        Attr(1, U16(2)),                      // IPVS_SVC_ATTR_AF = AF_INET
        Attr(2, U16(proto)),                  // PROTOCOL
        Attr(3, addr, new byte[16 - addr.Length]), // ADDR (union nf_inet_addr, 16 bytes)
        Attr(4, Be16(port)));                 // PORT (be16)

    [Fact]
    public void New_service_tcp_ipv4_persistent_with_netmask()
    {
        var svc = new IpvsService(IpvsServiceKey.Tcp(IPAddress.Parse("10.0.0.1"), 80), "wrr")
        {
            Flags = IpvsServiceFlags.Persistent | IpvsServiceFlags.OnePacket,
            PersistenceTimeout = 300,
            PersistenceNetmask = 24,
        };
        var req = IpvsMessages.NewService(Fam, svc);
        var expected = Msg(Fam, ReqAck, 0, 0, Genl(1),
            Nest(1,
                V4Key(6, [10, 0, 0, 1], 80),
                Attr(6, Str("wrr")),
                Attr(7, U32(0x5), U32(0xFFFFFFFF)),  // struct ip_vs_flags { flags, mask }
                Attr(8, U32(300)),
                Attr(9, [255, 255, 255, 0])));       // __be32 netmask
        Assert.Equal(H(expected), H(req.Message));
        Assert.Equal("add IPVS service TCP 10.0.0.1:80 scheduler 'wrr' persistent 300", req.Description);
    }

    [Fact]
    public void Set_service_fwmark_ipv6_with_pe_and_sh_flags_never_sends_hashed()
    {
        var svc = new IpvsService(IpvsServiceKey.Fwmark(7, AddressFamily.InterNetworkV6), "sh")
        {
            Flags = IpvsServiceFlags.ShFallback | IpvsServiceFlags.ShPort | IpvsServiceFlags.Hashed | IpvsServiceFlags.Persistent,
            PersistenceTimeout = 60,
            PersistenceNetmask = 64,
            PersistenceEngine = "sip",
        };
        var req = IpvsMessages.SetService(Fam, svc);
        var expected = Msg(Fam, ReqAck, 0, 0, Genl(2),
            Nest(1,
                Attr(1, U16(10)),          // AF_INET6
                Attr(5, U32(7)),           // FWMARK
                Attr(6, Str("sh")),
                Attr(11, Str("sip")),      // PE_NAME
                Attr(7, U32(0x19), U32(0xFFFFFFFF)),
                Attr(8, U32(60)),
                Attr(9, U32(64))));        // IPv6: prefix length
        Assert.Equal(H(expected), H(req.Message));
    }

    [Fact]
    public void Udp_and_sctp_ipv6_keys_and_delete_service()
    {
        var v6 = IPAddress.Parse("2001:db8::1");
        var req = IpvsMessages.DelService(Fam, IpvsServiceKey.Sctp(v6, 5060));
        var expected = Msg(Fam, ReqAck, 0, 0, Genl(3),
            Nest(1, Attr(1, U16(10)), Attr(2, U16(132)), Attr(3, v6.GetAddressBytes()), Attr(4, Be16(5060))));
        Assert.Equal(H(expected), H(req.Message));

        var udp = IpvsMessages.GetService(Fam, IpvsServiceKey.Udp(IPAddress.Parse("192.0.2.1"), 53));
        Assert.Equal(H(Msg(Fam, ReqAck, 0, 0, Genl(4), Nest(1, V4Key(17, [192, 0, 2, 1], 53)))), H(udp.Message));
    }

    [Fact]
    public void New_destination_nat_with_thresholds_and_tunnel_destination_with_gue()
    {
        var key = IpvsServiceKey.Tcp(IPAddress.Parse("10.0.0.1"), 80);
        var nat = new IpvsDestination(IPAddress.Parse("192.168.1.2"), 8080, IpvsForwardingMethod.Masquerade, 5) { UpperThreshold = 100, LowerThreshold = 10 };
        var req = IpvsMessages.NewDestination(Fam, key, nat);
        var expected = Msg(Fam, ReqAck, 0, 0, Genl(5),
            Nest(1, V4Key(6, [10, 0, 0, 1], 80)),
            Nest(2,
                Attr(1, [192, 168, 1, 2], new byte[12]),
                Attr(2, Be16(8080)),
                Attr(11, U16(2)),        // ADDR_FAMILY
                Attr(3, U32(0)),         // FWD_METHOD masq
                Attr(4, U32(5)),         // WEIGHT
                Attr(5, U32(100)),       // U_THRESH
                Attr(6, U32(10))));      // L_THRESH
        Assert.Equal(H(expected), H(req.Message));
        Assert.Contains("192.168.1.2:8080", req.Description);
        Assert.Contains("TCP 10.0.0.1:80", req.Description);

        var tun = new IpvsDestination(IPAddress.Parse("192.168.1.3"), 80, IpvsForwardingMethod.Tunnel, 1)
        {
            TunnelType = IpvsTunnelType.Gue,
            TunnelPort = 6080,
            TunnelFlags = IpvsTunnelFlags.Checksum,
        };
        var set = IpvsMessages.SetDestination(Fam, key, tun);
        var expectedTun = Msg(Fam, ReqAck, 0, 0, Genl(6),
            Nest(1, V4Key(6, [10, 0, 0, 1], 80)),
            Nest(2,
                Attr(1, [192, 168, 1, 3], new byte[12]),
                Attr(2, Be16(80)),
                Attr(11, U16(2)),
                Attr(3, U32(2)),
                Attr(4, U32(1)),
                Attr(5, U32(0)),
                Attr(6, U32(0)),
                Attr(13, U8(1)),         // TUN_TYPE gue
                Attr(14, Be16(6080)),    // TUN_PORT
                Attr(15, U16(1))));      // TUN_FLAGS csum
        Assert.Equal(H(expectedTun), H(set.Message));
    }

    [Fact]
    public void Delete_destination_and_dump_destinations()
    {
        var key = IpvsServiceKey.Tcp(IPAddress.Parse("10.0.0.1"), 80);
        var del = IpvsMessages.DelDestination(Fam, key, new IpvsDestinationKey(IPAddress.Parse("10.0.0.2"), 80));
        Assert.Equal(H(Msg(Fam, ReqAck, 0, 0, Genl(7),
            Nest(1, V4Key(6, [10, 0, 0, 1], 80)),
            Nest(2, Attr(1, [10, 0, 0, 2], new byte[12]), Attr(2, Be16(80)), Attr(11, U16(2))))), H(del.Message));

        var dump = IpvsMessages.GetDestinations(Fam, key);
        Assert.Equal(H(Msg(Fam, Dump, 0, 0, Genl(8), Nest(1, V4Key(6, [10, 0, 0, 1], 80)))), H(dump.Message));
        Assert.Equal(H(Msg(Fam, Dump, 0, 0, Genl(4))), H(IpvsMessages.GetServices(Fam).Message));
    }

    [Fact]
    public void Daemon_config_info_zero_flush_requests()
    {
        var daemon = new IpvsSyncDaemon(IpvsSyncDaemonState.Master, "eth0", 7)
        {
            SyncMaxLength = 1400,
            MulticastGroup = IPAddress.Parse("224.0.0.82"),
            MulticastPort = 8849,
            MulticastTtl = 2,
        };
        Assert.Equal(H(Msg(Fam, ReqAck, 0, 0, Genl(9),
            Nest(3,
                Attr(1, U32(1)),
                Attr(2, Str("eth0")),
                Attr(3, U32(7)),
                Attr(4, U16(1400)),
                Attr(5, [224, 0, 0, 82]),
                Attr(7, U16(8849)),
                Attr(8, U8(2))))), H(IpvsMessages.NewDaemon(Fam, daemon).Message));
        Assert.Equal(H(Msg(Fam, ReqAck, 0, 0, Genl(10), Nest(3, Attr(1, U32(2))))), H(IpvsMessages.DelDaemon(Fam, IpvsSyncDaemonState.Backup).Message));
        Assert.Equal(H(Msg(Fam, Dump, 0, 0, Genl(11))), H(IpvsMessages.GetDaemons(Fam).Message));
        Assert.Equal(H(Msg(Fam, ReqAck, 0, 0, Genl(12), Attr(4, U32(900)), Attr(5, U32(120)), Attr(6, U32(300)))),
            H(IpvsMessages.SetConfig(Fam, new IpvsTimeouts(900, 120, 300)).Message));
        Assert.Equal(H(Msg(Fam, ReqAck, 0, 0, Genl(13))), H(IpvsMessages.GetConfig(Fam).Message));
        Assert.Equal(H(Msg(Fam, ReqAck, 0, 0, Genl(15))), H(IpvsMessages.GetInfo(Fam).Message));
        Assert.Equal(H(Msg(Fam, ReqAck, 0, 0, Genl(16))), H(IpvsMessages.Zero(Fam, null).Message));
        Assert.Equal(H(Msg(Fam, ReqAck, 0, 0, Genl(16), Nest(1, Attr(1, U16(2)), Attr(5, U32(3))))), H(IpvsMessages.Zero(Fam, IpvsServiceKey.Fwmark(3)).Message));
        Assert.Equal(H(Msg(Fam, ReqAck, 0, 0, Genl(17))), H(IpvsMessages.Flush(Fam).Message));
    }

    [Theory]
    [InlineData("averyveryverylongscheduler", "scheduler")]
    [InlineData("sixteen-chars-xx", "scheduler")]
    public void Oversize_scheduler_name_is_rejected_before_sending(string scheduler, string what)
    {
        var svc = new IpvsService(IpvsServiceKey.Tcp(IPAddress.Loopback, 80), scheduler);
        var e = Assert.Throws<ArgumentException>(() => IpvsMessages.NewService(Fam, svc));
        Assert.Contains(what, e.Message);
        Assert.Contains(scheduler, e.Message);
        Assert.Contains("at most 15", e.Message);
    }

    [Fact]
    public void Other_invalid_input_is_rejected_before_sending()
    {
        var key = IpvsServiceKey.Tcp(IPAddress.Loopback, 80);
        Assert.Contains("persistence engine", Assert.Throws<ArgumentException>(() => IpvsMessages.NewService(Fam, new IpvsService(key, "rr") { PersistenceEngine = new string('p', 16) })).Message);
        Assert.Contains("netmask", Assert.Throws<ArgumentException>(() => IpvsMessages.NewService(Fam, new IpvsService(key, "rr") { PersistenceNetmask = 33 })).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => IpvsMessages.NewService(Fam, new IpvsService(key, ""))).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => IpvsMessages.NewDestination(Fam, key, new IpvsDestination(IPAddress.Loopback, 80, weight: -1))).Message);
        Assert.Contains("lower threshold", Assert.Throws<ArgumentException>(() => IpvsMessages.NewDestination(Fam, key, new IpvsDestination(IPAddress.Loopback, 80) { LowerThreshold = 5 })).Message);
        Assert.Contains("interface name", Assert.Throws<ArgumentException>(() => IpvsMessages.NewDaemon(Fam, new IpvsSyncDaemon(IpvsSyncDaemonState.Master, new string('e', 16)))).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => IpvsMessages.DelService(Fam, default)).Message);
        Assert.Equal("(empty IPVS service key)", default(IpvsServiceKey).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => IpvsServiceKey.Fwmark(0));
    }

    private static NetlinkMessage One(byte[] datagram)
    {
        var r = new NetlinkMessageReader(datagram);
        Assert.True(r.TryRead(out var m));
        return m;
    }

    [Fact]
    public void Decodes_a_service_reply_preferring_stats64_and_accepting_nests_without_the_flag()
    {
        var stats32 = Attr(10,
            Attr(1, U32(1)), Attr(2, U32(2)), Attr(3, U32(3)), Attr(4, U64(4)), Attr(5, U64(5)));
        var stats64 = Attr(12,
            Attr(1, U64(10_000_000_000)), Attr(2, U64(20)), Attr(3, U64(30)), Attr(4, U64(40)), Attr(5, U64(50)),
            Attr(6, U64(6)), Attr(7, U64(7)), Attr(8, U64(8)), Attr(9, U64(9)), Attr(10, U64(10)), Attr(11, U64(0)));
        var reply = Msg(Fam, 2, 5, 99, Genl(1),
            Attr(1, // no NLA_F_NESTED, as older kernels send
                Attr(1, U16(2)), Attr(2, U16(6)), Attr(3, [10, 0, 0, 1], new byte[12]), Attr(4, Be16(443)),
                Attr(6, Str("wlc")), Attr(7, U32(0x3), U32(0xFFFFFFFF)), Attr(8, U32(360)), Attr(9, [255, 255, 0, 0]),
                stats32, stats64));
        Assert.True(IpvsMessages.TryParseService(One(reply), out var s));
        Assert.Equal(IpvsServiceKey.Tcp(IPAddress.Parse("10.0.0.1"), 443), s.Service.Key);
        Assert.Equal("wlc", s.Service.Scheduler);
        Assert.Equal(IpvsServiceFlags.Persistent | IpvsServiceFlags.Hashed, s.Service.Flags);
        Assert.Equal(IpvsServiceFlags.Persistent, s.Service.EffectiveFlags);
        Assert.Equal(360u, s.Service.PersistenceTimeout);
        Assert.Equal(16, s.Service.PersistenceNetmask);
        Assert.Equal(10_000_000_000UL, s.Stats.Connections);
        Assert.Equal(50UL, s.Stats.OutBytes);
        Assert.Equal(10UL, s.Stats.OutByteRate);

        // Same service with only the 32-bit STATS (kernels before STATS64).
        var old = Msg(Fam, 2, 5, 99, Genl(1), Nest(1, Attr(1, U16(2)), Attr(5, U32(9)), Attr(6, Str("rr")), Attr(7, U32(2), U32(~0u)), Attr(8, U32(0)), Attr(9, U32(~0u)), stats32));
        Assert.True(IpvsMessages.TryParseService(One(old), out var f));
        Assert.Equal(IpvsServiceKey.Fwmark(9), f.Service.Key);
        Assert.Equal(1UL, f.Stats.Connections);
        Assert.Equal(5UL, f.Stats.OutBytes);
        Assert.Equal(32, f.Service.EffectiveNetmask);
    }

    [Fact]
    public void Decodes_destination_replies_with_their_own_family()
    {
        var reply = Msg(Fam, 2, 5, 99, Genl(5),
            Nest(2,
                Attr(1, IPAddress.Parse("2001:db8::5").GetAddressBytes()), Attr(2, Be16(80)),
                Attr(3, U32(2)), Attr(4, U32(7)), Attr(5, U32(50)), Attr(6, U32(5)),
                Attr(7, U32(11)), Attr(8, U32(12)), Attr(9, U32(13)), Attr(11, U16(10)),
                Attr(13, U8(2)), Attr(14, Be16(0)), Attr(15, U16(2))));
        Assert.True(IpvsMessages.TryParseDestination(One(reply), AddressFamily.InterNetwork, out var d));
        Assert.Equal(IPAddress.Parse("2001:db8::5"), d.Destination.Address);
        Assert.Equal(IpvsForwardingMethod.Tunnel, d.Destination.Forwarding);
        Assert.Equal(7, d.Destination.Weight);
        Assert.Equal(50u, d.Destination.UpperThreshold);
        Assert.Equal(5u, d.Destination.LowerThreshold);
        Assert.Equal(IpvsTunnelType.Gre, d.Destination.TunnelType);
        Assert.Equal(IpvsTunnelFlags.RemoteChecksum, d.Destination.TunnelFlags);
        Assert.Equal((11u, 12u, 13u), (d.ActiveConnections, d.InactiveConnections, d.PersistentConnections));
    }

    [Fact]
    public void Decodes_info_config_and_daemon_replies()
    {
        Assert.True(IpvsMessages.TryParseInfo(One(Msg(Fam, 0, 1, 1, Genl(14), Attr(1, U32(0x010201)), Attr(2, U32(4096)))), out var info));
        Assert.Equal("1.2.1", info.VersionText);
        Assert.Equal(4096u, info.ConnectionTableSize);

        Assert.True(IpvsMessages.TryParseConfig(One(Msg(Fam, 0, 1, 1, Genl(12), Attr(4, U32(900)), Attr(5, U32(120)), Attr(6, U32(300)))), out var t));
        Assert.Equal(new IpvsTimeouts(900, 120, 300), t);

        Assert.True(IpvsMessages.TryParseDaemon(One(Msg(Fam, 2, 1, 1, Genl(9),
            Nest(3, Attr(1, U32(2)), Attr(2, Str("eth1")), Attr(3, U32(9)), Attr(4, U16(1472)), Attr(6, IPAddress.Parse("ff02::81").GetAddressBytes()), Attr(7, U16(8848)), Attr(8, U8(1))))), out var d));
        Assert.Equal(IpvsSyncDaemonState.Backup, d.State);
        Assert.Equal("eth1", d.Interface);
        Assert.Equal(9, d.SyncId);
        Assert.Equal(IPAddress.Parse("ff02::81"), d.MulticastGroup);
        Assert.Equal(8848, d.MulticastPort);
    }

    [Fact]
    public void Lying_replies_throw_format_exceptions_not_out_of_range()
    {
        // Service whose ADDR attribute holds 2 bytes for AF_INET.
        var shortAddr = Msg(Fam, 2, 5, 99, Genl(1), Nest(1, Attr(1, U16(2)), Attr(2, U16(6)), Attr(3, [10, 0]), Attr(4, Be16(80))));
        Assert.Throws<NetlinkFormatException>(() => IpvsMessages.TryParseService(One(shortAddr), out _));
        // Nested length that runs past the message.
        var lying = Msg(Fam, 2, 5, 99, Genl(1), Nest(1, Attr(1, U16(2))));
        lying[16 + 4] = 0x40; // outer nla_len = 64
        Assert.Throws<NetlinkFormatException>(() => IpvsMessages.TryParseService(One(lying), out _));
        // Unknown family.
        var badAf = Msg(Fam, 2, 5, 99, Genl(1), Nest(1, Attr(1, U16(7)), Attr(5, U32(1))));
        Assert.Throws<NetlinkFormatException>(() => IpvsMessages.TryParseService(One(badAf), out _));
        // Truncated generic header.
        Assert.Throws<NetlinkFormatException>(() => IpvsMessages.TryParseService(One(Msg(Fam, 2, 5, 99, [1])), out _));
    }

    [Theory]
    [InlineData(32, 0xFFFFFFFFu)]
    [InlineData(24, 0x00FFFFFFu)]
    [InlineData(0, 0u)]
    [InlineData(1, 0x00000080u)]
    public void Ipv4_netmask_is_the_big_endian_mask_read_as_a_host_u32(int prefix, uint wire)
    {
        Assert.Equal(wire, IpvsMessages.EncodeNetmask(AddressFamily.InterNetwork, prefix));
        Assert.Equal(prefix, IpvsMessages.DecodeNetmask(AddressFamily.InterNetwork, wire));
    }
}
