using System.Collections.Concurrent;
using Lb.Checkers.Engine;
using Lb.Checkers.Journal;
using Lb.Checkers.Logging;
using Lb.Checkers.Operator;
using Lb.Checkers.Options;
using Lb.Netlink.Ipvs;
using Lb.Scripts;
using Microsoft.Extensions.Logging;

namespace Lb.Checkers;

/// <summary>
/// The checker subsystem (keepalived's checker process): programs the virtual servers into IPVS, runs every checker on
/// its own schedule and adds, removes or re-weights real servers as keepalived 2.2.7 does.
/// </summary>
/// <remarks>
/// Decide, then apply. The engine's decisions (start-up, each checker's round, a reload, the stop) are made under a short
/// gate and each yields a change set (journal entries, IPVS operations, scripts) that is queued, in decision order, to one
/// serial applier: it appends the change set's journal entries with one fsync, then sends its IPVS work as one batch
/// (<see cref="IIpvsTable.ApplyAsync"/>; start-up and reload: one <see cref="IIpvsTable.ReconcileAsync"/> against the
/// table Lb owns), then starts its scripts, publishes the status and raises <see cref="StateChanged"/>. The gate is never
/// held across an fsync or a netlink round trip, and status readers (<see cref="GetSnapshot"/>) never wait.
/// </remarks>
public sealed partial class CheckerSubsystem : IAsyncDisposable
{
    private CheckerSubsystemOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CheckPacer _pacer;
    private ICheckFactory _checks;
    private readonly Random _random;
    private readonly IIpvsTable _ipvs;

    // What the applier last left in the kernel: start-up reads the kernel once, a reload diffs against this (no dump).
    private readonly IpvsAppliedTable _applied;
    private readonly IJournal _journal;

    // Decisions: the engine is called under this gate only; nothing waits on I/O while holding it.
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Start, reload and stop take this one at a time (a second reload waits for the first).
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly Func<CheckerSubsystemOptions, (ICheckFactory Checks, IScriptRunner Scripts)>? _rebuildProbes;
    private long _reloadsRequested;
    private long _reloadApplied;
    private readonly CheckerEngine _engine;
    private readonly List<(Task Loop, CheckerState Checker)> _loops = new();
    private CancellationTokenSource? _cts;
    private bool _started;
    private Task? _stopping;
    private int _disposed;

    // The applier: change sets in decision order, applied one at a time by whichever caller finds it idle.
    private readonly ConcurrentQueue<(ChangeSet Set, TaskCompletionSource Done)> _queue = new();
    private int _applying;
    private Task _lastSubmitted = Task.CompletedTask;
    private readonly CancellationTokenSource _applyCancel = new();

    // Published after each applied change set; read without a lock.
    private IReadOnlyList<VirtualServerView> _published;
    private long _changeSetsApplied;
    private long _ipvsOperations;
    private long _ipvsErrors;

    // Operator overrides and slow start: a timer on the subsystem's clock, armed (under the gate) while ramps or drains run.
    private ITimer? _operatorTimer;
    private bool _operatorArmed;
    private Task _operatorTick = Task.CompletedTask;

    /// <summary>Creates the subsystem. <paramref name="httpClientFactory"/> should have the client registered by
    /// <see cref="CheckerServiceCollectionExtensions.AddLbCheckers"/>; null: a private handler per HTTP check.</summary>
    public CheckerSubsystem(CheckerSubsystemOptions options, IIpvsTable ipvs, IJournal journal, ILoggerFactory loggerFactory,
        TimeProvider timeProvider, IHttpClientFactory? httpClientFactory = null)
        : this(options, ipvs, journal, loggerFactory, timeProvider,
            new DefaultCheckFactory(options, timeProvider, httpClientFactory, new ScriptRunner(options.EnableScriptSecurity, timeProvider)),
            new ScriptRunner(options.EnableScriptSecurity, timeProvider), random: null)
    {
        // script_user / enable_script_security are baked into the probes and the runner: a reload that changes them rebuilds both.
        _rebuildProbes = o => (
            new DefaultCheckFactory(o, timeProvider, httpClientFactory, new ScriptRunner(o.EnableScriptSecurity, timeProvider)),
            new ScriptRunner(o.EnableScriptSecurity, timeProvider));
    }

