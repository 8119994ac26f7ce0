using System.Buffers.Binary;
using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Protocol;

public class ProbeFramesTests
{
    private static readonly byte[] Mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    private static readonly byte[] Other = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee];

    [Fact]
    public void Arp_probe_is_rfc5227_sender_zero_target_the_vip()
    {
        var f = new byte[64];
        var n = ProbeFrames.WriteArpProbe(f, Mac, IPAddress.Parse("10.0.0.100"));
        byte[] expected =
        [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06,
            0, 1, 8, 0, 6, 4, 0, 1,
            0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 10, 0, 0, 100,
        ];
        Assert.Equal(expected, f[..n]);
    }

    [Fact]
    public void Ns_goes_to_the_solicited_node_group_with_a_source_link_layer_option_and_a_valid_checksum()
    {
        var f = new byte[128];
        var vip = IPAddress.Parse("2001:db8::1:2:3");
        var n = ProbeFrames.WriteNeighborSolicitation(f, Mac, IPAddress.Parse("fe80::11:22ff:fe33:4455"), vip);
        Assert.Equal(ProbeFrames.NsLength, n);
        Assert.Equal(new byte[] { 0x33, 0x33, 0xff, 0x02, 0x00, 0x03 }, f[..6]);
        Assert.Equal(IPAddress.Parse("ff02::1:ff02:3"), new IPAddress(f.AsSpan(14 + 24, 16)));
        Assert.Equal(255, f[14 + 7]);
        Assert.Equal(135, f[54]);
        Assert.Equal(vip, new IPAddress(f.AsSpan(54 + 8, 16)));
        Assert.Equal(new byte[] { 1, 1, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 }, f[(54 + 24)..(54 + 32)]);
        var sum = VrrpChecksum.PseudoHeader(IPAddress.Parse("fe80::11:22ff:fe33:4455"), IPAddress.Parse("ff02::1:ff02:3"), 32, 58);
        Assert.Equal(0, VrrpChecksum.Fold(VrrpChecksum.Add(sum, f.AsSpan(54, 32))));
    }

    [Fact]
    public void Dad_ns_has_no_option()
    {
        var f = new byte[128];
        Assert.Equal(ProbeFrames.DadNsLength, ProbeFrames.WriteNeighborSolicitation(f, Mac, IPAddress.IPv6Any, IPAddress.Parse("2001:db8::100")));
    }

    /// <summary>The ARP reply Linux sends to a probe (arp_process, sip == 0): sender the VIP, target 0.0.0.0 / the prober's MAC.</summary>
    private static byte[] ArpReply(int padTo = 42)
    {
        var f = new byte[Math.Max(42, padTo)];
        Mac.CopyTo(f, 0);
        Other.CopyTo(f, 6);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0806);
        byte[] arp = [0, 1, 8, 0, 6, 4, 0, 2, .. Other, 10, 0, 0, 100, .. Mac, 0, 0, 0, 0];
        arp.CopyTo(f, 14);
        return f;
    }

    [Fact]
    public void Arp_reply_is_an_answer_naming_the_vip_and_the_other_mac()
    {
        Assert.True(ProbeFrames.TryParseAnswer(ArpReply(), out var a, out _));
        Assert.Equal(IPAddress.Parse("10.0.0.100"), a.Address);
        Assert.Equal(Other, a.Mac);
    }

    [Fact]
    public void Arp_reply_padded_to_60_bytes_by_the_nic_is_accepted()
    {
        var f = ArpReply(60);
        f.AsSpan(42).Fill(0xa5); // padding need not be zero
        Assert.True(ProbeFrames.TryParseAnswer(f, out var a, out _));
        Assert.Equal(IPAddress.Parse("10.0.0.100"), a.Address);
        Assert.Equal(Other, a.Mac);
    }

    [Theory]
    [InlineData(13)]
    [InlineData(20)]
    [InlineData(41)]
    public void Truncated_arp_reply_is_dropped_as_truncated(int length)
    {
        Assert.False(ProbeFrames.TryParseAnswer(ArpReply().AsSpan(0, length), out _, out var drop));
        Assert.Equal(ProbeFrameDrop.Truncated, drop);
    }

    [Fact]
    public void Arp_reply_with_wrong_lengths_is_malformed()
    {
        var f = ArpReply();
        f[14 + 5] = 16; // plen
        Assert.False(ProbeFrames.TryParseAnswer(f, out _, out var drop));
        Assert.Equal(ProbeFrameDrop.Malformed, drop);
    }

    [Fact]
    public void Arp_requests_are_not_answers_and_not_counted()
    {
        var f = new byte[60];
        var n = ProbeFrames.WriteArpProbe(f, Mac, IPAddress.Parse("10.0.0.100"));
        Assert.False(ProbeFrames.TryParseAnswer(f.AsSpan(0, n), out _, out var drop));
        Assert.Equal(ProbeFrameDrop.NotAnAnswer, drop);
        n = GratuitousFrames.WriteGratuitousArp(f, Other, IPAddress.Parse("10.0.0.100"));
        Assert.False(ProbeFrames.TryParseAnswer(f.AsSpan(0, n), out _, out drop));
        Assert.Equal(ProbeFrameDrop.NotAnAnswer, drop);
    }

    /// <summary>A solicited NA (as Linux answers an NS with a source link-layer option), built from the unsolicited NA writer.</summary>
    private static byte[] Na(IPAddress vip, int extra = 0)
    {
        var f = new byte[GratuitousFrames.NaFrameLength + extra];
        GratuitousFrames.WriteUnsolicitedNa(f, Other, vip);
        return f;
    }

    [Fact]
    public void Na_is_an_answer_naming_the_target_and_the_target_link_layer_address()
    {
        var vip = IPAddress.Parse("2001:db8::100");
        Assert.True(ProbeFrames.TryParseAnswer(Na(vip), out var a, out _));
        Assert.Equal(vip, a.Address);
        Assert.Equal(Other, a.Mac);
    }

    [Fact]
    public void Na_with_trailing_bytes_is_accepted()
    {
        Assert.True(ProbeFrames.TryParseAnswer(Na(IPAddress.Parse("2001:db8::100"), extra: 10), out _, out _));
    }

    [Theory]
    [InlineData(30)]
    [InlineData(54)]
    [InlineData(60)]
    [InlineData(85)]
    public void Truncated_na_is_dropped_as_truncated(int length)
    {
        Assert.False(ProbeFrames.TryParseAnswer(Na(IPAddress.Parse("2001:db8::100")).AsSpan(0, length), out _, out var drop));
        Assert.Equal(ProbeFrameDrop.Truncated, drop);
    }

    [Fact]
    public void Na_with_bad_checksum_hop_limit_or_zero_length_option_is_refused()
    {
        var f = Na(IPAddress.Parse("2001:db8::100"));
        f[54 + 2] ^= 1;
        Assert.False(ProbeFrames.TryParseAnswer(f, out _, out var drop));
        Assert.Equal(ProbeFrameDrop.BadChecksum, drop);

        f = Na(IPAddress.Parse("2001:db8::100"));
        f[14 + 7] = 64;
        Assert.False(ProbeFrames.TryParseAnswer(f, out _, out drop));
        Assert.Equal(ProbeFrameDrop.BadHopLimit, drop);

        f = Na(IPAddress.Parse("2001:db8::100"));
        f[54 + 25] = 0; // option length 0 (the checksum is refreshed: only the option is wrong)
        f[54 + 2] = 0;
        f[54 + 3] = 0;
        var sum = VrrpChecksum.PseudoHeader(IPAddress.Parse("2001:db8::100"), GratuitousFrames.AllNodes, 32, 58);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(54 + 2), VrrpChecksum.Fold(VrrpChecksum.Add(sum, f.AsSpan(54, 32))));
        Assert.False(ProbeFrames.TryParseAnswer(f, out _, out drop));
        Assert.Equal(ProbeFrameDrop.Malformed, drop);
    }

    [Fact]
    public void Our_own_ns_is_not_an_answer()
    {
        var f = new byte[128];
        var n = ProbeFrames.WriteNeighborSolicitation(f, Mac, IPAddress.Parse("fe80::1"), IPAddress.Parse("2001:db8::100"));
        Assert.False(ProbeFrames.TryParseAnswer(f.AsSpan(0, n), out _, out var drop));
        Assert.Equal(ProbeFrameDrop.NotAnAnswer, drop);
    }

    [RootFact("tshark")]
    public void Tshark_decodes_the_arp_probe_and_the_ns()
    {
        var arp = new byte[64];
        var ns = new byte[128];
        var n1 = ProbeFrames.WriteArpProbe(arp, Mac, IPAddress.Parse("10.0.0.100"));
        var n2 = ProbeFrames.WriteNeighborSolicitation(ns, Mac, IPAddress.Parse("fe80::11:22ff:fe33:4455"), IPAddress.Parse("2001:db8::100"));
        var path = Path.Combine(Path.GetTempPath(), $"lb-probe-{Guid.NewGuid():N}.pcap");
        try
        {
            PcapWriter.Write(path, PcapWriter.LinkTypeEthernet, [arp[..n1], ns[..n2]]);
            var o = ProcessRunner.Check("tshark", "-r", path, "-T", "fields", "-E", "separator=|",
                "-e", "arp.isprobe", "-e", "arp.opcode", "-e", "arp.dst.proto_ipv4",
                "-e", "icmpv6.type", "-e", "icmpv6.nd.ns.target_address", "-e", "icmpv6.checksum.status", "-e", "icmpv6.opt.linkaddr", "-e", "ipv6.dst",
                "-e", "_ws.malformed");
            var lines = o.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["1", "1", "10.0.0.100", "", "", "", "", "", ""], lines[0].Split('|'));
            Assert.Equal(["", "", "", "135", "2001:db8::100", "1", "02:11:22:33:44:55", "ff02::1:ff00:100", ""], lines[1].Split('|'));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
