using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>
/// A physical NIC pads every Ethernet frame to 60 bytes, and Lb's AF_PACKET socket receives the padding.
/// veth never pads and a bridge with br_netfilter trims, so these tests put the padding on the wire
/// themselves: a frame written whole through AF_PACKET on the veth peer, and a user-space "switch" that pads
/// every short frame it forwards between the real keepalived and Lb, as a NIC would.
/// </summary>
public class PaddedFrameTests
{
    /// <summary>Writes whole Ethernet frames (VRRP multicast MAC, the given IP datagram, zero padding to 60 bytes).</summary>
    private const string FrameSender = """
        import socket, sys, time
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((sys.argv[1], 0))
        ip = bytes.fromhex(sys.argv[3])
        frame = bytes.fromhex("01005e000012" "00005e00014d" "0800") + ip
        frame += bytes(max(0, 60 - len(frame)))
        assert len(frame) == 60, len(frame)
        for i in range(int(sys.argv[2])):
            s.send(frame)
            time.sleep(0.2)
        """;

    /// <summary>
    /// Forwards every frame between two interfaces, padding frames shorter than 60 bytes with zeros as an
    /// Ethernet NIC does, and prints one line per padded frame.
    /// </summary>
    private const string PaddingSwitch = """
        import socket, sys, select
        ports = []
        for name in sys.argv[1:3]:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
            s.bind((name, 0))
            ports.append(s)
        print("switch up", flush=True)
        while True:
            ready, _, _ = select.select(ports, [], [])
            for s in ready:
                data, addr = s.recvfrom(65535)
                if addr[2] == socket.PACKET_OUTGOING:
                    continue
                if len(data) < 60:
                    print("padded %d->60 ethertype %s" % (len(data), data[12:14].hex()), flush=True)
                    data += bytes(60 - len(data))
                (ports[1] if s is ports[0] else ports[0]).send(data)
        """;

    private static VrrpSubsystemOptions Options(VethPeer net, int version, int priority) => new()
    {
        Version = version,
        Instances =
        [
            new VrrpInstanceOptions
            {
                Name = "VI_1",
                Interface = net.HostIf,
                VirtualRouterId = 77,
                Priority = priority,
                Authentication = version == 2 ? new VrrpAuthentication(VrrpAuthType.Pass, "secret12") : null,
                VirtualIpAddresses = [new VirtualAddress { Address = net.Vip, PrefixLength = 24 }],
            },
        ],
    };

