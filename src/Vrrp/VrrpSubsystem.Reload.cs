using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Reload;
using Lb.Vrrp.Runtime;
using Lb.Vrrp.Tracking;

namespace Lb.Vrrp;

/// <summary>
/// Hitless reload (SIGHUP): see <see cref="ReloadAsync"/> and src/Vrrp/README.md "Reload". The decisions are the
/// pure <see cref="ReloadPlanner"/>'s; this part reads the running state for it and executes its plan.
/// </summary>
public sealed partial class VrrpSubsystem
{
    /// <summary>
    /// Applies <paramref name="next"/> (already parsed and validated by the host) as a diff against the
    /// running configuration, keyed by instance, sync group, script, track file and track process name.
    /// Unchanged instances are not touched (no transition, advert, GARP, notify or address call). Added
    /// instances start as at start-up; removed ones stop as at shutdown. A changed instance is changed in
    /// place (priority, advert_int, preempt, VIPs, tracking, notify, garp settings…) or, when its
    /// interface, VRID, version, transport, source/group address or authentication changed, restarted
    /// alone. Reloads are serialized with each other and with start/stop; the engine-side changes are made
    /// in one critical section of the engine lock; the same options twice make the second a no-op.
    /// Every change is logged and passed to <see cref="IVrrpEventSink.OnReloadApplied"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The subsystem was stopped.</exception>
    public async Task<VrrpReloadResult> ReloadAsync(VrrpSubsystemOptions next, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (Volatile.Read(ref _disposed) != 0)
            throw new InvalidOperationException("the VRRP subsystem is stopped");
        await _lifecycle.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_stopped)
                throw new InvalidOperationException("the VRRP subsystem is stopped");
            return await ReloadCoreAsync(next, ct).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// What <see cref="ReloadAsync"/> would do with <paramref name="next"/>, without doing it (<c>lb reload --plan</c>): the
    /// reload's own plan (<see cref="ReloadPlanner"/>, against the running state read as the reload reads it), rendered one
    /// line per change (<see cref="ReloadPlanText"/>). Runs one at a time with reloads, start and stop; touches nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">The subsystem was stopped.</exception>
    public async Task<IReadOnlyList<string>> PlanReloadAsync(VrrpSubsystemOptions next, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (Volatile.Read(ref _disposed) != 0)
            throw new InvalidOperationException("the VRRP subsystem is stopped");
        await _lifecycle.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_stopped)
                throw new InvalidOperationException("the VRRP subsystem is stopped");
            var (snapshot, now) = TakeReloadSnapshot(_runtimes, _started && !_stopped);
            return ReloadPlanText.Lines(ReloadPlanner.Plan(snapshot, next), snapshot, now);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>The running state a reload plans against, and each instance's state now (for the plan's text).</summary>
    private (ReloadSnapshot Snapshot, Dictionary<string, InstanceNow> Now) TakeReloadSnapshot(Dictionary<string, InstanceRuntime> runtimes, bool running)
    {
        lock (_engine.Gate)
        {
            var snapshot = new ReloadSnapshot(
                _options,
                runtimes.Values.ToDictionary(r => r.Name, r => new InstanceSnapshot(r.Machine.Settings, r.Bindings), StringComparer.Ordinal),
                _engine.Groups.Values.Select(g => new GroupSnapshot(g.Name, g.Options, g.Members.Select(m => m.Name).ToArray())).ToArray(),
                _trackers.Running,
                running);
            var now = runtimes.Values.ToDictionary(r => r.Name, r => new InstanceNow(r.Machine.State, r.Machine.VipsSet), StringComparer.Ordinal);
            return (snapshot, now);
        }
    }

    private async Task<VrrpReloadResult> ReloadCoreAsync(VrrpSubsystemOptions next, CancellationToken ct)
    {
        var running = _started && !_stopped;

        // ---- plan (no side effects) ----
        var runtimes = _runtimes;
        var (snapshot, now) = TakeReloadSnapshot(runtimes, running);
        var plan = ReloadPlanner.Plan(snapshot, next);
        var lines = ReloadPlanText.Lines(plan, snapshot, now);
        foreach (var w in plan.RestartOnly)
            _logger.ReloadNeedsRestart(w.Name, w.Consequence);

        // ---- first values of the trackers about to (re)start: file and /proc I/O stays outside the engine lock ----
        var firstValues = running ? await _trackers.ReadFirstValuesAsync(plan.Trackers, ct).ConfigureAwait(false) : null;

        // ---- prepare the runtimes of added and restarted instances (sockets; not visible to the engine yet) ----
        var fresh = new List<(InstancePlan Plan, InstanceRuntime Runtime)>();
        try
        {
            foreach (var p in plan.Instances.Where(p => p.Kind is InstancePlanKind.Add or InstancePlanKind.Hard))
            {
                var rt = new InstanceRuntime(_services, p.Next!, p.Bindings!);
                fresh.Add((p, rt));
                if (running)
                {
                    await rt.AttachAsync(ct, register: false).ConfigureAwait(false);
                    rt.StartWorker(_cts.Token);
                }
            }
        }
        catch
        {
            foreach (var (_, rt) in fresh)
                rt.Dispose();
            _pool.CloseUnused(_runtimes.Values);
            throw;
        }

        // ---- apply, in one critical section of the engine lock ----
        var retired = new List<InstanceRuntime>();
        var journal = new ReloadJournal(_events, _logger);
        lock (_engine.Gate)
        {
            journal.At = _time.GetUtcNow();

            // 1. stop removed and restarted instances, as at shutdown
            foreach (var p in plan.Instances.Where(p => p.Kind is InstancePlanKind.Remove or InstancePlanKind.Hard))
            {
                var rt = runtimes[p.Name];
                rt.Machine.Stop();
                _engine.Remove(rt.Machine);
                retired.Add(rt);
                if (p.Kind == InstancePlanKind.Remove)
                    journal.Add(VrrpReloadObject.Instance, p.Name, VrrpReloadAction.Removed, []);
            }

            // 2. globals
            _options = next;
            _engine.Options = next;
            _notify.Update(next);
            foreach (var f in plan.GlobalFields)
                journal.Add(VrrpReloadObject.Global, f, VrrpReloadAction.ChangedInPlace, [f]);

            // 3. soft changes, in place: while MASTER with its VIPs set, dropped VIPs go, new ones come and only they are announced
            foreach (var p in plan.Instances.Where(p => p.Kind == InstancePlanKind.Soft))
            {
                var rt = runtimes[p.Name];
                var before = rt.Machine.Settings.Options;
                rt.Machine.ApplySettings(p.Next!);
                rt.Bindings = p.Bindings!;
                if (rt.Machine.State == VrrpState.Master && rt.Machine.VipsSet)
                {
                    _vips.ApplyDiff(rt, p.VipsRemoved, p.VipsAdded, p.Next!.GarpMasterRepeat);
                    if (before.VirtualRoutes != p.Next.Options.VirtualRoutes || before.VirtualRules != p.Next.Options.VirtualRules)
                        _routes.ApplyDiff(rt, before, p.Next.Options);
                }
                journal.Add(VrrpReloadObject.Instance, p.Name, VrrpReloadAction.ChangedInPlace, p.Fields);
            }

            // 4. register added and restarted instances (not started yet)
            foreach (var (p, rt) in fresh)
            {
                _engine.Add(rt.Machine);
                _pool.Register(rt);
                // a restarted instance's address work runs after the old one's (its VIP removal comes first)
                if (p.Kind == InstancePlanKind.Hard)
                {
                    rt.Machine.CarryAhSequence(runtimes[p.Name].Machine);
                    var barrier = runtimes[p.Name].Barrier();
                    rt.Enqueue(wct => barrier.WaitAsync(TimeSpan.FromSeconds(10), wct));
                }
            }
            foreach (var rt in retired)
                _pool.Unregister(rt);
            var map = new Dictionary<string, InstanceRuntime>(StringComparer.Ordinal);
            foreach (var p in plan.Instances.Where(p => p.Kind != InstancePlanKind.Remove))
                map[p.Name] = fresh.FirstOrDefault(f => f.Plan == p).Runtime ?? runtimes[p.Name];
            _runtimes = map;

            // 5. sync groups
            var (groupsToStart, groupsToResync) = _engine.ApplyGroups(plan.Groups, running, journal.Add);

            // 6. trackers: unchanged keep their state, changed restart, unused stop
            var touched = running
                ? _trackers.Apply(plan.Trackers, firstValues!, journal.Add)
                : [];

            // 7. tracking of changed instances and of those whose trackers changed; new ones as at start-up
            var kinds = plan.Instances.ToDictionary(p => p.Name, p => p.Kind, StringComparer.Ordinal);
            foreach (var rt in _runtimes.Values)
            {
                var kind = kinds[rt.Name];
                if (kind is InstancePlanKind.Add or InstancePlanKind.Hard)
                    _trackers.Reevaluate(rt, "init");
                else if (kind == InstancePlanKind.Soft || rt.Bindings.Any(b => touched.Contains((b.Kind, b.Name))))
                    _trackers.Reevaluate(rt, "reload");
            }

            // 8. start added and restarted instances, then the groups
            foreach (var (p, rt) in fresh)
            {
                if (running)
                    rt.Machine.Start();
                journal.Add(VrrpReloadObject.Instance, p.Name, p.Kind == InstancePlanKind.Add ? VrrpReloadAction.Added : VrrpReloadAction.Restarted, p.Fields);
            }
            if (running)
            {
                foreach (var g in groupsToStart)
                    g.Started();
                foreach (var g in groupsToResync)
                    g.Resync("reload: membership changed");
            }
        }

        // ---- the address work of soft changes (VIPs added/removed in place) is done when the reload returns ----
        var softWork = plan.Instances.Where(p => p.Kind == InstancePlanKind.Soft).Select(p => runtimes[p.Name].Barrier()).ToArray();
        try
        {
            await Task.WhenAll(softWork).WaitAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // a stuck address operation must not block the reload; later address work still queues behind it
        }

        // ---- retire: wait for the stopped instances' VIP removal, then free their worker and sockets ----
        foreach (var rt in retired)
        {
            await rt.DrainAsync(ct).ConfigureAwait(false);
            await _vmacs.ReleaseAsync(rt, ct).ConfigureAwait(false);
            rt.Dispose();
        }
        if (retired.Count > 0)
            _pool.CloseUnused(_runtimes.Values);
        if (journal.Changes.Count == 0)
            _logger.ReloadNoChange();
        return new VrrpReloadResult
        {
            Changes = journal.Changes,
            Kept = plan.Kept,
            Lines = lines,
            Warnings = plan.RestartOnly.Select(w => $"{w.Name} changed - {w.Consequence}").ToArray(),
        };
    }

    /// <summary>Test seam: the running machine of an instance.</summary>
    internal VrrpInstanceMachine MachineOf(string name)
    {
        lock (_engine.Gate)
            return _engine.Instances[name];
    }

    /// <summary>Test seam: reads of tracked files in flight (at most one per file).</summary>
    internal int TrackFileReadsInFlight => _trackers.FileReadsInFlight;
}
