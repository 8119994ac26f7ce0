using System.Globalization;
using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>
/// Through the real transport: a flood of valid lower-priority adverts costs a bounded number of log lines
/// (each advert still counted), and a datagram refused at the IP header names its sender in the drop log.
/// </summary>
public class AdvertFloodTests
{
    private const int Flood = 400;

    /// <summary>Writes each hex IP datagram argv[2..] as it is, in an Ethernet frame to the VRRP multicast MAC (no kernel fix-ups).</summary>
    private const string FrameSender = """
        import socket, sys
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((sys.argv[1], 0))
        mac = open("/sys/class/net/%s/address" % sys.argv[1]).read().strip().replace(":", "")
        for hexpkt in sys.argv[2:]:
            s.send(bytes.fromhex("01005e000012" + mac + "0800") + bytes.fromhex(hexpkt))
        """;

    private static VrrpSubsystemOptions Options(VethPeer net) => new()
    {
        Instances =
        [
            new VrrpInstanceOptions
            {
                Name = "VI_1",
                Interface = net.HostIf,
                VirtualRouterId = 77,
                Priority = 150,
                Authentication = new VrrpAuthentication(VrrpAuthType.Pass, "secret12"),
                VirtualIpAddresses = [new VirtualAddress { Address = net.Vip, PrefixLength = 24 }],
            },
        ],
    };

    private static byte[] Advert(VethPeer net, int priority)
    {
        var p = new VrrpPacket
        {
            Version = 2,
            VirtualRouterId = 77,
            Priority = (byte)priority,
            AuthType = VrrpAuthType.Pass,
            AdvertIntervalCentiseconds = 100,
            Addresses = [net.Vip],
            AuthData = VrrpPacket.PasswordBytes("secret12"),
        };
        var b = new byte[256];
        var n = p.WriteIpv4Datagram(b, net.PeerAddress, IPAddress.Parse("224.0.0.18"), 255);
        return b[..n];
    }

    [RootFact("ip", "python3")]
    public async Task A_lower_priority_flood_is_counted_whole_and_logged_at_a_bounded_rate()
    {
        using var net = new VethPeer();
        var logs = new ListLogger();
        await using var lb = new VrrpSubsystem(Options(net), new IpCommandAddressTable(), new SysfsLinkMonitor(), new RecordingEventSink(), logs, TimeProvider.System);
        await lb.StartAsync(CancellationToken.None);
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master));

        net.InNs("python3", "-c", AdvertInjector.RawSender, net.PeerIf, Flood.ToString(CultureInfo.InvariantCulture), Convert.ToHexString(Advert(net, 50)));
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].LowerPriorityReceived == Flood), $"{lb.GetStatus().Instances[0].LowerPriorityReceived} of {Flood}");
        var st = lb.GetStatus().Instances[0];
        Assert.Equal(Flood, st.AdvertsReceived);
        Assert.Equal(VrrpState.Master, st.State);
        Assert.InRange(logs.Lines.Count(l => l.StartsWith($"(VI_1) Received advert from {net.PeerAddress} with lower priority 50", StringComparison.Ordinal)), 1, 10);
    }

    [RootFact("ip", "python3")]
    public async Task A_datagram_refused_at_the_ip_header_names_its_sender()
    {
        using var net = new VethPeer();
        var logs = new ListLogger();
        await using var lb = new VrrpSubsystem(Options(net), new IpCommandAddressTable(), new SysfsLinkMonitor(), new RecordingEventSink(), logs, TimeProvider.System);
        await lb.StartAsync(CancellationToken.None);
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master));

        // IP total length larger than the datagram: refused before the header is parsed
        var truncated = Advert(net, 254);
        truncated[3] += 40;
        // an IPv4 "header" of 12 bytes (protocol 112 at offset 9): no source field at all, only the sender's MAC
        var stub = Advert(net, 254)[..12];
        var peerMac = net.InNs("cat", $"/sys/class/net/{net.PeerIf}/address").Trim();
        net.InNs("python3", "-c", FrameSender, net.PeerIf, Convert.ToHexString(truncated), Convert.ToHexString(stub));

        Assert.True(Wait.Until(() => logs.Lines.Contains($"(VI_1) dropped advert from {net.PeerAddress}: Truncated")), string.Join('\n', logs.Lines));
        Assert.True(Wait.Until(() => logs.Lines.Contains($"Dropped VRRP packet from {peerMac} on {net.HostIf}: Truncated")), string.Join('\n', logs.Lines));
        Assert.Equal(1, lb.GetStatus().Instances[0].Drops[VrrpDropReason.Truncated]);
        Assert.Equal(1, lb.GetStatus().UnattributedDrops[VrrpDropReason.Truncated]);
        Assert.Equal(VrrpState.Master, lb.GetStatus().Instances[0].State);
    }
}
