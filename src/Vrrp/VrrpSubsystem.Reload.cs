using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Reload;
using Lb.Scripts;
using Lb.Vrrp.Tracking;

namespace Lb.Vrrp;

/// <summary>Hitless reload (SIGHUP): see <see cref="ReloadAsync"/> and src/Vrrp/README.md "Reload".</summary>
public sealed partial class VrrpSubsystem
{
    /// <summary>
    /// Options of an instance whose change needs a restart of that instance: they decide its socket,
    /// what goes on the wire to identify it, or its address family.
    /// </summary>
    private static readonly HashSet<string> HardInstanceFields = new(StringComparer.Ordinal)
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
    private static readonly (string Name, Func<VrrpSubsystemOptions, object?> Get, string Consequence)[] RestartOnlyGlobals =
    [
        (nameof(VrrpSubsystemOptions.NotifyFifo), o => o.NotifyFifo, "the notify FIFO in use is kept until a restart"),
        (nameof(VrrpSubsystemOptions.NotifyFifoScript), o => o.NotifyFifoScript, "the running notify_fifo_script is kept until a restart"),
        (nameof(VrrpSubsystemOptions.StartupDelay), o => o.StartupDelay, "vrrp_startup_delay only applies at start-up"),
        (nameof(VrrpSubsystemOptions.MaxAutoPriority), o => o.MaxAutoPriority, "max_auto_priority applies from the next start"),
        (nameof(VrrpSubsystemOptions.MinAutoPriorityDelay), o => o.MinAutoPriorityDelay, "min_auto_priority_delay applies from the next start"),
        (nameof(VrrpSubsystemOptions.RealtimePriority), o => o.RealtimePriority, "vrrp_rt_priority applies from the next start"),
        (nameof(VrrpSubsystemOptions.NoSwap), o => o.NoSwap, "vrrp_no_swap applies from the next start"),
    ];

    private enum Plan
    {
        Keep,
        Add,
        Remove,
        Soft,
        Hard,
    }

    private sealed record InstancePlan(string Name, Plan Kind, InstanceSettings? Next, IReadOnlyList<TrackerBinding>? Bindings, IReadOnlyList<string> Fields)
    {
        public InstanceRuntime? Old { get; init; }

        public InstanceRuntime? New { get; set; }
    }

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

