using System.Net;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Options;
using Lb.Vrrp.Reload;
using Lb.Vrrp.Tracking;
using Xunit;

namespace Lb.Vrrp.Tests.Reload;

/// <summary>
/// The pure reload planner: running state + new options → plan. No subsystem, no clock, no I/O: each test states the
/// running configuration, the new one, and the plan it must give.
/// </summary>
public class ReloadPlannerTests
{
    private static VrrpInstanceOptions Instance(string name = "VI_1", int vrid = 51, int priority = 100, string[]? vips = null, string[]? scripts = null, string[]? files = null) => new()
    {
        Name = name,
        Interface = "eth0",
        VirtualRouterId = vrid,
        Priority = priority,
        VirtualIpAddresses = (vips ?? ["10.0.0.100"]).Select(v => new VirtualAddress { Address = IPAddress.Parse(v), PrefixLength = 24 }).ToArray(),
        TrackScripts = (scripts ?? []).Select(s => new TrackedReference(s)).ToArray(),
        TrackFiles = (files ?? []).Select(f => new TrackedReference(f)).ToArray(),
    };

    private static VrrpScriptOptions Script(string name, string command = "/bin/true", string? user = null) => new() { Name = name, Command = [command], User = user, Group = user };

    private static VrrpTrackFileOptions File(string name, string path) => new() { Name = name, Path = path };

    /// <summary>The state a subsystem running <paramref name="o"/> (started: <paramref name="running"/>) shows the planner.</summary>
    private static ReloadSnapshot Snapshot(VrrpSubsystemOptions o, bool running = true)
    {
        var instances = o.Instances.ToDictionary(i => i.Name, i => new InstanceSnapshot(InstanceSettings.Resolve(i, o), TrackingState.BindingsFor(i, o)), StringComparer.Ordinal);
        var groups = o.SyncGroups.Select(g => new GroupSnapshot(g.Name, g, g.Members.Where(instances.ContainsKey).ToArray())).ToArray();
        var started = running ? ReloadPlanner.PlanTrackers(null, o, RunningTrackers.None) : [];
        var trackers = new RunningTrackers(
            started.Select(c => c.Definition).OfType<VrrpScriptOptions>().ToDictionary(s => s.Name),
            started.Select(c => c.Definition).OfType<VrrpTrackFileOptions>().ToDictionary(f => f.Name),
            started.Select(c => c.Definition).OfType<VrrpTrackProcessOptions>().ToDictionary(p => p.Name));
        return new ReloadSnapshot(o, instances, groups, trackers, running);
    }

    private static InstancePlan For(ReloadPlan plan, string name) => plan.Instances.Single(p => p.Name == name);

    [Fact]
    public void The_same_options_rebuilt_from_scratch_plan_nothing()
    {
        static VrrpSubsystemOptions Make() => new()
        {
            Instances = [Instance("VI_1", scripts: ["chk"], files: ["f"]), Instance("VI_2", vrid: 52)],
            Scripts = [Script("chk")],
            TrackFiles = [File("f", "/tmp/f")],
            SyncGroups = [new VrrpSyncGroupOptions { Name = "G", Members = ["VI_1", "VI_2"] }],
        };
        var plan = ReloadPlanner.Plan(Snapshot(Make()), Make());

        Assert.All(plan.Instances, p => Assert.Equal(InstancePlanKind.Keep, p.Kind));
        Assert.Equal(["VI_1", "VI_2"], plan.Kept);
        Assert.Empty(plan.GlobalFields);
        Assert.Empty(plan.RestartOnly);
        Assert.Empty(plan.Groups);
        Assert.Empty(plan.Trackers);
    }