    /// <summary>Creates the subsystem with explicit probes and script runner (tests, benchmarks).</summary>
    public CheckerSubsystem(CheckerSubsystemOptions options, IIpvsTable ipvs, IJournal journal, ILoggerFactory loggerFactory,
        TimeProvider timeProvider, ICheckFactory checkFactory, IScriptRunner scriptRunner, Random? random = null)
    {
        _options = options;
        _time = timeProvider;
        _logger = loggerFactory.CreateLogger("Lb.Checkers");
        _pacer = new CheckPacer(timeProvider, _logger);
        _checks = checkFactory;
        _random = random ?? Random.Shared;
        _ipvs = ipvs;
        _applied = new IpvsAppliedTable(ipvs);
        _journal = journal;
        _engine = new CheckerEngine(options, _logger, timeProvider, scriptRunner);
        _published = _engine.Views();
    }

    /// <summary>
    /// Raised after each state change (real server up/down/weight, quorum, sorry server) is journalled and applied, by the
    /// applier, in journal order, outside the subsystem's gate (a handler may call <see cref="GetSnapshot"/>).
    /// </summary>
    public event EventHandler<JournalEntry>? StateChanged;

    /// <summary>
    /// What the stop removes from IPVS: true (default) releases what Lb added (per <c>lvs_flush_onstop</c>); false
    /// (<c>-I, --dont-release-ipvs</c>) owns nothing at stop: the kernel keeps the table, as keepalived skips clear_services.
    /// </summary>
    public bool ReleaseIpvsOnStop { get; set; } = true;

