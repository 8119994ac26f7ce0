using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Engine;

/// <summary>
/// The state machine with unicast_fault_no_peer (keepalived 2.2.7) and the keywords newer than keepalived 2.2.7 that Lb
/// follows from the later sources and man page (no binary of those versions here): no_virtual_ipaddress and
/// timer_expired_backup (2.2.8), owner_ignore_adverts (2.3.3). Manual clock; the machine's actions are recorded.
/// </summary>
public class InstanceRuleTests
{
    // ---------------------------------------------------------------- unicast_fault_no_peer (vrrp.c vrrp_complete_instance)

    [Fact]
    public void Unicast_fault_no_peer_without_peers_keeps_the_instance_in_fault()
    {
        var h = new Harness(Harness.Instance(with: o => o with { UnicastFaultNoPeer = true }));
        h.Start();
        Assert.Equal(VrrpState.Fault, h["VI_1"].State);
        Assert.True(h.Logs.Contains("(VI_1) Cannot use unicast without any peers - going to fault state"));
        Assert.True(h.Logs.Contains("(VI_1) Entering FAULT STATE (init)") || h.Logs.Info().Any(l => l.Contains("FAULT", StringComparison.Ordinal)));
        h.TakeActions();
        // no tracker can take it out: the fault is the configuration's
        h["VI_1"].UpdateTracking(0, 0, "all trackers up");
        h.Time.Advance(10);
        Assert.Equal(VrrpState.Fault, h["VI_1"].State);
        Assert.DoesNotContain(h.TakeActions(), a => a.Kind is VrrpActionKind.SendAdvert or VrrpActionKind.AddVips);
        Assert.Equal(1, h["VI_1"].OwnFaults);
    }

    [Fact]
    public void Unicast_fault_no_peer_with_a_peer_runs_normally()
    {
        var h = new Harness(Harness.Instance(with: o => o with { UnicastFaultNoPeer = true, UnicastPeers = [new UnicastPeer(IPAddress.Parse("10.0.0.6"), 0, 255)] }));
        h.Start();
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        h.Time.Advance(4);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        Assert.False(h.Logs.Contains("(VI_1) Cannot use unicast without any peers - going to fault state"));
    }

    // ---------------------------------------------------------------- no_virtual_ipaddress (2.2.8): VRRPv3 without VIPs

    [Fact]
    public void A_v3_instance_without_vips_elects_and_accepts_adverts_without_addresses()
    {
        var h = new Harness(Harness.Instance(version: 3, with: o => o with { NoVirtualIpAddress = true, VirtualIpAddresses = [] }));
        h.Start();
        h.Time.Advance(4);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        var sent = h.TakeActions();
        Assert.Contains(sent, a => a.Kind == VrrpActionKind.SendAdvert && a.Priority == 100);
        Assert.Empty(h["VI_1"].Settings.AdvertAddresses);
        h.Receive("VI_1", 200, "10.0.0.9"); // an advert with no addresses: valid, higher priority
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        Assert.Equal(0, h["VI_1"].Drops.Total);
    }

    // ---------------------------------------------------------------- timer_expired_backup (2.2.8 vrrp_thread_timeout_handler)

    /// <summary>A clock whose process "did not run" for a while: timestamps jump, timers fire late at the next advance.</summary>
    private sealed class StallingTime : TimeProvider
    {
        public ManualTimeProvider Inner { get; } = new();
        private long _lag;

        public void Stall(TimeSpan by) => _lag += by.Ticks;

        public override long GetTimestamp() => Inner.GetTimestamp() + _lag;
        public override long TimestampFrequency => Inner.TimestampFrequency;
        public override DateTimeOffset GetUtcNow() => Inner.GetUtcNow() + TimeSpan.FromTicks(_lag);
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => Inner.CreateTimer(callback, state, dueTime, period);
    }

    private static (VrrpEngine Engine, StallingTime Time, RecordingActionSink Actions, ListLogger Logs) Master(int? timerExpiredBackup)
    {
        var time = new StallingTime();
        var actions = new RecordingActionSink();
        var logs = new ListLogger();
        var o = Harness.Instance(priority: 150, with: i => i with { Preempt = false, TimerExpiredBackup = timerExpiredBackup });
        var engine = new VrrpEngine(new VrrpSubsystemOptions { Instances = [o] }, actions, new RecordingEventSink(), time, logs, (_, _) => { });
        engine.Instances["VI_1"].SourceAddress = Harness.Ours;
        engine.StartAll();
        time.Inner.Advance(4);
        Assert.Equal(VrrpState.Master, engine.Instances["VI_1"].State);
        time.Inner.Advance(0.5); // an advert went out at 4.41 s; the next is due 1 s after it
        actions.Clear();
        return (engine, time, actions, logs);
    }