    private async Task<VrrpReloadResult> ReloadCoreAsync(VrrpSubsystemOptions next, CancellationToken ct)
    {
        var old = _options;
        var changes = new List<VrrpReloadChange>();
        var warnings = new List<string>();
        var running = _started && !_stopped;

        // ---- plan (no side effects) ----
        var runtimes = _runtimes;
        var nextNames = next.Instances.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var plans = new List<InstancePlan>();
        foreach (var o in old.Instances.Where(o => !nextNames.Contains(o.Name)))
            plans.Add(new InstancePlan(o.Name, Plan.Remove, null, null, []) { Old = runtimes[o.Name] });
        foreach (var n in next.Instances)
        {
            var settings = InstanceSettings.Resolve(n, next);
            var bindings = TrackingState.BindingsFor(n, next);
            if (!runtimes.TryGetValue(n.Name, out var rt))
            {
                plans.Add(new InstancePlan(n.Name, Plan.Add, settings, bindings, []));
                continue;
            }
            var fields = InstanceDifferences(rt.Machine.Settings, settings);
            var bindingsChanged = !OptionsComparer.Same(rt.Bindings, bindings);
            var kind = fields.Any(HardInstanceFields.Contains) ? Plan.Hard
                : fields.Count > 0 || bindingsChanged ? Plan.Soft
                : Plan.Keep;
            if (bindingsChanged && !fields.Contains("Tracking"))
                fields = [.. fields, "Tracking"];
            plans.Add(new InstancePlan(n.Name, kind, settings, bindings, fields) { Old = rt });
        }
        var globalFields = OptionsComparer.Differences(old with { Instances = [], SyncGroups = [], Scripts = [], TrackFiles = [], TrackProcesses = [] }, next with { Instances = [], SyncGroups = [], Scripts = [], TrackFiles = [], TrackProcesses = [] });
        foreach (var (name, get, consequence) in RestartOnlyGlobals)
        {
            if (globalFields.Contains(name) && running)
            {
                _logger.ReloadNeedsRestart(name, consequence);
                warnings.Add($"{name} changed - {consequence}");
            }
        }

        // ---- first values of the trackers about to (re)start: file and /proc I/O stays outside the engine lock ----
        var firstValues = running ? await ReadTrackersAsync(next, ct).ConfigureAwait(false) : null;

        // ---- prepare the runtimes of added and restarted instances (sockets; not visible to the engine yet) ----
        var fresh = plans.Where(p => p.Kind is Plan.Add or Plan.Hard).ToList();
        try
        {
            foreach (var p in fresh)
            {
                var rt = new InstanceRuntime(_engine.CreateMachine(p.Next!), p.Bindings!);
                p.New = rt;
                if (running)
                {
                    await AttachAsync(rt, ct, register: false).ConfigureAwait(false);
                    rt.StartWorker(_cts.Token);
                }
            }
        }
        catch
        {
            foreach (var p in fresh.Where(p => p.New is not null))
                p.New!.Dispose();
            CloseUnusedSockets();
            throw;
        }

        // ---- apply, in one critical section of the engine lock ----
        var retired = new List<InstanceRuntime>();
        lock (_engine.Gate)
        {
            var now = _time.GetUtcNow();
            void Journal(VrrpReloadObject obj, string name, VrrpReloadAction action, IReadOnlyList<string> fields)
            {
                var c = new VrrpReloadChange(now, obj, name, action, fields);
                changes.Add(c);
                _logger.ReloadApplied(c.ToString());
                try
                {
                    _events.OnReloadApplied(c);
                }
                catch (Exception ex)
                {
                    _logger.ActionFailed("vrrp", "journal reload change", ex.Message);
                }
            }

            // 1. stop removed and restarted instances, as at shutdown
            foreach (var p in plans.Where(p => p.Kind is Plan.Remove or Plan.Hard))
            {
                var rt = p.Old!;
                rt.Machine.Stop();
                _engine.Remove(rt.Machine);
                retired.Add(rt);
                if (p.Kind == Plan.Remove)
                    Journal(VrrpReloadObject.Instance, p.Name, VrrpReloadAction.Removed, []);
            }

            // 2. globals
            _options = next;
            _engine.Options = next;
            _notify.Update(next);
            foreach (var f in globalFields)
                Journal(VrrpReloadObject.Global, f, VrrpReloadAction.ChangedInPlace, [f]);

            // 3. soft changes, in place
            foreach (var p in plans.Where(p => p.Kind == Plan.Soft))
            {
                ApplySoft(p.Old!, p.Next!, p.Bindings!);
                Journal(VrrpReloadObject.Instance, p.Name, VrrpReloadAction.ChangedInPlace, p.Fields);
            }

            // 4. register added and restarted instances (not started yet)
            foreach (var p in fresh)
            {
                var rt = p.New!;
                _engine.Add(rt.Machine);
                _byMachine[rt.Machine] = rt;
                if (rt.SocketEntry is { } entry)
                {
                    lock (_sockets)
                        entry.ByVrid[(byte)rt.Machine.Settings.Options.VirtualRouterId] = rt.Machine;
                }
                // a restarted instance's address work runs after the old one's (its VIP removal comes first)
                if (p.Old is { } predecessor)
                {
                    var barrier = predecessor.Barrier();
                    rt.Enqueue(wct => barrier.WaitAsync(TimeSpan.FromSeconds(10), wct));
                }
            }
            foreach (var rt in retired)
            {
                if (rt.SocketEntry is { } entry)
                {
                    lock (_sockets)
                    {
                        var vrid = (byte)rt.Machine.Settings.Options.VirtualRouterId;
                        if (entry.ByVrid.TryGetValue(vrid, out var m) && m == rt.Machine)
                            entry.ByVrid.Remove(vrid);
                    }
                }
            }
            var map = new Dictionary<string, InstanceRuntime>(StringComparer.Ordinal);
            foreach (var p in plans.Where(p => p.Kind != Plan.Remove))
                map[p.Name] = p.New ?? p.Old!;
            _runtimes = map;

            // 5. sync groups
            var groupsToStart = new List<SyncGroupCoordinator>();
            var groupsToResync = new List<SyncGroupCoordinator>();
            var nextGroups = next.SyncGroups.Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var g in _engine.Groups.Values.Where(g => !nextGroups.Contains(g.Name)).ToArray())
            {
                if (running)
                    g.Stopped();
                _engine.RemoveGroup(g);
                Journal(VrrpReloadObject.SyncGroup, g.Name, VrrpReloadAction.Removed, []);
            }
            foreach (var go in next.SyncGroups)
            {
                if (!_engine.Groups.TryGetValue(go.Name, out var g))
                {
                    groupsToStart.Add(_engine.CreateGroup(go));
                    Journal(VrrpReloadObject.SyncGroup, go.Name, VrrpReloadAction.Added, []);
                    continue;
                }
                var members = go.Members.Where(_engine.Instances.ContainsKey).Select(n => _engine.Instances[n]).ToArray();
                var fields = OptionsComparer.Differences(g.Options, go).ToList();
                var sameMembers = members.Length == g.Members.Count && members.Zip(g.Members).All(x => ReferenceEquals(x.First, x.Second));
                if (fields.Count == 0 && sameMembers)
                    continue;
                g.Options = go;
                if (!sameMembers)
                {
                    g.SetMembers(members);
                    groupsToResync.Add(g);
                    if (!fields.Contains(nameof(VrrpSyncGroupOptions.Members)))
                        fields.Add(nameof(VrrpSyncGroupOptions.Members));
                }
                Journal(VrrpReloadObject.SyncGroup, go.Name, VrrpReloadAction.ChangedInPlace, fields);
            }

            // 6. trackers: unchanged keep their state, changed restart, unused stop
            var touched = running ? SyncTrackers(old, next, Journal, firstValues!) : [];

            // 7. tracking of changed instances and of those whose trackers changed; new ones as at start-up
            foreach (var rt in _runtimes.Values)
            {
                var p = plans.First(x => x.Name == rt.Machine.Name);
                if (p.Kind is Plan.Add or Plan.Hard)
                    Reevaluate(rt, "init");
                else if (p.Kind == Plan.Soft || rt.Bindings.Any(b => touched.Contains((b.Kind, b.Name))))
                    Reevaluate(rt, "reload");
            }

            // 8. start added and restarted instances, then the groups
            if (running)
            {
                foreach (var p in fresh)
                {
                    p.New!.Machine.Start();
                    Journal(VrrpReloadObject.Instance, p.Name, p.Kind == Plan.Add ? VrrpReloadAction.Added : VrrpReloadAction.Restarted, p.Fields);
                }
                foreach (var g in groupsToStart)
                    g.Started();
                foreach (var g in groupsToResync)
                    g.Resync("reload: membership changed");
            }
            else
            {
                foreach (var p in fresh)
                    Journal(VrrpReloadObject.Instance, p.Name, p.Kind == Plan.Add ? VrrpReloadAction.Added : VrrpReloadAction.Restarted, p.Fields);
            }
        }

