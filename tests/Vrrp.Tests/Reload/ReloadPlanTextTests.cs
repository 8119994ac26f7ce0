using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Reload;

/// <summary>
/// <see cref="VrrpSubsystem.PlanReloadAsync"/> (<c>lb reload --plan</c>): the reload's own plan rendered, with nothing
/// touched (the in-memory address table records every address call: none during the plan); the reload that follows
/// prints the same lines and makes exactly the address calls they announce.
/// </summary>
public class ReloadPlanTextTests
{
    private const string If = "lbplan0";

    private static VrrpInstanceOptions Instance(string name = "VI_1", int vrid = 51, int priority = 100, params string[] vips) => new()
    {
        Name = name,
        Interface = If,
        VirtualRouterId = vrid,
        Priority = priority,
        VirtualIpAddresses = (vips.Length == 0 ? ["10.0.0.100"] : vips).Select(v => new VirtualAddress { Address = IPAddress.Parse(v), PrefixLength = 24 }).ToArray(),
    };

    private static VrrpSubsystemOptions Config(params VrrpInstanceOptions[] instances) => new() { GarpMasterDelay = TimeSpan.Zero, Instances = instances };

    private sealed class NoGarp : Lb.Vrrp.Transport.IGarpSender
    {
        public void Send(int interfaceIndex, ReadOnlySpan<byte> mac, IPAddress vip)
        {
        }

        public void Dispose()
        {
        }
    }

    private sealed class Rig : IAsyncDisposable
    {
        public ManualTimeProvider Time { get; } = new();
        public FakeAddressTable Addresses { get; } = new();
        public FakeLinkMonitor Links { get; } = new();
        public ListLogger Logs { get; } = new();
        public InMemoryTransportFactory Transports { get; } = new();
        public VrrpSubsystem Subsystem { get; }

        public Rig(VrrpSubsystemOptions options)
        {
            Links.Set(If, up: true);
            Addresses.Static.Add(new InterfaceAddress(If, 7, IPAddress.Parse("10.0.0.5"), 24));
            Subsystem = new VrrpSubsystem(options, Addresses, Links, new NullEventSink(), Logs, Time, () => new NoGarp(), Transports);
        }

        public string[] Calls()
        {
            lock (Addresses.Calls)
                return [.. Addresses.Calls];
        }

        public ValueTask DisposeAsync() => Subsystem.DisposeAsync();
    }

    private sealed class NullEventSink : IVrrpEventSink
    {
        public void OnStateChanged(VrrpStateChange change)
        {
        }

        public void OnPriorityChanged(string instance, int oldPriority, int newPriority)
        {
        }

        public void OnReloadApplied(Lb.Vrrp.Reload.VrrpReloadChange change)
        {
        }
    }

    /// <summary>Compared as one text, so a failure shows the whole line.</summary>
    private static void AssertLines(string[] expected, IEnumerable<string> actual) => Assert.Equal(string.Join("\n", expected), string.Join("\n", actual));

    [Fact]
    public async Task The_plan_lists_the_vips_a_master_will_add_and_remove_and_touches_nothing_then_the_reload_does_just_that()
    {
        await using var r = new Rig(Config(Instance(vips: ["10.0.0.100", "10.0.0.102"])));
        await r.Subsystem.StartAsync(CancellationToken.None);
        r.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(Wait.Until(() => r.Addresses.Vips.Count == 2));
        var calls = r.Calls();
        var next = Config(Instance(priority: 150, vips: ["10.0.0.100", "10.0.0.101"]), Instance("VI_2", 52, 100, "10.0.0.200"));

        var plan = await r.Subsystem.PlanReloadAsync(next, CancellationToken.None);

        AssertLines(
        [
            "vrrp: instance VI_1: ~ changed in place: Priority 100 -> 150, VirtualIpAddresses, AdvertAddresses",
            $"vrrp: instance VI_1: virtual_ipaddress - 10.0.0.102/24 dev {If}",
            $"vrrp: instance VI_1: virtual_ipaddress + 10.0.0.101/24 dev {If}",
            "vrrp: instance VI_2: + added",
            $"vrrp: instance VI_2: virtual_ipaddress + 10.0.0.200/24 dev {If} (when it becomes MASTER)",
        ], plan);
        Assert.Equal(calls, r.Calls());
        Assert.Equal(100, r.Subsystem.GetStatus().Instances.Single().BasePriority);
        Assert.Single(r.Subsystem.GetStatus().Instances);

        var result = await r.Subsystem.ReloadAsync(next, CancellationToken.None);

        Assert.Equal(plan, result.Lines);
        Assert.Equal([.. calls, $"del 10.0.0.102/24 dev {If}", $"add 10.0.0.101/24 dev {If}"], r.Calls());
        Assert.Empty(await r.Subsystem.PlanReloadAsync(next, CancellationToken.None));
    }

    [Fact]
    public async Task A_backup_instance_s_vip_change_is_listed_as_applied_when_it_becomes_master_and_a_restart_names_its_cause()
    {
        await using var r = new Rig(Config(Instance(), Instance("VI_2", 52)));
        await r.Subsystem.StartAsync(CancellationToken.None); // both BACKUP until the master-down timer fires

        var plan = await r.Subsystem.PlanReloadAsync(Config(Instance(vips: ["10.0.0.100", "10.0.0.101"]), Instance("VI_2", 53)), CancellationToken.None);

        AssertLines(
        [
            "vrrp: instance VI_1: ~ changed in place: VirtualIpAddresses, AdvertAddresses",
            $"vrrp: instance VI_1: virtual_ipaddress + 10.0.0.101/24 dev {If} (when it becomes MASTER: VI_1 is BACKUP)",
            "vrrp: instance VI_2: ~ restarted: VirtualRouterId 52 -> 53",
        ], plan);
        Assert.Empty(r.Calls());
    }
}
