using System.Globalization;
using Lb.Checkers.Logging;
using Lb.Checkers.Options;
using Lb.Netlink.Ipvs;

namespace Lb.Checkers.Engine;

/// <summary>What an engine reload did, and which checkers the subsystem must stop (retired) and start.</summary>
internal sealed record EngineReload(ReloadResult Result, IReadOnlyList<CheckerState> Retired, IReadOnlyList<CheckerState> Started);

/// <summary>
/// Configuration reload as a diff (keepalived's <c>clear_diff_services</c> + <c>init_services</c>, without keepalived's
/// restart of every checker): objects are matched by identity — virtual server by address/port/protocol, fwmark or
/// group; real server by address/port within its virtual server; sorry server per virtual server — and only what
/// differs is decided, one object at a time, each journalled (kind <c>reload</c>). The IPVS side is one reconcile of the
/// resulting table against the services Lb owned before the reload: only the entries that differ are sent.
/// </summary>
internal sealed partial class CheckerEngine
{
    private const string ReloadKind = "reload";
    private const string ReloadReason = "configuration reload";

    private sealed class ReloadRun
    {
        public List<ReloadChange> Changes { get; } = new();
        public List<string> Kept { get; } = new();
        public List<CheckerState> Retired { get; } = new();
        public List<CheckerState> Started { get; } = new();
        public bool ScriptGlobalsChanged { get; init; }

        public void Retire(RsState rs)
        {
            foreach (var c in rs.Checkers)
            {
                c.Retired = true;
                Retired.Add(c);
            }
        }
    }

    /// <summary>A running real server matched with its counterpart in the new configuration (Live null: added).</summary>
    private sealed record RsPlan(RsState? Live, RsState Next, IpvsDestination? OldDest0, List<(string What, string Old, string New)> Differences, bool CheckersEqual)
    {
        public bool Same => Live is not null && Differences.Count == 0;
    }

    /// <summary>
    /// Decides <paramref name="next"/> as a diff against the running state. The caller holds the gate and hands the change
    /// set to the applier (journal, then one reconcile against what Lb owned before this reload).
    /// </summary>
    public (EngineReload Reload, ChangeSet Changes) Reload(CheckerSubsystemOptions next)
    {
        var old = _options;
        var ownership = IpvsOwnership.Of(_owned);
        var run = new ReloadRun
        {
            ScriptGlobalsChanged = old.ScriptUser != next.ScriptUser || old.ScriptGroup != next.ScriptGroup || old.EnableScriptSecurity != next.EnableScriptSecurity,
        };
        _options = next;

        var live = Keyed(VirtualServers, v => VsKey(v.Options));
        var wanted = Keyed(next.VirtualServers, VsKey);
        var liveByKey = live.ToDictionary(x => x.Key, x => x.Item, StringComparer.Ordinal);
        var wantedKeys = wanted.Select(w => w.Key).ToHashSet(StringComparer.Ordinal);

        foreach (var (key, vs) in live)
        {
            if (!wantedKeys.Contains(key))
                RemoveVirtualServer(vs, run);
        }

        var list = new List<VsState>(wanted.Count);
        foreach (var (key, vso) in wanted)
        {
            var candidate = BuildVirtualServer(vso, next);
            if (liveByKey.TryGetValue(key, out var vs))
            {
                UpdateVirtualServer(vs, candidate, run);
                list.Add(vs);
            }
            else
            {
                AddVirtualServer(candidate, run);
                list.Add(candidate);
            }
        }
        VirtualServers.Clear();
        VirtualServers.AddRange(list);
        ReconcileAgainst(ownership);
        foreach (var c in run.Started)
            c.Publish();
        return (new EngineReload(new ReloadResult { Changes = run.Changes, Kept = run.Kept }, run.Retired, run.Started), Take(allViews: true));
    }

    // ---------------------------------------------------------------- virtual servers