    /// <summary>How long the stop waits for the checkers to end and for its IPVS removals (then it goes on, and cancels them).</summary>
    public TimeSpan StopBound { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long start-up and a reload wait for their change set to be applied before going on (and saying so).</summary>
    public TimeSpan ApplyBound { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// For <c>ha_suspend</c>: tells whether a virtual address is configured on this host (src/Lb wires it to the
    /// rtnetlink address list). While it is not, checkers of virtual servers with <c>ha_suspend</c> skip their rounds,
    /// as keepalived disables them. Null: never suspend. Set before <see cref="StartAsync"/>.
    /// </summary>
    public Func<System.Net.IPAddress, bool>? IsLocalAddress { get; set; }

    /// <summary>
    /// Raised for each FIFO line and mail keepalived's checker process would write or send (real server and virtual
    /// server up/down, the checkers' own mails), by the applier after the change set is applied, in order; the host
    /// writes the notify FIFOs and sends the mail.
    /// </summary>
    public event EventHandler<CheckerNotification>? Notified;

    /// <summary>Raised after every checker round, successful or not.</summary>
    public event EventHandler<CheckCompletedEvent>? CheckCompleted;

    /// <summary>Adds the virtual servers and the initially-up real servers to IPVS, then starts every checker.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_started)
                throw new InvalidOperationException("already started");
            _started = true;
            _cts = new CancellationTokenSource();
            var fileValues = await Files.FileCheckStart.ReadFirstValuesAsync(_engine.VirtualServers, cancellationToken).ConfigureAwait(false);
            Task applied;
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var (c, value) in fileValues)
                    _engine.SetInitialFileValue(c, value);
                applied = Submit(_engine.Init());
            }
            finally
            {
                _gate.Release();
            }
            await WaitAppliedAsync(applied, "start-up", cancellationToken).ConfigureAwait(false);
            foreach (var vs in _engine.VirtualServers)
            {
                foreach (var rs in vs.RealServers)
                {
                    foreach (var c in rs.Checkers)
                        StartChecker(c);
                }
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Applies a new configuration as a diff against the running one (SIGHUP; src/Lb parses and validates the file
    /// first and calls this only when it is valid). Virtual, real and sorry servers are matched by identity
    /// (virtual server: address/port/protocol, fwmark or group; real server: address/port within its virtual server);
    /// an object found identical keeps its state and its checkers keep their schedule, with no IPVS operation and no
    /// journal entry. Added, removed and changed objects are decided one by one, each journalled (kind <c>reload</c>,
    /// reason <c>configuration reload</c>); quorum, hysteresis and the sorry server are then re-evaluated once per changed
    /// virtual server. The journal batch is fsynced, then the kernel is brought to the result with one reconcile against
    /// the services Lb owned: only the entries that differ are sent. See src/Checkers/README.md for every case.
    /// </summary>
    /// <remarks>
    /// Reloads run one at a time (a second waits for the first) and atomically with respect to checker results (a round
    /// that ends meanwhile is applied after the reload, or discarded when its checker was removed or replaced).
    /// Reloading the same configuration twice does nothing the second time. When several reloads wait, one requested
    /// later than an already applied one is not "undone": an older request that gets its turn after a newer one was
    /// applied is skipped (<see cref="ReloadResult.Superseded"/>), so the running configuration is always the last one
    /// requested. <paramref name="cancellationToken"/> only bounds the wait for the turn; an applying reload is not
    /// cancelled half-way.
    /// </remarks>
    public async Task<ReloadResult> ReloadAsync(CheckerSubsystemOptions next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        var ticket = Interlocked.Increment(ref _reloadsRequested);
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_started)
                throw new InvalidOperationException("the checker subsystem is not started");
            if (_stopping is not null)
                throw new InvalidOperationException("the checker subsystem is stopped");
            if (ticket < _reloadApplied)
            {
                _logger.ReloadSuperseded();
                return new ReloadResult { Superseded = true };
            }
            _reloadApplied = ticket;
            _logger.Reloading(next.VirtualServers.Count);

            var previous = _options;
            EngineReload applied;
            ChangeSet changes;
            Task done;
            await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                if (_rebuildProbes is not null &&
                    (previous.ScriptUser != next.ScriptUser || previous.ScriptGroup != next.ScriptGroup || previous.EnableScriptSecurity != next.EnableScriptSecurity))
                {
                    var (checks, scripts) = _rebuildProbes(next);
                    _checks = checks;
                    _engine.Scripts = scripts;
                }
                _options = next;
                (applied, changes) = _engine.Reload(next);
                done = Submit(changes);
            }
            finally
            {
                _gate.Release();
            }
            await WaitAppliedAsync(done, "reload", CancellationToken.None).ConfigureAwait(false);

            foreach (var c in applied.Retired)
            {
                if (c.Stop is { } stop)
                    await stop.CancelAsync().ConfigureAwait(false);
            }
            for (var i = _loops.Count - 1; i >= 0; i--)
            {
                if (_loops[i].Loop.IsCompleted)
                {
                    _loops[i].Checker.Stop?.Dispose();
                    _loops.RemoveAt(i);
                }
            }
            foreach (var c in applied.Started)
                StartChecker(c);
            _logger.Reloaded(applied.Result.ToString());
            return applied.Result with { Lines = ReloadPlanText.Lines(applied.Result.Changes, changes.Ipvs, applied.Retired, applied.Started) };
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// What <see cref="ReloadAsync"/> would do with <paramref name="next"/>, without doing it (<c>lb reload --plan</c>): the
    /// reload's own decisions run on a copy of the running state (<see cref="CheckerEngine.Fork"/>), and the IPVS operations
    /// are the diff its reconcile would send, computed by the applier at the place in its queue the reload would take,
    /// against the table the reload would start from. Nothing is journalled, sent to the kernel, started or logged. Runs
    /// one at a time with reloads, start and stop. <see cref="ReloadResult.Lines"/> holds the plan.
    /// </summary>
    public async Task<ReloadResult> PlanReloadAsync(CheckerSubsystemOptions next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_started)
                throw new InvalidOperationException("the checker subsystem is not started");
            if (_stopping is not null)
                throw new InvalidOperationException("the checker subsystem is stopped");
            EngineReload planned;
            ChangeSet dryRun;
            Task done;
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                ChangeSet changes;
                (planned, changes) = _engine.Fork().Reload(next);
                dryRun = new ChangeSet { DryRun = true, Reconcile = changes.Reconcile };
                done = Submit(dryRun);
            }
            finally
            {
                _gate.Release();
            }
            KickApplier();
            await done.WaitAsync(ApplyBound, cancellationToken).ConfigureAwait(false);
            return planned.Result with { Lines = ReloadPlanText.Lines(planned.Result.Changes, dryRun.Ipvs, planned.Retired, planned.Started) };
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private void StartChecker(CheckerState c)
    {
        var rs = c.Rs;
        var target = new CheckTarget(rs.Vs.Options, rs.Options, c.Options, c.Settings);
        ICheck check;
        try
        {
            check = _checks.Create(target);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or NotSupportedException)
        {
            _logger.CheckerCrashed(c.Options.Keyword, rs.Name, ex.Message);
            return;
        }
        var timeout = c.Options is MiscCheckOptions m ? m.Timeout ?? c.Settings.DelayLoop : c.Settings.ConnectTimeout;
        var round = new CheckRound(check, timeout, c.Settings.DelayBeforeRetry, _time, reason =>
        {
            if (c.Settings.LogAllFailures)
                _logger.CheckAttemptFailed(c.Options.Keyword, c.Rs.Name, reason);
            else
                _logger.CheckAttemptFailedDebug(c.Options.Keyword, c.Rs.Name, reason);
        }, _pacer);
        c.Stop = CancellationTokenSource.CreateLinkedTokenSource(_cts!.Token);
        _loops.Add((LoopAsync(c, round, c.Stop.Token), c));
    }

