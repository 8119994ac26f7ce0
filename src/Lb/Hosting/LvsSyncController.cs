using System.Threading.Channels;
using Lb.Netlink;
using Lb.Netlink.Ipvs;
using Lb.Vrrp.Host;
using Microsoft.Extensions.Logging;

namespace Lb.Hosting;

/// <summary>What the controller needs of the kernel's IPVS (the netlink client; a fake in tests).</summary>
public interface ILvsSyncKernel : IDisposable
{
    Task StartSyncDaemonAsync(IpvsSyncDaemon daemon, CancellationToken cancellationToken);

    Task StopSyncDaemonAsync(IpvsSyncDaemonState state, CancellationToken cancellationToken);

    Task<IpvsTimeouts> GetTimeoutsAsync(CancellationToken cancellationToken);

    Task SetTimeoutsAsync(IpvsTimeouts timeouts, CancellationToken cancellationToken);
}

/// <summary>The netlink IPVS client as <see cref="ILvsSyncKernel"/>.</summary>
public sealed class IpvsSyncKernel(IpvsClient client) : ILvsSyncKernel
{
    public static async Task<ILvsSyncKernel> OpenAsync(CancellationToken cancellationToken) =>
        new IpvsSyncKernel(await IpvsClient.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false));

    public Task StartSyncDaemonAsync(IpvsSyncDaemon daemon, CancellationToken cancellationToken) => client.StartSyncDaemonAsync(daemon, cancellationToken);

    public Task StopSyncDaemonAsync(IpvsSyncDaemonState state, CancellationToken cancellationToken) => client.StopSyncDaemonAsync(state, cancellationToken);

    public Task<IpvsTimeouts> GetTimeoutsAsync(CancellationToken cancellationToken) => client.GetTimeoutsAsync(cancellationToken);

    public Task SetTimeoutsAsync(IpvsTimeouts timeouts, CancellationToken cancellationToken) => client.SetTimeoutsAsync(timeouts, cancellationToken);

    public void Dispose() => client.Dispose();
}

public enum LvsSyncAction
{
    Stop,
    Start,
}

/// <summary>One kernel operation of a plan: stop the daemon in <see cref="IpvsSyncDaemon.State"/>, or start <see cref="Daemon"/>.</summary>
public sealed record LvsSyncStep(LvsSyncAction Action, IpvsSyncDaemon Daemon)
{
    public override string ToString() => $"{Action.ToString().ToLowerInvariant()} {Daemon}";
}

/// <summary>
/// keepalived's sync-daemon rules as pure functions. Unbound (<c>lvs_sync_daemon IF</c>): its checker process runs the master
/// and the backup daemon together. Bound to a VRRP instance: the VRRP process starts the backup daemon when the instance
/// starts, swaps it for the master daemon on entering MASTER (<c>ipvs_syncd_master</c>: stop backup, start master) and back on
/// leaving MASTER for BACKUP or FAULT (<c>ipvs_syncd_backup</c>).
/// </summary>
public static class LvsSyncPlan
{
    /// <summary>The daemons that should run.</summary>
    /// <param name="options">The configuration.</param>
    /// <param name="runVrrp">Whether the VRRP subsystem runs (a bound daemon follows it).</param>
    /// <param name="runCheckers">Whether the checker subsystem runs (an unbound daemon runs with it, as keepalived's checker process).</param>
    /// <param name="instanceState">The bound instance's last state (null: not seen yet, which is BACKUP's daemon, as at keepalived's init).</param>
    public static IReadOnlyList<IpvsSyncDaemon> Wanted(LvsSyncOptions options, bool runVrrp, bool runCheckers, VrrpState? instanceState)
    {
        if (options.SyncDaemon is not { } d)
            return [];
        if (d.Instance is null)
            return runCheckers ? [d.Daemon(IpvsSyncDaemonState.Master), d.Daemon(IpvsSyncDaemonState.Backup)] : [];
        if (!runVrrp)
            return [];
        return [d.Daemon(instanceState == VrrpState.Master ? IpvsSyncDaemonState.Master : IpvsSyncDaemonState.Backup)];
    }

