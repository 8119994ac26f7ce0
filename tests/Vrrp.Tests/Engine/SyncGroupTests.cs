using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Xunit;
using static Lb.Vrrp.Tests.Engine.Harness;

namespace Lb.Vrrp.Tests.Engine;

public class SyncGroupTests
{
    private static Harness Create() => new(new VrrpSubsystemOptions
    {
        Instances = [Instance("VI_1", 100, 51), Instance("VI_2", 150, 52)],
        SyncGroups = [new VrrpSyncGroupOptions { Name = "G1", Members = ["VI_1", "VI_2"] }],
    });

    [Fact]
    public void Members_become_master_together_and_the_group_notifies_once()
    {
        var h = Create();
        h.Start();
        Assert.Equal([("G1", VrrpState.Backup)], h.GroupNotifies);
        // VI_2 (priority 150) has the shorter down timer; VI_1 keeps hearing a master
        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Receive("VI_1", 200, "10.0.0.3");
        h.Time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.Equal(VrrpState.Master, h["VI_2"].State);
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        Assert.Equal([("G1", VrrpState.Backup), ("G1", VrrpState.Master)], h.GroupNotifies);
        Assert.Contains(h.Events.Changes, c => c.Kind == VrrpEntityKind.Group && c.Name == "G1" && c.NewState == VrrpState.Master);
        Assert.Contains(h.Actions.Actions, a => a.Instance == "VI_1" && a.Action.Kind == VrrpActionKind.AddVips);
    }

    [Fact]
    public void One_member_yielding_takes_the_others_to_backup()
    {
        var h = Create();
        h.Start();
        h.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.All(h.Engine.Instances.Values, m => Assert.Equal(VrrpState.Master, m.State));
        h.Receive("VI_1", 200, "10.0.0.3");
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        Assert.Equal(VrrpState.Backup, h["VI_2"].State);
        Assert.Contains(h.Actions.Actions, a => a.Instance == "VI_2" && a.Action.Kind == VrrpActionKind.RemoveVips);
        Assert.Equal(VrrpState.Backup, h.GroupNotifies[^1].State);
    }

    [Fact]
    public void A_fault_in_one_member_faults_the_group_and_blocks_master()
    {
        var h = Create();
        h.Start();
        h.Time.Advance(TimeSpan.FromSeconds(4));
        h["VI_2"].UpdateTracking(1, 0, "track_interface eth1 down");
        Assert.Equal(VrrpState.Fault, h["VI_1"].State);
        Assert.Equal(VrrpState.Fault, h["VI_2"].State);
        Assert.Contains(h.Actions.Actions, a => a.Instance == "VI_1" && a.Action == new VrrpAction(VrrpActionKind.SendAdvert, Priority: 0));
        Assert.Equal(VrrpState.Fault, h.GroupNotifies[^1].State);
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(VrrpState.Fault, h["VI_1"].State);

        h["VI_2"].UpdateTracking(0, 0, "track_interface eth1 up");
        Assert.Equal(VrrpState.Backup, h["VI_1"].State);
        Assert.Equal(VrrpState.Backup, h["VI_2"].State);
        h.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        Assert.Equal(VrrpState.Master, h["VI_2"].State);
    }
}
