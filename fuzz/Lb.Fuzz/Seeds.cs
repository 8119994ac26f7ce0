using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.Checkers.Journal;
using Lb.Checkers.Options;
using Lb.Netlink.Protocol;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using static Lb.Netlink.Generic.GenericNetlinkConstants;
using static Lb.Netlink.Ipvs.IpvsConstants;
using static Lb.Netlink.Protocol.NetlinkConstants;
using static Lb.Netlink.Route.RtnetlinkConstants;

namespace Lb.Fuzz;

/// <summary>Seed inputs built with the product's own encoders (<c>Lb.Fuzz TARGET --seeds DIR</c>).</summary>
internal static class Seeds
{
    public static IEnumerable<(string Name, byte[] Data)> For(string target) => target switch
    {
        "vrrp" => Vrrp(),
        "netlink" => Netlink(),
        "journal" => Journal(),
        _ => [],
    };

    private static IEnumerable<(string, byte[])> Vrrp()
    {
        IPAddress src4 = IPAddress.Parse("192.0.2.1"), dst4 = IPAddress.Parse("224.0.0.18");
        IPAddress src6 = IPAddress.Parse("fe80::1"), dst6 = IPAddress.Parse("ff02::12");
        var v2 = new VrrpPacket
        {
            Version = 2, VirtualRouterId = 51, Priority = 100, AuthType = VrrpAuthType.Pass,
            AuthData = VrrpPacket.PasswordBytes("secret"),
            Addresses = [IPAddress.Parse("10.0.0.100"), IPAddress.Parse("10.0.0.101")],
        };
        var v3 = new VrrpPacket { Version = 3, VirtualRouterId = 7, Priority = 255, AdvertIntervalCentiseconds = 100, Addresses = [IPAddress.Parse("10.0.0.1")] };
        var v36 = new VrrpPacket
        {
            Version = 3, VirtualRouterId = 9, Priority = 50, Family = AddressFamily.InterNetworkV6,
            Addresses = [IPAddress.Parse("2001:db8::1"), IPAddress.Parse("fe80::100")],
        };
        var buffer = new byte[512];
        byte[] With(byte mode, int length) => [mode, .. buffer.AsSpan(0, length)];

        yield return ("v2-ipv4-datagram", With(0, v2.WriteIpv4Datagram(buffer, src4, dst4)));
        yield return ("v3-ipv4-datagram", With(0, v3.WriteIpv4Datagram(buffer, src4, dst4)));
        yield return ("v3-ipv4-datagram-fix", With(4, v3.WriteIpv4Datagram(buffer, src4, dst4)));
        yield return ("v3-ipv4-as-v2", With(0, v3.WriteIpv4Datagram(buffer, src4, dst4, v3ChecksumAsV2: true)));
        yield return ("v3-ipv6-packet", With(1, v36.WriteIpv6Packet(buffer, src6, dst6)));
        yield return ("v3-ipv6-packet-fix", With(5, v36.WriteIpv6Packet(buffer, src6, dst6)));
        yield return ("v2-message", With(2, v2.WriteTo(buffer)));
        yield return ("v2-message-fix", With(6, v2.WriteTo(buffer)));
        yield return ("v3-message", With(2, v3.WriteTo(buffer, src4, dst4)));
        yield return ("v3-ipv6-message", With(3, v36.WriteTo(buffer, src6, dst6)));
        yield return ("v3-ipv6-message-fix", With(7, v36.WriteTo(buffer, src6, dst6)));
        var ah = v2.WriteIpv4Datagram(buffer, src4, dst4);
        buffer[9] = 51;
        yield return ("v2-ah", With(0, ah));
    }

    private delegate void Body(ref NetlinkWriter w);

    private static byte[] Message(Body body)
    {
        var buffer = new byte[4096];
        var w = new NetlinkWriter(buffer);
        body(ref w);
        return w.Written.ToArray();
    }

    private static void Stats(ref NetlinkWriter w, ushort type, bool is64)
    {
        using (w.BeginNested(type))
        {
            for (ushort a = IPVS_STATS_ATTR_CONNS; a <= IPVS_STATS_ATTR_OUTBPS; a++)
            {
                if (is64 || a is IPVS_STATS_ATTR_INBYTES or IPVS_STATS_ATTR_OUTBYTES)
                    w.WriteUInt64(a, 1000UL * a);
                else
                    w.WriteUInt32(a, 10U * a);
            }
        }
    }

