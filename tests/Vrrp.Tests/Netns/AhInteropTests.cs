using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>
/// <c>auth_type AH</c> between Lb's real transport and the real keepalived 2.2.7 in its own network namespace (a veth
/// pair, <see cref="VethPeer"/>). Oracles: <c>ip addr</c> on both sides (the VIP on exactly one of them), keepalived's
/// own log lines (which it writes only for adverts it accepted or refused), tshark's AH and VRRP dissectors.
/// </summary>
public class AhInteropTests
{
    /// <summary>Adverts (1 s apart) spanning clearly more than a backup's master-down interval (3.61 s at priority 100).</summary>
    private const int AdvertsSpanningMasterDown = 6;

    private static string KeepalivedConfig(VethPeer net, int priority, string password) => $$"""
        global_defs {
            router_id peer
            vrrp_garp_master_repeat 1
            vrrp_garp_master_delay 0
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface {{net.PeerIf}}
            virtual_router_id 61
            priority {{priority}}
            advert_int 1
            authentication {
                auth_type AH
                auth_pass {{password}}
            }
            virtual_ipaddress {
                {{net.Vip}}/24
            }
        }
        """;

    private static VrrpSubsystemOptions LbOptions(VethPeer net, int priority, string password) => new()
    {
        GarpMasterRepeat = 1,
        GarpMasterDelay = TimeSpan.Zero,
        Instances =
        [
            new VrrpInstanceOptions
            {
                Name = "VI_1",
                Interface = net.HostIf,
                VirtualRouterId = 61,
                Priority = priority,
                Authentication = new VrrpAuthentication(VrrpAuthType.Ah, password),
                VirtualIpAddresses = [new VirtualAddress { Address = net.Vip, PrefixLength = 24 }],
            },
        ],
    };

    private static VrrpSubsystem Lb(VethPeer net, int priority, ListLogger logs, string password = "secret12")
        => new(LbOptions(net, priority, password), new IpCommandAddressTable(), new SysfsLinkMonitor(), new RecordingEventSink(), logs, TimeProvider.System);

    private static VrrpInstanceStatus Status(VrrpSubsystem lb) => lb.GetStatus().Instances[0];

