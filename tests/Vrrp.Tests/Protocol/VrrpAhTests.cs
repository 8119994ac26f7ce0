using System.Net;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Xunit;

namespace Lb.Vrrp.Tests.Protocol;

/// <summary>
/// The IPsec AH codec against adverts the real keepalived 2.2.7 sent (captured with tcpdump on a veth in a network
/// namespace, 2026-11-30). Lb must accept exactly these bytes with the password keepalived used, refuse them with any
/// other, and produce the same bytes — ICV included — from the same header values.
/// </summary>
public class VrrpAhTests
{
    /// <summary>
    /// Multicast, <c>vrrp_instance VI_1 { interface ah-a; virtual_router_id 51; priority 100; advert_int 1;
    /// authentication { auth_type AH; auth_pass secret12 }; virtual_ipaddress { 10.66.0.100/24 } }</c>, source
    /// 10.66.0.2: its first three adverts as MASTER (sequence numbers 1, 2, 3; IP id 1, 2, 3).
    /// </summary>
    private static readonly string[] Multicast =
    [
        "45c0004000010000ff33d0730a420002e0000012700400000a4200020000000190bc91bfc4ae8fe99c059fda2133640102016e240a4200640000000000000000",
        "45c0004000020000ff33d0720a420002e0000012700400000a420002000000021c2c22b49c36b9e3ee53069c2133640102016e240a4200640000000000000000",
        "45c0004000030000ff33d0710a420002e0000012700400000a4200020000000372a3e7d81d0786b7638a48cf2133640102016e240a4200640000000000000000",
    ];

    /// <summary>
    /// Unicast, <c>vrrp_instance VI_2 { virtual_router_id 52; priority 90; advert_int 2; unicast_src_ip 10.66.0.2;
    /// unicast_peer { 10.66.0.1 }; authentication { auth_type AH; auth_pass abc }; virtual_ipaddress { 10.66.0.101/24
    /// 10.66.0.102/24 } }</c>: two adverts, then the priority-0 advert of its shutdown (sequence 3). For unicast the TTL
    /// is a mutable field of the ICV.
    /// </summary>
    private static readonly string[] Unicast =
    [
        "45c0004400010000ff33a63f0a4200020a420001700400000a42000200000001cd57113d009999b29f391c5121345a0202026d780a4200650a4200660000000000000000",
        "45c0004400020000ff33a63e0a4200020a420001700400000a42000200000002a9d42aa2228a7300aab4de6b21345a0202026d780a4200650a4200660000000000000000",
        "45c0004400030000ff33a63d0a4200020a420001700400000a42000200000003439f173885fcccffb647cdef213400020202c7780a4200650a4200660000000000000000",
    ];

    private static readonly IPAddress Source = IPAddress.Parse("10.66.0.2");

    public static TheoryData<int> MulticastIndex => new() { 0, 1, 2 };

    [Theory]
    [MemberData(nameof(MulticastIndex))]
    public void Keepalived_multicast_advert_parses_verifies_and_re_encodes_byte_for_byte(int i)
    {
        var d = Convert.FromHexString(Multicast[i]);
        Assert.True(VrrpPacket.TryParseIpv4(d, out var p, out var ip, out var reason), reason.ToString());
        Assert.Equal(51, ip.Protocol);
        Assert.Equal(new VrrpAhHeader(112, 4, 0x0a420002, (uint)i + 1), p!.Ah);
        Assert.Equal(VrrpAh.SpiOf(Source), p.Ah!.Value.Spi);
        Assert.Equal(2, p.Version);
        Assert.Equal(51, p.VirtualRouterId);
        Assert.Equal(100, p.Priority);
        Assert.Equal(VrrpAuthType.Ah, p.AuthType);
        Assert.Equal(new byte[8], p.AuthData.ToArray()); // keepalived's VRRP part carries eight zero bytes with AH
        Assert.Equal([IPAddress.Parse("10.66.0.100")], p.Addresses);
        Assert.Equal(d, p.AhDatagram.ToArray());

        Assert.True(VrrpAh.VerifyIcv(d, VrrpPacket.PasswordBytes("secret12"), zeroTtl: false));
        Assert.False(VrrpAh.VerifyIcv(d, VrrpPacket.PasswordBytes("secret13"), zeroTtl: false));
        Assert.False(VrrpAh.VerifyIcv(d, VrrpPacket.PasswordBytes("secret12"), zeroTtl: true));

        var ours = new VrrpPacket
        {
            Version = 2,
            VirtualRouterId = 51,
            Priority = 100,
            AuthType = VrrpAuthType.Ah,
            AdvertIntervalCentiseconds = 100,
            Addresses = [IPAddress.Parse("10.66.0.100")],
            AhSigning = new VrrpAhSigning(VrrpPacket.PasswordBytes("secret12"), (uint)i + 1, ZeroTtl: false),
        };
        var buf = new byte[128];
        var n = ours.WriteIpv4Datagram(buf, Source, IPAddress.Parse("224.0.0.18"), 255);
        Assert.Equal(Multicast[i], Convert.ToHexString(buf, 0, n).ToLowerInvariant());
    }