    private void RemoveVirtualServer(VsState vs, ReloadRun run)
    {
        _logger.ReloadVirtualServer("Removing", vs.Name);
        foreach (var rs in vs.RealServers)
            run.Retire(rs);
        Journal(ReloadKind, vs, null, vs.QuorumUp ? "quorum up" : "quorum down", "removed", ReloadReason,
            vs.Added ? string.Join("; ", vs.Services.Select(s => $"remove service {IpvsMapping.Text(s.Key)}")) + " (with its destinations)" : "none");
        run.Changes.Add(new ReloadChange(ReloadObjectKind.VirtualServer, ReloadChangeKind.Removed, vs.Name, null, $"{vs.RealServers.Count} real servers"));
        foreach (var rs in vs.RealServers)
        {
            if (rs.Set)
                _logger.ServiceStateChange("Removing", rs.Name, "from", vs.Name);
            Journal(ReloadKind, vs, rs.Name, rs.Alive ? "up" : "down", "removed", ReloadReason,
                rs.Set ? "removed from IPVS with its virtual server" : "none");
            run.Changes.Add(new ReloadChange(ReloadObjectKind.RealServer, ReloadChangeKind.Removed, vs.Name, rs.Name, "with its virtual server"));
            DropOverride(rs);
            if (rs.Alive)
            {
                RunNotify(rs.Options.NotifyDown, wait: false);
                rs.Alive = false;
                RsRemovedNotification(rs, stopping: false);
            }
            rs.Alive = false;
            rs.Set = false;
        }
        if (vs.Sorry is { } sorry)
        {
            Journal(ReloadKind, vs, sorry.Name, sorry.Alive ? "in" : "out", "removed", ReloadReason,
                sorry.Set ? "removed from IPVS with its virtual server" : "none");
            run.Changes.Add(new ReloadChange(ReloadObjectKind.SorryServer, ReloadChangeKind.Removed, vs.Name, sorry.Name, "with its virtual server"));
            sorry.Alive = false;
            sorry.Set = false;
        }
        if (vs.QuorumUp)
        {
            RunNotify(vs.Options.QuorumDown, wait: false);
            vs.QuorumUp = false;
            VsNotification(vs, QuorumMessage(vs, init: false, vs.Options.Quorum - vs.Options.Hysteresis, 0));
        }
        vs.QuorumUp = false;
        if (vs.Added)
        {
            foreach (var svc in vs.Services)
                _cs.Operations.Add(IpvsOperation.DeleteService(svc.Key));
        }
        vs.Added = false;
    }

    private void AddVirtualServer(VsState vs, ReloadRun run)
    {
        _logger.ReloadVirtualServer("Adding", vs.Name);
        Journal(ReloadKind, vs, null, "absent", "added", ReloadReason, string.Join("; ", vs.Services.Select(s => $"add service {IpvsMapping.Text(s.Key)}")));
        run.Changes.Add(new ReloadChange(ReloadObjectKind.VirtualServer, ReloadChangeKind.Added, vs.Name, null, $"{vs.RealServers.Count} real servers"));
        foreach (var rs in vs.RealServers)
            run.Changes.Add(new ReloadChange(ReloadObjectKind.RealServer, ReloadChangeKind.Added, vs.Name, rs.Name, ""));
        if (vs.Sorry is { } sorry)
            run.Changes.Add(new ReloadChange(ReloadObjectKind.SorryServer, ReloadChangeKind.Added, vs.Name, sorry.Name, ""));
        InitVirtualServer(vs, reload: true);
        foreach (var rs in vs.RealServers)
            run.Started.AddRange(rs.Checkers);
    }

