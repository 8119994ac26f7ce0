using Lb.Checkers.Engine;
using Lb.Checkers.Ipvs;
using Lb.Checkers.Journal;
using Lb.Checkers.Logging;
using Lb.Checkers.Options;
using Lb.Scripts;
using Microsoft.Extensions.Logging;

namespace Lb.Checkers;

/// <summary>
/// The checker subsystem (keepalived's checker process): programs the virtual servers into IPVS, runs every checker on
/// its own schedule and adds, removes or re-weights real servers as keepalived 2.2.7 does. Every state change is
/// journalled (fsynced) before the IPVS operation is issued, logged with keepalived's text, and raised as
/// <see cref="StateChanged"/>.
/// </summary>
public sealed class CheckerSubsystem : IAsyncDisposable
{
    private CheckerSubsystemOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private ICheckFactory _checks;
    private readonly Random _random;
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Start, reload and stop take this one at a time (a second reload waits for the first).
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly Func<CheckerSubsystemOptions, (ICheckFactory Checks, IScriptRunner Scripts)>? _rebuildProbes;
    private long _reloadsRequested;
    private long _reloadApplied;
    private readonly CheckerEngine _engine;
    private readonly List<(Task Loop, CheckerState Checker)> _loops = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<JournalEntry> _pendingChanges = new();
    private CancellationTokenSource? _cts;
    private bool _started;
    private bool _stopped;
    private int _disposed;