    /// <summary>
    /// One virtual router, both implementations, every hand-over: Lb (150) preempts keepalived (100); Lb stops and
    /// keepalived takes the VIP; Lb comes back at 50 and follows keepalived; keepalived stops and Lb takes the VIP;
    /// keepalived comes back at 200 and preempts Lb. The restarted keepalived counts its AH sequence from 0 while Lb's
    /// counter is far above: it takes Lb's numbers as a BACKUP and continues above them, as keepalived does with itself.
    /// </summary>
    [RootFact("ip", "keepalived")]
    public async Task Election_failover_and_preemption_both_ways_with_keepalived()
    {
        using var net = new VethPeer();
        var ka = net.StartKeepalived(KeepalivedConfig(net, 100, "secret12"));
        Assert.True(ka.WaitForOutput("(VI_1) Entering MASTER STATE"), ka.Output);
        Assert.True(Wait.Until(() => PeerHas(net) && !LbHas(net)), ka.Output);

        // 1. Lb at 150 preempts keepalived: keepalived accepted Lb's AH advert (its own log line says so) and yields
        var logs = new ListLogger();
        await using (var lb = Lb(net, 150, logs))
        {
            await lb.StartAsync(CancellationToken.None);
            Assert.True(Wait.Until(() => logs.Contains($"(VI_1) received lower priority (100) advert from {net.PeerAddress} - discarding")), string.Join('\n', logs.Lines));
            Assert.True(Wait.Until(() => Status(lb).State == VrrpState.Master), string.Join('\n', logs.Lines));
            Assert.True(ka.WaitForOutput($"(VI_1) Master received advert from {net.HostAddress} with higher priority 150, ours 100"), ka.Output);
            Assert.True(Wait.Until(() => HasLine(ka.Output, "(VI_1) Entering BACKUP STATE")), ka.Output);
            Assert.True(Wait.Until(() => LbHas(net) && !PeerHas(net)), ka.Output);
            // keepalived keeps accepting Lb's numbers: no second MASTER for clearly longer than its master-down interval
            var sent = Status(lb).AdvertsSent;
            Assert.True(Wait.Until(() => Status(lb).AdvertsSent >= sent + AdvertsSpanningMasterDown));
            Assert.Equal(1, CountOf(ka.Output, "(VI_1) Entering MASTER STATE"));
            Assert.True(LbHas(net) && !PeerHas(net));
            Assert.DoesNotContain("IPSEC", ka.Output, StringComparison.Ordinal);
            Assert.Empty(Status(lb).Drops);

            // 2. failover: Lb stops (priority-0 advert), keepalived takes the VIP
            await lb.StopAsync(CancellationToken.None);
        }
        Assert.True(Wait.Until(() => CountOf(ka.Output, "(VI_1) Entering MASTER STATE") == 2), ka.Output);
        Assert.Contains("(VI_1) Backup received priority 0 advertisement", ka.Output, StringComparison.Ordinal);
        Assert.True(Wait.Until(() => PeerHas(net) && !LbHas(net)), ka.Output);

        // 3. Lb back at 50 (its counter from 0): it follows keepalived's higher numbers and stays BACKUP
        logs = new ListLogger();
        await using (var lb = Lb(net, 50, logs))
        {
            await lb.StartAsync(CancellationToken.None);
            Assert.True(Wait.Until(() => Status(lb).AdvertsReceived >= AdvertsSpanningMasterDown), string.Join('\n', logs.Lines));
            Assert.Equal(VrrpState.Backup, Status(lb).State);
            Assert.Equal(net.PeerAddress, Status(lb).MasterAddress);
            Assert.Empty(Status(lb).Drops);
            Assert.True(PeerHas(net) && !LbHas(net));

            // 4. failover: keepalived stops (SIGTERM: priority-0 advert, VIP removed), Lb takes the VIP
            ka.Signal("TERM");
            Assert.True(ka.WaitForExit(TimeSpan.FromSeconds(20)), ka.Output);
            Assert.True(Wait.Until(() => Status(lb).State == VrrpState.Master), string.Join('\n', logs.Lines));
            Assert.True(logs.Contains("(VI_1) Backup received priority 0 advertisement"), string.Join('\n', logs.Lines));
            Assert.True(Wait.Until(() => LbHas(net) && !PeerHas(net)));

            // 5. keepalived back at 200 (its counter from 0, below Lb's): it preempts Lb
            var ka2 = net.StartKeepalived(KeepalivedConfig(net, 200, "secret12"));
            Assert.True(ka2.WaitForOutput("(VI_1) Entering MASTER STATE"), ka2.Output);
            Assert.True(Wait.Until(() => Status(lb).State == VrrpState.Backup), string.Join('\n', logs.Lines));
            Assert.True(logs.Contains($"(VI_1) Master received advert from {net.PeerAddress} with higher priority 200, ours 50"), string.Join('\n', logs.Lines));
            Assert.True(Wait.Until(() => PeerHas(net) && !LbHas(net)), ka2.Output);
            Assert.Empty(Status(lb).Drops);
            var received = Status(lb).AdvertsReceived;
            Assert.True(Wait.Until(() => Status(lb).AdvertsReceived >= received + AdvertsSpanningMasterDown));
            Assert.Equal(VrrpState.Backup, Status(lb).State);
            Assert.DoesNotContain("IPSEC", ka2.Output, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Different passwords: each side refuses the other's adverts (Lb counts them and logs keepalived's line;
    /// keepalived logs the same line), so both are MASTER with the VIP — what keepalived does with itself too.
    /// </summary>
    [RootFact("ip", "keepalived")]
    public async Task A_wrong_password_is_dropped_and_counted_so_both_sides_are_master()
    {
        using var net = new VethPeer();
        var ka = net.StartKeepalived(KeepalivedConfig(net, 100, "secret12"));
        Assert.True(ka.WaitForOutput("(VI_1) Entering MASTER STATE"), ka.Output);
        var logs = new ListLogger();
        await using var lb = Lb(net, 150, logs, password: "other123");
        await lb.StartAsync(CancellationToken.None);
        Assert.True(Wait.Until(() => Status(lb).Drops.GetValueOrDefault(VrrpDropReason.AhIcvMismatch) >= 2), string.Join('\n', logs.Lines));
        Assert.True(logs.Contains("(VI_1) IPSEC-AH : invalid IPSEC HMAC-MD5 value. Due to fields mutation or bad password !"), string.Join('\n', logs.Lines));
        Assert.Equal(0, Status(lb).AdvertsReceived);
        Assert.True(Wait.Until(() => Status(lb).State == VrrpState.Master), string.Join('\n', logs.Lines));
        Assert.True(ka.WaitForOutput("(VI_1) IPSEC-AH : invalid IPSEC HMAC-MD5 value. Due to fields mutation or bad password !"), ka.Output);
        Assert.True(Wait.Until(() => LbHas(net) && PeerHas(net)));
        Assert.DoesNotContain("Master received advert", ka.Output, StringComparison.Ordinal);
        Assert.Equal(1, CountOf(ka.Output, "(VI_1) Entering MASTER STATE"));
    }

    /// <summary>Lb's AH adverts as tshark decodes them: IP protocol 51, AH (next header VRRP, SPI = source address, sequence 1, 2, 3 …), VRRPv2 auth type 2 with a good checksum.</summary>
    [RootFact("ip", "tcpdump", "tshark")]
    public async Task Tshark_decodes_Lbs_adverts_as_ah_with_the_source_as_spi_and_increasing_sequence_numbers()
    {
        using var net = new VethPeer();
        var pcap = Path.Combine(net.Dir, "ah.pcap");
        var cap = net.StartInNs("tcpdump", "-Z", "root", "-i", net.PeerIf, "-U", "-n", "-w", pcap, "ip proto 51");
        Assert.True(cap.WaitForOutput("listening on"), cap.Output);
        var logs = new ListLogger();
        await using (var lb = Lb(net, 150, logs))
        {
            await lb.StartAsync(CancellationToken.None);
            Assert.True(Wait.Until(() => Status(lb).State == VrrpState.Master));
            Assert.True(Wait.Until(() => Status(lb).AdvertsSent >= 3));
        }
        Assert.True(Wait.Until(() => File.Exists(pcap) && ProcessRunner.Check("tshark", "-r", pcap, "-Y", "vrrp.prio == 0").Length > 0));
        cap.Kill();
        var fields = ProcessRunner.Check("tshark", "-r", pcap, "-T", "fields", "-E", "separator=|",
            "-e", "ip.src", "-e", "ip.dst", "-e", "ip.proto", "-e", "ip.ttl", "-e", "ah.spi", "-e", "ah.sequence",
            "-e", "vrrp.virt_rtr_id", "-e", "vrrp.prio", "-e", "vrrp.auth_type", "-e", "vrrp.checksum.status", "-e", "_ws.malformed");
        var lines = fields.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var spi = $"0x{VrrpAh.SpiOf(net.HostAddress):x8}";
        Assert.Equal(Enumerable.Range(1, lines.Length).Select(i => $"{net.HostAddress}|224.0.0.18|51|255|{spi}|{i}|61|{(i == lines.Length ? 0 : 150)}|2|1|"), lines);
    }

    private static bool PeerHas(VethPeer net) => net.InNs("ip", "-o", "addr", "show", "dev", net.PeerIf).Contains($" {net.Vip}/", StringComparison.Ordinal);

    private static bool LbHas(VethPeer net) => IpCommandAddressTable.Has(net.HostIf, net.Vip);

    private static bool HasLine(string text, string line) => text.Split('\n').Any(l => l.TrimEnd('\r').EndsWith(line, StringComparison.Ordinal));

    private static int CountOf(string text, string what)
    {
        var n = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal))
            n++;
        return n;
    }
}