        // ---- the address work of soft changes (VIPs added/removed in place) is done when the reload returns ----
        var softWork = plans.Where(p => p.Kind == Plan.Soft).Select(p => p.Old!.Barrier()).ToArray();
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
            rt.Dispose();
            lock (_engine.Gate)
                _byMachine.Remove(rt.Machine);
        }
        if (retired.Count > 0)
            CloseUnusedSockets();
        if (changes.Count == 0)
            _logger.ReloadNoChange();
        return new VrrpReloadResult
        {
            Changes = changes,
            Kept = plans.Where(p => p.Kind == Plan.Keep).Select(p => p.Name).ToArray(),
            Warnings = warnings,
        };
    }

    /// <summary>Test seam: the running machine of an instance.</summary>
    internal VrrpInstanceMachine MachineOf(string name)
    {
        lock (_engine.Gate)
            return _engine.Instances[name];
    }

    /// <summary>Names of the options that differ between two resolved settings (instance options and the globals folded in).</summary>
    private static List<string> InstanceDifferences(InstanceSettings a, InstanceSettings b)
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

    /// <summary>
    /// A soft change of a running instance: the machine takes the new settings in place; while MASTER
    /// with its VIPs set, dropped VIPs are removed and new ones added, and only the new ones are
    /// announced by gratuitous ARP / NA. Caller holds the engine lock.
    /// </summary>
    private void ApplySoft(InstanceRuntime rt, InstanceSettings next, IReadOnlyList<TrackerBinding> bindings)
    {
        var before = AllVips(rt).ToArray();
        rt.Machine.ApplySettings(next);
        rt.Bindings = bindings;
        var after = AllVips(rt).ToArray();
        if (rt.Machine.State != VrrpState.Master || !rt.Machine.VipsSet)
            return;
        var dropped = before.Where(v => !after.Any(w => OptionsComparer.Same(v, w))).ToArray();
        var added = after.Where(v => !before.Any(w => OptionsComparer.Same(v, w))).ToArray();
        foreach (var v in dropped)
            rt.Enqueue(ct => RemoveOneAsync(rt, v, ct));
        foreach (var v in added)
            rt.Enqueue(ct => AddOneAsync(rt, v, ct));
        if (added.Length > 0 && next.GarpMasterRepeat > 0)
            GarpNow(rt, next.GarpMasterRepeat, added);
    }

    /// <summary>
    /// Brings the running trackers in line with <paramref name="next"/> (at start-up <paramref name="old"/> is null):
    /// a tracker used by no instance is stopped; an unchanged one keeps its state; a changed one restarts
    /// from its initial state; a new one starts. Returns the trackers whose state was reset. Caller holds the engine lock.
    /// </summary>
    private HashSet<(TrackerKind, string)> SyncTrackers(VrrpSubsystemOptions? old, VrrpSubsystemOptions next, Action<VrrpReloadObject, string, VrrpReloadAction, IReadOnlyList<string>>? journal, TrackerFirstValues first)
    {
        var touched = new HashSet<(TrackerKind, string)>();
        var used = _runtimes.Values.SelectMany(r => r.Bindings).Select(b => (b.Kind, b.Name)).ToHashSet();
        var scriptGlobalsChanged = old is not null && (old.ScriptUser != next.ScriptUser || old.ScriptGroup != next.ScriptGroup || old.EnableScriptSecurity != next.EnableScriptSecurity);

        void Sync<T>(TrackerKind kind, VrrpReloadObject obj, IReadOnlyList<T> defs, Dictionary<string, T> running, Func<T, string> name, Func<T, T, bool> same, Action<T> start, Action<string> stop)
            where T : class
        {
            var wanted = defs.Where(d => used.Contains((kind, name(d)))).ToDictionary(name, StringComparer.Ordinal);
            foreach (var n in running.Keys.Where(n => !wanted.ContainsKey(n)).ToArray())
            {
                stop(n);
                running.Remove(n);
                _tracking.Forget(kind, n);
                touched.Add((kind, n));
                journal?.Invoke(obj, n, VrrpReloadAction.Removed, []);
            }
            foreach (var (n, d) in wanted)
            {
                if (running.TryGetValue(n, out var cur))
                {
                    if (same(cur, d))
                        continue;
                    var fields = OptionsComparer.Differences(cur, d);
                    stop(n);
                    _tracking.Forget(kind, n);
                    running[n] = d;
                    start(d);
                    touched.Add((kind, n));
                    journal?.Invoke(obj, n, VrrpReloadAction.Restarted, fields.Count > 0 ? fields : ["script_user"]);
                }
                else
                {
                    running[n] = d;
                    start(d);
                    touched.Add((kind, n));
                    journal?.Invoke(obj, n, VrrpReloadAction.Added, []);
                }
            }
        }

        Sync(TrackerKind.Script, VrrpReloadObject.Script, next.Scripts, _runningScripts, s => s.Name,
            (a, b) => OptionsComparer.Same(a, b) && !(scriptGlobalsChanged && (b.User is null || b.Group is null)),
            StartScript,
            n =>
            {
                if (_scriptTrackers.Remove(n, out var t))
                    t.Dispose();
            });
        // the first values were read before the engine lock was taken (ReadTrackersAsync): no I/O here; the
        // callers re-evaluate the instances bound to the trackers touched
        Sync(TrackerKind.File, VrrpReloadObject.TrackFile, next.TrackFiles, _runningFiles, f => f.Name, (a, b) => OptionsComparer.Same(a, b),
            f => _tracking.SetFileValue(f.Name, first.Files.GetValueOrDefault(f.Name)), _ => { });
        Sync(TrackerKind.Process, VrrpReloadObject.TrackProcess, next.TrackProcesses, _runningProcesses, p => p.Name, (a, b) => OptionsComparer.Same(a, b),
            p =>
            {
                var n = first.Processes.GetValueOrDefault(p.Name);
                _tracking.SetUp(TrackerKind.Process, p.Name, n >= p.Quorum && n <= p.QuorumMax);
            },
            _ => { });

        _polledFiles = [.. _runningFiles.Values];
        _polledProcesses = [.. _runningProcesses.Values];
        if (_polledFiles.Length > 0)
            _filePoller ??= _time.CreateTimer(_ => PollFiles(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        if (_polledProcesses.Length > 0)
            _processPoller ??= _time.CreateTimer(_ => PollProcesses(_polledProcesses), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        return touched;
    }

    private void StartScript(VrrpScriptOptions so)
    {
        if (_options.EnableScriptSecurity && ScriptInvocation.Create(so.Command, so.User, so.Group, _options.ScriptUser, _options.ScriptGroup, so.EffectiveTimeout) is var inv
            && ScriptRunner.Identity(inv, out _) is { } id && ScriptSecurity.Check(so.Command[0], id, true) is { Disabled: true } check)
        {
            _logger.InstanceWarning("vrrp", $"Disabling track script {so.Name} due to insecure ({string.Join("; ", check.Messages)})");
            return;
        }
        ScriptTracker? tracker = null;
        tracker = new ScriptTracker(so, _options, _scripts, _time, _logger, (name, up) =>
        {
            lock (_engine.Gate)
            {
                // a run that ends after its tracker was stopped or restarted by a reload reports nothing
                if (_scriptTrackers.TryGetValue(name, out var current) && current == tracker)
                    TrackerChangedLocked(TrackerKind.Script, name, up);
            }
        });
        _tracking.SetUp(TrackerKind.Script, so.Name, tracker.Up);
        _scriptTrackers[so.Name] = tracker;
        tracker.Start();
    }

    /// <summary>Closes the sockets no instance uses any more.</summary>
    private void CloseUnusedSockets()
    {
        lock (_sockets)
        {
            var inUse = _runtimes.Values.Select(r => r.SocketEntry).ToHashSet();
            foreach (var (key, entry) in _sockets.Where(kv => kv.Value.ByVrid.Count == 0 && !inUse.Contains(kv.Value)).ToArray())
            {
                entry.Socket.Dispose();
                _sockets.Remove(key);
            }
        }
    }
}