    private void UpdateVirtualServer(VsState vs, VsState next, ReloadRun run)
    {
        var oldOptions = vs.Options;
        var newOptions = next.Options;

        // Plan first, while the running state still has the old options (destinations and names derive from them).
        var liveRs = Keyed(vs.RealServers, RsKey);
        var nextRs = Keyed(next.RealServers, RsKey);
        var liveRsByKey = liveRs.ToDictionary(x => x.Key, x => x.Item, StringComparer.Ordinal);
        var nextRsKeys = nextRs.Select(x => x.Key).ToHashSet(StringComparer.Ordinal);
        var removedRs = liveRs.Where(x => !nextRsKeys.Contains(x.Key)).Select(x => x.Item).ToList();
        var plans = nextRs.Select(x => liveRsByKey.TryGetValue(x.Key, out var l) ? PlanRealServer(l, x.Item, run.ScriptGlobalsChanged) : new RsPlan(null, x.Item, null, new(), false)).ToList();

        var oldServices = new Dictionary<IpvsServiceKey, IpvsService>();
        foreach (var s in vs.Services)
            oldServices.TryAdd(s.Key, s);
        var newKeys = next.Services.Select(s => s.Key).ToHashSet();
        var removedServices = vs.Services.Where(s => !newKeys.Contains(s.Key)).ToList();
        var keptServices = next.Services.Where(s => oldServices.ContainsKey(s.Key)).ToList();
        var editedServices = keptServices.Where(s => !oldServices[s.Key].SettingsEqual(s)).ToList();
        var addedServices = next.Services.Where(s => !oldServices.ContainsKey(s.Key)).ToList();

        var vsDifferences = Differences(VsFields(oldOptions), VsFields(newOptions));
        if (vsDifferences.Count == 0 && !OptionsEquality.VirtualServerLevelEqual(oldOptions, newOptions))
            vsDifferences.Add(("options", "…", "…"));
        var vsChanged = vsDifferences.Count > 0 || removedServices.Count > 0 || editedServices.Count > 0 || addedServices.Count > 0;
        var sorryEqual = SorryEqual(vs.Sorry, next.Sorry);
        var anyRs = removedRs.Count > 0 || plans.Any(p => !p.Same);

        vs.Options = newOptions;
        if (!vsChanged && sorryEqual && !anyRs)
        {
            // Identical: keep every state, touch nothing; refresh the options objects (SourceLocation may have moved).
            foreach (var p in plans)
            {
                p.Live!.Options = p.Next.Options;
                run.Kept.Add($"RS {p.Live.Name} of VS {vs.Name}");
            }
            run.Kept.Add($"VS {vs.Name}");
            vs.Services = keptServices;
            return;
        }

        if (vsChanged)
        {
            if (removedServices.Count > 0)
                vsDifferences.Add(("services removed", "", string.Join(", ", removedServices.Select(s => IpvsMapping.Text(s.Key)))));
            if (addedServices.Count > 0)
                vsDifferences.Add(("services added", "", string.Join(", ", addedServices.Select(s => IpvsMapping.Text(s.Key)))));
            var detail = Describe(vsDifferences);
            var actions = new List<string>();
            actions.AddRange(removedServices.Select(s => $"remove service {IpvsMapping.Text(s.Key)}"));
            actions.AddRange(editedServices.Select(s => $"edit service {IpvsMapping.Text(s.Key)}"));
            actions.AddRange(addedServices.Select(s => $"add service {IpvsMapping.Text(s.Key)}"));
            _logger.ReloadUpdatingVirtualServer(vs.Name, detail);
            Journal(ReloadKind, vs, null, OldStates(vsDifferences), NewStates(vsDifferences), $"{ReloadReason}: {detail}",
                actions.Count > 0 ? string.Join("; ", actions) : "none");
            run.Changes.Add(new ReloadChange(ReloadObjectKind.VirtualServer, ReloadChangeKind.Changed, vs.Name, null, detail));
            foreach (var svc in removedServices)
                _cs.Operations.Add(IpvsOperation.DeleteService(svc.Key));
            foreach (var svc in editedServices)
                _cs.Operations.Add(IpvsOperation.EditService(svc));
        }
        else
        {
            run.Kept.Add($"VS {vs.Name}");
        }
        // Until the added services are populated below, real-server operations go to the services both configurations have.
        vs.Services = keptServices;

        foreach (var rs in removedRs)
            RemoveRealServer(vs, rs, run);

        var realServers = new List<RsState>(plans.Count);
        foreach (var p in plans)
        {
            if (p.Live is null)
            {
                var rs = p.Next;
                rs.Vs = vs;
                realServers.Add(rs);
                AddRealServer(vs, rs, run);
            }
            else
            {
                realServers.Add(p.Live);
                UpdateRealServer(vs, p, run);
            }
        }
        vs.RealServers.Clear();
        vs.RealServers.AddRange(realServers);

        // Quorum, hysteresis and weights are re-evaluated once, with the new options (and the running sorry server).
        UpdateQuorumState(vs, init: false);

        if (!sorryEqual)
            ReplaceSorryServer(vs, next.Sorry, run);
        else if (vs.Sorry is { } keptSorry)
            run.Kept.Add($"sorry server {keptSorry.Name} of VS {vs.Name}");

        foreach (var svc in addedServices)
        {
            _cs.Operations.Add(IpvsOperation.AddService(svc));
            foreach (var d in vs.CurrentDestinations())
                _cs.Operations.Add(IpvsOperation.AddDestination(svc.Key, d));
        }
        vs.Services = next.Services;
    }

