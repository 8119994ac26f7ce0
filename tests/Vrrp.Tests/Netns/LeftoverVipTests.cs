using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>
/// A crashed Lb leaves its VIP on the interface. Restarted as the lower-priority node next to a live
/// higher-priority MASTER (the real keepalived in the peer namespace), it must not keep answering for the VIP
/// as a BACKUP: keepalived 2.2.7 removes every configured VIP at start (vrrp_restore_interfaces_startup),
/// with or without -X, and so does Lb. The kernel's address list (<c>ip addr</c>) is the oracle.
/// </summary>
public class LeftoverVipTests
{
    [RootTheory("ip", "keepalived")]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_vip_left_by_a_crash_is_removed_when_the_restarted_node_is_backup(bool releaseVips)
    {
        using var net = new VethPeer();
        var ka = net.StartKeepalived($$"""
            global_defs {
                router_id peer
            }
            vrrp_instance VI_1 {
                state BACKUP
                interface {{net.PeerIf}}
                virtual_router_id 77
                priority 200
                advert_int 1
                virtual_ipaddress {
                    {{net.Vip}}/24
                }
            }
            """);
        Assert.True(ka.WaitForOutput("(VI_1) Entering MASTER STATE"), ka.Output);

        // what a SIGKILLed Lb leaves behind
        ProcessRunner.Check("ip", "addr", "add", $"{net.Vip}/24", "dev", net.HostIf);
        Assert.True(IpCommandAddressTable.Has(net.HostIf, net.Vip));

        var logs = new ListLogger();
        var events = new RecordingEventSink();
        var options = new VrrpSubsystemOptions
        {
            ReleaseVips = releaseVips,
            Instances =
            [
                new VrrpInstanceOptions
                {
                    Name = "VI_1",
                    Interface = net.HostIf,
                    VirtualRouterId = 77,
                    Priority = 100,
                    VirtualIpAddresses = [new VirtualAddress { Address = net.Vip, PrefixLength = 24 }],
                },
            ],
        };
        await using var lb = new VrrpSubsystem(options, new IpCommandAddressTable(), new SysfsLinkMonitor(), events, logs, TimeProvider.System);
        await lb.StartAsync(CancellationToken.None);

        Assert.False(IpCommandAddressTable.Has(net.HostIf, net.Vip), string.Join('\n', logs.Lines));
        Assert.True(logs.Contains($"(VI_1) removing VIP {net.Vip} left on {net.HostIf} by a previous run"), string.Join('\n', logs.Lines));
        // the peer's adverts keep Lb BACKUP, so nothing adds the VIP back
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].AdvertsReceived >= 4), string.Join('\n', logs.Lines));
        Assert.Equal(VrrpState.Backup, lb.GetStatus().Instances[0].State);
        Assert.False(IpCommandAddressTable.Has(net.HostIf, net.Vip));
        Assert.DoesNotContain(events.Changes, c => c.NewState == VrrpState.Master);
    }
}
