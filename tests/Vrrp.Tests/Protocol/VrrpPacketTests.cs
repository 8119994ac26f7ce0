using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tests.Support;
using Lb.TestSupport;
using Xunit;

namespace Lb.Vrrp.Tests.Protocol;

public class VrrpPacketTests
{
    private static readonly IPAddress Src4 = IPAddress.Parse("192.168.200.1");
    private static readonly IPAddress Group4 = IPAddress.Parse("224.0.0.18");
    private static readonly IPAddress Src6 = IPAddress.Parse("fe80::1");
    private static readonly IPAddress Group6 = IPAddress.Parse("ff02::12");

    private static VrrpPacket V2Pass() => new()
    {
        Version = 2,
        VirtualRouterId = 51,
        Priority = 100,
        AuthType = VrrpAuthType.Pass,
        AdvertIntervalCentiseconds = 100,
        Addresses = [IPAddress.Parse("192.168.200.16"), IPAddress.Parse("192.168.200.17")],
        AuthData = VrrpPacket.PasswordBytes("secret123"),
    };

    private static VrrpPacket V3(AddressFamily f) => new()
    {
        Version = 3,
        VirtualRouterId = 7,
        Priority = 150,
        AdvertIntervalCentiseconds = 50,
        Family = f,
        Addresses = f == AddressFamily.InterNetwork ? [IPAddress.Parse("10.0.0.100")] : [IPAddress.Parse("fe80::100"), IPAddress.Parse("2001:db8::100")],
    };

    [Fact]
    public void V2_pass_is_byte_exact_against_rfc3768_layout()
    {
        // RFC 3768 5.1: ver 2 type 1 | VRID | prio | count | auth type | adver int | checksum | addrs | auth data (8)
        byte[] body =
        [
            0x21, 51, 100, 2, 1, 1, 0, 0,
            192, 168, 200, 16,
            192, 168, 200, 17,
            (byte)'s', (byte)'e', (byte)'c', (byte)'r', (byte)'e', (byte)'t', (byte)'1', (byte)'2', // only 8 characters
        ];
        var ck = ChecksumByHand.Compute(body);
        body[6] = (byte)(ck >> 8);
        body[7] = (byte)ck;

        var buf = new byte[64];
        var n = V2Pass().WriteTo(buf);
        Assert.Equal(body, buf[..n]);
    }

    [Fact]
    public void V3_ipv4_checksum_covers_the_pseudo_header()
    {
        byte[] body = [0x31, 7, 150, 1, 0x00, 50, 0, 0, 10, 0, 0, 100];
        byte[] pseudo = [192, 168, 200, 1, 224, 0, 0, 18, 0, 112, 0, (byte)body.Length];
        var ck = ChecksumByHand.Compute(pseudo, body);
        body[6] = (byte)(ck >> 8);
        body[7] = (byte)ck;

        var buf = new byte[64];
        var n = V3(AddressFamily.InterNetwork).WriteTo(buf, Src4, Group4);
        Assert.Equal(body, buf[..n]);
    }

    [Fact]
    public void V3_ipv4_checksum_as_v2_leaves_the_pseudo_header_out_and_is_still_accepted()
    {
        byte[] body = [0x31, 7, 150, 1, 0x00, 50, 0, 0, 10, 0, 0, 100];
        var ck = ChecksumByHand.Compute(body);
        body[6] = (byte)(ck >> 8);
        body[7] = (byte)ck;
        var buf = new byte[64];
        var n = V3(AddressFamily.InterNetwork).WriteTo(buf, Src4, Group4, v3ChecksumAsV2: true);
        Assert.Equal(body, buf[..n]);
        Assert.True(VrrpPacket.TryParse(body, AddressFamily.InterNetwork, Src4, Group4, out var p, out _));
        Assert.True(p!.ChecksumWithoutPseudoHeader);
    }

    [Fact]
    public void V3_ipv6_checksum_covers_the_ipv6_pseudo_header()
    {
        var body = new byte[8 + 32];
        body[0] = 0x31;
        body[1] = 7;
        body[2] = 150;
        body[3] = 2;
        body[5] = 50;
        IPAddress.Parse("fe80::100").GetAddressBytes().CopyTo(body, 8);
        IPAddress.Parse("2001:db8::100").GetAddressBytes().CopyTo(body, 24);
        var pseudo = new byte[40];
        Src6.GetAddressBytes().CopyTo(pseudo, 0);
        Group6.GetAddressBytes().CopyTo(pseudo, 16);
        pseudo[35] = (byte)body.Length;
        pseudo[39] = 112;
        var ck = ChecksumByHand.Compute(pseudo, body);
        body[6] = (byte)(ck >> 8);
        body[7] = (byte)ck;

        var buf = new byte[64];
        var n = V3(AddressFamily.InterNetworkV6).WriteTo(buf, Src6, Group6);
        Assert.Equal(body, buf[..n]);
    }