    private static IEnumerable<(string, byte[])> Netlink()
    {
        const ushort ipvs = 0x1c;
        yield return ("genl-family-ipvs", Message((ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(GENL_ID_CTRL, 0, 1))
            {
                w.WriteGenericHeader(CTRL_CMD_NEWFAMILY, 2);
                w.WriteString(CTRL_ATTR_FAMILY_NAME, "IPVS");
                w.WriteUInt16(CTRL_ATTR_FAMILY_ID, ipvs);
                w.WriteUInt32(CTRL_ATTR_VERSION, 1);
                w.WriteUInt32(CTRL_ATTR_MAXATTR, 6);
                using (w.BeginNested(CTRL_ATTR_MCAST_GROUPS))
                using (w.BeginNested(1))
                {
                    w.WriteString(CTRL_ATTR_MCAST_GRP_NAME, "events");
                    w.WriteUInt32(CTRL_ATTR_MCAST_GRP_ID, 3);
                }
            }
        }));
        yield return ("ipvs-service-dump", Message((ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(ipvs, NLM_F_MULTI, 2))
            {
                w.WriteGenericHeader(IPVS_CMD_NEW_SERVICE, IPVS_GENL_VERSION);
                using (w.BeginNested(IPVS_CMD_ATTR_SERVICE))
                {
                    w.WriteUInt16(IPVS_SVC_ATTR_AF, 2);
                    w.WriteUInt16(IPVS_SVC_ATTR_PROTOCOL, 6);
                    w.WriteAddress(IPVS_SVC_ATTR_ADDR, IPAddress.Parse("10.0.0.100"), 16);
                    w.WriteUInt16BigEndian(IPVS_SVC_ATTR_PORT, 80);
                    w.WriteString(IPVS_SVC_ATTR_SCHED_NAME, "wlc");
                    w.WriteUInt32(IPVS_SVC_ATTR_FLAGS, 1);
                    w.WriteUInt32(IPVS_SVC_ATTR_FLAGS, 1);
                    w.WriteUInt32(IPVS_SVC_ATTR_TIMEOUT, 300);
                    w.WriteUInt32(IPVS_SVC_ATTR_NETMASK, 0xffffffff);
                    Stats(ref w, IPVS_SVC_ATTR_STATS, false);
                    Stats(ref w, IPVS_SVC_ATTR_STATS64, true);
                }
            }
            using (w.BeginMessage(ipvs, NLM_F_MULTI, 2))
            {
                w.WriteGenericHeader(IPVS_CMD_NEW_SERVICE, IPVS_GENL_VERSION);
                using (w.BeginNested(IPVS_CMD_ATTR_SERVICE))
                {
                    w.WriteUInt16(IPVS_SVC_ATTR_AF, 10);
                    w.WriteUInt32(IPVS_SVC_ATTR_FWMARK, 7);
                    w.WriteString(IPVS_SVC_ATTR_SCHED_NAME, "rr");
                    w.WriteString(IPVS_SVC_ATTR_PE_NAME, "sip");
                    w.WriteUInt32(IPVS_SVC_ATTR_NETMASK, 64);
                }
            }
            using (w.BeginMessage(NLMSG_DONE, NLM_F_MULTI, 2))
                w.WriteBytes([0, 0, 0, 0]);
        }));
        yield return ("ipvs-dest-dump", Message((ref NetlinkWriter w) =>
        {
            foreach (var (af, addr) in new[] { ((ushort)2, "10.0.0.2"), ((ushort)10, "2001:db8::2"), ((ushort)0, "10.0.0.3") })
            {
                using (w.BeginMessage(ipvs, NLM_F_MULTI, 3))
                {
                    w.WriteGenericHeader(IPVS_CMD_NEW_DEST, IPVS_GENL_VERSION);
                    using (w.BeginNested(IPVS_CMD_ATTR_DEST))
                    {
                        w.WriteAddress(IPVS_DEST_ATTR_ADDR, IPAddress.Parse(addr), 16);
                        w.WriteUInt16BigEndian(IPVS_DEST_ATTR_PORT, 8080);
                        w.WriteUInt32(IPVS_DEST_ATTR_FWD_METHOD, IP_VS_CONN_F_DROUTE);
                        w.WriteUInt32(IPVS_DEST_ATTR_WEIGHT, 5);
                        w.WriteUInt32(IPVS_DEST_ATTR_U_THRESH, 100);
                        w.WriteUInt32(IPVS_DEST_ATTR_L_THRESH, 10);
                        w.WriteUInt32(IPVS_DEST_ATTR_ACTIVE_CONNS, 3);
                        w.WriteUInt32(IPVS_DEST_ATTR_INACT_CONNS, 4);
                        w.WriteUInt32(IPVS_DEST_ATTR_PERSIST_CONNS, 5);
                        if (af != 0)
                            w.WriteUInt16(IPVS_DEST_ATTR_ADDR_FAMILY, af);
                        w.WriteUInt8(IPVS_DEST_ATTR_TUN_TYPE, IP_VS_CONN_F_TUNNEL_TYPE_GUE);
                        w.WriteUInt16BigEndian(IPVS_DEST_ATTR_TUN_PORT, 6080);
                        w.WriteUInt16(IPVS_DEST_ATTR_TUN_FLAGS, IP_VS_TUNNEL_ENCAP_FLAG_CSUM);
                        Stats(ref w, IPVS_DEST_ATTR_STATS64, true);
                    }
                }
            }
        }));
        yield return ("ipvs-daemons", Message((ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(ipvs, NLM_F_MULTI, 4))
            {
                w.WriteGenericHeader(IPVS_CMD_NEW_DAEMON, IPVS_GENL_VERSION);
                using (w.BeginNested(IPVS_CMD_ATTR_DAEMON))
                {
                    w.WriteUInt32(IPVS_DAEMON_ATTR_STATE, IP_VS_STATE_MASTER);
                    w.WriteString(IPVS_DAEMON_ATTR_MCAST_IFN, "eth0");
                    w.WriteUInt32(IPVS_DAEMON_ATTR_SYNC_ID, 5);
                    w.WriteUInt16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, 1472);
                    w.WriteAddress(IPVS_DAEMON_ATTR_MCAST_GROUP, IPAddress.Parse("224.0.0.81"));
                    w.WriteAddress(IPVS_DAEMON_ATTR_MCAST_GROUP6, IPAddress.Parse("ff02::81"));
                    w.WriteUInt16(IPVS_DAEMON_ATTR_MCAST_PORT, 8848);
                    w.WriteUInt8(IPVS_DAEMON_ATTR_MCAST_TTL, 1);
                }
            }
        }));
        yield return ("ipvs-config-info", Message((ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(ipvs, 0, 5))
            {
                w.WriteGenericHeader(IPVS_CMD_SET_CONFIG, IPVS_GENL_VERSION);
                w.WriteUInt32(IPVS_CMD_ATTR_TIMEOUT_TCP, 900);
                w.WriteUInt32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, 120);
                w.WriteUInt32(IPVS_CMD_ATTR_TIMEOUT_UDP, 300);
            }
            using (w.BeginMessage(ipvs, 0, 6))
            {
                w.WriteGenericHeader(IPVS_CMD_SET_INFO, IPVS_GENL_VERSION);
                w.WriteUInt32(IPVS_INFO_ATTR_VERSION, 0x010201);
                w.WriteUInt32(IPVS_INFO_ATTR_CONN_TAB_SIZE, 4096);
            }
        }));
        yield return ("rtnl-links", Message((ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_NEWLINK, NLM_F_MULTI, 7))
            {
                w.WriteBytes([0, 0, 1, 0, 2, 0, 0, 0, 0x43, 0x10, 1, 0, 0, 0, 0, 0]);
                w.WriteString(IFLA_IFNAME, "eth0");
                w.WriteUInt32(IFLA_MTU, 1500);
                w.WriteUInt8(16, 6); // IFLA_OPERSTATE up
                w.WriteAttribute(1, [0x52, 0x54, 0, 0x12, 0x34, 0x56]); // IFLA_ADDRESS
            }
            using (w.BeginMessage(RTM_NEWLINK + 1, 0, 0))
                w.WriteBytes([0, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        }));
        yield return ("rtnl-addrs", Message((ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_NEWADDR, NLM_F_MULTI, 8))
            {
                w.WriteBytes([2, 24, 0x80, 0, 2, 0, 0, 0]);
                w.WriteAddress(IFA_ADDRESS, IPAddress.Parse("10.0.0.1"));
                w.WriteAddress(IFA_LOCAL, IPAddress.Parse("10.0.0.1"));
                w.WriteAddress(4, IPAddress.Parse("10.0.0.255")); // IFA_BROADCAST
                w.WriteString(IFA_LABEL, "eth0:vip");
                w.WriteUInt32(8, 0x80); // IFA_FLAGS
            }
            using (w.BeginMessage(RTM_NEWADDR + 1, 0, 0))
            {
                w.WriteBytes([10, 64, 0, 0xfd, 2, 0, 0, 0]);
                w.WriteAddress(IFA_ADDRESS, IPAddress.Parse("2001:db8::1"));
            }
        }));
        yield return ("nlmsg-error-ext-ack", Message((ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(NLMSG_ERROR, NLM_F_ACK_TLVS | NLM_F_CAPPED, 9))
            {
                w.WriteBytes([0xef, 0xff, 0xff, 0xff]); // -17 EEXIST
                w.WriteBytes([36, 0, 0, 0, 0x1c, 0, 5, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
                w.WriteString(NLMSGERR_ATTR_MSG, "Service already exists");
                w.WriteUInt32(NLMSGERR_ATTR_OFFS, 20);
            }
            using (w.BeginMessage(NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS, 9))
            {
                w.WriteBytes([0xfe, 0xff, 0xff, 0xff]);
                w.WriteString(NLMSGERR_ATTR_MSG, "dump failed");
            }
        }));
        yield return ("nlmsg-error-echoed", Message((ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(NLMSG_ERROR, NLM_F_ACK_TLVS, 10))
            {
                w.WriteBytes([0xea, 0xff, 0xff, 0xff]); // -22 EINVAL
                w.WriteBytes([24, 0, 0, 0, 0x1c, 0, 5, 0, 10, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
                w.WriteString(NLMSGERR_ATTR_MSG, "bad attr");
            }
        }));
    }

    private static IEnumerable<(string, byte[])> Journal()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lbfuzz", "journal-seed-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "journal.jsonl");
        var t0 = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        using (var writer = new JournalWriter(new JournalOptions { Path = path, Fsync = false }))
        {
            writer.AppendAsync(new JournalEntry { Time = t0, Subsystem = "checkers", Kind = "real_server", VirtualServer = "[10.0.0.100]:tcp:80", RealServer = "[10.0.0.2]:tcp:80", OldState = "up", NewState = "down", Reason = "connect timeout 3 s after 2 retries", Action = "removed from IPVS" }).AsTask().GetAwaiter().GetResult();
            writer.AppendAsync(new JournalEntry { Time = t0.AddSeconds(1.5), Subsystem = "vrrp", Kind = "vrrp_instance", Instance = "VI_1", OldState = "BACKUP", NewState = "MASTER", Reason = "master down timer" }).AsTask().GetAwaiter().GetResult();
            writer.AppendAsync(new JournalEntry { Time = t0.AddSeconds(2), Subsystem = "checkers", Kind = "weight", VirtualServer = "[10.0.0.100]:tcp:80", RealServer = "[10.0.0.3]:tcp:80", OldState = "weight 1", NewState = "weight 7", Reason = "misc_dynamic weight 7" }).AsTask().GetAwaiter().GetResult();
        }
        var text = File.ReadAllBytes(path);
        Directory.Delete(dir, recursive: true);
        yield return ("journal-written", text);
        yield return ("journal-torn", [.. text, .. "{\"time\":\"2026-01-01T12:00:03.000+00:00\",\"subsys"u8]);
        yield return ("journal-rotated", [.. text, .. "\n%%%\n"u8, .. text]);
    }
}
