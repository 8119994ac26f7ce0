using Lb.Vrrp.Engine;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tracking;

namespace Lb.Vrrp.Reload;

/// <summary>
/// The reload's decisions, pure: (running state, new options) → <see cref="ReloadPlan"/>. No I/O, no lock, nothing
/// mutated; the subsystem executes the plan (src/Vrrp/README.md "Reload").
/// </summary>
internal static class ReloadPlanner
{
    /// <summary>
    /// Options of an instance whose change needs a restart of that instance: they decide its socket,
    /// what goes on the wire to identify it, or its address family.
    /// </summary>
    internal static readonly IReadOnlySet<string> HardInstanceFields = new HashSet<string>(StringComparer.Ordinal)
    {
        nameof(VrrpInstanceOptions.Interface),
        nameof(VrrpInstanceOptions.VirtualRouterId),
        nameof(VrrpInstanceOptions.Version),
        nameof(VrrpInstanceOptions.Authentication),
        nameof(VrrpInstanceOptions.McastSrcIp),
        nameof(VrrpInstanceOptions.McastDstIp),
        nameof(VrrpInstanceOptions.UnicastSrcIp),
        nameof(VrrpInstanceOptions.NativeIpv6),
        nameof(VrrpInstanceOptions.UseVmac),
        nameof(VrrpInstanceOptions.VmacXmitBase),
        nameof(VrrpInstanceOptions.UnicastFaultNoPeer),
        nameof(InstanceSettings.Family),
        nameof(InstanceSettings.MulticastGroup),
        nameof(InstanceSettings.AuthData),
        nameof(InstanceSettings.IsUnicast),
        nameof(InstanceSettings.ConfiguredSource),
    };

    /// <summary>Global settings that do not follow a reload, and what happens instead.</summary>
    private static readonly (string Name, string Consequence)[] RestartOnlyGlobals =
    [
        (nameof(VrrpSubsystemOptions.StartupDelay), "vrrp_startup_delay only applies at start-up"),
        (nameof(VrrpSubsystemOptions.MaxAutoPriority), "max_auto_priority applies from the next start"),
        (nameof(VrrpSubsystemOptions.MinAutoPriorityDelay), "min_auto_priority_delay applies from the next start"),
        (nameof(VrrpSubsystemOptions.RealtimePriority), "vrrp_rt_priority applies from the next start"),
        (nameof(VrrpSubsystemOptions.NoSwap), "vrrp_no_swap applies from the next start"),
    ];

    /// <summary>Plans the reload of <paramref name="current"/> to <paramref name="next"/>.</summary>
    public static ReloadPlan Plan(ReloadSnapshot current, VrrpSubsystemOptions next)
    {
        var old = current.Options;
        var nextNames = next.Instances.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var instances = new List<InstancePlan>();
        foreach (var o in old.Instances.Where(o => !nextNames.Contains(o.Name)))
            instances.Add(new InstancePlan(o.Name, InstancePlanKind.Remove, null, null, [], [], []));
        foreach (var n in next.Instances)
        {
            var settings = InstanceSettings.Resolve(n, next);
            var bindings = TrackingState.BindingsFor(n, next);
            if (!current.Instances.TryGetValue(n.Name, out var cur))
            {
                instances.Add(new InstancePlan(n.Name, InstancePlanKind.Add, settings, bindings, [], [], []));
                continue;
            }
            var fields = InstanceDifferences(cur.Settings, settings);
            var bindingsChanged = !cur.Bindings.SequenceEqual(bindings);
            var kind = fields.Any(HardInstanceFields.Contains) ? InstancePlanKind.Hard
                : fields.Count > 0 || bindingsChanged ? InstancePlanKind.Soft
                : InstancePlanKind.Keep;
            if (bindingsChanged && !fields.Contains("Tracking"))
                fields = [.. fields, "Tracking"];
            IReadOnlyList<VirtualAddress> dropped = [], added = [];
            if (kind == InstancePlanKind.Soft)
            {
                var before = AllVips(cur.Settings.Options);
                var after = AllVips(n);
                dropped = before.Where(v => !after.Any(w => OptionsComparer.Same(v, w))).ToArray();
                added = after.Where(v => !before.Any(w => OptionsComparer.Same(v, w))).ToArray();
            }
            instances.Add(new InstancePlan(n.Name, kind, settings, bindings, fields, dropped, added));
        }

        static VrrpSubsystemOptions Globals(VrrpSubsystemOptions o) => o with { Instances = [], SyncGroups = [], Scripts = [], TrackFiles = [], TrackProcesses = [] };
        var globalFields = OptionsComparer.Differences(Globals(old), Globals(next));
        var restartOnly = current.Running
            ? RestartOnlyGlobals.Where(g => globalFields.Contains(g.Name)).Select(g => new RestartOnlyChange(g.Name, g.Consequence)).ToArray()
            : [];

        return new ReloadPlan(
            instances,
            globalFields,
            restartOnly,
            PlanGroups(current.Groups, next, instances),
            current.Running ? PlanTrackers(old, next, current.Trackers) : []);
    }