    [Fact]
    public void Round_trips_every_field()
    {
        var buf = new byte[128];
        var n = V2Pass().WriteIpv4Datagram(buf, Src4, Group4);
        Assert.True(VrrpPacket.TryParseIpv4(buf.AsSpan(0, n), out var p, out var ip, out var reason), reason.ToString());
        Assert.Equal(255, ip.Ttl);
        Assert.Equal(Src4, ip.Source);
        Assert.Equal(Group4, ip.Destination);
        Assert.Equal(0xc0, buf[1]);
        Assert.Equal(2, p!.Version);
        Assert.Equal(51, p.VirtualRouterId);
        Assert.Equal(100, p.Priority);
        Assert.Equal(VrrpAuthType.Pass, p.AuthType);
        Assert.Equal(TimeSpan.FromSeconds(1), p.AdvertInterval);
        Assert.Equal(V2Pass().Addresses, p.Addresses);
        Assert.Equal(VrrpPacket.PasswordBytes("secret12"), p.AuthData.ToArray());

        n = V3(AddressFamily.InterNetworkV6).WriteTo(buf, Src6, Group6);
        Assert.True(VrrpPacket.TryParse(buf.AsSpan(0, n), AddressFamily.InterNetworkV6, Src6, Group6, out var p6, out reason), reason.ToString());
        Assert.Equal(TimeSpan.FromMilliseconds(500), p6!.AdvertInterval);
        Assert.Equal(V3(AddressFamily.InterNetworkV6).Addresses, p6.Addresses);
        Assert.False(p6.ChecksumWithoutPseudoHeader);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    public void An_advert_padded_to_the_Ethernet_minimum_is_accepted_and_the_padding_ignored(int version, int vips)
    {
        // A NIC pads a frame to 60 bytes (46 bytes of IP payload); AF_PACKET hands the padding to us.
        var p = new VrrpPacket
        {
            Version = (byte)version,
            VirtualRouterId = 51,
            Priority = 200,
            AuthType = version == 2 ? VrrpAuthType.Pass : VrrpAuthType.None,
            AdvertIntervalCentiseconds = 100,
            Addresses = Enumerable.Range(1, vips).Select(i => IPAddress.Parse($"192.168.1.{i}")).ToArray(),
            AuthData = version == 2 ? VrrpPacket.PasswordBytes("secret12") : default,
        };
        var buf = new byte[128];
        var n = p.WriteIpv4Datagram(buf, Src4, Group4);
        Assert.True(n < 46, $"the advert ({n} bytes) is short enough to be padded");
        var frame = new byte[46];
        buf.AsSpan(0, n).CopyTo(frame);
        frame.AsSpan(n).Fill(0xa5); // padding need not be zero
        Assert.True(VrrpPacket.TryParseIpv4(frame, out var parsed, out var ip, out var reason), reason.ToString());
        Assert.Equal(200, parsed!.Priority);
        Assert.Equal(p.Addresses, parsed.Addresses);
        Assert.Equal(Src4, ip.Source);
    }

    [Fact]
    public void An_ip_total_length_shorter_than_its_header_is_a_bad_header()
    {
        var buf = new byte[128];
        var n = V2Pass().WriteIpv4Datagram(buf, Src4, Group4);
        var d = buf[..n];
        d[2] = 0;
        d[3] = 12;
        Assert.False(VrrpPacket.TryParseIpv4(d, out _, out _, out var reason));
        Assert.Equal(VrrpDropReason.BadIpHeader, reason);
    }

    public static TheoryData<string> Forgeries => new() { "truncated", "badchecksum", "oversizecount", "badversion", "badtype", "ttlstruct", "authtype", "ah", "totlen" };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public void Forged_packets_are_dropped_with_their_reason(string kind)
    {
        var buf = new byte[128];
        var n = V2Pass().WriteIpv4Datagram(buf, Src4, Group4);
        var d = buf[..n];
        VrrpDropReason expected;
        switch (kind)
        {
            case "truncated":
                d = d[..25];
                d[3] = 25;
                expected = VrrpDropReason.Truncated;
                break;
            case "badchecksum":
                d[20 + 7] ^= 0x55;
                expected = VrrpDropReason.BadChecksum;
                break;
            case "oversizecount":
                d[20 + 3] = 200;
                expected = VrrpDropReason.BadLength;
                break;
            case "badversion":
                d[20] = 0x41;
                expected = VrrpDropReason.BadVersion;
                break;
            case "badtype":
                d[20] = 0x22;
                expected = VrrpDropReason.BadType;
                break;
            case "ttlstruct":
                d[0] = 0x44;
                expected = VrrpDropReason.BadIpHeader;
                break;
            case "authtype":
                d[20 + 4] = 9;
                Fix(d);
                expected = VrrpDropReason.InvalidAuthType;
                break;
            case "ah":
                // relabelled as AH (protocol 51): 44 bytes cannot hold the IP header, a 24-byte AH header and a VRRP header
                d[9] = 51;
                expected = VrrpDropReason.Truncated;
                break;
            default:
                d[2] = 0;
                d[3] = 200;
                expected = VrrpDropReason.Truncated;
                break;
        }
        Assert.False(VrrpPacket.TryParseIpv4(d, out var p, out _, out var reason));
        Assert.Null(p);
        Assert.Equal(expected, reason);
    }

    private static void Fix(byte[] d)
    {
        d[26] = 0;
        d[27] = 0;
        var ck = ChecksumByHand.Compute(d[20..]);
        d[26] = (byte)(ck >> 8);
        d[27] = (byte)ck;
    }

    /// <summary>
    /// An accepted message is exactly what its fields say: re-encoding the parsed packet gives back the input
    /// (VRRPv3's reserved bits aside, which the parser ignores), and its addresses fill the message.
    /// </summary>
    private static void AssertReencodesToInput(VrrpPacket p, ReadOnlySpan<byte> vrrp, IPAddress src, IPAddress dst, string hex)
    {
        Assert.Equal(VrrpPacket.HeaderLength + (p.Addresses.Count * (p.Family == AddressFamily.InterNetworkV6 ? 16 : 4))
            + (p.Version == 2 && p.Family == AddressFamily.InterNetwork ? 8 : 0), vrrp.Length);
        var buf = new byte[vrrp.Length];
        var n = p.WriteTo(buf, src, dst, p.ChecksumWithoutPseudoHeader);
        Assert.Equal(vrrp.Length, n);
        var expected = vrrp.ToArray();
        if (p.Version == 3 && (expected[4] & 0xf0) != 0)
        {
            expected[4] &= 0x0f; // reserved bits: not carried, so the checksum differs too
            expected[6] = buf[6];
            expected[7] = buf[7];
        }
        Assert.True(expected.AsSpan().SequenceEqual(buf), $"accepted {hex} re-encodes to {Convert.ToHexString(buf)}");
    }

    private static readonly VrrpDropReason[] ParserReasons =
    [
        VrrpDropReason.Truncated, VrrpDropReason.BadIpHeader, VrrpDropReason.NotVrrp, VrrpDropReason.BadVersion, VrrpDropReason.BadType,
        VrrpDropReason.BadLength, VrrpDropReason.BadChecksum, VrrpDropReason.InvalidAuthType,
    ];

    /// <summary>Refused with a parser reason and no packet, or accepted and re-encoding to the input. Returns whether it was accepted.</summary>
    private static bool AssertIpv4Outcome(byte[] d)
    {
        var hex = Convert.ToHexString(d);
        if (!VrrpPacket.TryParseIpv4(d, out var p, out var ip, out var reason))
        {
            Assert.Null(p);
            Assert.True(ParserReasons.Contains(reason), $"{hex} refused with {reason}");
            return false;
        }
        Assert.Equal(VrrpDropReason.None, reason);
        var ihl = (d[0] & 0x0f) * 4;
        var total = (d[2] << 8) | d[3];
        Assert.True(ip.Protocol is 112 or 51, $"{hex} accepted with protocol {ip.Protocol}");
        Assert.Equal(ip.Protocol == 51, p!.Ah is not null);
        var at = ip.Protocol == 51 ? ihl + VrrpAh.HeaderLength : ihl; // an AH header is parsed here, checked by the instance
        AssertReencodesToInput(p!, d.AsSpan(at, total - at), ip.Source, ip.Destination, hex);
        return true;
    }

    private static void Count(bool wasAccepted, ref int accepted, ref int refused)
    {
        if (wasAccepted)
            accepted++;
        else
            refused++;
    }

    [Fact]
    public void Every_truncation_is_refused_as_truncated()
    {
        var buf = new byte[128];
        var n = V3(AddressFamily.InterNetwork).WriteIpv4Datagram(buf, Src4, Group4);
        for (var len = 0; len < n; len++)
        {
            Assert.False(VrrpPacket.TryParseIpv4(buf.AsSpan(0, len), out var p, out _, out var r));
            Assert.Null(p);
            Assert.Equal(VrrpDropReason.Truncated, r); // under 20 bytes, or shorter than the IP total length
        }
    }

    /// <summary>
    /// Every byte of a valid v2 and v3 datagram set to several values, with and without the VRRP checksum made
    /// right again, and random buffers: each is refused with a parser reason, or accepted as exactly the message
    /// it re-encodes to. Both outcomes occur.
    /// </summary>
    [Fact]
    public void Every_corruption_is_refused_with_a_reason_or_accepted_as_exactly_what_it_re_encodes_to()
    {
        int accepted = 0, refused = 0;
        foreach (var packet in (VrrpPacket[])[V2Pass(), V3(AddressFamily.InterNetwork)])
        {
            var buf = new byte[128];
            var n = packet.WriteIpv4Datagram(buf, Src4, Group4);
            var original = buf[..n];
            Assert.True(AssertIpv4Outcome(original));
            for (var at = 0; at < n; at++)
            {
                foreach (var value in (byte[])[0, 1, 2, 3, 0x21, 0x31, 0x45, 0x7f, 0x80, 0xff])
                {
                    var d = (byte[])original.Clone();
                    d[at] = value;
                    Count(AssertIpv4Outcome(d), ref accepted, ref refused);
                    if (at >= 20 && packet.Version == 2)
                    {
                        Fix(d); // the checksum agrees again: the field itself decides
                        Count(AssertIpv4Outcome(d), ref accepted, ref refused);
                    }
                }
            }
        }
        var rng = new Random(42);
        for (var i = 0; i < 20000; i++)
        {
            var b = new byte[rng.Next(0, 100)];
            rng.NextBytes(b);
            if (VrrpPacket.TryParse(b, AddressFamily.InterNetworkV6, Src6, Group6, out var p6, out var r6))
                AssertReencodesToInput(p6!, b, Src6, Group6, Convert.ToHexString(b));
            else
                Assert.True(p6 is null && ParserReasons.Contains(r6), $"{Convert.ToHexString(b)} refused with {r6}");
            if (b.Length > 0)
                b[0] = 0x45;
            Count(AssertIpv4Outcome(b), ref accepted, ref refused);
        }
        Assert.True(accepted > 100 && refused > 1000, $"accepted {accepted}, refused {refused}");
    }

    [RootFact("tshark")]
    public void Tshark_decodes_what_Lb_encodes_without_malformed_or_expert_errors()
    {
        var packets = new List<byte[]>();
        var buf = new byte[256];
        var n = V2Pass().WriteIpv4Datagram(buf, Src4, Group4);
        packets.Add(buf[..n]);
        n = V3(AddressFamily.InterNetwork).WriteIpv4Datagram(buf, Src4, Group4);
        packets.Add(buf[..n]);
        var v6 = V3(AddressFamily.InterNetworkV6);
        n = v6.WriteTo(buf, Src6, Group6);
        packets.Add(PcapWriter.Ipv6(Src6, Group6, 112, 255, buf[..n]));
        var path = Path.Combine(Path.GetTempPath(), $"lb-vrrp-{Guid.NewGuid():N}.pcap");
        try
        {
            PcapWriter.Write(path, PcapWriter.LinkTypeRaw, packets);
            var fields = ProcessRunner.Check("tshark", "-r", path, "-T", "fields", "-E", "separator=|",
                "-e", "vrrp.version", "-e", "vrrp.virt_rtr_id", "-e", "vrrp.prio", "-e", "vrrp.addr_count", "-e", "vrrp.checksum.status",
                "-e", "vrrp.auth_type", "-e", "vrrp.auth_string", "-e", "vrrp.adver_int", "-e", "vrrp.short_adver_int",
                "-e", "vrrp.ip_addr", "-e", "vrrp.ipv6_addr", "-e", "_ws.malformed", "-e", "_ws.expert");
            var lines = fields.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            var l0 = lines[0].Split('|');
            Assert.Equal(["2", "51", "100", "2", "1", "1", "secret12", "1", "", "192.168.200.16,192.168.200.17", "", "", ""], l0);
            var l1 = lines[1].Split('|');
            Assert.Equal(["3", "7", "150", "1", "1", "", "", "", "50", "10.0.0.100", "", "", ""], l1);
            var l2 = lines[2].Split('|');
            Assert.Equal(["3", "7", "150", "2", "1", "", "", "", "50", "", "fe80::100,2001:db8::100", "", ""], l2);
            var verbose = ProcessRunner.Check("tshark", "-r", path, "-V");
            Assert.DoesNotContain("Malformed", verbose);
            Assert.Contains("Virtual Router Redundancy Protocol", verbose);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
