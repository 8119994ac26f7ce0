using System.Net;
using System.Threading.Channels;
using Lb.Checkers;
using Lb.Checkers.Journal;
using Lb.Netlink;
using Microsoft.Extensions.Logging;

namespace Lb.Announce;

/// <summary>One VIP's announce state, for status and metrics.</summary>
/// <param name="Vip">The VIP.</param>
/// <param name="Announced">Decided announced.</param>
/// <param name="Reason">Why (see <see cref="VipDecision.Reason"/>).</param>
/// <param name="Since">When it entered this state (start for the first).</param>
/// <param name="VirtualServers">The virtual servers announcing it (their display text).</param>
/// <param name="RouteInstalled">Whether its route is in the kernel (as this process last applied it).</param>
/// <param name="ToAnnounced">Transitions to announced since start.</param>
/// <param name="ToWithdrawn">Transitions to withdrawn since start.</param>
/// <param name="LastError">The last kernel error for this VIP, cleared by the next success; null when none.</param>
public sealed record VipAnnounceStatus(
    IPAddress Vip, bool Announced, string Reason, DateTimeOffset Since, IReadOnlyList<string> VirtualServers, bool RouteInstalled,
    long ToAnnounced, long ToWithdrawn, string? LastError)
{
    public string State => Announced ? AnnouncePlan.AnnouncedState : AnnouncePlan.WithdrawnState;
}

/// <summary>The announcer's state: the table, the node's maintenance and each VIP.</summary>
public sealed record AnnounceSnapshot(uint Table, bool Maintenance, IReadOnlyList<VipAnnounceStatus> Vips);

/// <summary>
/// Announces VIPs by host routes while their virtual servers are healthy (<see cref="AnnounceOptions"/>), level-triggered:
/// every wake-up (a checker state change, a reload, maintenance, start, stop, a retry after a kernel error) recomputes
/// the decisions from the checker subsystem's published state (<see cref="AnnouncePlan.Decide"/>) and reconciles the
/// kernel with what this process installed (<see cref="AnnouncePlan.Plan"/>). Each transition is journaled (kind
/// "announce") before its kernel operation; a kernel refusal is logged with the object and the errno and retried
/// (<see cref="RetryDelay"/>), never fatal. At start it makes the VIPs local (<c>local VIP/32 dev lo table local proto
/// 249</c>, unless they are local already), sets IPVS's sloppy switches and deletes its protocol's leftovers; at stop it
/// withdraws everything and deletes the local routes it added.
/// </summary>
public sealed class Announcer : IAsyncDisposable
{
    /// <summary>The IPVS parameters active-active needs: a director that never saw the SYN still forwards mid-flow packets.</summary>
    public const string SloppyTcp = "net/ipv4/vs/sloppy_tcp";

    /// <summary>The same for SCTP.</summary>
    public const string SloppySctp = "net/ipv4/vs/sloppy_sctp";

    private readonly Func<IReadOnlyList<VirtualServerStatus>?> _status;
    private readonly Func<CancellationToken, Task<IAnnounceKernel>> _open;
    private readonly IJournal _journal;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Channel<bool> _wake = Channel.CreateUnbounded<bool>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _cts = new();
    private readonly Lock _stateLock = new();
    private readonly Dictionary<IPAddress, VipAnnounceStatus> _states = [];
    private readonly HashSet<IPAddress> _installed = [];
    private readonly HashSet<IPAddress> _madeLocal = [];
    private readonly Dictionary<IPAddress, string> _errors = [];
    private AnnounceOptions _options;
    private uint _installedTable;
    private IAnnounceKernel? _kernel;
    private bool _unavailable;
    private bool _started;
    private bool _stopping;
    private bool _stopped;
    private volatile bool _maintenance;
    private bool _sloppyTcpSet;
    private bool _sloppySctpSet;
    private ITimer? _retry;
    private ITimer? _poll;
    private Task? _loop;