    [Fact]
    public void Keepalived_unicast_adverts_leave_the_ttl_out_of_the_icv_and_re_encode_byte_for_byte()
    {
        var key = VrrpPacket.PasswordBytes("abc");
        for (var i = 0; i < Unicast.Length; i++)
        {
            var d = Convert.FromHexString(Unicast[i]);
            Assert.True(VrrpPacket.TryParseIpv4(d, out var p, out _, out var reason), reason.ToString());
            Assert.Equal((uint)i + 1, p!.Ah!.Value.SequenceNumber);
            Assert.True(VrrpAh.VerifyIcv(d, key, zeroTtl: true));
            Assert.False(VrrpAh.VerifyIcv(d, key, zeroTtl: false));
            var hopped = (byte[])d.Clone();
            hopped[8] = 64; // a unicast advert that crossed routers still verifies
            Assert.True(VrrpAh.VerifyIcv(hopped, key, zeroTtl: true));

            var ours = new VrrpPacket
            {
                Version = 2,
                VirtualRouterId = 52,
                Priority = p.Priority,
                AuthType = VrrpAuthType.Ah,
                AdvertIntervalCentiseconds = 200,
                Addresses = [IPAddress.Parse("10.66.0.101"), IPAddress.Parse("10.66.0.102")],
                AhSigning = new VrrpAhSigning(key, (uint)i + 1, ZeroTtl: true),
            };
            var buf = new byte[128];
            var n = ours.WriteIpv4Datagram(buf, Source, IPAddress.Parse("10.66.0.1"), 255);
            Assert.Equal(Unicast[i], Convert.ToHexString(buf, 0, n).ToLowerInvariant());
        }
        Assert.Equal(0, Convert.FromHexString(Unicast[2])[20 + 24 + 2]); // the last one is the priority-0 advert
    }

    public static TheoryData<string, int, byte, bool> Mutations => new()
    {
        // the mutable fields: TOS, flags/fragment offset, header checksum
        { "tos", 1, 0x00, true },
        { "fragment", 6, 0x40, true },
        { "checksum", 10, 0x12, true },
        // everything else is covered
        { "total length", 3, 0x41, false },
        { "ip id", 5, 0x09, false },
        { "ttl", 8, 0xfe, false },
        { "source", 15, 0x03, false },
        { "destination", 19, 0x13, false },
        { "spi", 27, 0x03, false },
        { "sequence", 31, 0x07, false },
        { "icv", 32, 0x00, false },
        { "vrrp priority", 46, 0xc8, false },
        { "vip", 55, 0x65, false },
        { "auth data", 63, 0x01, false },
    };

    [Theory]
    [MemberData(nameof(Mutations))]
    public void The_icv_covers_all_but_the_mutable_ip_fields(string field, int offset, byte value, bool stillValid)
    {
        var d = Convert.FromHexString(Multicast[0]);
        Assert.NotEqual(value, d[offset]);
        d[offset] = value;
        Assert.True(stillValid == VrrpAh.VerifyIcv(d, VrrpPacket.PasswordBytes("secret12"), zeroTtl: false), field);
    }

    [Fact]
    public void An_ah_header_for_another_protocol_is_not_vrrp_and_a_short_one_is_truncated()
    {
        var d = Convert.FromHexString(Multicast[0]);
        d[20] = 6; // AH around TCP
        Assert.False(VrrpPacket.TryParseIpv4(d, out var p, out _, out var reason));
        Assert.Null(p);
        Assert.Equal(VrrpDropReason.NotVrrp, reason);

        var full = Convert.FromHexString(Multicast[0]);
        for (var len = 20; len < 20 + 24 + 8; len++)
        {
            var cut = full[..len];
            cut[2] = 0;
            cut[3] = (byte)len;
            Assert.False(VrrpPacket.TryParseIpv4(cut, out _, out _, out reason));
            Assert.Equal(VrrpDropReason.Truncated, reason);
        }
    }

    [Fact]
    public void The_ip_id_of_an_ah_advert_is_never_zero()
    {
        Assert.Equal(1, VrrpAh.IpId(0));
        Assert.Equal(1, VrrpAh.IpId(0x10000));
        Assert.Equal(7, VrrpAh.IpId(7));
    }
}