    [Fact]
    public void A_priority_and_vip_change_is_soft_with_the_vip_diff_and_an_identity_change_is_a_restart()
    {
        var old = new VrrpSubsystemOptions { Instances = [Instance("VI_1"), Instance("VI_2", vrid: 52), Instance("VI_3", vrid: 53)] };
        var next = new VrrpSubsystemOptions
        {
            Instances = [Instance("VI_1", priority: 150, vips: ["10.0.0.100", "10.0.0.101"]), Instance("VI_2", vrid: 62), Instance("VI_3", vrid: 53, vips: ["10.0.0.200"])],
        };
        var plan = ReloadPlanner.Plan(Snapshot(old), next);

        var soft = For(plan, "VI_1");
        Assert.Equal(InstancePlanKind.Soft, soft.Kind);
        Assert.Contains(nameof(VrrpInstanceOptions.Priority), soft.Fields);
        Assert.Contains(nameof(VrrpInstanceOptions.VirtualIpAddresses), soft.Fields);
        Assert.Empty(soft.VipsRemoved);
        Assert.Equal(["10.0.0.101"], soft.VipsAdded.Select(v => v.Address.ToString()));
        Assert.Equal(150, soft.Next!.Options.Priority);

        var hard = For(plan, "VI_2");
        Assert.Equal(InstancePlanKind.Hard, hard.Kind);
        Assert.Contains(nameof(VrrpInstanceOptions.VirtualRouterId), hard.Fields);

        var swapped = For(plan, "VI_3");
        Assert.Equal(InstancePlanKind.Soft, swapped.Kind);
        Assert.Equal(["10.0.0.100"], swapped.VipsRemoved.Select(v => v.Address.ToString()));
        Assert.Equal(["10.0.0.200"], swapped.VipsAdded.Select(v => v.Address.ToString()));
        Assert.Empty(plan.Kept);
    }

    [Fact]
    public void Removed_instances_come_first_then_the_new_order_with_added_ones()
    {
        var old = new VrrpSubsystemOptions { Instances = [Instance("A", vrid: 1), Instance("B", vrid: 2)] };
        var next = new VrrpSubsystemOptions { Instances = [Instance("C", vrid: 3), Instance("B", vrid: 2)] };
        var plan = ReloadPlanner.Plan(Snapshot(old), next);

        Assert.Equal([("A", InstancePlanKind.Remove), ("C", InstancePlanKind.Add), ("B", InstancePlanKind.Keep)], plan.Instances.Select(p => (p.Name, p.Kind)));
        Assert.Null(For(plan, "A").Next);
        Assert.Equal(3, For(plan, "C").Next!.Options.VirtualRouterId);
    }

    [Fact]
    public void Trackers_stop_when_unused_restart_when_changed_start_when_new_and_only_while_running()
    {
        var old = new VrrpSubsystemOptions
        {
            Instances = [Instance("VI_1", scripts: ["gone", "chk"], files: ["f"])],
            Scripts = [Script("gone"), Script("chk")],
            TrackFiles = [File("f", "/tmp/f")],
        };
        var next = new VrrpSubsystemOptions
        {
            Instances = [Instance("VI_1", scripts: ["chk"], files: ["f", "g"])],
            Scripts = [Script("gone"), Script("chk", "/bin/false")],
            TrackFiles = [File("f", "/tmp/f"), File("g", "/tmp/g")],
        };
        var plan = ReloadPlanner.Plan(Snapshot(old), next);

        Assert.Equal(
            [(TrackerKind.Script, "gone", VrrpReloadAction.Removed), (TrackerKind.Script, "chk", VrrpReloadAction.Restarted), (TrackerKind.File, "g", VrrpReloadAction.Added)],
            plan.Trackers.Select(c => (c.Kind, c.Name, c.Action)));
        Assert.Equal([nameof(VrrpScriptOptions.Command)], plan.Trackers[1].Fields);
        Assert.Equal("/tmp/g", ((VrrpTrackFileOptions)plan.Trackers[2].Definition!).Path);
        Assert.Null(plan.Trackers[0].Definition);
        Assert.Equal(InstancePlanKind.Soft, For(plan, "VI_1").Kind);
        Assert.Contains("Tracking", For(plan, "VI_1").Fields);

        // not started: the trackers start from the new options at start-up, nothing to sync now
        Assert.Empty(ReloadPlanner.Plan(Snapshot(old, running: false), next).Trackers);
    }

    [Fact]
    public void Changed_script_user_restarts_the_scripts_that_take_it_from_the_globals()
    {
        var old = new VrrpSubsystemOptions
        {
            Instances = [Instance("VI_1", scripts: ["inherits", "own"])],
            Scripts = [Script("inherits"), Script("own", user: "nobody")],
        };
        var next = old with { ScriptUser = "daemon" };
        var plan = ReloadPlanner.Plan(Snapshot(old), next);

        var c = Assert.Single(plan.Trackers);
        Assert.Equal(("inherits", VrrpReloadAction.Restarted), (c.Name, c.Action));
        Assert.Equal(["script_user"], c.Fields);
        Assert.Contains(nameof(VrrpSubsystemOptions.ScriptUser), plan.GlobalFields);
    }