    /// <summary>
    /// The steps from <paramref name="running"/> (what this process started) to <paramref name="wanted"/>: stops first (a daemon
    /// no longer wanted, or wanted with other settings), then starts — the kernel runs one daemon per state.
    /// </summary>
    public static IReadOnlyList<LvsSyncStep> Plan(IReadOnlyDictionary<IpvsSyncDaemonState, IpvsSyncDaemon> running, IReadOnlyList<IpvsSyncDaemon> wanted)
    {
        var steps = new List<LvsSyncStep>();
        foreach (var state in new[] { IpvsSyncDaemonState.Master, IpvsSyncDaemonState.Backup })
        {
            if (running.TryGetValue(state, out var r) && !wanted.Contains(r))
                steps.Add(new LvsSyncStep(LvsSyncAction.Stop, r));
        }
        foreach (var w in wanted)
        {
            if (!running.TryGetValue(w.State, out var r) || r != w)
                steps.Add(new LvsSyncStep(LvsSyncAction.Start, w));
        }
        return steps;
    }

    /// <summary>The timeouts to set: each configured value, else the kernel's value from before Lb changed it (keepalived's libipvs).</summary>
    public static IpvsTimeouts Merge(IpvsTimeouts configured, IpvsTimeouts original) => new(
        configured.Tcp != 0 ? configured.Tcp : original.Tcp,
        configured.TcpFin != 0 ? configured.TcpFin : original.TcpFin,
        configured.Udp != 0 ? configured.Udp : original.Udp);
}

