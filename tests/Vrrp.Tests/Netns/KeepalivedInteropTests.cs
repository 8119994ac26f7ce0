using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>
/// Lb's real transport (raw sockets, AF_PACKET GARP) on one side, the real keepalived 2.2.7 on the other in its own
/// network namespace, over each <see cref="Wire"/>: a plain veth, a bridge, and a switch that pads short frames to
/// 60 bytes as a physical NIC does (each padded-wire run asserts that the switch really padded the adverts).
/// Addresses are managed through a stand-in adapter that runs <c>ip addr</c> (src/Lb provides the rtnetlink one).
/// Oracles: <c>ip addr</c> on both sides and keepalived's own state lines (exact lines: "Entering BACKUP STATE (init)"
/// is not a state change).
/// </summary>
public class KeepalivedInteropTests
{
    public static TheoryData<LabWire> Wires => new() { LabWire.Veth, LabWire.Bridge, LabWire.PaddingSwitch };

    /// <summary>
    /// Adverts (1 s apart) a backup must hear before "it did not take over" means anything: 6 s, clearly longer than the
    /// master-down interval of a priority-100 backup at advert_int 1 s (3 x 1 + (256 - 100) / 256 = 3.61 s).
    /// </summary>
    private const int AdvertsSpanningMasterDown = 6;

    private static string KeepalivedConfig(VethPeer net, int version, int priority, string auth) => $$"""
        global_defs {
            router_id peer
            vrrp_version {{version}}
            vrrp_garp_master_repeat 1
            vrrp_garp_master_delay 0
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface {{net.PeerIf}}
            virtual_router_id 77
            priority {{priority}}
            advert_int 1
            {{auth}}
            virtual_ipaddress {
                {{net.Vip}}/24
            }
        }
        """;

    private static VrrpSubsystemOptions LbOptions(VethPeer net, int version, int priority, VrrpAuthentication? auth) => new()
    {
        Version = version,
        GarpMasterRepeat = 2,
        GarpMasterDelay = TimeSpan.Zero,
        Instances =
        [
            new VrrpInstanceOptions
            {
                Name = "VI_1",
                Interface = net.HostIf,
                VirtualRouterId = 77,
                Priority = priority,
                Authentication = auth,
                VirtualIpAddresses = [new VirtualAddress { Address = net.Vip, PrefixLength = 24 }],
            },
        ],
    };

    [RootTheory("ip", "keepalived", "python3")]
    [MemberData(nameof(Wires))]
    public Task V2_pass_both_directions(LabWire wire) => Interop(wire, 2, new VrrpAuthentication(VrrpAuthType.Pass, "secret12"), "authentication {\n auth_type PASS\n auth_pass secret12\n }");

    [RootTheory("ip", "keepalived", "python3")]
    [MemberData(nameof(Wires))]
    public Task V3_both_directions(LabWire wire) => Interop(wire, 3, null, "");