    // ---------------------------------------------------------------- real servers

    private RsPlan PlanRealServer(RsState live, RsState next, bool scriptGlobalsChanged)
    {
        var oldDest0 = live.Destination(0);
        var checkersEqual = CheckersEqual(live, next, scriptGlobalsChanged);
        // The common case first, without building the field texts: same options, same derived destination and inhibit,
        // same checkers — every field RsFields compares is then equal.
        if (checkersEqual && live.Inhibit == next.Inhibit && oldDest0 == next.Destination(0)
            && live.Vs.Options.ForwardingMethod == next.Vs.Options.ForwardingMethod && Equals(live.Vs.Options.Tunnel, next.Vs.Options.Tunnel)
            && OptionsEquality.RealServerLevelEqual(live.Options, next.Options))
            return new RsPlan(live, next, oldDest0, new(), checkersEqual);
        var differences = Differences(RsFields(live), RsFields(next));
        if (!checkersEqual && !differences.Any(d => d.What == "checkers"))
        {
            var kinds = Kinds(next);
            differences.Add(("checkers", kinds, kinds + " (changed)"));
        }
        if (differences.Count == 0 && (!OptionsEquality.RealServerLevelEqual(live.Options, next.Options) || oldDest0 != next.Destination(0)))
            differences.Add(("options", "…", "…"));
        return new RsPlan(live, next, oldDest0, differences, checkersEqual);
    }

    private static bool CheckersEqual(RsState live, RsState next, bool scriptGlobalsChanged)
    {
        if (live.Checkers.Count != next.Checkers.Count)
            return false;
        for (var i = 0; i < live.Checkers.Count; i++)
        {
            var a = live.Checkers[i];
            var b = next.Checkers[i];
            if (!OptionsEquality.CheckerEqual(a.Options, b.Options) || a.Settings != b.Settings)
                return false;
            if (a.Options is HttpCheckOptions &&
                !string.Equals(live.Options.Virtualhost ?? live.Vs.Options.Virtualhost, next.Options.Virtualhost ?? next.Vs.Options.Virtualhost, StringComparison.Ordinal))
                return false;
            if (a.Options is MiscCheckOptions && scriptGlobalsChanged)
                return false;
        }
        return true;
    }

    /// <summary>A real server the reload removes loses its operator override (persisted as removed).</summary>
    private void DropOverride(RsState rs)
    {
        _timed.Remove(rs);
        if (!rs.Operator.IsSet)
            return;
        rs.Operator.Clear();
        Persist(rs);
    }

    private void AddRealServer(VsState vs, RsState rs, ReloadRun run)
    {
        run.Changes.Add(new ReloadChange(ReloadObjectKind.RealServer, ReloadChangeKind.Added, vs.Name, rs.Name, ""));
        InitRealServer(rs, reload: true);
        run.Started.AddRange(rs.Checkers);
    }

    private void RemoveRealServer(VsState vs, RsState rs, ReloadRun run)
    {
        run.Retire(rs);
        if (rs.Set)
            _logger.ServiceStateChange("Removing", rs.Name, "from", vs.Name);
        Journal(ReloadKind, vs, rs.Name, rs.Alive ? "up" : "down", "removed", ReloadReason, rs.Set ? "removed from IPVS" : "none");
        run.Changes.Add(new ReloadChange(ReloadObjectKind.RealServer, ReloadChangeKind.Removed, vs.Name, rs.Name, ""));
        DropOverride(rs);
        if (rs.Set)
        {
            RemoveDestinations(vs, rs.Destination(0));
            rs.Set = false;
        }
        if (rs.Alive)
        {
            rs.Alive = false;
            RunNotify(rs.Options.NotifyDown, wait: false);
            RsRemovedNotification(rs, stopping: false);
        }
    }