    /// <summary>Creates the subsystem. <paramref name="httpClientFactory"/> should have the client registered by
    /// <see cref="CheckerServiceCollectionExtensions.AddLbCheckers"/>; null: a private handler per HTTP check.</summary>
    public CheckerSubsystem(CheckerSubsystemOptions options, IIpvsDestinations ipvs, IJournal journal, ILoggerFactory loggerFactory,
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
    public CheckerSubsystem(CheckerSubsystemOptions options, IIpvsDestinations ipvs, IJournal journal, ILoggerFactory loggerFactory,
        TimeProvider timeProvider, ICheckFactory checkFactory, IScriptRunner scriptRunner, Random? random = null)
    {
        _options = options;
        _time = timeProvider;
        _logger = loggerFactory.CreateLogger("Lb.Checkers");
        _checks = checkFactory;
        _random = random ?? Random.Shared;
        _engine = new CheckerEngine(options, ipvs, journal, _logger, timeProvider, scriptRunner);
        _engine.Changed += e => _pendingChanges.Enqueue(e);
    }

    /// <summary>
    /// Raised after each state change (real server up/down/weight, quorum, sorry server) is journalled and applied,
    /// outside the subsystem's lock (a handler may call <see cref="GetSnapshot"/>), in order.
    /// </summary>
    public event EventHandler<JournalEntry>? StateChanged;

    /// <summary>
    /// For <c>ha_suspend</c>: tells whether a virtual address is configured on this host (src/Lb wires it to the
    /// rtnetlink address list). While it is not, checkers of virtual servers with <c>ha_suspend</c> skip their rounds,
    /// as keepalived disables them. Null: never suspend. Set before <see cref="StartAsync"/>.
    /// </summary>
    public Func<System.Net.IPAddress, bool>? IsLocalAddress { get; set; }

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
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await _engine.InitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
            RaiseChanges();
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
    /// journal entry. Added, removed and changed objects are applied one by one, each journalled (kind <c>reload</c>,
    /// reason <c>configuration reload</c>) before its IPVS operations; quorum, hysteresis and the sorry server are then
    /// re-evaluated once per changed virtual server. See src/Checkers/README.md for every case.
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
            if (_stopped)
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
                applied = await _engine.ReloadAsync(next, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
            RaiseChanges();

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
            return applied.Result;
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
        });
        c.Stop = CancellationTokenSource.CreateLinkedTokenSource(_cts!.Token);
        _loops.Add((LoopAsync(c, round, c.Stop.Token), c));
    }

    private async Task LoopAsync(CheckerState c, CheckRound round, CancellationToken ct)
    {
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
                    await TimerDelay.DelayAsync(_time, c.Settings.DelayLoop, ct).ConfigureAwait(false);
                    continue;
                }
                var (outcome, retries) = await round.RunAsync(c.RetriesForNextRound(), ct).ConfigureAwait(false);
                await _gate.WaitAsync(ct).ConfigureAwait(false);
                bool retired;
                try
                {
                    // A reload may have removed or replaced this checker while the round ran: its result is discarded.
                    retired = c.Retired;
                    if (!retired)
                        await _engine.OnRoundCompletedAsync(c, outcome, retries, ct).ConfigureAwait(false);
                }
                finally
                {
                    _gate.Release();
                }
                if (retired)
                    break;
                RaiseChanges();
                if (!outcome.Success)
                {
                    if (c.Settings.LogAllFailures)
                        _logger.CheckAttemptFailed(c.Options.Keyword, c.Rs.Name, outcome.Reason);
                    else
                        _logger.CheckAttemptFailedDebug(c.Options.Keyword, c.Rs.Name, outcome.Reason);
                }
                // Arm the next round before telling observers, so a test that reacts by advancing its clock fires it.
                var next = TimerDelay.DelayAsync(_time, c.Settings.DelayLoop, ct);
                CheckCompleted?.Invoke(this, new CheckCompletedEvent(c.Rs.Vs.Name, c.Rs.Name, c.Options.Keyword, c.Index, outcome.Success, outcome.Reason, retries));
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
    /// Stops every checker, removes what was added from IPVS (per <c>lvs_flush_on_stop</c>) and, with <c>omega</c>,
    /// runs the notify_down and quorum_down scripts and waits for them.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_started || _stopped)
                return;
            _stopped = true;
        }
        finally
        {
            _lifecycle.Release();
        }
        if (_cts is not null)
            await _cts.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops.Select(l => l.Loop)).WaitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (_, c) in _loops)
            c.Stop?.Dispose();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _engine.ShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
        RaiseChanges();
        await _engine.PendingNotifies().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The current state of every virtual server, real server and checker.</summary>
    public CheckerSnapshot GetSnapshot()
    {
        _gate.Wait();
        try
        {
            return new CheckerSnapshot(_time.GetUtcNow(), _engine.VirtualServers.Select(vs => new VirtualServerStatus(
                vs.Name, vs.QuorumUp, vs.LiveWeight(), vs.Sorry?.Name, vs.SorryActive,
                vs.RealServers.Select(rs => new RealServerStatus(rs.Name, rs.Alive, rs.Set, rs.EffectiveWeight, rs.LastReason,
                    rs.Checkers.Select(c => new CheckerStatus(c.Options.Keyword, c.IsUp, c.HasRun, c.LastCheck, c.LastReason)).ToList())).ToList())).ToList());
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The IPVS table this subsystem wants right now: its services and, for each, the destinations it has added with
    /// their current weights (0 for inhibited ones). Equal to what the IPVS operations issued so far have built, so
    /// src/Lb can reconcile a kernel dump against it (start-up after a crash, audits).
    /// </summary>
    public IReadOnlyList<DesiredService> GetDesiredTable()
    {
        _gate.Wait();
        try
        {
            var list = new List<DesiredService>();
            foreach (var vs in _engine.VirtualServers)
            {
                if (!vs.Added)
                    continue;
                var dests = vs.CurrentDestinations();
                foreach (var svc in vs.Services)
                    list.Add(new DesiredService(svc, dests));
            }
            return list;
        }
        finally
        {
            _gate.Release();
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

    private void RaiseChanges()
    {
        // Several loops may drain concurrently; a lock keeps the events in journal order.
        lock (_pendingChanges)
        {
            while (_pendingChanges.TryDequeue(out var e))
                StateChanged?.Invoke(this, e);
        }
    }

    /// <summary>Notify scripts still running (tests).</summary>
    internal Task PendingNotifies() => _engine.PendingNotifies();

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
            _gate.Dispose();
            _lifecycle.Dispose();
        }
    }
}
