using System.Collections.Concurrent;
using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Xunit;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>
/// On the real clock the protocol's timing does not depend on the shared thread pool: the master-down expiry runs
/// on the VRRP timer thread and a received advert is handled on its socket's receive thread. The oracle is the
/// thread each state change is reported on (<see cref="IVrrpEventSink"/> is called where the machine runs).
/// </summary>
public class DedicatedThreadTests
{
    private sealed class ThreadRecordingSink : IVrrpEventSink
    {
        public ConcurrentQueue<(VrrpState State, string? Thread, bool Pool)> Changes { get; } = new();

        public void OnStateChanged(VrrpStateChange change)
            => Changes.Enqueue((change.NewState, System.Threading.Thread.CurrentThread.Name, System.Threading.Thread.CurrentThread.IsThreadPoolThread));
    }

    [RootFact("ip", "python3")]
    public async Task Master_down_runs_on_the_timer_thread_and_a_higher_advert_on_the_receive_thread()
    {
        using var net = new VethPeer();
        var events = new ThreadRecordingSink();
        var options = new VrrpSubsystemOptions
        {
            Version = 3,
            Instances =
            [
                new VrrpInstanceOptions
                {
                    Name = "VI_1",
                    Interface = net.HostIf,
                    VirtualRouterId = 78,
                    Priority = 150,
                    AdvertInterval = TimeSpan.FromMilliseconds(100),
                    VirtualIpAddresses = [new VirtualAddress { Address = net.Vip, PrefixLength = 24 }],
                },
            ],
        };
        await using var lb = new VrrpSubsystem(options, new IpCommandAddressTable(), new SysfsLinkMonitor(), events, new ListLogger(), TimeProvider.System);
        await lb.StartAsync(CancellationToken.None);
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master));

        var claim = new VrrpPacket
        {
            Version = 3,
            VirtualRouterId = 78,
            Priority = 254,
            AdvertIntervalCentiseconds = 10,
            Addresses = [net.Vip],
            AuthData = new byte[VrrpPacket.AuthDataLength],
        };
        var buf = new byte[128];
        var n = claim.WriteIpv4Datagram(buf, net.PeerAddress, IPAddress.Parse("224.0.0.18"), 255);
        net.InNs("python3", "-c", AdvertInjector.RawSender, net.PeerIf, "3", Convert.ToHexString(buf, 0, n));
        Assert.True(Wait.Until(() => events.Changes.Count(c => c.State == VrrpState.Backup) >= 2));

        var changes = events.Changes.ToArray();
        Assert.Equal(VrrpState.Backup, changes[0].State); // INIT -> BACKUP, in StartAsync (the caller's thread)
        Assert.Equal((VrrpState.Master, "lb-vrrp-timer", false), changes[1]);
        Assert.Equal((VrrpState.Backup, "lb-vrrp-rx", false), changes[2]);
    }
}