    /// <summary>
    /// A real server in both configurations. Its up/down state is kept. Weight, inhibit_on_failure, forwarding method
    /// and thresholds are applied with at most one IPVS operation (edit, or add/remove when inhibit_on_failure changes
    /// whether a down server stays in the table). A changed checker definition restarts all its checkers; the new ones
    /// start in the server's current state (up: all up, the usual retries before it goes down; down: all down, every
    /// one must succeed) and count as having run, so no notify script runs until the state really changes.
    /// </summary>
    private void UpdateRealServer(VsState vs, RsPlan plan, ReloadRun run)
    {
        var rs = plan.Live!;
        var next = plan.Next;
        if (plan.Same)
        {
            rs.Options = next.Options;
            run.Kept.Add($"RS {rs.Name} of VS {vs.Name}");
            return;
        }
        var detail = Describe(plan.Differences);
        var oldWeight = vs.WeightInIpvs(rs);
        var oldDest = plan.OldDest0! with { Weight = oldWeight };
        if (rs.Options.Weight != next.Options.Weight)
            rs.EffectiveWeight = next.Options.Weight; // else keep the running weight (misc_dynamic may have set it)
        rs.Options = next.Options;
        rs.Inhibit = next.Inhibit;

        var newWeight = vs.WeightInIpvs(rs);
        var newDest = rs.Destination(newWeight);
        var wantSet = rs.Inhibit || (rs.Alive && !vs.SorryServing);
        Action? op = null;
        string action;
        if (wantSet && !rs.Set)
        {
            action = $"added to IPVS with weight {newWeight}";
            op = () => AddDestinations(vs, newDest);
            rs.Set = true;
        }
        else if (!wantSet && rs.Set)
        {
            action = "removed from IPVS";
            op = () => RemoveDestinations(vs, newDest);
            rs.Set = false;
        }
        else if (rs.Set && oldDest != newDest)
        {
            action = oldWeight != newWeight ? $"weight {oldWeight} -> {newWeight}" : "destination edited";
            op = () => EditDestinations(vs, newDest);
        }
        else
        {
            action = "none";
        }
        if (!plan.CheckersEqual)
            action += "; checkers restarted, state kept";

        _logger.ReloadUpdatingRealServer(rs.Name, vs.Name, detail);
        Journal(ReloadKind, vs, rs.Name, OldStates(plan.Differences), NewStates(plan.Differences), $"{ReloadReason}: {detail}", action);
        run.Changes.Add(new ReloadChange(ReloadObjectKind.RealServer, ReloadChangeKind.Changed, vs.Name, rs.Name, detail));
        if (op is not null)
            op();

        if (!plan.CheckersEqual)
        {
            run.Retire(rs);
            var checkers = new List<CheckerState>(next.Checkers.Count);
            foreach (var c in next.Checkers)
            {
                checkers.Add(new CheckerState(rs, c.Options, c.Settings, c.Index)
                {
                    IsUp = rs.Alive || (rs.Operator.Mode != OperatorMode.None && rs.NumFailedCheckers == 0), // held out by the operator, checks fine
                    HasRun = true,
                    LastReason = "configuration reload: state kept",
                });
            }
            rs.Checkers = checkers;
            rs.NumFailedCheckers = checkers.Count(c => !c.IsUp);
            run.Started.AddRange(checkers);
            if (!rs.Alive && checkers.Count == 0)
                PerformServerState(rs, true, $"{ReloadReason}: no checker left");
        }
    }

    // ---------------------------------------------------------------- sorry server

    private static bool SorryEqual(SorryState? a, SorryState? b) =>
        a is null ? b is null : b is not null && a.Name == b.Name && a.Destination == b.Destination && a.Inhibit == b.Inhibit;