    public Announcer(AnnounceOptions options, Func<IReadOnlyList<VirtualServerStatus>?> status, Func<CancellationToken, Task<IAnnounceKernel>> open,
        IJournal journal, ILogger log, TimeProvider? time = null, bool maintenance = false)
    {
        _options = options;
        _installedTable = options.Table;
        _status = status;
        _open = open;
        _journal = journal;
        _log = log;
        _time = time ?? TimeProvider.System;
        _maintenance = maintenance;
    }

    /// <summary>After a kernel error, the next evaluation runs this much later (sooner when something else wakes it).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// While a VIP waits for its real servers' first checks, how often the announcer looks again (a first round that
    /// confirms a real server changes no state, so no checker event wakes it).
    /// </summary>
    public TimeSpan AwaitingChecksPoll { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Raised after each transition is journaled (metrics, tests).</summary>
    public event Action<VipAnnounceStatus>? Changed;

    /// <summary>Whether the node is in announce maintenance.</summary>
    public bool Maintenance => _maintenance;

    /// <summary>The current state (never waits for the announcer).</summary>
    public AnnounceSnapshot Snapshot()
    {
        lock (_stateLock)
        {
            var options = _options;
            return new AnnounceSnapshot(options.Table, _maintenance, [.. options.Vips.Select(v => _states.TryGetValue(v.Address, out var s)
                ? s with { RouteInstalled = _installed.Contains(v.Address), LastError = _errors.GetValueOrDefault(v.Address) }
                : new VipAnnounceStatus(v.Address, false, "not started", _time.GetUtcNow(), [.. v.VirtualServers.Select(x => x.Display)], false, 0, 0, null))]);
        }
    }

    /// <summary>Prepares the kernel (local VIPs, sloppy switches, leftovers), announces what is healthy, then follows wake-ups.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow();
            lock (_stateLock)
            {
                foreach (var v in _options.Vips)
                    _states[v.Address] = new VipAnnounceStatus(v.Address, false, "starting", now, [.. v.VirtualServers.Select(x => x.Display)], false, 0, 0, null);
            }
            _started = true;
            if (_options.Vips.Count > 0 && await KernelAsync(cancellationToken).ConfigureAwait(false) is { } kernel)
            {
                // Local routes of an earlier run: kept (adopted) for a VIP still configured, deleted otherwise.
                try
                {
                    foreach (var vip in await kernel.ListLocalRoutesAsync(cancellationToken).ConfigureAwait(false))
                    {
                        if (_options.Vips.Any(v => v.Address.Equals(vip)))
                        {
                            _madeLocal.Add(vip);
                            continue;
                        }
                        await kernel.RemoveLocalRouteAsync(vip, cancellationToken).ConfigureAwait(false);
                        _log.LogInformation("Announce: deleted route local {Vip} table local proto {Proto} left by an earlier run", vip, AnnounceOptions.RouteProtocol);
                    }
                }
                catch (ErrnoException e)
                {
                    _log.LogError("Announce: cannot clear the local routes' leftovers: {Message}", e.Message);
                }
                await PrepareAsync(kernel, _options, cancellationToken).ConfigureAwait(false);
                // A crash's leftovers: routes of Lb's protocol in the table that are not (or not yet) announced.
                try
                {
                    var found = await kernel.ListRoutesAsync(_options.Table, cancellationToken).ConfigureAwait(false);
                    var decisions = Decide();
                    lock (_stateLock)
                    {
                        foreach (var vip in found.Where(a => decisions.Any(d => d.Announced && d.Vip.Address.Equals(a))))
                            _installed.Add(vip);
                    }
                    foreach (var stale in AnnouncePlan.Leftovers(found, decisions))
                    {
                        await kernel.DeleteRouteAsync(stale, _options.Table, cancellationToken).ConfigureAwait(false);
                        _log.LogInformation("Announce: deleted route {Vip} table {Table} proto {Proto} left by an earlier run", stale, _options.Table, AnnounceOptions.RouteProtocol);
                    }
                }
                catch (ErrnoException e)
                {
                    _log.LogError("Announce: cannot clear the announce table's leftovers: {Message}", e.Message);
                }
            }
            await EvaluateAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
        _loop = Task.Run(LoopAsync, CancellationToken.None);
    }

