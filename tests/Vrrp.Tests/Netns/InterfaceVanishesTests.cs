using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Netns;

public class InterfaceVanishesTests
{
    [RootFact("ip", "tcpdump")]
    public async Task Deleted_interface_faults_the_instance_and_a_recreated_one_is_used_again()
    {
        using var net = new VethPeer();
        var links = new SysfsLinkMonitor();
        var logs = new ListLoggerProvider();
        var options = new VrrpSubsystemOptions
        {
            Instances =
            [
                new VrrpInstanceOptions
                {
                    Name = "VI_1",
                    Interface = net.HostIf,
                    VirtualRouterId = 77,
                    Priority = 150,
                    VirtualIpAddresses = [new VirtualAddress { Address = net.Vip, PrefixLength = 24 }],
                },
            ],
        };
        await using var lb = new VrrpSubsystem(options, new IpCommandAddressTable(), links, new RecordingEventSink(), logs, TimeProvider.System);
        await lb.StartAsync(default);
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master));

        net.DeleteVeth();
        links.Raise(net.HostIf);
        Assert.Equal(VrrpState.Fault, lb.GetStatus().Instances[0].State);
        Assert.True(logs.Contains($"Netlink reports {net.HostIf} removed"));

        net.AddVeth();
        var cap = net.StartInNs("tcpdump", "-i", net.PeerIf, "-n", "-l", "ip proto 112");
        links.Raise(net.HostIf);
        Assert.Equal(VrrpState.Backup, lb.GetStatus().Instances[0].State);
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master));
        Assert.True(cap.WaitFor($"{net.HostAddress} > 224.0.0.18: VRRPv2, Advertisement, vrid 77, prio 150"), cap.Output);
        Assert.True(Wait.Until(() => IpCommandAddressTable.Has(net.HostIf, net.Vip)));
    }
}
