using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>
/// Two (three) Lb VRRP subsystems in this process, each on its own veth whose far end sits in a
/// bridge inside a scratch namespace: real adverts cross the bridge. VIPs are managed by the
/// <see cref="IpCommandAddressTable"/> STAND-IN (src/Lb provides the rtnetlink adapter).
/// The end-to-end version with <c>lb -P</c> processes and SIGKILL is run by src/Lb's tests.
/// </summary>
public class LbFailoverTests
{
    private sealed class Bridge : IDisposable
    {
        public Bridge(int ports)
        {
            var tag = Random.Shared.Next(0x1000, 0xffff).ToString("x4", System.Globalization.CultureInfo.InvariantCulture);
            var net = NetnsLab.NextSubnet();
            Vip = IPAddress.Parse($"172.30.{net}.100");
            Lab = new NetnsLab(LabWire.Bridge);
            Namespace = Lab.Switch;
            for (var i = 0; i < ports; i++)
            {
                var host = $"lb{(char)('a' + i)}{tag}";
                Lab.AddLocalPort(host, $"172.30.{net}.{i + 1}/24", $"l{(char)('a' + i)}");
                Interfaces.Add(host);
                Addresses.Add(IPAddress.Parse($"172.30.{net}.{i + 1}"));
            }
        }

        public NetnsLab Lab { get; }
        public string Namespace { get; }
        public IPAddress Vip { get; }
        public List<string> Interfaces { get; } = new();
        public List<IPAddress> Addresses { get; } = new();

        public VrrpSubsystemOptions Options(int port, int priority, int version = 2, params IPAddress[] extraVips) =>
            new VrrpSubsystemOptions
            {
                Version = version,
                GarpMasterDelay = TimeSpan.Zero,
                Instances =
                [
                    new VrrpInstanceOptions
                    {
                        Name = "VI_1",
                        Interface = Interfaces[port],
                        VirtualRouterId = 90,
                        Priority = priority,
                        AdvertInterval = version == 3 ? TimeSpan.FromMilliseconds(300) : TimeSpan.FromSeconds(1),
                        VirtualIpAddresses = [new VirtualAddress { Address = Vip, PrefixLength = 24 }, .. extraVips.Select(v => new VirtualAddress { Address = v, PrefixLength = 24 })],
                    },
                ],
            };

        public VrrpSubsystem Lb(int port, int priority, ListLogger logs, int version = 2, IVrrpEventSink? events = null) => new(
            Options(port, priority, version),
            new IpCommandAddressTable(), new SysfsLinkMonitor(), events ?? new RecordingEventSink(), logs, TimeProvider.System);

        public void Dispose() => Lab.Dispose();
    }

    private static VrrpState StateOf(VrrpSubsystem s) => s.GetStatus().Instances[0].State;