    private static async Task Interop(LabWire wire, int version, VrrpAuthentication? auth, string kaAuth)
    {
        using var net = new VethPeer(wire);
        // keepalived starts alone and becomes MASTER at priority 100
        var ka = net.StartKeepalived(KeepalivedConfig(net, version, 100, kaAuth));
        Assert.True(ka.WaitForOutput("(VI_1) Entering MASTER STATE"), ka.Output);
        Assert.True(Wait.Until(() => PeerHas(net, net.Vip)), ka.Output);

        // Lb at 150 hears keepalived's adverts (lower priority: discarded), times out and preempts
        var logs = new ListLogger();
        var events = new RecordingEventSink();
        await using var lb = new VrrpSubsystem(LbOptions(net, version, 150, auth), new IpCommandAddressTable(), new SysfsLinkMonitor(), events, logs, TimeProvider.System);
        await lb.StartAsync(CancellationToken.None);
        Assert.True(Wait.Until(() => logs.Contains($"(VI_1) received lower priority (100) advert from {net.PeerAddress} - discarding")), string.Join('\n', logs.Lines));
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master), string.Join('\n', logs.Lines));
        Assert.Equal(0, lb.GetStatus().Instances[0].Drops.Values.Sum());

        // keepalived accepts Lb's advert (checksum, auth, VIP list) and yields: a real state change, its VIP gone
        Assert.True(ka.WaitForOutput($"(VI_1) Master received advert from {net.HostAddress} with higher priority 150, ours 100"), ka.Output);
        Assert.True(Wait.Until(() => HasLine(ka.Output, "(VI_1) Entering BACKUP STATE")), ka.Output);
        Assert.True(Wait.Until(() => !PeerHas(net, net.Vip)), ka.Output);
        Assert.True(Wait.Until(() => IpCommandAddressTable.Has(net.HostIf, net.Vip)));

        // keepalived keeps accepting Lb's adverts: it stays BACKUP for clearly longer than its master-down interval
        var masters = CountOf(ka.Output, "(VI_1) Entering MASTER STATE");
        var sent = lb.GetStatus().Instances[0].AdvertsSent;
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].AdvertsSent >= sent + AdvertsSpanningMasterDown));
        Assert.Equal(masters, CountOf(ka.Output, "(VI_1) Entering MASTER STATE"));
        Assert.False(PeerHas(net, net.Vip), ka.Output);
        Assert.DoesNotContain(events.Changes, c => c.NewState != VrrpState.Master && c.OldState == VrrpState.Master);
        AssertWirePadded(net, toLb: 1, toPeer: AdvertsSpanningMasterDown);

        // Lb stops: priority 0 advert, VIP removed, keepalived takes over
        await lb.StopAsync(CancellationToken.None);
        Assert.False(IpCommandAddressTable.Has(net.HostIf, net.Vip));
        Assert.True(Wait.Until(() => CountOf(ka.Output, "(VI_1) Entering MASTER STATE") > masters), ka.Output);
        Assert.True(Wait.Until(() => PeerHas(net, net.Vip)), ka.Output);
        Assert.Contains("(VI_1) Backup received priority 0 advertisement", ka.Output);
    }

    [RootTheory("ip", "keepalived", "python3")]
    [MemberData(nameof(Wires))]
    public async Task Lb_backup_follows_a_keepalived_master_and_takes_over_when_it_is_killed(LabWire wire)
    {
        using var net = new VethPeer(wire);
        var ka = net.StartKeepalived(KeepalivedConfig(net, 2, 200, ""));
        Assert.True(ka.WaitForOutput("(VI_1) Entering MASTER STATE"), ka.Output);
        var logs = new ListLogger();
        var events = new RecordingEventSink();
        await using var lb = new VrrpSubsystem(LbOptions(net, 2, 100, null), new IpCommandAddressTable(), new SysfsLinkMonitor(), events, logs, TimeProvider.System);
        await lb.StartAsync(CancellationToken.None);
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].MasterAddress?.Equals(net.PeerAddress) == true), string.Join('\n', logs.Lines));

        // Lb hears keepalived for clearly longer than its master-down interval (3.61 s) and never takes over
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].AdvertsReceived >= AdvertsSpanningMasterDown), string.Join('\n', logs.Lines));
        Assert.Equal(VrrpState.Backup, lb.GetStatus().Instances[0].State);
        Assert.DoesNotContain(events.Changes, c => c.NewState == VrrpState.Master);
        Assert.False(IpCommandAddressTable.Has(net.HostIf, net.Vip));
        Assert.True(PeerHas(net, net.Vip));
        Assert.Equal(0, lb.GetStatus().Instances[0].Drops.Values.Sum());
        AssertWirePadded(net, toLb: AdvertsSpanningMasterDown, toPeer: 0);

        ka.Kill();
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master));
        Assert.True(logs.Contains("(VI_1) Receive advertisement timeout"));
        Assert.True(Wait.Until(() => IpCommandAddressTable.Has(net.HostIf, net.Vip)));
    }

    [RootFact("ip", "tcpdump")]
    public async Task Adverts_and_gratuitous_arps_go_on_the_wire_as_keepalived_sends_them()
    {
        using var net = new VethPeer();
        var pcap = Path.Combine(net.Dir, "cap.pcap");
        var cap = net.StartInNs("tcpdump", "-Z", "root", "-i", net.PeerIf, "-U", "-n", "-w", pcap, "arp or ip proto 112");
        Assert.True(cap.WaitForOutput("listening on"), "tcpdump: " + cap.Output + (cap.HasExited ? $" exited {cap.ExitCode}" : ""));
        var logs = new ListLogger();
        await using (var lb = new VrrpSubsystem(LbOptions(net, 3, 150, null), new IpCommandAddressTable(), new SysfsLinkMonitor(), new RecordingEventSink(), logs, TimeProvider.System))
        {
            await lb.StartAsync(CancellationToken.None);
            Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master));
            Assert.True(Wait.Until(() => logs.Lines.Count(l => l == $"Sending gratuitous ARP on {net.HostIf} for {net.Vip}") >= 2), string.Join('\n', logs.Lines));
            Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].AdvertsSent >= 3));
        }
        Assert.True(Wait.Until(() => File.Exists(pcap) && ProcessRunner.Check("tcpdump", "-r", pcap, "-n").Contains("vrid 77, prio 0", StringComparison.Ordinal)));
        cap.Kill();
        var fields = ProcessRunner.Check("tshark", "-r", pcap, "-T", "fields", "-E", "separator=|", "-Y", "vrrp || arp",
            "-e", "ip.src", "-e", "ip.dst", "-e", "ip.ttl", "-e", "ip.dsfield", "-e", "vrrp.version", "-e", "vrrp.prio", "-e", "vrrp.checksum.status", "-e", "arp.isgratuitous", "-e", "arp.src.proto_ipv4", "-e", "_ws.malformed");
        var lines = fields.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"{net.HostAddress}|224.0.0.18|255|0xc0|3|150|1|||", lines.Select(l => l.Replace("0x000000c0", "0xc0", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.EndsWith($"|1|{net.Vip}|", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("|3|0|1|", StringComparison.Ordinal));
    }

    [RootTheory("ip", "keepalived", "python3")]
    [MemberData(nameof(Wires))]
    public async Task V2_unicast_peers_both_directions(LabWire wire)
    {
        using var net = new VethPeer(wire);
        var ka = net.StartKeepalived($$"""
            vrrp_instance VI_1 {
                state BACKUP
                interface {{net.PeerIf}}
                virtual_router_id 79
                priority 100
                advert_int 1
                unicast_src_ip {{net.PeerAddress}}
                unicast_peer {
                    {{net.HostAddress}}
                }
                virtual_ipaddress {
                    {{net.Vip}}/24
                }
            }
            """);
        Assert.True(ka.WaitForOutput("(VI_1) Entering MASTER STATE"), ka.Output);
        var logs = new ListLogger();
        var options = LbOptions(net, 2, 150, null);
        options = options with
        {
            CheckUnicastSrc = true,
            Instances = [options.Instances[0] with { VirtualRouterId = 79, UnicastSrcIp = net.HostAddress, UnicastPeers = [new UnicastPeer(net.PeerAddress, 250, 255)] }],
        };
        await using var lb = new VrrpSubsystem(options, new IpCommandAddressTable(), new SysfsLinkMonitor(), new RecordingEventSink(), logs, TimeProvider.System);
        await lb.StartAsync(CancellationToken.None);
        Assert.True(Wait.Until(() => logs.Contains($"(VI_1) received lower priority (100) advert from {net.PeerAddress} - discarding")), string.Join('\n', logs.Lines));
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master));
        Assert.True(ka.WaitForOutput($"(VI_1) Master received advert from {net.HostAddress} with higher priority 150, ours 100"), ka.Output);
        Assert.True(Wait.Until(() => HasLine(ka.Output, "(VI_1) Entering BACKUP STATE") && !PeerHas(net, net.Vip)), ka.Output);
        Assert.Empty(lb.GetStatus().Instances[0].Drops);
        AssertWirePadded(net, toLb: 1, toPeer: 1);
    }

    [RootFact("ip", "keepalived")]
    public async Task V3_ipv6_both_directions_with_unsolicited_na()
    {
        using var net = new VethPeer();
        var vip6 = IPAddress.Parse($"fd00:{net.HostAddress.GetAddressBytes()[2]:x}::100");
        var ka = net.StartKeepalived($$"""
            vrrp_instance VI_6 {
                state BACKUP
                interface {{net.PeerIf}}
                virtual_router_id 78
                priority 100
                advert_int 1
                virtual_ipaddress {
                    {{vip6}}/64
                }
            }
            """);
        Assert.True(ka.WaitForOutput("(VI_6) Entering MASTER STATE"), ka.Output);
        var pcap = Path.Combine(net.Dir, "na.pcap");
        var cap = net.StartInNs("tcpdump", "-Z", "root", "-i", net.PeerIf, "-U", "-n", "-w", pcap, "icmp6 or ip6 proto 112");
        Assert.True(cap.WaitForOutput("listening on"), cap.Output);
        Assert.True(Wait.Until(() => ProcessRunner.Check("ip", "-o", "addr", "show", "dev", net.HostIf).Contains("fe80::", StringComparison.Ordinal)));
        var logs = new ListLogger();
        var options = new VrrpSubsystemOptions
        {
            GarpMasterDelay = TimeSpan.Zero,
            Instances =
            [
                new VrrpInstanceOptions
                {
                    Name = "VI_6",
                    Interface = net.HostIf,
                    VirtualRouterId = 78,
                    Priority = 150,
                    VirtualIpAddresses = [new VirtualAddress { Address = vip6, PrefixLength = 64, NoDad = true }],
                },
            ],
        };
        await using var lb = new VrrpSubsystem(options, new IpCommandAddressTable(), new SysfsLinkMonitor(), new RecordingEventSink(), logs, TimeProvider.System);
        await lb.StartAsync(CancellationToken.None);
        Assert.True(lb.GetStatus().Instances[0].SourceAddress!.IsIPv6LinkLocal);
        Assert.Equal(3, lb.GetStatus().Instances[0].Version);
        Assert.True(Wait.Until(() => logs.Lines.Any(l => l.StartsWith("(VI_6) received lower priority (100) advert from fe80::", StringComparison.Ordinal))), string.Join('\n', logs.Lines));
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master), string.Join('\n', logs.Lines));
        Assert.True(ka.WaitForOutput("with higher priority 150, ours 100"), ka.Output);
        Assert.Contains($"(VI_6) Master received advert from {lb.GetStatus().Instances[0].SourceAddress}", ka.Output);
        Assert.True(Wait.Until(() => logs.Contains($"Sending unsolicited Neighbour Advert on {net.HostIf} for {vip6}")));
        Assert.True(Wait.Until(() => ProcessRunner.Check("tshark", "-r", pcap, "-Y", "icmpv6.type == 136", "-T", "fields", "-e", "icmpv6.nd.na.target_address").Contains(vip6.ToString(), StringComparison.Ordinal)));
        var adverts = ProcessRunner.Check("tshark", "-r", pcap, "-Y", "vrrp && ipv6.src == " + lb.GetStatus().Instances[0].SourceAddress, "-T", "fields", "-E", "separator=|", "-e", "ipv6.hlim", "-e", "vrrp.prio", "-e", "vrrp.checksum.status", "-e", "vrrp.ipv6_addr");
        Assert.Contains($"255|150|1|{vip6}", adverts.Split('\n'));
        Assert.Empty(lb.GetStatus().Instances[0].Drops);
    }

    /// <summary>keepalived's VIP is on its interface in the peer namespace (`ip addr`).</summary>
    private static bool PeerHas(VethPeer net, IPAddress a) => net.InNs("ip", "-o", "addr", "show", "dev", net.PeerIf).Contains($" {a}/", StringComparison.Ordinal);

    /// <summary>A log line that ends with exactly <paramref name="line"/> ("... STATE" does not match "... STATE (init)").</summary>
    private static bool HasLine(string text, string line) => text.Split('\n').Any(l => l.TrimEnd('\r').EndsWith(line, StringComparison.Ordinal));

    /// <summary>Over <see cref="LabWire.PaddingSwitch"/>: VRRP adverts were really padded to 60 bytes in the directions that carried them.</summary>
    private static void AssertWirePadded(VethPeer net, int toLb, int toPeer)
    {
        if (net.WireKind != LabWire.PaddingSwitch)
            return;
        Assert.True(net.Switch!.Padded(112, from: VethPeer.PeerHost) >= toLb, $"the switch padded fewer than {toLb} adverts from keepalived:\n" + net.Switch.Process.Output);
        Assert.True(net.Switch.Padded(112, from: VethPeer.LbHost) >= toPeer, $"the switch padded fewer than {toPeer} adverts from Lb:\n" + net.Switch.Process.Output);
    }

    private static int CountOf(string text, string what)
    {
        var n = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal))
            n++;
        return n;
    }
}