    /// <summary>
    /// The trackers <paramref name="next"/> needs (those an instance is bound to), against those running: one used by
    /// no instance stops; an unchanged one keeps its state; a changed one restarts from its initial state; a new one
    /// starts. At start-up <paramref name="old"/> is null and nothing runs.
    /// </summary>
    public static IReadOnlyList<TrackerChange> PlanTrackers(VrrpSubsystemOptions? old, VrrpSubsystemOptions next, RunningTrackers running)
    {
        var used = next.Instances.SelectMany(i => TrackingState.BindingsFor(i, next)).Select(b => (b.Kind, b.Name)).ToHashSet();
        var scriptGlobalsChanged = old is not null && (old.ScriptUser != next.ScriptUser || old.ScriptGroup != next.ScriptGroup || old.EnableScriptSecurity != next.EnableScriptSecurity);
        var changes = new List<TrackerChange>();

        void Sync<T>(TrackerKind kind, IReadOnlyList<T> defs, IReadOnlyDictionary<string, T> cur, Func<T, string> name, Func<T, T, bool> same)
            where T : class
        {
            var wanted = defs.Where(d => used.Contains((kind, name(d)))).ToDictionary(name, StringComparer.Ordinal);
            foreach (var n in cur.Keys.Where(n => !wanted.ContainsKey(n)))
                changes.Add(new TrackerChange(kind, n, VrrpReloadAction.Removed, [], null));
            foreach (var (n, d) in wanted)
            {
                if (!cur.TryGetValue(n, out var c))
                {
                    changes.Add(new TrackerChange(kind, n, VrrpReloadAction.Added, [], d));
                }
                else if (!same(c, d))
                {
                    var fields = OptionsComparer.Differences(c, d);
                    changes.Add(new TrackerChange(kind, n, VrrpReloadAction.Restarted, fields.Count > 0 ? fields : ["script_user"], d));
                }
            }
        }

        Sync(TrackerKind.Script, next.Scripts, running.Scripts, s => s.Name,
            (a, b) => OptionsComparer.Same(a, b) && !(scriptGlobalsChanged && (b.User is null || b.Group is null)));
        Sync(TrackerKind.File, next.TrackFiles, running.Files, f => f.Name, (a, b) => OptionsComparer.Same(a, b));
        Sync(TrackerKind.Process, next.TrackProcesses, running.Processes, p => p.Name, (a, b) => OptionsComparer.Same(a, b));
        return changes;
    }

    /// <summary>
    /// Groups gone are removed; new ones added; a kept one changes in place when its options changed or its members
    /// are not the same machines (a member added, removed, reordered or restarted).
    /// </summary>
    private static List<GroupPlan> PlanGroups(IReadOnlyList<GroupSnapshot> current, VrrpSubsystemOptions next, IReadOnlyList<InstancePlan> instances)
    {
        var plans = new List<GroupPlan>();
        var nextGroups = next.SyncGroups.Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var g in current.Where(g => !nextGroups.Contains(g.Name)))
            plans.Add(new GroupPlan(g.Name, VrrpReloadAction.Removed, null, [], false));
        var after = instances.Where(p => p.Kind != InstancePlanKind.Remove).ToDictionary(p => p.Name, p => p.Kind, StringComparer.Ordinal);
        var byName = current.ToDictionary(g => g.Name, StringComparer.Ordinal);
        foreach (var go in next.SyncGroups)
        {
            if (!byName.TryGetValue(go.Name, out var g))
            {
                plans.Add(new GroupPlan(go.Name, VrrpReloadAction.Added, go, [], false));
                continue;
            }
            var members = go.Members.Where(after.ContainsKey).ToArray();
            var sameMembers = members.SequenceEqual(g.Members, StringComparer.Ordinal)
                && members.All(m => after[m] is not (InstancePlanKind.Hard or InstancePlanKind.Add));
            var fields = OptionsComparer.Differences(g.Options, go).ToList();
            if (fields.Count == 0 && sameMembers)
                continue;
            if (!sameMembers && !fields.Contains(nameof(VrrpSyncGroupOptions.Members)))
                fields.Add(nameof(VrrpSyncGroupOptions.Members));
            plans.Add(new GroupPlan(go.Name, VrrpReloadAction.ChangedInPlace, go, fields, !sameMembers));
        }
        return plans;
    }

    /// <summary>Names of the options that differ between two resolved settings (instance options and the globals folded in).</summary>
    internal static List<string> InstanceDifferences(InstanceSettings a, InstanceSettings b)
    {
        var fields = OptionsComparer.Differences(a.Options, b.Options).ToList();
        foreach (var f in OptionsComparer.Differences(a with { Options = b.Options }, b))
        {
            if (f is not nameof(InstanceSettings.Name) && !fields.Contains(f))
                fields.Add(f);
        }
        if (a.IsUnicast != b.IsUnicast)
            fields.Add(nameof(InstanceSettings.IsUnicast));
        if (!Equals(a.ConfiguredSource, b.ConfiguredSource))
            fields.Add(nameof(InstanceSettings.ConfiguredSource));
        return fields;
    }

    private static VirtualAddress[] AllVips(VrrpInstanceOptions o) => [.. o.VirtualIpAddresses, .. o.VirtualIpAddressesExcluded];
}