    [RootFact("ip")]
    public async Task Three_routers_elect_the_highest_fail_over_on_stop_and_link_loss_and_preempt_back()
    {
        using var br = new Bridge(3);
        var la = new ListLogger();
        var lbA = br.Lb(0, 200, la, version: 3);
        var lbB = br.Lb(1, 150, new ListLogger(), version: 3);
        await using var lbC = br.Lb(2, 100, new ListLogger(), version: 3);
        await lbA.StartAsync(default);
        await lbB.StartAsync(default);
        await lbC.StartAsync(default);
        Assert.True(Wait.Until(() => StateOf(lbA) == VrrpState.Master));
        Assert.True(Wait.Until(() => lbC.GetStatus().Instances[0].MasterAddress?.Equals(br.Addresses[0]) == true && lbB.GetStatus().Instances[0].MasterAddress?.Equals(br.Addresses[0]) == true));
        Assert.Equal(VrrpState.Backup, StateOf(lbB));
        Assert.Equal(VrrpState.Backup, StateOf(lbC));
        Assert.True(Wait.Until(() => IpCommandAddressTable.Has(br.Interfaces[0], br.Vip)));

        // A stops gracefully: priority 0, B (next highest) takes over, C stays backup
        await lbA.DisposeAsync();
        Assert.True(Wait.Until(() => StateOf(lbB) == VrrpState.Master));
        Assert.False(IpCommandAddressTable.Has(br.Interfaces[0], br.Vip));
        Assert.True(Wait.Until(() => IpCommandAddressTable.Has(br.Interfaces[1], br.Vip)));
        Assert.True(Wait.Until(() => lbC.GetStatus().Instances[0].MasterAddress?.Equals(br.Addresses[1]) == true));
        Assert.Equal(VrrpState.Backup, StateOf(lbC));

        // B's link is cut (as a crash looks to the others): C times out and takes over
        ProcessRunner.Check("ip", "link", "set", br.Interfaces[1], "down");
        Assert.True(Wait.Until(() => StateOf(lbC) == VrrpState.Master));
        ProcessRunner.Check("ip", "link", "set", br.Interfaces[1], "up");

        // A comes back with the highest priority and preempts everyone
        await using var lbA2 = br.Lb(0, 200, new ListLogger(), version: 3);
        await lbA2.StartAsync(default);
        Assert.True(Wait.Until(() => StateOf(lbA2) == VrrpState.Master && StateOf(lbB) == VrrpState.Backup && StateOf(lbC) == VrrpState.Backup));
        Assert.True(Wait.Until(() => !IpCommandAddressTable.Has(br.Interfaces[2], br.Vip)));
        await lbB.DisposeAsync();
    }

    [RootFact("ip")]
    public async Task A_master_stays_master_across_reloads_and_a_vip_added_by_reload_appears()
    {
        using var br = new Bridge(2);
        var events = new RecordingEventSink();
        await using var lbA = br.Lb(0, 200, new ListLogger(), events: events);
        await using var lbB = br.Lb(1, 100, new ListLogger());
        await lbA.StartAsync(default);
        await lbB.StartAsync(default);
        Assert.True(Wait.Until(() => StateOf(lbA) == VrrpState.Master && lbB.GetStatus().Instances[0].MasterAddress?.Equals(br.Addresses[0]) == true));
        Assert.True(Wait.Until(() => IpCommandAddressTable.Has(br.Interfaces[0], br.Vip)));
        var transitions = events.Changes.Count;

        // nothing changed; then a lower priority that still wins; then one more VIP (on both, so B keeps accepting A's adverts)
        Assert.True((await lbA.ReloadAsync(br.Options(0, 200), default)).NothingChanged);
        Assert.Equal(["VI_1"], (await lbA.ReloadAsync(br.Options(0, 180), default)).ChangedSoft);
        var extra = IPAddress.Parse(br.Vip.ToString()[..br.Vip.ToString().LastIndexOf('.')] + ".101");
        Assert.Equal(["VI_1"], (await lbB.ReloadAsync(br.Options(1, 100, 2, extra), default)).ChangedSoft);
        Assert.Equal(["VI_1"], (await lbA.ReloadAsync(br.Options(0, 180, 2, extra), default)).ChangedSoft);
        Assert.True(Wait.Until(() => IpCommandAddressTable.Has(br.Interfaces[0], extra)));

        // several advert intervals later: still MASTER, never left it, B still follows A. The delay is the observation window
        // of that negative claim, not synchronisation: 8 s is more than twice B's master-down interval (3 x advert_int +
        // skew: 3.6 s for v2, under 1.6 s for v3), so a B that stopped accepting A's adverts would have taken over inside it.
        await Task.Delay(TimeSpan.FromSeconds(8));
        Assert.Equal(VrrpState.Master, StateOf(lbA));
        Assert.Equal(VrrpState.Backup, StateOf(lbB));
        Assert.Equal(transitions, events.Changes.Count);
        Assert.Equal(180, lbA.GetStatus().Instances[0].EffectivePriority);
        Assert.True(IpCommandAddressTable.Has(br.Interfaces[0], br.Vip));
        Assert.False(IpCommandAddressTable.Has(br.Interfaces[1], extra));
    }
}