    [Fact]
    public void A_restart_only_global_is_a_warning_while_running_and_a_global_change_either_way()
    {
        var old = new VrrpSubsystemOptions { Instances = [Instance()] };
        var next = old with { StartupDelay = TimeSpan.FromSeconds(5), GarpMasterRepeat = 9 };

        var plan = ReloadPlanner.Plan(Snapshot(old), next);
        Assert.Equal([nameof(VrrpSubsystemOptions.StartupDelay)], plan.RestartOnly.Select(r => r.Name));
        Assert.Contains(nameof(VrrpSubsystemOptions.StartupDelay), plan.GlobalFields);
        Assert.Contains(nameof(VrrpSubsystemOptions.GarpMasterRepeat), plan.GlobalFields);
        // a global folded into the instance's settings changes the instance in place
        Assert.Equal(InstancePlanKind.Soft, For(plan, "VI_1").Kind);

        var stopped = ReloadPlanner.Plan(Snapshot(old, running: false), next);
        Assert.Empty(stopped.RestartOnly);
        Assert.Contains(nameof(VrrpSubsystemOptions.StartupDelay), stopped.GlobalFields);
    }

    [Fact]
    public void Sync_groups_are_removed_added_and_resynced_when_a_member_is_restarted_or_leaves()
    {
        var old = new VrrpSubsystemOptions
        {
            Instances = [Instance("A", vrid: 1), Instance("B", vrid: 2), Instance("C", vrid: 3), Instance("D", vrid: 4)],
            SyncGroups =
            [
                new VrrpSyncGroupOptions { Name = "Gone", Members = ["A"] },
                new VrrpSyncGroupOptions { Name = "Same", Members = ["A", "D"] },
                new VrrpSyncGroupOptions { Name = "Restarted", Members = ["B"] },
                new VrrpSyncGroupOptions { Name = "Shrinks", Members = ["C", "X"] },
            ],
        };
        var next = new VrrpSubsystemOptions
        {
            Instances = [Instance("A", vrid: 1), Instance("B", vrid: 12), Instance("D", vrid: 4)],
            SyncGroups =
            [
                new VrrpSyncGroupOptions { Name = "Same", Members = ["A", "D"] },
                new VrrpSyncGroupOptions { Name = "Restarted", Members = ["B"] },
                new VrrpSyncGroupOptions { Name = "Shrinks", Members = ["C", "X"] },
                new VrrpSyncGroupOptions { Name = "New", Members = ["A"] },
            ],
        };
        var plan = ReloadPlanner.Plan(Snapshot(old), next);

        Assert.Equal(
            [("Gone", VrrpReloadAction.Removed, false), ("Restarted", VrrpReloadAction.ChangedInPlace, true), ("Shrinks", VrrpReloadAction.ChangedInPlace, true), ("New", VrrpReloadAction.Added, false)],
            plan.Groups.Select(g => (g.Name, g.Action, g.MembersChanged)));
        Assert.Equal([nameof(VrrpSyncGroupOptions.Members)], plan.Groups[1].Fields);
        Assert.Equal([nameof(VrrpSyncGroupOptions.Members)], plan.Groups[2].Fields);
        Assert.Equal(InstancePlanKind.Remove, For(plan, "C").Kind);
    }

    [Fact]
    public void Planning_changes_nothing_it_is_given()
    {
        var old = new VrrpSubsystemOptions { Instances = [Instance("VI_1", scripts: ["chk"])], Scripts = [Script("chk")] };
        var snapshot = Snapshot(old);
        var next = new VrrpSubsystemOptions { Instances = [], Scripts = [] };
        var plan = ReloadPlanner.Plan(snapshot, next);

        Assert.Equal(InstancePlanKind.Remove, For(plan, "VI_1").Kind);
        Assert.Equal((TrackerKind.Script, "chk", VrrpReloadAction.Removed), plan.Trackers.Select(c => (c.Kind, c.Name, c.Action)).Single());
        Assert.Single(snapshot.Instances);
        Assert.Single(snapshot.Trackers.Scripts);
        Assert.Same(old, snapshot.Options);
    }
}