    /// <summary>Asks for an evaluation (a checker state change: called on the applier's thread, never blocks).</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Sets or clears the node's announce maintenance and evaluates at once; returns the VIPs' states afterwards.</summary>
    public async Task<AnnounceSnapshot> SetMaintenanceAsync(bool on, string by, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _maintenance = on;
            if (_started && !_stopped)
                await EvaluateAsync(cancellationToken, by).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
        return Snapshot();
    }

    /// <summary>A reload: VIPs no longer announced are withdrawn and their local routes (if Lb added them) deleted; new ones prepared; then one evaluation.</summary>
    public async Task ReloadAsync(AnnounceOptions options, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_stopped || !_started)
            {
                _options = options;
                return;
            }
            var old = _options;
            var gone = old.Vips.Where(o => !options.Vips.Any(n => n.Address.Equals(o.Address))).ToList();
            var now = _time.GetUtcNow();
            lock (_stateLock)
            {
                _options = options;
                foreach (var v in options.Vips)
                {
                    var servers = v.VirtualServers.Select(x => x.Display).ToList();
                    _states[v.Address] = _states.TryGetValue(v.Address, out var s)
                        ? s with { VirtualServers = servers }
                        : new VipAnnounceStatus(v.Address, false, "configuration reload", now, servers, false, 0, 0, null);
                }
            }
            IAnnounceKernel? kernel = null;
            if ((options.Vips.Count > 0 || _installed.Count > 0 || _madeLocal.Count > 0) && (kernel = await KernelAsync(cancellationToken).ConfigureAwait(false)) is not null)
                await PrepareAsync(kernel, options, cancellationToken).ConfigureAwait(false);
            // The evaluation withdraws routes of VIPs no longer configured (they are not wanted any more): journaled here.
            var entries = new List<JournalEntry>();
            lock (_stateLock)
            {
                foreach (var g in gone.Where(g => _states.TryGetValue(g.Address, out var st) && st.Announced))
                {
                    entries.Add(new JournalEntry
                    {
                        Time = now,
                        Subsystem = "announce",
                        Kind = "announce",
                        Instance = g.Prefix,
                        OldState = AnnouncePlan.AnnouncedState,
                        NewState = AnnouncePlan.WithdrawnState,
                        Reason = "configuration reload: no longer announced",
                        Action = $"route {g.Prefix} table {_installedTable} proto {AnnounceOptions.RouteProtocol} deleted",
                    });
                }
            }
            await AppendAsync(entries, cancellationToken).ConfigureAwait(false);
            await EvaluateAsync(cancellationToken, reason: "configuration reload").ConfigureAwait(false);
            foreach (var g in gone)
            {
                if (g.Address is { } vip && !_installed.Contains(vip))
                {
                    lock (_stateLock)
                        _states.Remove(vip);
                    if (kernel is not null && _madeLocal.Contains(vip))
                        await RemoveLocalAsync(kernel, vip, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Withdraws every VIP (reason "stopping") and deletes the local routes this process added. Call before IPVS is torn down.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _wake.Writer.TryComplete();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_stopped || !_started)
                return;
            _stopping = true;
            await EvaluateAsync(cancellationToken).ConfigureAwait(false);
            _stopped = true;
            if (_kernel is { } kernel)
            {
                foreach (var vip in _madeLocal.ToList())
                    await RemoveLocalAsync(kernel, vip, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task LoopAsync()
    {
        try
        {
            await foreach (var _ in _wake.Reader.ReadAllAsync(_cts.Token).ConfigureAwait(false))
            {
                // Level-triggered: a burst of wake-ups is one evaluation of the latest state.
                while (_wake.Reader.TryRead(out var _))
                {
                }
                await _gate.WaitAsync(_cts.Token).ConfigureAwait(false);
                try
                {
                    if (!_stopped && !_stopping)
                        await EvaluateAsync(_cts.Token).ConfigureAwait(false);
                }
                finally
                {
                    _gate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.LogError("Announce: the announcer stopped: {Message}", e.Message);
        }
    }

    private IReadOnlyList<VipDecision> Decide()
    {
        HashSet<IPAddress> announced;
        lock (_stateLock)
            announced = [.. _states.Values.Where(s => s.Announced).Select(s => s.Vip)];
        return AnnouncePlan.Decide(_options, _status(), _started && !_stopping, _maintenance, announced);
    }

    /// <summary>One evaluation (under the gate): decide, journal the transitions, then bring the kernel's routes to the decisions.</summary>
    private async Task EvaluateAsync(CancellationToken ct, string? by = null, string? reason = null)
    {
        var decisions = Decide();
        if (decisions.Any(d => d.AwaitingChecks))
            ArmPoll();
        var now = _time.GetUtcNow();
        var entries = new List<JournalEntry>();
        var changed = new List<VipAnnounceStatus>();
        lock (_stateLock)
        {
            foreach (var d in decisions)
            {
                var vip = d.Vip.Address;
                var servers = d.Vip.VirtualServers.Select(x => x.Display).ToList();
                if (!_states.TryGetValue(vip, out var s))
                    s = new VipAnnounceStatus(vip, false, d.Reason, now, servers, false, 0, 0, null);
                if (s.Announced == d.Announced)
                {
                    // Same state: the reason may still change (quorum down of another virtual server, maintenance while down).
                    _states[vip] = s with { Reason = d.Reason };
                    continue;
                }
                var next = s with
                {
                    Announced = d.Announced,
                    Reason = d.Reason,
                    Since = now,
                    ToAnnounced = s.ToAnnounced + (d.Announced ? 1 : 0),
                    ToWithdrawn = s.ToWithdrawn + (d.Announced ? 0 : 1),
                };
                _states[vip] = next;
                changed.Add(next);
                entries.Add(new JournalEntry
                {
                    Time = now,
                    Subsystem = "announce",
                    Kind = "announce",
                    Instance = d.Vip.Prefix,
                    OldState = s.State,
                    NewState = d.State,
                    Reason = reason is null ? d.Reason : $"{reason}: {d.Reason}",
                    Action = $"route {d.Vip.Prefix} table {_options.Table} proto {AnnounceOptions.RouteProtocol} {(d.Announced ? "added" : "deleted")}",
                    By = by,
                });
            }
        }
        foreach (var c in changed)
        {
            if (c.Announced)
                _log.LogInformation("Announce: {Vip} announced ({Reason})", c.Vip, c.Reason);
            else
                _log.LogWarning("Announce: {Vip} withdrawn ({Reason})", c.Vip, c.Reason);
        }
        await AppendAsync(entries, ct).ConfigureAwait(false);
        foreach (var c in changed)
            Changed?.Invoke(c);
        var steps = AnnouncePlan.Plan(decisions, _installed, _installedTable, _options.Table);
        if (steps.Count == 0)
            return;
        if (await KernelAsync(ct).ConfigureAwait(false) is not { } kernel)
            return;
        var failed = false;
        foreach (var step in steps)
        {
            try
            {
                if (step.Action == AnnounceAction.AddRoute)
                {
                    await kernel.AddRouteAsync(step.Vip, step.Table, ct).ConfigureAwait(false);
                    lock (_stateLock)
                        _installed.Add(step.Vip);
                }
                else
                {
                    await kernel.DeleteRouteAsync(step.Vip, step.Table, ct).ConfigureAwait(false);
                    lock (_stateLock)
                        _installed.Remove(step.Vip);
                }
                lock (_stateLock)
                    _errors.Remove(step.Vip);
            }
            catch (ErrnoException e)
            {
                failed = true;
                lock (_stateLock)
                    _errors[step.Vip] = e.Message;
                _log.LogError("Announce: {Message} (retried in {Seconds} s)", e.Message, RetryDelay.TotalSeconds);
            }
        }
        if (!failed)
            _installedTable = _options.Table;
        if (failed && !_stopping)
            ArmRetry();
    }

    private async Task AppendAsync(List<JournalEntry> entries, CancellationToken ct)
    {
        if (entries.Count == 0)
            return;
        try
        {
            await _journal.AppendBatchAsync(entries, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            _log.LogError("Journal: cannot record announce changes: {Message}", e.Message);
        }
    }

    private void ArmRetry()
    {
        _retry?.Dispose();
        _retry = _time.CreateTimer(_ => Wake(), null, RetryDelay, Timeout.InfiniteTimeSpan);
    }

    private void ArmPoll()
    {
        _poll?.Dispose();
        _poll = _time.CreateTimer(_ => Wake(), null, AwaitingChecksPoll, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The VIPs made local (unless they are) and the sloppy switches, for <paramref name="options"/>.</summary>
    private async Task PrepareAsync(IAnnounceKernel kernel, AnnounceOptions options, CancellationToken ct)
    {
        foreach (var v in options.Vips)
        {
            var vip = v.Address;
            if (_madeLocal.Contains(vip))
                continue;
            try
            {
                if (await kernel.IsLocalAsync(vip, ct).ConfigureAwait(false))
                {
                    _log.LogInformation("Announce: {Vip} is already local on this host (an address or a local route); kept as it is", vip);
                    continue;
                }
                await kernel.AddLocalRouteAsync(vip, ct).ConfigureAwait(false);
                _madeLocal.Add(vip);
                _log.LogInformation("Announce: made {Vip}/{Length} local (route local dev lo table local proto {Proto}): IPVS serves the VIP only when it is local", vip, v.PrefixLength, AnnounceOptions.RouteProtocol);
            }
            catch (ErrnoException e)
            {
                _log.LogError("Announce: cannot make {Vip} local: {Message}", vip, e.Message);
            }
        }
        if (options.Vips.Count > 0 && !_sloppyTcpSet)
            _sloppyTcpSet = SetSloppy(kernel, SloppyTcp);
        if (options.AnySctp && !_sloppySctpSet)
            _sloppySctpSet = SetSloppy(kernel, SloppySctp);
    }

    private bool SetSloppy(IAnnounceKernel kernel, string key)
    {
        var path = "/proc/sys/" + key;
        if (kernel.ReadSysctl(key) is null)
        {
            _log.LogWarning("Announce: {Path} does not exist (IPVS is not loaded): flows that move between directors will be dropped until it is 1", path);
            return false;
        }
        if (kernel.WriteSysctl(key, 1) is { } error)
        {
            _log.LogError("Announce: cannot set {Path} to 1: {Error}", path, error);
            return false;
        }
        _log.LogInformation("Announce: set {Path} = 1 (active-active: a director forwards flows it did not see start; not restored at stop)", path);
        return true;
    }

    private async Task RemoveLocalAsync(IAnnounceKernel kernel, IPAddress vip, CancellationToken ct)
    {
        try
        {
            await kernel.RemoveLocalRouteAsync(vip, ct).ConfigureAwait(false);
            _madeLocal.Remove(vip);
            _log.LogInformation("Announce: deleted route local {Vip} table local proto {Proto}", vip, AnnounceOptions.RouteProtocol);
        }
        catch (ErrnoException e)
        {
            _log.LogError("Announce: cannot delete the local route of {Vip}: {Message}", vip, e.Message);
        }
    }

    private async Task<IAnnounceKernel?> KernelAsync(CancellationToken ct)
    {
        if (_kernel is not null || _unavailable)
            return _kernel;
        try
        {
            _kernel = await _open(ct).ConfigureAwait(false);
        }
        catch (ErrnoException e)
        {
            _unavailable = true;
            _log.LogError("Announce: no VIP is announced: {Message}", e.Message);
        }
        return _kernel;
    }

    public async ValueTask DisposeAsync()
    {
        _wake.Writer.TryComplete();
        await _cts.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
            await _loop.ConfigureAwait(false);
        _retry?.Dispose();
        _poll?.Dispose();
        _kernel?.Dispose();
        _cts.Dispose();
        _gate.Dispose();
    }
}