    [Fact]
    public void Timer_expired_backup_a_master_whose_advert_timer_fired_too_late_goes_backup()
    {
        var (engine, time, actions, logs) = Master(timerExpiredBackup: 254);
        // 3 × 1 s + (256 - 254)/256 s since the last advert: a router of priority 254 may have taken over
        time.Stall(TimeSpan.FromSeconds(3));
        time.Inner.Advance(1); // the advert timer fires 3 s late: 4 s since the last advert
        Assert.Equal(VrrpState.Backup, engine.Instances["VI_1"].State);
        Assert.DoesNotContain(actions.For("VI_1"), a => a.Kind == VrrpActionKind.SendAdvert);
        Assert.Contains(actions.For("VI_1"), a => a.Kind == VrrpActionKind.RemoveVips);
        Assert.Contains(logs.Info(), l => l == "VRRP thread timer expired 3.000000 seconds ago");
    }

    [Fact]
    public void Timer_expired_backup_a_late_timer_within_the_takeover_time_still_advertises()
    {
        var (engine, time, actions, _) = Master(timerExpiredBackup: 254);
        time.Stall(TimeSpan.FromSeconds(1.5)); // 2.5 s since the last advert < 3 s + (256 - 254)/256 s
        time.Inner.Advance(1);
        Assert.Equal(VrrpState.Master, engine.Instances["VI_1"].State);
        Assert.Contains(actions.For("VI_1"), a => a.Kind == VrrpActionKind.SendAdvert);
    }

    [Fact]
    public void Without_timer_expired_backup_a_late_master_stays_master()
    {
        var (engine, time, actions, _) = Master(timerExpiredBackup: null);
        time.Stall(TimeSpan.FromSeconds(10));
        time.Inner.Advance(1);
        Assert.Equal(VrrpState.Master, engine.Instances["VI_1"].State);
        Assert.Contains(actions.For("VI_1"), a => a.Kind == VrrpActionKind.SendAdvert);
    }

    // ---------------------------------------------------------------- owner_ignore_adverts (2.3.3)

    private static Harness Owner(bool? ownerIgnoreAdverts, bool strict = false, bool global = false)
    {
        var o = Harness.Instance(priority: 255, with: i => i with { InitialState = VrrpInitialState.Master, OwnerIgnoreAdverts = ownerIgnoreAdverts, StrictMode = strict });
        var h = new Harness(new VrrpSubsystemOptions { Instances = [o], OwnerIgnoreAdverts = global });
        h.Start();
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        return h;
    }

    [Fact]
    public void Owner_ignore_adverts_an_address_owner_drops_adverts_of_another_owner()
    {
        var h = Owner(ownerIgnoreAdverts: true);
        h.Receive("VI_1", 255, "10.0.0.9"); // another owner with a higher address
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        Assert.Equal(1, h["VI_1"].OwnerIgnoredAdverts);
        Assert.Equal(0, h["VI_1"].AdvertsReceived);
        Assert.True(h.Logs.Contains("(VI_1) Dropping packet(s) from 10.0.0.9 since we are address owner"));
    }

    [Fact]
    public void Without_owner_ignore_adverts_two_owners_resolve_as_rfc_5798_by_address()
    {
        var h = Owner(ownerIgnoreAdverts: null);
        h.Receive("VI_1", 255, "10.0.0.9");
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        Assert.Equal(0, h["VI_1"].OwnerIgnoredAdverts);
    }

    [Theory]
    [InlineData(null, false, false, false)]
    [InlineData(null, true, false, true)]   // strict mode: on by default
    [InlineData(null, false, true, true)]   // vrrp_owner_ignore_adverts
    [InlineData(false, false, true, false)] // the instance's own setting wins
    public void Owner_ignore_adverts_defaults(bool? own, bool strict, bool global, bool expected)
        => Assert.Equal(expected, Owner(own, strict, global)["VI_1"].Settings.OwnerIgnoreAdverts);

    [Fact]
    public void Owner_ignore_adverts_does_nothing_below_priority_255()
    {
        var o = Harness.Instance(priority: 200, with: i => i with { OwnerIgnoreAdverts = true });
        Assert.False(InstanceSettings.Resolve(o, new VrrpSubsystemOptions()).OwnerIgnoreAdverts);
    }
}