    [RootTheory("ip", "python3")]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_higher_priority_advert_in_a_padded_60_byte_frame_makes_the_master_back_off(int version)
    {
        using var net = new VethPeer();
        var logs = new ListLoggerProvider();
        var events = new RecordingEventSink();
        await using var lb = new VrrpSubsystem(Options(net, version, 150), new IpCommandAddressTable(), new SysfsLinkMonitor(), events, logs, TimeProvider.System);
        await lb.StartAsync(CancellationToken.None);
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master));
        Assert.True(Wait.Until(() => IpCommandAddressTable.Has(net.HostIf, net.Vip)));

        var claim = new VrrpPacket
        {
            Version = (byte)version,
            VirtualRouterId = 77,
            Priority = 254,
            AuthType = version == 2 ? VrrpAuthType.Pass : VrrpAuthType.None,
            AdvertIntervalCentiseconds = 100,
            Addresses = [net.Vip],
            AuthData = version == 2 ? VrrpPacket.PasswordBytes("secret12") : new byte[VrrpPacket.AuthDataLength],
        };
        var buf = new byte[128];
        var n = claim.WriteIpv4Datagram(buf, net.PeerAddress, IPAddress.Parse("224.0.0.18"), 255);
        Assert.True(n + 14 < 60, "the advert must be short enough for the NIC to pad it");

        net.InNs("python3", "-c", FrameSender, net.PeerIf, "5", Convert.ToHexString(buf, 0, n));

        var status = lb.GetStatus().Instances[0];
        Assert.True(status.AdvertsReceived >= 1, $"received {status.AdvertsReceived}, drops: {string.Join(", ", status.Drops)}; {string.Join(", ", lb.GetStatus().UnattributedDrops)}");
        Assert.Contains(events.Changes, c => c.NewState == VrrpState.Backup);
        Assert.Equal(0, status.Drops.Values.Sum());
        Assert.True(logs.Contains($"(VI_1) Master received advert from {net.PeerAddress} with higher priority 254, ours 150"), string.Join('\n', logs.Lines));
    }

    [RootFact("ip", "python3", "keepalived")]
    public async Task Keepalived_heard_through_a_padding_switch_keeps_Lb_backup()
    {
        using var net = new VethPeer();
        // keepalived lives behind a "switch" in the veth peer's namespace that pads short frames.
        var kaNs = net.Namespace + "k";
        var kaIf = "lbk" + net.Namespace[^4..];
        var swIf = "lbs" + net.Namespace[^4..];
        Run.Ok("ip", "netns", "add", kaNs);
        try
        {
            net.InNs("ip", "addr", "flush", "dev", net.PeerIf);
            net.InNs("ip", "link", "add", swIf, "type", "veth", "peer", "name", kaIf);
            net.InNs("ip", "link", "set", kaIf, "netns", kaNs);
            net.InNs("ip", "link", "set", swIf, "up");
            net.InNs("ip", "link", "set", net.PeerIf, "promisc", "on");
            net.InNs("ip", "link", "set", swIf, "promisc", "on");
            Run.Ok("ip", "-n", kaNs, "addr", "add", $"{net.PeerAddress}/24", "dev", kaIf);
            Run.Ok("ip", "-n", kaNs, "link", "set", kaIf, "up");
            Run.Ok("ip", "-n", kaNs, "link", "set", "lo", "up");
            var sw = net.StartInNs("python3", "-c", PaddingSwitch, net.PeerIf, swIf);
            Assert.True(sw.WaitFor("switch up"), sw.Output);

            var conf = Path.Combine(net.Dir, "keepalived.conf");
            File.WriteAllText(conf, $$"""
                global_defs {
                    router_id peer
                    vrrp_version 2
                }
                vrrp_instance VI_1 {
                    state BACKUP
                    interface {{kaIf}}
                    virtual_router_id 77
                    priority 200
                    advert_int 1
                    authentication {
                        auth_type PASS
                        auth_pass secret12
                    }
                    virtual_ipaddress {
                        {{net.Vip}}/24
                    }
                }
                """);
            var tag = Path.GetFileName(net.Dir);
            var ka = net.StartInNs("ip", "netns", "exec", kaNs, "keepalived", "-n", "-l", "-D", "-f", conf, "--vrrp",
                "-p", $"/tmp/{tag}.ka.pid", "-r", $"/tmp/{tag}.vrrp.pid", "-c", $"/tmp/{tag}.chk.pid");
            Assert.True(ka.WaitFor("(VI_1) Entering MASTER STATE"), ka.Output);

            var logs = new ListLoggerProvider();
            var events = new RecordingEventSink();
            await using var lb = new VrrpSubsystem(Options(net, 2, 100), new IpCommandAddressTable(), new SysfsLinkMonitor(), events, logs, TimeProvider.System);
            await lb.StartAsync(CancellationToken.None);

            // Five adverts heard span more than the 3.6 s master-down interval: Lb would have become MASTER had it dropped them.
            Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].AdvertsReceived >= 5),
                $"adverts received {lb.GetStatus().Instances[0].AdvertsReceived}; drops {string.Join(", ", lb.GetStatus().Instances[0].Drops)}\n{string.Join('\n', logs.Lines)}");
            Assert.Contains("padded 54->60 ethertype 0800", sw.Output, StringComparison.Ordinal);
            var st = lb.GetStatus().Instances[0];
            Assert.Equal(VrrpState.Backup, st.State);
            Assert.Equal(net.PeerAddress, st.MasterAddress);
            Assert.DoesNotContain(events.Changes, c => c.NewState == VrrpState.Master);
            Assert.False(IpCommandAddressTable.Has(net.HostIf, net.Vip));
            Assert.True(Run.Ok("ip", "-n", kaNs, "-o", "addr", "show", "dev", kaIf).Contains($" {net.Vip}/", StringComparison.Ordinal));
            Assert.Equal(0, st.Drops.Values.Sum());
        }
        finally
        {
            Run.Capture("ip", "netns", "del", kaNs);
        }
    }
}
