using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Xunit;
using static Lb.Vrrp.Tests.Engine.Harness;

namespace Lb.Vrrp.Tests.Engine;

/// <summary><c>lb vrrp maintenance</c> and <c>lb vrrp failover</c> on the pure engine, timed by a manual clock.</summary>
public class OperatorActionsTests
{
    // v2, priority 150: 3 × 1 s + (256 − 150)/256 s
    private static readonly TimeSpan Down150 = TimeSpan.FromSeconds(3 + (106.0 / 256));

    private static Harness MasterAt150()
    {
        var h = new Harness(Instance(priority: 150));
        h.Start();
        h.Time.Advance(Down150);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        h.TakeActions();
        return h;
    }

    [Fact]
    public void Maintenance_on_a_master_sends_priority_0_removes_the_VIPs_and_never_takes_over()
    {
        var h = MasterAt150();
        var r = OperatorActions.SetMaintenance(h.Engine, "VI_1", true, h.Logs);
        Assert.True(r.Done);
        Assert.Equal("maintenance on: was MASTER, sent priority 0, now BACKUP", r.Text);
        Assert.Equal(("normal", "maintenance"), (r.OldMode, r.NewMode));
        Assert.Equal(
            [
                new VrrpAction(VrrpActionKind.SendAdvert, Priority: 0),
                new VrrpAction(VrrpActionKind.RemoveVips),
                new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Backup),
            ],
            h.TakeActions());
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        Assert.Equal("maintenance", OperatorActions.Describe(h["VI_1"]));

        // nobody else is there: the master-down timer runs out again and again, and it stays BACKUP
        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        Assert.DoesNotContain(h.TakeActions(), a => a.Kind is VrrpActionKind.SendAdvert or VrrpActionKind.AddVips);
        Assert.Single(h.Logs.Lines, l => l == "(VI_1) In maintenance: no master heard, not taking over");