/// <summary>
/// Applies <see cref="LvsSyncOptions"/> to the kernel: the connection-sync daemons (following the bound VRRP instance's state
/// events) and the IPVS timeouts. Decisions are <see cref="LvsSyncPlan"/>'s; one loop applies them, so a VRRP event (raised on
/// the instance's thread) only records the state and wakes the loop. Every kernel refusal is logged with the daemon and the
/// errno; it never stops the daemon. At stop, the daemons this process started are stopped and the timeouts it changed restored.
/// </summary>
public sealed class LvsSyncController : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task<ILvsSyncKernel>> _open;
    private readonly ILogger _log;
    private readonly bool _runVrrp;
    private readonly bool _runCheckers;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Channel<bool> _wake = Channel.CreateUnbounded<bool>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, VrrpState> _states = new(StringComparer.Ordinal);
    private readonly Dictionary<IpvsSyncDaemonState, IpvsSyncDaemon> _running = [];
    private readonly CancellationTokenSource _cts = new();
    private LvsSyncOptions _options;
    private ILvsSyncKernel? _kernel;
    private bool _unavailable;
    private IpvsTimeouts? _original;
    private IpvsTimeouts? _applied;
    private Task? _loop;
    private bool _stopped;

    public LvsSyncController(LvsSyncOptions options, bool runVrrp, bool runCheckers, Func<CancellationToken, Task<ILvsSyncKernel>> open, ILogger log)
    {
        _options = options;
        _runVrrp = runVrrp;
        _runCheckers = runCheckers;
        _open = open;
        _log = log;
    }

    /// <summary>The daemons this process started and believes running (for status and tests).</summary>
    public IReadOnlyCollection<IpvsSyncDaemon> Running
    {
        get
        {
            lock (_states)
                return _running.Values.ToList();
        }
    }

    /// <summary>Applies the timeouts, stops daemons a previous run may have left, starts the wanted daemons; then follows events.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ApplyTimeoutsAsync(cancellationToken).ConfigureAwait(false);
            if (Wanted().Count > 0 && await KernelAsync(cancellationToken).ConfigureAwait(false) is { } kernel)
            {
                // keepalived: "stop any instances of it that may have been running if we terminated abnormally".
                foreach (var state in new[] { IpvsSyncDaemonState.Master, IpvsSyncDaemonState.Backup })
                {
                    try
                    {
                        await kernel.StopSyncDaemonAsync(state, cancellationToken).ConfigureAwait(false);
                        _log.LogInformation("Stopped an IPVS {State} sync daemon left running by an earlier run", state.ToString().ToLowerInvariant());
                    }
                    catch (NetlinkException e) when (e.Errno == Errno.ESRCH)
                    {
                    }
                    catch (NetlinkException e)
                    {
                        _log.LogError("IPVS sync daemon: {Message}", e.Message);
                    }
                }
            }
            await ReconcileAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
        _loop = Task.Run(LoopAsync, CancellationToken.None);
    }

    /// <summary>A VRRP state change (called on the instance's thread: records and wakes the loop, never blocks).</summary>
    public void OnStateChanged(VrrpStateChange change)
    {
        // STOP is the instance shutting down (or removed by a reload): the daemon is stopped with the process, not swapped.
        if (change.Kind != VrrpEntityKind.Instance || change.NewState is not (VrrpState.Master or VrrpState.Backup or VrrpState.Fault))
            return;
        lock (_states)
            _states[change.Name] = change.NewState;
        if (_options.SyncDaemon?.Instance == change.Name)
            _wake.Writer.TryWrite(true);
    }

    /// <summary>A reload: new settings; changed daemons are restarted in the bound instance's current state, timeouts re-applied.</summary>
    public async Task ReloadAsync(LvsSyncOptions options, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_stopped)
                return;
            _options = options;
            await ApplyTimeoutsAsync(cancellationToken).ConfigureAwait(false);
            await ReconcileAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the daemons this process started and restores the timeouts it changed.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _wake.Writer.TryComplete();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_stopped)
                return;
            _stopped = true;
            if (_kernel is { } kernel)
            {
                foreach (var step in LvsSyncPlan.Plan(Snapshot(), []))
                    await ApplyAsync(kernel, step, cancellationToken).ConfigureAwait(false);
                if (_applied is not null && _original is { } original)
                    await SetTimeoutsAsync(kernel, original, "restore", cancellationToken).ConfigureAwait(false);
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
                // Coalesce a burst of events: the last state decides.
                while (_wake.Reader.TryRead(out var _))
                {
                }
                await _gate.WaitAsync(_cts.Token).ConfigureAwait(false);
                try
                {
                    if (!_stopped)
                        await ReconcileAsync(_cts.Token).ConfigureAwait(false);
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
        catch (Exception e)
        {
            _log.LogError("IPVS sync daemon control stopped: {Message}", e.Message);
        }
    }

    private IReadOnlyList<IpvsSyncDaemon> Wanted()
    {
        VrrpState? state = null;
        lock (_states)
        {
            if (_options.SyncDaemon?.Instance is { } name && _states.TryGetValue(name, out var s))
                state = s;
        }
        return LvsSyncPlan.Wanted(_options, _runVrrp, _runCheckers, state);
    }

    private Dictionary<IpvsSyncDaemonState, IpvsSyncDaemon> Snapshot()
    {
        lock (_states)
            return new Dictionary<IpvsSyncDaemonState, IpvsSyncDaemon>(_running);
    }

    private async Task ReconcileAsync(CancellationToken ct)
    {
        var steps = LvsSyncPlan.Plan(Snapshot(), Wanted());
        if (steps.Count == 0 || await KernelAsync(ct).ConfigureAwait(false) is not { } kernel)
            return;
        foreach (var step in steps)
            await ApplyAsync(kernel, step, ct).ConfigureAwait(false);
    }

    private async Task ApplyAsync(ILvsSyncKernel kernel, LvsSyncStep step, CancellationToken ct)
    {
        var daemon = step.Daemon;
        try
        {
            if (step.Action == LvsSyncAction.Start)
            {
                await kernel.StartSyncDaemonAsync(daemon, ct).ConfigureAwait(false);
                lock (_states)
                    _running[daemon.State] = daemon;
                _log.LogInformation("Started IPVS {Daemon}", Describe(daemon));
            }
            else
            {
                await kernel.StopSyncDaemonAsync(daemon.State, ct).ConfigureAwait(false);
                lock (_states)
                    _running.Remove(daemon.State);
                _log.LogInformation("Stopped IPVS {Daemon}", Describe(daemon));
            }
        }
        catch (NetlinkException e) when (step.Action == LvsSyncAction.Stop && e.Errno == Errno.ESRCH)
        {
            // Stopped behind our back (ipvsadm --stop-daemon): it is not running, which is what was wanted.
            lock (_states)
                _running.Remove(daemon.State);
            _log.LogWarning("IPVS {Daemon} was not running any more", Describe(daemon));
        }
        catch (NetlinkException e)
        {
            // The request's description names the daemon; the message carries the errno name and text.
            _log.LogError("IPVS sync daemon: {Message}", e.Message);
        }
    }

    private static string Describe(IpvsSyncDaemon d)
    {
        var text = d.ToString();
        if (d.SyncMaxLength != 0)
            text += $" maxlen {d.SyncMaxLength}";
        if (d.MulticastGroup is { } g)
            text += $" group {g}";
        if (d.MulticastPort != 0)
            text += $" port {d.MulticastPort}";
        if (d.MulticastTtl != 0)
            text += $" ttl {d.MulticastTtl}";
        return text;
    }

    /// <summary>keepalived's checker start and reload: set the configured timeouts, or restore the originals when they were removed.</summary>
    private async Task ApplyTimeoutsAsync(CancellationToken ct)
    {
        var configured = _runCheckers ? _options.Timeouts : null;
        if (configured is null && _applied is null)
            return;
        if (await KernelAsync(ct).ConfigureAwait(false) is not { } kernel)
            return;
        try
        {
            _original ??= await kernel.GetTimeoutsAsync(ct).ConfigureAwait(false);
        }
        catch (NetlinkException e)
        {
            _log.LogError("IPVS timeouts: {Message}", e.Message);
            return;
        }
        if (configured is null)
        {
            await SetTimeoutsAsync(kernel, _original, "restore", ct).ConfigureAwait(false);
            _applied = null;
            return;
        }
        var wanted = LvsSyncPlan.Merge(configured, _original);
        if (wanted != _applied && await SetTimeoutsAsync(kernel, wanted, "set", ct).ConfigureAwait(false))
            _applied = wanted;
    }

    private async Task<bool> SetTimeoutsAsync(ILvsSyncKernel kernel, IpvsTimeouts timeouts, string verb, CancellationToken ct)
    {
        try
        {
            await kernel.SetTimeoutsAsync(timeouts, ct).ConfigureAwait(false);
            _log.LogInformation("IPVS timeouts {Verb}: tcp {Tcp} tcpfin {TcpFin} udp {Udp}", verb == "set" ? "set" : "restored", timeouts.Tcp, timeouts.TcpFin, timeouts.Udp);
            return true;
        }
        catch (NetlinkException e)
        {
            _log.LogError("IPVS timeouts: {Message}", e.Message);
            return false;
        }
    }

    private async Task<ILvsSyncKernel?> KernelAsync(CancellationToken ct)
    {
        if (_kernel is not null || _unavailable)
            return _kernel;
        try
        {
            _kernel = await _open(ct).ConfigureAwait(false);
        }
        catch (ErrnoException e)
        {
            // Not fatal: VRRP and the checkers run on; the sync daemon and timeouts are what is lost, and the log says so.
            _unavailable = true;
            _log.LogError("IPVS sync daemon and timeouts not applied: {Message}", e.Message);
        }
        return _kernel;
    }

    public async ValueTask DisposeAsync()
    {
        _wake.Writer.TryComplete();
        await _cts.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
            await _loop.ConfigureAwait(false);
        _kernel?.Dispose();
        _cts.Dispose();
        _gate.Dispose();
    }
}
