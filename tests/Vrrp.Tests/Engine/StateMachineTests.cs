using System.Net;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Xunit;
using static Lb.Vrrp.Tests.Engine.Harness;

namespace Lb.Vrrp.Tests.Engine;

public class StateMachineTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    // v2, priority 100: 3 × 1 s + (256 − 100)/256 s = 3.609375 s
    private static readonly TimeSpan V2Down100 = TimeSpan.FromSeconds(3 + (156.0 / 256));

    [Fact]
    public void Init_enters_backup_then_master_after_master_down_interval_v2()
    {
        var h = new Harness(Instance());
        h.Start();
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        Assert.True(h.Logs.Contains("(VI_1) Entering BACKUP STATE (init)"));
        Assert.Equal(V2Down100, h["VI_1"].MasterDownInterval);
        h.TakeActions();

        h.Time.Advance(V2Down100 - Tick);
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        h.Time.Advance(Tick);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        Assert.True(h.Logs.Contains("(VI_1) Receive advertisement timeout"));
        Assert.True(h.Logs.Contains("(VI_1) Entering MASTER STATE"));
        Assert.True(h.Logs.Contains("(VI_1) setting VIPs."));
        Assert.Equal(
            [
                new VrrpAction(VrrpActionKind.SendAdvert, Priority: 100),
                new VrrpAction(VrrpActionKind.AddVips),
                new VrrpAction(VrrpActionKind.SendGarps, Repeat: 5),
                new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Master),
            ],
            h.TakeActions());
        var change = h.Events.Changes.Last();
        Assert.Equal((VrrpState.Backup, VrrpState.Master, "advertisement timeout"), (change.OldState, change.NewState, change.Reason));
    }

    [Theory]
    [InlineData(200, 100, 3_218_750)] // v3 1 s: skew (56 × 1 s)/256 = 0.21875 s
    [InlineData(1, 100, 3_996_093)] // v3 1 s prio 1: skew 255/256 s (µs, truncated)
    [InlineData(100, 50, 1_804_687)] // v3 0.5 s: 1.5 s + (156 × 0.5 s)/256
    public void V3_master_down_interval_follows_rfc5798(int priority, int centis, long expectedMicros)
    {
        var h = new Harness(Instance(priority: priority, version: 3, with: o => o with { AdvertInterval = TimeSpan.FromMilliseconds(centis * 10) }));
        h.Start();
        var expected = TimeSpan.FromTicks(expectedMicros * 10);
        Assert.Equal(expected, h["VI_1"].MasterDownInterval);
        h.Time.Advance(expected - Tick);
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        h.Time.Advance(Tick);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
    }

    [Fact]
    public void V3_backup_learns_the_masters_advert_interval()
    {
        var h = new Harness(Instance(version: 3));
        h.Start();
        h.Receive("VI_1", 150, "10.0.0.3", centis: 300);
        Assert.Equal(TimeSpan.FromSeconds(3), h["VI_1"].MasterAdverInterval);
        // 3 × 3 s + (156 × 3 s)/256 = 10.828125 s
        Assert.Equal(TimeSpan.FromSeconds(10.828125), h["VI_1"].MasterDownInterval);
        h.Time.Advance(TimeSpan.FromSeconds(10.8));
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        h.Time.Advance(TimeSpan.FromSeconds(0.03));
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        // as master it advertises its own interval again
        Assert.Equal(TimeSpan.FromSeconds(1), h["VI_1"].MasterAdverInterval);
    }

    [Fact]
    public void V2_advert_interval_mismatch_is_dropped_and_counted()
    {
        var h = new Harness(Instance());
        h.Start();
        h.Receive("VI_1", 150, "10.0.0.3", centis: 200);
        Assert.Equal(1, h["VI_1"].Drops[VrrpDropReason.AdvertIntervalMismatch]);
        Assert.True(h.Logs.Contains("(VI_1) advertisement interval mismatch mine=1 sec rcved=2 sec"));
        h.Time.Advance(V2Down100);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
    }

    [Fact]
    public void Master_sends_an_advert_every_advert_interval()
    {
        var h = new Harness(Instance(with: o => o with { AdvertInterval = TimeSpan.FromSeconds(2) }));
        h.Start();
        h.Time.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        h.TakeActions();
        h.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(5, h.TakeActions().Count(a => a.Kind == VrrpActionKind.SendAdvert && a.Priority == 100));
    }

    [Fact]
    public void Backup_stays_backup_while_a_higher_priority_master_advertises()
    {
        var h = new Harness(Instance());
        h.Start();
        for (var i = 0; i < 20; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            h.Receive("VI_1", 150, "10.0.0.3");
        }
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        Assert.Equal(IPAddress.Parse("10.0.0.3"), h["VI_1"].MasterAddress);
        h.Time.Advance(V2Down100);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
    }

    [Fact]
    public void Equal_priority_advert_keeps_a_backup_backup()
    {
        var h = new Harness(Instance());
        h.Start();
        h.Time.Advance(TimeSpan.FromSeconds(3));
        h.Receive("VI_1", 100, "10.0.0.1");
        h.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
    }

    [Fact]
    public void Preempt_lower_priority_advert_is_discarded_and_backup_takes_over_on_time()
    {
        var h = new Harness(Instance());
        h.Start();
        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Receive("VI_1", 90, "10.0.0.2");
        Assert.True(h.Logs.Contains("(VI_1) received lower priority (90) advert from 10.0.0.2 - discarding"));
        h.Time.Advance(V2Down100 - TimeSpan.FromSeconds(1));
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
    }

    [Fact]
    public void Nopreempt_lower_priority_master_keeps_us_backup()
    {
        var h = new Harness(Instance(with: o => o with { Preempt = false }));
        h.Start();
        for (var i = 0; i < 10; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            h.Receive("VI_1", 50, "10.0.0.2");
        }
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
    }

    [Fact]
    public void Preempt_delay_postpones_preemption_of_a_lower_priority_master()
    {
        var h = new Harness(Instance(with: o => o with { PreemptDelay = TimeSpan.FromSeconds(10) }));
        h.Start();
        var t = TimeSpan.Zero;
        while (h["VI_1"].State == VrrpState.Backup && t < TimeSpan.FromSeconds(60))
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            t += TimeSpan.FromSeconds(1);
            if (h["VI_1"].State == VrrpState.Backup)
                h.Receive("VI_1", 50, "10.0.0.2");
        }
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        // the first advert (1 s) starts the 10 s delay; adverts reset the down timer while the delay
        // runs (keepalived: preempt_time > now), the one at 11 s is discarded, and the down timer armed
        // by the advert at 10 s expires at 13.609 s.
        Assert.Equal(TimeSpan.FromSeconds(14), t);
    }

    [Fact]
    public void Master_yields_to_a_higher_priority_advert()
    {
        var h = new Harness(Instance());
        h.Start();
        h.Time.Advance(V2Down100);
        h.TakeActions();
        h.Receive("VI_1", 150, "10.0.0.3");
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        Assert.True(h.Logs.Contains("(VI_1) Master received advert from 10.0.0.3 with higher priority 150, ours 100"));
        Assert.True(h.Logs.Contains("(VI_1) Entering BACKUP STATE"));
        Assert.True(h.Logs.Contains("(VI_1) removing VIPs."));
        Assert.Equal([new VrrpAction(VrrpActionKind.RemoveVips), new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Backup)], h.TakeActions());
    }

    [Fact]
    public void Master_answers_a_lower_priority_advert_and_stays_master()
    {
        var h = new Harness(Instance(with: o => o with { GarpLowerPrioRepeat = 0 }));
        h.Start();
        h.Time.Advance(V2Down100);
        h.TakeActions();
        h.Receive("VI_1", 90, "10.0.0.2");
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        Assert.True(h.Logs.Contains("(VI_1) Received advert from 10.0.0.2 with lower priority 90, ours 100, forcing new election"));
        Assert.Equal([new VrrpAction(VrrpActionKind.SendAdvert, Priority: 100), new VrrpAction(VrrpActionKind.NotifyMasterRxLowerPri)], h.TakeActions());
    }

    [Theory]
    [InlineData("10.0.0.9", VrrpState.Backup)] // higher primary address wins
    [InlineData("10.0.0.1", VrrpState.Master)]
    public void Equal_priority_masters_break_the_tie_by_primary_address(string peer, VrrpState expected)
    {
        var h = new Harness(Instance());
        h.Start();
        h.Time.Advance(V2Down100);
        h.Receive("VI_1", 100, peer);
        Assert.Equal(expected, h["VI_1"].State);
        if (expected == VrrpState.Backup)
            Assert.True(h.Logs.Contains($"(VI_1) Master received advert from {peer} with same priority 100 but higher IP address than ours"));
    }

    [Fact]
    public void Backup_takes_over_skew_time_after_a_priority_0_advert()
    {
        var h = new Harness(Instance(priority: 200));
        h.Start();
        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Receive("VI_1", 250, "10.0.0.3");
        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Receive("VI_1", 0, "10.0.0.3");
        Assert.True(h.Logs.Contains("(VI_1) Backup received priority 0 advertisement"));
        var skew = TimeSpan.FromSeconds(56.0 / 256);
        Assert.Equal(skew, h["VI_1"].SkewTime);
        h.Time.Advance(skew - Tick);
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        h.Time.Advance(Tick);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
    }

    [Fact]
    public void Master_answers_priority_0_with_an_advert()
    {
        var h = new Harness(Instance());
        h.Start();
        h.Time.Advance(V2Down100);
        h.TakeActions();
        h.Receive("VI_1", 0, "10.0.0.2");
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        Assert.Equal([new VrrpAction(VrrpActionKind.SendAdvert, Priority: 100)], h.TakeActions());
    }

    [Fact]
    public void Address_owner_configured_master_becomes_master_at_once()
    {
        var h = new Harness(Instance(priority: 255, with: o => o with { InitialState = VrrpInitialState.Master }));
        h.Start();
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        Assert.Contains(new VrrpAction(VrrpActionKind.SendAdvert, Priority: 255), h.TakeActions());
    }

    [Fact]
    public void State_master_without_priority_255_still_waits_for_the_down_timer()
    {
        var h = new Harness(Instance(priority: 150, with: o => o with { InitialState = VrrpInitialState.Master }));
        h.Start();
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
    }

    [Fact]
    public void Fault_from_tracking_sends_priority_0_and_removes_vips_then_recovers_to_backup()
    {
        var h = new Harness(Instance());
        h.Start();
        h.Time.Advance(V2Down100);
        h.TakeActions();
        h["VI_1"].UpdateTracking(1, 0, "track_script chk failed");
        Assert.Equal(VrrpState.Fault, h["VI_1"].State);
        Assert.True(h.Logs.Contains("(VI_1) Entering FAULT STATE"));
        Assert.Equal(
            [
                new VrrpAction(VrrpActionKind.SendAdvert, Priority: 0),
                new VrrpAction(VrrpActionKind.RemoveVips),
                new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Fault),
            ],
            h.TakeActions());
        Assert.Equal("track_script chk failed", h.Events.Changes.Last().Reason);

        // adverts are ignored in FAULT and no timer runs
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(VrrpState.Fault, h["VI_1"].State);
        Assert.Empty(h.TakeActions());

        h["VI_1"].UpdateTracking(0, 0, "track_script chk succeeded");
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        h.Time.Advance(V2Down100);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
    }

    [Fact]
    public void Effective_priority_is_clamped_and_logged()
    {
        var h = new Harness(Instance());
        h.Start();
        h["VI_1"].UpdateTracking(0, -20, "w");
        Assert.Equal(80, h["VI_1"].EffectivePriority);
        Assert.True(h.Logs.Contains("(VI_1) Changing effective priority from 100 to 80"));
        h["VI_1"].UpdateTracking(0, 500, "w");
        Assert.Equal(254, h["VI_1"].EffectivePriority);
        h["VI_1"].UpdateTracking(0, -500, "w");
        Assert.Equal(1, h["VI_1"].EffectivePriority);
        Assert.Equal([("VI_1", 100, 80), ("VI_1", 80, 254), ("VI_1", 254, 1)], h.Events.Priorities.ToArray());
    }

    [Fact]
    public void Lowered_priority_lets_a_backup_preempt_us_and_adverts_carry_it()
    {
        var h = new Harness(Instance());
        h.Start();
        h.Time.Advance(V2Down100);
        h["VI_1"].UpdateTracking(0, -30, "w");
        h.TakeActions();
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([new VrrpAction(VrrpActionKind.SendAdvert, Priority: 70)], h.TakeActions());
        h.Receive("VI_1", 90, "10.0.0.2");
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
    }

    [Fact]
    public void Stop_as_master_sends_priority_0_removes_vips_and_notifies_stop()
    {
        var h = new Harness(Instance());
        h.Start();
        h.Time.Advance(V2Down100);
        h.TakeActions();
        h.Engine.StopAll();
        Assert.Equal(
            [
                new VrrpAction(VrrpActionKind.SendAdvert, Priority: 0),
                new VrrpAction(VrrpActionKind.RemoveVips),
                new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Stop),
            ],
            h.TakeActions());
        Assert.Equal(0, h.Time.ActiveTimers);
    }

    [Fact]
    public void A_flood_of_lower_priority_adverts_is_counted_whole_and_logged_at_a_bounded_rate()
    {
        var h = new Harness(Instance());
        h.Start();
        h.Time.Advance(V2Down100);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        for (var i = 0; i < 500; i++)
            h.Receive("VI_1", 50, "10.0.0.9");
        Assert.Equal(500, h["VI_1"].LowerPriorityReceived);
        Assert.Equal(500, h["VI_1"].AdvertsReceived);
        Assert.Equal(10, h.Logs.Lines.Count(l => l.StartsWith("(VI_1) Received advert from 10.0.0.9 with lower priority 50", StringComparison.Ordinal)));

        // a minute later: one more line, preceded by the count of those not logged
        h.Time.Advance(TimeSpan.FromSeconds(60));
        h.Receive("VI_1", 50, "10.0.0.9");
        Assert.True(h.Logs.Contains("(VI_1) 490 more lower priority adverts received since the last report"));
        Assert.Equal(11, h.Logs.Lines.Count(l => l.StartsWith("(VI_1) Received advert from 10.0.0.9 with lower priority 50", StringComparison.Ordinal)));
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
    }

    [Fact]
    public void A_preempting_backup_discards_a_lower_priority_flood_with_bounded_logging()
    {
        var h = new Harness(Instance());
        h.Start();
        for (var i = 0; i < 500; i++)
            h.Receive("VI_1", 50, "10.0.0.9");
        Assert.Equal(500, h["VI_1"].LowerPriorityReceived);
        Assert.Equal(10, h.Logs.Lines.Count(l => l == "(VI_1) received lower priority (50) advert from 10.0.0.9 - discarding"));
    }

    [Fact]
    public void Stop_keeping_vips_sends_no_priority_0()
    {
        var h = new Harness(Instance());
        h.Start();
        h.Time.Advance(V2Down100);
        h.TakeActions();
        h.Engine.StopAll(keepVips: true);
        Assert.Equal([new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Stop)], h.TakeActions());
    }

    [Fact]
    public void Stop_as_backup_sends_nothing_and_notifies_stop()
    {
        var h = new Harness(Instance());
        h.Start();
        h.TakeActions();
        h.Engine.StopAll();
        Assert.Equal([new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Stop)], h.TakeActions());
        h.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(VrrpState.Stop, h["VI_1"].State);
    }

    [Fact]
    public void Adverts_are_ignored_after_stop_and_in_fault()
    {
        var h = new Harness(Instance());
        h.Start();
        h["VI_1"].UpdateTracking(1, 0, "f");
        h.Receive("VI_1", 200, "10.0.0.3");
        Assert.Equal(0, h["VI_1"].AdvertsReceived);
        h.Engine.StopAll();
        h.Receive("VI_1", 200, "10.0.0.3");
        Assert.Equal(0, h["VI_1"].AdvertsReceived);
    }

    [Fact]
    public void Garp_bursts_follow_master_delay_and_refresh()
    {
        var h = new Harness(Instance(with: o => o with { GarpMasterDelay = TimeSpan.FromSeconds(5), GarpMasterRepeat = 3, GarpMasterRefresh = TimeSpan.FromSeconds(60), GarpMasterRefreshRepeat = 2 }));
        h.Start();
        h.Time.Advance(V2Down100);
        Assert.Single(h.TakeActions(), a => a.Kind == VrrpActionKind.SendGarps && a.Repeat == 3);
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Single(h.TakeActions(), a => a.Kind == VrrpActionKind.SendGarps && a.Repeat == 3);
        h.Time.Advance(TimeSpan.FromSeconds(55));
        Assert.Single(h.TakeActions(), a => a.Kind == VrrpActionKind.SendGarps && a.Repeat == 2);
        h.Receive("VI_1", 200, "10.0.0.3");
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        h.TakeActions();
        for (var i = 0; i < 120; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            h.Receive("VI_1", 200, "10.0.0.3");
        }
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        Assert.Empty(h.TakeActions());
    }

    [Fact]
    public void Wrong_password_wrong_ttl_and_vip_mismatch_are_dropped_counted_and_do_not_reset_the_timer()
    {
        var h = new Harness(Instance(with: o => o with { Authentication = new VrrpAuthentication(VrrpAuthType.Pass, "1111") }));
        h.Start();
        var m = h["VI_1"];
        m.ReceiveAdvert(h.Advert("VI_1", 200, auth: VrrpPacket.PasswordBytes("2222")), IPAddress.Parse("10.0.0.3"), 255);
        m.ReceiveAdvert(h.Advert("VI_1", 200), IPAddress.Parse("10.0.0.3"), 254);
        m.ReceiveAdvert(h.Advert("VI_1", 200, addresses: [IPAddress.Parse("10.9.9.9")]), IPAddress.Parse("10.0.0.3"), 255);
        m.ReceiveAdvert(h.Advert("VI_1", 200, addresses: []), IPAddress.Parse("10.0.0.3"), 255);
        m.ReceiveAdvert(h.Advert("VI_1", 200) is var p ? new VrrpPacket { Version = 2, VirtualRouterId = 51, Priority = 200, Addresses = p.Addresses, AdvertIntervalCentiseconds = 100 } : null!, IPAddress.Parse("10.0.0.3"), 255);
        Assert.Equal(1, m.Drops[VrrpDropReason.AuthFailure]);
        Assert.Equal(1, m.Drops[VrrpDropReason.BadTtl]);
        Assert.Equal(1, m.Drops[VrrpDropReason.AddressListMismatch]);
        Assert.Equal(1, m.Drops[VrrpDropReason.AddressCountMismatch]);
        Assert.Equal(1, m.Drops[VrrpDropReason.AuthTypeMismatch]);
        Assert.True(h.Logs.Contains("(VI_1) received an invalid passwd!"));
        Assert.True(h.Logs.Contains("(VI_1) invalid ttl. 254 and expect 255"));
        Assert.True(h.Logs.Contains("(VI_1) ip address associated with VRID 51 not present in MASTER advert : 10.0.0.100"));
        h.Time.Advance(V2Down100);
        Assert.Equal(VrrpState.Master, m.State);
    }

    [Fact]
    public void A_flood_of_forged_adverts_is_counted_but_logged_at_a_bounded_rate()
    {
        var h = new Harness(Instance(with: o => o with { Authentication = new VrrpAuthentication(VrrpAuthType.Pass, "1111") }));
        h.Start();
        var bad = h.Advert("VI_1", 200, auth: VrrpPacket.PasswordBytes("nope"));
        for (var i = 0; i < 100_000; i++)
            h["VI_1"].ReceiveAdvert(bad, IPAddress.Parse("10.0.0.66"), 255);
        Assert.Equal(100_000, h["VI_1"].Drops[VrrpDropReason.AuthFailure]);
        Assert.InRange(h.Logs.Lines.Count(l => l.Contains("invalid passwd", StringComparison.Ordinal)), 1, 10);
        h.Time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        h["VI_1"].ReceiveAdvert(bad, IPAddress.Parse("10.0.0.66"), 255);
        Assert.True(h.Logs.Contains("(VI_1) 99990 more adverts dropped (AuthFailure) since the last report"));
    }

    [Fact]
    public void Unicast_peer_ttl_range_and_source_check()
    {
        var h = new Harness(Instance(with: o => o with { UnicastPeers = [new UnicastPeer(IPAddress.Parse("10.0.0.2"), 250, 255)] }));
        h.Start();
        h.Receive("VI_1", 200, "10.0.0.2", ttl: 64);
        h.Receive("VI_1", 200, "10.0.0.7", ttl: 255);
        Assert.Equal(1, h["VI_1"].Drops[VrrpDropReason.BadTtl]);
        Assert.Equal(1, h["VI_1"].Drops[VrrpDropReason.NotUnicastPeer]);
        Assert.True(h.Logs.Contains("(VI_1) unicast source address 10.0.0.7 not a unicast peer"));
        h.Receive("VI_1", 200, "10.0.0.2", ttl: 252);
        Assert.Equal(1, h["VI_1"].AdvertsReceived);
    }
}