        // a priority-0 advert (a leaving master) does not make it take over either
        h.Receive("VI_1", 0, "10.0.0.3");
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);

        var off = OperatorActions.SetMaintenance(h.Engine, "VI_1", false, h.Logs);
        Assert.Equal("maintenance off: BACKUP, may become MASTER again (priority 150, preempt)", off.Text);
        h.Time.Advance(Down150);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        Assert.Null(OperatorActions.Describe(h["VI_1"]));
    }

    [Fact]
    public void In_maintenance_a_lower_priority_master_is_accepted_and_preempted_once_off()
    {
        var h = MasterAt150();
        OperatorActions.SetMaintenance(h.Engine, "VI_1", true, h.Logs);
        // the peer (100) takes over and advertises: a preempting 150 would normally discard it and take over
        for (var i = 0; i < 20; i++)
        {
            h.Receive("VI_1", 100, "10.0.0.3");
            h.Time.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        Assert.Equal("10.0.0.3", h["VI_1"].MasterAddress?.ToString());
        Assert.DoesNotContain("(VI_1) In maintenance: no master heard, not taking over", h.Logs.Lines);

        OperatorActions.SetMaintenance(h.Engine, "VI_1", false, h.Logs);
        for (var i = 0; i < 5 && h["VI_1"].State == VrrpState.Backup; i++)
        {
            h.Receive("VI_1", 100, "10.0.0.3");
            h.Time.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
    }

    [Fact]
    public void Maintenance_restored_before_start_keeps_even_an_address_owner_from_master()
    {
        var h = new Harness(Instance(priority: 255, with: o => o with { InitialState = VrrpInitialState.Master }));
        OperatorActions.Restore(h.Engine, ["VI_1"], h.Logs);
        h.Start();
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        Assert.DoesNotContain(h.Actions.Actions, a => a.Action.Kind is VrrpActionKind.AddVips or VrrpActionKind.SendAdvert);
        Assert.DoesNotContain(h.Events.Changes, c => c.NewState == VrrpState.Master);
    }

    [Fact]
    public void Failover_is_refused_unless_master_with_a_peer_heard()
    {
        var h = new Harness(Instance(priority: 150));
        h.Start();
        var backup = OperatorActions.Failover(h.Engine, "VI_1", force: false, h.Logs);
        Assert.False(backup.Done);
        Assert.Equal("failover refused: not MASTER (BACKUP)", backup.Text);
        h.Time.Advance(Down150);
        var lonely = OperatorActions.Failover(h.Engine, "VI_1", force: false, h.Logs);
        Assert.False(lonely.Done);
        Assert.StartsWith("failover refused: no other VRRP router heard since start", lonely.Text, StringComparison.Ordinal);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        Assert.False(OperatorActions.Failover(h.Engine, "VI_9", force: false, h.Logs).Done);

        OperatorActions.SetMaintenance(h.Engine, "VI_1", true, h.Logs);
        Assert.Equal("failover refused: in maintenance (BACKUP); it is not MASTER", OperatorActions.Failover(h.Engine, "VI_1", force: true, h.Logs).Text);
    }

    [Fact]
    public void Failover_hands_master_over_and_does_not_preempt_back_while_a_master_is_heard()
    {
        var h = MasterAt150();
        h.Receive("VI_1", 100, "10.0.0.3"); // the peer was heard (a lower-priority advert, answered)
        h.TakeActions();
        var r = OperatorActions.Failover(h.Engine, "VI_1", force: false, h.Logs);
        Assert.True(r.Done, r.Text);
        Assert.Equal("failover: was MASTER, sent priority 0, now BACKUP; stays BACKUP while a master is heard", r.Text);
        Assert.Equal(new VrrpAction(VrrpActionKind.SendAdvert, Priority: 0), h.TakeActions()[0]);
        Assert.Equal("failover", OperatorActions.Describe(h["VI_1"]));

        // the peer (100) advertises as MASTER for a minute: 150 with preempt would take it back at once; it does not
        for (var i = 0; i < 60; i++)
        {
            h.Receive("VI_1", 100, "10.0.0.3");
            h.Time.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);

        // the peer goes silent: the master-down timer makes it MASTER, and the hold ends
        h.Time.Advance(Down150);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        Assert.False(h["VI_1"].FailoverHold);
        Assert.Null(OperatorActions.Describe(h["VI_1"]));
    }

    [Fact]
    public void Failover_with_force_and_no_taker_comes_back_after_the_master_down_interval()
    {
        var h = MasterAt150();
        Assert.True(OperatorActions.Failover(h.Engine, "VI_1", force: true, h.Logs).Done);
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        h.Time.Advance(Down150);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
    }

    [Fact]
    public void Maintenance_of_one_sync_group_member_holds_the_whole_group_backup()
    {
        var h = new Harness(new VrrpSubsystemOptions
        {
            Instances = [Instance("VI_1", 150, 51), Instance("VI_2", 150, 52)],
            SyncGroups = [new VrrpSyncGroupOptions { Name = "G1", Members = ["VI_1", "VI_2"] }],
        });
        h.Start();
        h.Time.Advance(Down150);
        Assert.All(h.Engine.Instances.Values, m => Assert.Equal(VrrpState.Master, m.State));
        h.Actions.Clear();

        var r = OperatorActions.SetMaintenance(h.Engine, "VI_1", true, h.Logs);
        Assert.Equal("maintenance on: was MASTER, sent priority 0, now BACKUP; sync group G1 held BACKUP (VI_2 sent priority 0, now BACKUP)", r.Text);
        Assert.All(h.Engine.Instances.Values, m => Assert.Equal(VrrpState.Backup, m.State));
        foreach (var name in new[] { "VI_1", "VI_2" })
            Assert.Contains(h.Actions.For(name), a => a.Kind == VrrpActionKind.SendAdvert && a.Priority == 0);
        Assert.Equal("maintenance (sync group G1)", OperatorActions.Describe(h["VI_2"]));

        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.All(h.Engine.Instances.Values, m => Assert.Equal(VrrpState.Backup, m.State));

        OperatorActions.SetMaintenance(h.Engine, "VI_1", false, h.Logs);
        h.Time.Advance(Down150);
        Assert.All(h.Engine.Instances.Values, m => Assert.Equal(VrrpState.Master, m.State));
    }
}