    /// <summary>
    /// Replaces the sorry server (added, removed or changed). A sorry server that was serving is replaced in place (the
    /// pool stays empty); a new one while quorum is down starts serving; removing a serving one puts the alive real
    /// servers back.
    /// </summary>
    private void ReplaceSorryServer(VsState vs, SorryState? next, ReloadRun run)
    {
        var old = vs.Sorry;
        var wasActive = old is { Alive: true };
        var activate = next is not null && (wasActive || !vs.QuorumUp);
        var change = old is null ? ReloadChangeKind.Added : next is null ? ReloadChangeKind.Removed : ReloadChangeKind.Changed;
        var name = next?.Name ?? old!.Name;
        var actions = new List<string>();
        if (old is { Set: true })
            actions.Add($"remove {old.Name}");
        if (next is not null)
        {
            if (activate)
                actions.Add((wasActive ? "" : "alive real servers removed; ") + $"add {next.Name} with weight {next.Destination.Weight}");
            else if (next.Inhibit)
                actions.Add($"add {next.Name} with weight 0 (sorry_server_inhibit)");
        }
        else if (wasActive)
        {
            actions.Add("alive real servers added back");
        }
        var detail = change switch
        {
            ReloadChangeKind.Added => "added",
            ReloadChangeKind.Removed => "removed",
            _ => old!.Name == next!.Name ? "changed" : $"{old.Name} -> {next.Name}",
        };
        _logger.SorryServer(change == ReloadChangeKind.Removed ? "Removing" : change == ReloadChangeKind.Added ? "Adding" : "Updating", name,
            change == ReloadChangeKind.Removed ? "from" : change == ReloadChangeKind.Added ? "to" : "of", vs.Name);
        Journal(ReloadKind, vs, name, old is null ? "absent" : wasActive ? "in" : "out", next is null ? "removed" : activate ? "in" : "out",
            $"{ReloadReason}: sorry server {detail}", actions.Count > 0 ? string.Join("; ", actions) : "none");
        run.Changes.Add(new ReloadChange(ReloadObjectKind.SorryServer, change, vs.Name, name, detail));

        if (old is { Set: true })
        {
            RemoveDestinations(vs, old.Destination);
            old.Set = false;
        }
        if (old is not null)
            old.Alive = false;
        vs.Sorry = next;
        if (next is not null)
        {
            if (activate)
            {
                if (!wasActive)
                    PerformQuorumState(vs, add: false);
                SorryAdd(vs, next);
                next.Alive = true;
            }
            else if (next.Inhibit)
            {
                AddDestinations(vs, next.Destination with { Weight = 0 });
                next.Set = true;
            }
        }
        else if (wasActive)
        {
            PerformQuorumState(vs, add: true);
        }
    }

    // ---------------------------------------------------------------- identities and differences

    private static string VsKey(VirtualServerOptions o)
    {
        var proto = Format.Proto(o.Protocol);
        if (o.Group is not null)
            return $"group {o.Group} {o.Port ?? 0} {proto}";
        if (o.FirewallMark is uint mark)
            return $"fwmark {mark} {o.IpFamily?.ToString() ?? "-"} {proto}";
        return $"{o.Address} {o.Port ?? 0} {proto}";
    }

    private static string RsKey(RsState rs) => Format.Endpoint(rs.Options.Address, rs.Options.Port ?? rs.Vs.Options.Port ?? 0);

