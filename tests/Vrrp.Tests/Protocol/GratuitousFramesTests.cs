using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Notify;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Protocol;

public class GratuitousFramesTests
{
    private static readonly byte[] Mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    [Fact]
    public void Gratuitous_arp_is_a_broadcast_request_for_the_vip()
    {
        var f = new byte[64];
        var n = GratuitousFrames.WriteGratuitousArp(f, Mac, IPAddress.Parse("10.0.0.100"));
        byte[] expected =
        [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06,
            0, 1, 8, 0, 6, 4, 0, 1,
            0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 10, 0, 0, 100,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 10, 0, 0, 100,
        ];
        Assert.Equal(expected, f[..n]);
    }

    [RootFact("tshark")]
    public void Tshark_decodes_the_arp_and_the_unsolicited_na()
    {
        var arp = new byte[64];
        var na = new byte[128];
        var n1 = GratuitousFrames.WriteGratuitousArp(arp, Mac, IPAddress.Parse("10.0.0.100"));
        var n2 = GratuitousFrames.WriteUnsolicitedNa(na, Mac, IPAddress.Parse("2001:db8::100"));
        var path = Path.Combine(Path.GetTempPath(), $"lb-garp-{Guid.NewGuid():N}.pcap");
        try
        {
            PcapWriter.Write(path, PcapWriter.LinkTypeEthernet, [arp[..n1], na[..n2]]);
            var o = ProcessRunner.Check("tshark", "-r", path, "-T", "fields", "-E", "separator=|",
                "-e", "arp.isgratuitous", "-e", "arp.opcode", "-e", "arp.src.proto_ipv4",
                "-e", "icmpv6.type", "-e", "icmpv6.nd.na.target_address", "-e", "icmpv6.nd.na.flag.o", "-e", "icmpv6.checksum.status", "-e", "icmpv6.opt.linkaddr", "-e", "ipv6.hlim",
                "-e", "_ws.malformed", "-e", "_ws.expert");
            var lines = o.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["1", "1", "10.0.0.100", "", "", "", "", "", "", "", ""], lines[0].Split('|'));
            Assert.Equal(["", "", "", "136", "2001:db8::100", "1", "1", "02:11:22:33:44:55", "255", "", ""], lines[1].Split('|'));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Notify_arguments_and_fifo_lines_are_keepalived_s()
    {
        var s = NotifyScript.Parse("/etc/keepalived/notify.sh \"x y\"");
        Assert.Equal(["/etc/keepalived/notify.sh", "x y", "INSTANCE", "VI_1", "MASTER", "100"], NotifyDispatcher.NotifyArgv(s, Host.VrrpEntityKind.Instance, "VI_1", "MASTER", 100));
        Assert.Equal("INSTANCE \"VI_1\" MASTER 100", NotifyDispatcher.FifoLine(Host.VrrpEntityKind.Instance, "VI_1", "MASTER", 100));
        Assert.Equal("GROUP \"G1\" FAULT 0", NotifyDispatcher.FifoLine(Host.VrrpEntityKind.Group, "G1", "FAULT", 0));
    }
}
