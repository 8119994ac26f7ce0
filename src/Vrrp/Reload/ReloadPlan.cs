using Lb.Vrrp.Engine;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tracking;

namespace Lb.Vrrp.Reload;

/// <summary>What a reload does to one instance.</summary>
internal enum InstancePlanKind
{
    /// <summary>Unchanged: not touched.</summary>
    Keep,

    /// <summary>New: started as at start-up.</summary>
    Add,

    /// <summary>Gone: stopped as at shutdown.</summary>
    Remove,

    /// <summary>Changed in place (settings, tracking, VIPs).</summary>
    Soft,

    /// <summary>Restarted alone (its socket or what identifies it on the wire changed).</summary>
    Hard,
}

/// <summary>The running state a reload is planned against (read by the subsystem; the planner does no I/O).</summary>
/// <param name="Options">The options in force.</param>
/// <param name="Instances">Each running instance's resolved settings and tracker bindings, by name.</param>
/// <param name="Groups">The sync groups in force, in the engine's order, with their members' names.</param>
/// <param name="Trackers">The trackers running (their definitions), by name.</param>
/// <param name="Running">Started and not stopped: trackers are synced and restart-only globals warned about only then.</param>
internal sealed record ReloadSnapshot(
    VrrpSubsystemOptions Options,
    IReadOnlyDictionary<string, InstanceSnapshot> Instances,
    IReadOnlyList<GroupSnapshot> Groups,
    RunningTrackers Trackers,
    bool Running);

/// <summary>One running instance, as the planner sees it.</summary>
internal sealed record InstanceSnapshot(InstanceSettings Settings, IReadOnlyList<TrackerBinding> Bindings);

/// <summary>One sync group in force.</summary>
internal sealed record GroupSnapshot(string Name, VrrpSyncGroupOptions Options, IReadOnlyList<string> Members);

/// <summary>The tracker definitions running, by name.</summary>
internal sealed record RunningTrackers(
    IReadOnlyDictionary<string, VrrpScriptOptions> Scripts,
    IReadOnlyDictionary<string, VrrpTrackFileOptions> Files,
    IReadOnlyDictionary<string, VrrpTrackProcessOptions> Processes)
{
    public static RunningTrackers None { get; } = new(
        new Dictionary<string, VrrpScriptOptions>(), new Dictionary<string, VrrpTrackFileOptions>(), new Dictionary<string, VrrpTrackProcessOptions>());
}

/// <summary>One instance's part of the plan.</summary>
/// <param name="Name">The instance.</param>
/// <param name="Kind">What happens to it.</param>
/// <param name="Next">Its new settings (null when removed).</param>
/// <param name="Bindings">Its new tracker bindings (null when removed).</param>
/// <param name="Fields">Names of the options that changed (journal).</param>
/// <param name="VipsRemoved">Soft change: the VIPs and eVIPs no longer configured (removed if it is MASTER holding its VIPs).</param>
/// <param name="VipsAdded">Soft change: the VIPs and eVIPs newly configured (added and announced if it is MASTER holding its VIPs).</param>
internal sealed record InstancePlan(
    string Name,
    InstancePlanKind Kind,
    InstanceSettings? Next,
    IReadOnlyList<TrackerBinding>? Bindings,
    IReadOnlyList<string> Fields,
    IReadOnlyList<VirtualAddress> VipsRemoved,
    IReadOnlyList<VirtualAddress> VipsAdded);

/// <summary>One sync group's part of the plan (unchanged groups are not in the plan).</summary>
/// <param name="Name">The group.</param>
/// <param name="Action"><see cref="VrrpReloadAction.Added"/>, <see cref="VrrpReloadAction.Removed"/> or <see cref="VrrpReloadAction.ChangedInPlace"/>.</param>
/// <param name="Options">Its new options (null when removed).</param>
/// <param name="Fields">Names of the options that changed (Members when the membership changed).</param>
/// <param name="MembersChanged">Its members are not the same machines any more (resync).</param>
internal sealed record GroupPlan(string Name, VrrpReloadAction Action, VrrpSyncGroupOptions? Options, IReadOnlyList<string> Fields, bool MembersChanged);

/// <summary>One tracker started, restarted or stopped.</summary>
/// <param name="Kind">Script, file or process.</param>
/// <param name="Name">The tracker.</param>
/// <param name="Action"><see cref="VrrpReloadAction.Added"/>, <see cref="VrrpReloadAction.Restarted"/> or <see cref="VrrpReloadAction.Removed"/>.</param>
/// <param name="Fields">Names of the options that changed (restart).</param>
/// <param name="Definition">The definition to start (null when removed).</param>
internal sealed record TrackerChange(TrackerKind Kind, string Name, VrrpReloadAction Action, IReadOnlyList<string> Fields, object? Definition);

/// <summary>A restart-only global that changed: it does not follow the reload.</summary>
internal sealed record RestartOnlyChange(string Name, string Consequence);

/// <summary>Everything a reload changes, decided before anything is touched (<see cref="ReloadPlanner"/>).</summary>
/// <param name="Instances">Removed instances first (in the old order), then every new instance in the new order.</param>
/// <param name="GlobalFields">Global options that changed (journal).</param>
/// <param name="RestartOnly">Changed globals that do not follow a reload (warned about).</param>
/// <param name="Groups">Removed groups first, then added and changed ones in the new order.</param>
/// <param name="Trackers">Per kind (scripts, files, processes): stopped ones, then started and restarted ones in the new order.</param>
internal sealed record ReloadPlan(
    IReadOnlyList<InstancePlan> Instances,
    IReadOnlyList<string> GlobalFields,
    IReadOnlyList<RestartOnlyChange> RestartOnly,
    IReadOnlyList<GroupPlan> Groups,
    IReadOnlyList<TrackerChange> Trackers)
{
    /// <summary>Names of the instances left untouched.</summary>
    public IReadOnlyList<string> Kept => Instances.Where(p => p.Kind == InstancePlanKind.Keep).Select(p => p.Name).ToArray();
}