    private static List<(string Key, T Item)> Keyed<T>(IEnumerable<T> items, Func<T, string> key)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var list = new List<(string, T)>();
        foreach (var item in items)
        {
            var k = key(item);
            seen.TryGetValue(k, out var n);
            seen[k] = n + 1;
            list.Add((n == 0 ? k : $"{k}#{n}", item));
        }
        return list;
    }

    private static string OnOff(bool b) => b ? "on" : "off";

    private static string Seconds(TimeSpan? t) => t is { } v ? v.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s" : "default";

    private static string Script(ScriptOptions? s) => s is null ? "none" : s.User is null ? s.Command : $"{s.Command} ({s.User}{(s.Group is null ? "" : ":" + s.Group)})";

    private static List<(string What, string Value)> VsFields(VirtualServerOptions o) =>
    [
        ("lb_algo", o.Scheduler),
        ("scheduler flags", o.SchedulerFlags.ToString()),
        ("ops", OnOff(o.OnePacketScheduling)),
        ("persistence_timeout", o.PersistenceTimeout is { } p ? Seconds(p) : "none"),
        ("persistence_granularity", o.PersistenceGranularity?.ToString() ?? "none"),
        ("persistence_engine", o.PersistenceEngine ?? "none"),
        ("lvs_method", o.ForwardingMethod.ToString()),
        ("tunnel", o.Tunnel?.ToString() ?? "none"),
        ("ip_family", o.IpFamily?.ToString() ?? "auto"),
        ("group members", string.Join(",", o.GroupEntries.Select(e => e.FirewallMark is uint m ? $"fwmark {m}" : $"{e.Address}{(e.AddressEnd is null ? "" : "-" + e.AddressEnd)}{(e.Port is { } port ? ":" + port : "")}"))),
        ("quorum", o.Quorum.ToString(CultureInfo.InvariantCulture)),
        ("hysteresis", o.Hysteresis.ToString(CultureInfo.InvariantCulture)),
        ("quorum_up", Script(o.QuorumUp)),
        ("quorum_down", Script(o.QuorumDown)),
        ("ha_suspend", OnOff(o.HaSuspend)),
        ("alpha", OnOff(o.Alpha)),
        ("omega", OnOff(o.Omega)),
        ("smtp_alert", OnOff(o.SmtpAlert)),
        ("inhibit_on_failure", OnOff(o.InhibitOnFailure)),
        ("virtualhost", o.Virtualhost ?? "none"),
        ("delay_loop", Seconds(o.DelayLoop)),
        ("connect_timeout", Seconds(o.ConnectTimeout)),
        ("retry", o.Retry?.ToString(CultureInfo.InvariantCulture) ?? "default"),
        ("delay_before_retry", Seconds(o.DelayBeforeRetry)),
        ("warmup", Seconds(o.Warmup)),
    ];

    private static string Kinds(RsState rs) => rs.Checkers.Count == 0 ? "none" : string.Join("+", rs.Checkers.Select(c => c.Options.Keyword));

    private static List<(string What, string Value)> RsFields(RsState rs) =>
    [
        ("weight", rs.Options.Weight.ToString(CultureInfo.InvariantCulture)),
        ("inhibit_on_failure", OnOff(rs.Inhibit)),
        ("lvs_method", (rs.Options.ForwardingMethod ?? rs.Vs.Options.ForwardingMethod).ToString()),
        ("tunnel", (rs.Options.Tunnel ?? rs.Vs.Options.Tunnel)?.ToString() ?? "none"),
        ("uthreshold", rs.Options.UpperThreshold.ToString(CultureInfo.InvariantCulture)),
        ("lthreshold", rs.Options.LowerThreshold.ToString(CultureInfo.InvariantCulture)),
        ("notify_up", Script(rs.Options.NotifyUp)),
        ("notify_down", Script(rs.Options.NotifyDown)),
        ("smtp_alert", OnOff(rs.Options.SmtpAlert)),
        ("checkers", Kinds(rs)),
    ];

    private static List<(string What, string Old, string New)> Differences(List<(string What, string Value)> a, List<(string What, string Value)> b)
    {
        var list = new List<(string, string, string)>();
        for (var i = 0; i < a.Count; i++)
        {
            if (!string.Equals(a[i].Value, b[i].Value, StringComparison.Ordinal))
                list.Add((a[i].What, a[i].Value, b[i].Value));
        }
        return list;
    }

    private static string Describe(List<(string What, string Old, string New)> d) =>
        string.Join(", ", d.Select(x => x.Old.Length == 0 ? $"{x.What} {x.New}" : $"{x.What} {x.Old} -> {x.New}"));

    private static string OldStates(List<(string What, string Old, string New)> d) =>
        string.Join("; ", d.Where(x => x.Old.Length > 0).Select(x => $"{x.What} {x.Old}"));

    private static string NewStates(List<(string What, string Old, string New)> d) =>
        string.Join("; ", d.Select(x => $"{x.What} {x.New}"));
}