    private async Task LoopAsync(CheckerState c, CheckRound round, CancellationToken ct)
    {
        using var pace = _pacer.Track();
        try
        {
            var warmup = c.Settings.Warmup;
            if (warmup > TimeSpan.Zero)
            {
                var first = TimeSpan.FromTicks((long)(_random.NextDouble() * warmup.Ticks));
                if (first > TimeSpan.Zero)
                    await TimerDelay.DelayAsync(_time, first, ct).ConfigureAwait(false);
            }
            while (!ct.IsCancellationRequested)
            {
                if (Suspended(c.Rs.Vs))
                {
                    await pace.DelayAsync(c.Settings.DelayLoop, ct).ConfigureAwait(false);
                    continue;
                }
                await pace.WaitTurnAsync(ct).ConfigureAwait(false);
                var began = _time.GetTimestamp();
                var (outcome, retries) = await round.RunAsync(c.RetriesForNextRound(), ct).ConfigureAwait(false);
                var duration = _time.GetElapsedTime(began);
                if (!round.Verdict)
                {
                    // A timeout measured while the process was late says nothing about the server: check again later.
                    await pace.DelayAsync(c.Settings.DelayLoop, ct).ConfigureAwait(false);
                    continue;
                }
                await _gate.WaitAsync(ct).ConfigureAwait(false);
                bool retired;
                try
                {
                    // A reload may have removed or replaced this checker while the round ran: its result is discarded.
                    retired = c.Retired;
                    if (!retired)
                        _ = Submit(_engine.OnRoundCompleted(c, outcome, retries, duration));
                }
                finally
                {
                    _gate.Release();
                }
                if (retired)
                    break;
                KickApplier();
                if (!outcome.Success)
                {
                    if (c.Settings.LogAllFailures)
                        _logger.CheckAttemptFailed(c.Options.Keyword, c.Rs.Name, outcome.Reason);
                    else
                        _logger.CheckAttemptFailedDebug(c.Options.Keyword, c.Rs.Name, outcome.Reason);
                }
                // Arm the next round before telling observers, so a test that reacts by advancing its clock fires it.
                var next = pace.DelayAsync(c.Settings.DelayLoop, ct);
                CheckCompleted?.Invoke(this, new CheckCompletedEvent(c.Rs.Vs.Name, c.Rs.Name, c.Options.Keyword, c.Index, outcome.Success, outcome.Reason, retries) { Duration = duration });
                await next.ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.CheckerCrashed(c.Options.Keyword, c.Rs.Name, ex.ToString());
        }
    }

    /// <summary>
    /// Stops every checker, removes what was added from IPVS (per <c>lvs_flush_on_stop</c>; nothing with
    /// <see cref="ReleaseIpvsOnStop"/> false) and, with <c>omega</c>, runs the notify_down and quorum_down scripts and
    /// waits for them. The removal itself is bounded by <see cref="StopBound"/> and is not abandoned when
    /// <paramref name="cancellationToken"/> fires: a second call (or <see cref="DisposeAsync"/>) waits for it, so whoever
    /// owns the IPVS table disposes it only after the removal is done or has given up.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task stopping;
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_started)
                return;
            stopping = _stopping ??= StopCoreAsync();
        }
        finally
        {
            _lifecycle.Release();
        }
        await stopping.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _engine.PendingNotifies().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task StopCoreAsync()
    {
        if (_cts is not null)
            await _cts.CancelAsync().ConfigureAwait(false);
        // A bound on real time (the host's stop budget), whatever clock drives the checkers.
        var bound = System.Diagnostics.Stopwatch.GetTimestamp();
        TimeSpan Left() => StopBound - System.Diagnostics.Stopwatch.GetElapsedTime(bound) is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;
        try
        {
            await Task.WhenAll(_loops.Select(l => l.Loop)).WaitAsync(StopBound).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.StopBoundExceeded("the checkers", StopBound.TotalSeconds);
        }
        foreach (var (_, c) in _loops)
            c.Stop?.Dispose();
        // No operator tick after this (a ramp or a drain in progress stops where it is; a drain resumes after a restart).
        if (_operatorTimer is { } timer)
            await timer.DisposeAsync().ConfigureAwait(false);
        await _operatorTick.WaitAsync(Left()).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _ = Submit(_engine.Shutdown(ReleaseIpvsOnStop));
        }
        finally
        {
            _gate.Release();
        }
        KickApplier();
        try
        {
            // Every change set decided so far, the stop's last.
            await _lastSubmitted.WaitAsync(Left()).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.StopBoundExceeded("the IPVS removal", StopBound.TotalSeconds);
            await _applyCancel.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The current state of every virtual server, real server and checker, as last published: never waits for the
    /// subsystem (virtual and real servers as of the last applied change set, each checker as of its last round).
    /// </summary>
    public CheckerSnapshot GetSnapshot()
    {
        var views = Volatile.Read(ref _published);
        var list = new List<VirtualServerStatus>(views.Count);
        foreach (var vs in views)
        {
            var realServers = new List<RealServerStatus>(vs.RealServers.Count);
            foreach (var rs in vs.RealServers)
                realServers.Add(new RealServerStatus(rs.Name, rs.Alive, rs.InIpvs, rs.Weight, rs.LastReason, rs.Checkers.Select(c => c.Status).ToList())
                {
                    Operator = rs.Operator,
                    SlowStart = rs.SlowStart,
                });
            list.Add(new VirtualServerStatus(vs.Name, vs.QuorumUp, vs.LiveWeight, vs.SorryServer, vs.SorryServerActive, realServers));
        }
        return new CheckerSnapshot(_time.GetUtcNow(), list)
        {
            ChangeSetsApplied = Interlocked.Read(ref _changeSetsApplied),
            IpvsOperations = Interlocked.Read(ref _ipvsOperations),
            IpvsErrors = Interlocked.Read(ref _ipvsErrors),
        };
    }

    /// <summary>
    /// The IPVS table this subsystem has decided on: its services and, for each, the destinations it has added with
    /// their current weights (0 for inhibited ones). Once the queued change sets are applied, equal to what Lb built in
    /// the kernel (tests compare it with the table; src/Lb may reconcile a dump against it).
    /// </summary>
    public IReadOnlyList<DesiredService> GetDesiredTable()
    {
        _gate.Wait();
        try
        {
            return _engine.DesiredTable().Select(v => new DesiredService(v.Service, v.Destinations)).ToList();
        }
        finally
        {
            _gate.Release();
        }
    }

    // ---------------------------------------------------------------- the applier

    /// <summary>Queues a change set; called under the gate, so the queue is in decision order. Returns when it is applied.</summary>
    private Task Submit(ChangeSet changes)
    {
        if (_engine.HasTimedWork)
            ArmOperatorTick();
        if (changes.IsEmpty)
            return _lastSubmitted;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Enqueue((changes, done));
        _lastSubmitted = done.Task;
        return done.Task;
    }

    /// <summary>Waits (bounded) for a change set submitted by start-up or a reload, pumping the queue first.</summary>
    private async Task WaitAppliedAsync(Task applied, string what, CancellationToken cancellationToken)
    {
        KickApplier();
        try
        {
            await applied.WaitAsync(ApplyBound, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.StopBoundExceeded($"applying the {what}", ApplyBound.TotalSeconds);
        }
    }

    /// <summary>
    /// Applies the queued change sets in order, unless another caller is already doing so (it will take them too).
    /// Runs inline up to the first I/O that does not complete at once; never throws.
    /// </summary>
    private void KickApplier() => _ = DrainQueueAsync();

    private async Task DrainQueueAsync()
    {
        while (!_queue.IsEmpty)
        {
            if (Interlocked.CompareExchange(ref _applying, 1, 0) != 0)
                return;
            try
            {
                while (_queue.TryDequeue(out var item))
                {
                    try
                    {
                        await ApplyAsync(item.Set).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        _logger.ApplyFailed(ex.ToString());
                    }
                    finally
                    {
                        item.Done.TrySetResult();
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _applying, 0);
            }
        }
    }

    /// <summary>One change set: journal batch (one fsync), then the IPVS batch, then status, events and scripts.</summary>
    private async Task ApplyAsync(ChangeSet changes)
    {
        if (changes.DryRun)
        {
            if (changes.Reconcile is { } plan)
            {
                try
                {
                    var (before, operations) = await _applied.PlanAsync(plan.Desired, plan.Ownership, _applyCancel.Token).ConfigureAwait(false);
                    changes.Ipvs = new IpvsReconcileOutcome(before, operations, null);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    changes.Ipvs = new IpvsReconcileOutcome(new IpvsTableSnapshot([]), [], null, ex.Message);
                }
            }
            return;
        }
        if (changes.Journal.Count > 0)
        {
            try
            {
                await _journal.AppendBatchAsync(changes.Journal, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                _logger.JournalFailed(ex.Message);
            }
        }
        foreach (var (key, value) in changes.OverrideWrites)
        {
            try
            {
                PersistOverride?.Invoke(key, value);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException or InvalidOperationException)
            {
                _logger.PersistFailed(key, ex.Message);
            }
        }
        if (changes.HasIpvsWork)
            await ApplyIpvsAsync(changes).ConfigureAwait(false);
        if (changes.Status is { } status)
            Volatile.Write(ref _published, status);
        foreach (var log in changes.LogAfterApply)
            log();
        Interlocked.Increment(ref _changeSetsApplied);
        foreach (var entry in changes.Journal)
            StateChanged?.Invoke(this, entry);
        _engine.StartScripts(changes.Scripts);
        foreach (var n in changes.Notifications)
            Notified?.Invoke(this, n);
    }

    private async Task ApplyIpvsAsync(ChangeSet changes)
    {
        var ct = _applyCancel.Token;
        try
        {
            if (changes.Flush)
            {
                Interlocked.Increment(ref _ipvsOperations);
                await _applied.FlushAsync(ct).ConfigureAwait(false);
                return;
            }
            // Start-up reads the kernel (what is there, what Lb may own); a reload sends only what differs from the table
            // Lb last applied; checker results and the stop send their operations as they are.
            IpvsApplyResult result;
            if (changes.Reconcile is { } r)
            {
                // IpvsAppliedTable.ReconcileAsync, in its two steps: the table before and the operations are kept for the reload's lines.
                var (before, operations) = await _applied.PlanAsync(r.Desired, r.Ownership, ct).ConfigureAwait(false);
                result = await _applied.ApplyAsync(operations, ct).ConfigureAwait(false);
                changes.Ipvs = new IpvsReconcileOutcome(before, operations, result.Operations);
            }
            else
            {
                result = await _applied.ApplyAsync(changes.Operations, ct).ConfigureAwait(false);
            }
            Interlocked.Add(ref _ipvsOperations, result.Operations.Count);
            foreach (var failure in result.Failures)
            {
                Interlocked.Increment(ref _ipvsErrors);
                _logger.IpvsFailed(IpvsMapping.Describe(failure.Operation), failure.Error?.Message ?? "failed");
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Interlocked.Add(ref _ipvsErrors, Math.Max(1, changes.Operations.Count));
            var what = changes.Flush ? "flush"
                : changes.Reconcile is { } r ? $"reconcile of {r.Desired.Count} services"
                : changes.Operations.Count == 1 ? IpvsMapping.Describe(changes.Operations[0])
                : $"{changes.Operations.Count} operations from {IpvsMapping.Describe(changes.Operations[0])}";
            _logger.IpvsFailed(what, ex.Message);
        }
    }

    private bool Suspended(VsState vs)
    {
        if (!vs.Options.HaSuspend || IsLocalAddress is not { } isLocal || vs.Options.Address is not { } address)
            return false;
        var suspended = !isLocal(address);
        lock (vs)
        {
            if (suspended != vs.Suspended)
            {
                vs.Suspended = suspended;
                _logger.HaSuspend(suspended ? "Suspending" : "Resuming", vs.Name);
            }
        }
        return suspended;
    }

    /// <summary>Notify scripts still running (tests).</summary>
    internal Task PendingNotifies() => _engine.PendingNotifies();

    /// <summary>What the checker pacer measured (stretch of delay_loop, lag, in flight, timeouts not counted).</summary>
    public CheckPacerSnapshot Pacing => _pacer.Snapshot();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _cts?.Dispose();
            _applyCancel.Dispose();
            _gate.Dispose();
            _pacer.Dispose();
            _lifecycle.Dispose();
        }
    }
}
