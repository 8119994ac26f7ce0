using System.Globalization;
using Lb.Checkers.Engine;
using Lb.Checkers.Logging;
using Lb.Checkers.Operator;
using Lb.Netlink;
using Lb.Netlink.Ipvs;

namespace Lb.Checkers;

/// <summary>Operator overrides (<c>lb rs</c>), their persistence, and the loop that steps slow starts and watches drains.</summary>
public sealed partial class CheckerSubsystem
{
    /// <summary>
    /// Called by the applier for each override that changed (key <see cref="RealServerOverride.Key"/>; null: removed),
    /// after the change set's journal batch and before its IPVS work; the host writes its operator-state file. Set before
    /// <see cref="StartAsync"/>.
    /// </summary>
    public Action<string, RealServerOverride?>? PersistOverride { get; set; }

    /// <summary>
    /// Before <see cref="StartAsync"/>: the persisted overrides (key <see cref="RealServerOverride.Key"/>). Those of
    /// configured real servers apply from the first IPVS programming (a disabled server is never added; a drain goes on with
    /// what is left of its deadline); the others are dropped (<see cref="PersistOverride"/> with null).
    /// </summary>
    public void RestoreOverrides(IReadOnlyDictionary<string, RealServerOverride> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        IReadOnlyList<string> unknown;
        _gate.Wait();
        try
        {
            if (_started)
                throw new InvalidOperationException("overrides are restored before the start");
            unknown = _engine.Restore(overrides);
        }
        finally
        {
            _gate.Release();
        }
        foreach (var key in unknown)
        {
            _logger.OperatorDropped(key);
            try
            {
                PersistOverride?.Invoke(key, null);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                _logger.PersistFailed(key, ex.Message);
            }
        }
    }

    /// <summary>
    /// Runs one operator command (<c>lb rs disable|enable|weight|drain</c>): decided under the gate like a checker's result
    /// (journal kind <c>operator</c> with the caller, then IPVS), persisted, and answered in one line once applied:
    /// <c>10.0.0.11:80 of 10.0.0.100:80: draining, weight 0, 3 active connections, deadline 30 s</c>. Refused (not Ok)
    /// with the reason when the servers are unknown, the arguments invalid, or the subsystem is not running.
    /// </summary>
    public async Task<RealServerCommandResult> ControlAsync(RealServerCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Action == RealServerAction.Weight && command.Weight is not (>= 0 and <= 65535))
            return new(false, $"weight {command.Weight}: must be in [0, 65535]");
        if (command.Action == RealServerAction.Drain && command.Timeout is { } t && (t < TimeSpan.Zero || t > TimeSpan.FromDays(7)))
            return new(false, $"--timeout {t.TotalSeconds}: must be in [0, 604800] seconds");
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_started || _stopping is not null)
                return new(false, "the checkers are not running");
            RsState? rs;
            string prefix;
            RealServerCommandResult result;
            Task applied;
            List<(RsState Rs, IReadOnlyList<IpvsServiceKey> Services, IpvsDestinationKey Destination)> draining = [];
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                rs = _engine.Find(command.VirtualServer, command.RealServer, out var error);
                if (rs is null)
                    return new(false, error);
                prefix = $"{CheckerEngine.ShortName(rs)} of {CheckerEngine.ShortName(rs.Vs)}: ";
                ChangeSet changes;
                (changes, result) = _engine.Operate(rs, command);
                applied = Submit(changes);
                if (command.Action == RealServerAction.Drain)
                    draining = _engine.Draining().Where(d => d.Rs == rs).ToList();
            }
            finally
            {
                _gate.Release();
            }
            await WaitAppliedAsync(applied, "operator command", cancellationToken).ConfigureAwait(false);
            var text = result.Text;
            if (draining.Count == 1 && rs.Operator.Deadline is { } deadline)
            {
                var active = await ReadActiveAsync(draining[0].Services, draining[0].Destination, new Dictionary<IpvsServiceKey, IReadOnlyList<IpvsDestinationStatus>>(), cancellationToken).ConfigureAwait(false);
                var left = deadline - _time.GetUtcNow();
                text += $", {(active is long n ? n.ToString(CultureInfo.InvariantCulture) : "unknown")} active connection{(active == 1 ? "" : "s")}, deadline {Math.Max(0, Math.Round(left.TotalSeconds)).ToString(CultureInfo.InvariantCulture)} s";
            }
            return result with { Text = prefix + text };
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Arms the next operator tick (under the gate) when a ramp or a drain is in progress and none is armed: every
    /// <see cref="CheckerEngine.TickInterval"/> on the subsystem's clock while there is such work, none otherwise.
    /// </summary>
    private void ArmOperatorTick()
    {
        if (_operatorArmed || _stopping is not null || _cts is not { IsCancellationRequested: false })
            return;
        _operatorArmed = true;
        _operatorTimer ??= _time.CreateTimer(_ => _operatorTick = OperatorTickAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _operatorTimer.Change(CheckerEngine.TickInterval, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// One tick: reads each draining server's active connections from the kernel (outside the gate), then lets the engine
    /// step the ramps and end the drains (under the gate) and queues its change set; the next tick is armed by that submit.
    /// </summary>
    private async Task OperatorTickAsync()
    {
        var ct = _cts?.Token ?? CancellationToken.None;
        try
        {
            List<(RsState Rs, IReadOnlyList<IpvsServiceKey> Services, IpvsDestinationKey Destination)> draining;
            await _gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                draining = _engine.Draining();
            }
            finally
            {
                _gate.Release();
            }
            var active = new Dictionary<RsState, long>();
            var dumps = new Dictionary<IpvsServiceKey, IReadOnlyList<IpvsDestinationStatus>>();
            foreach (var (rs, services, dest) in draining)
            {
                if (await ReadActiveAsync(services, dest, dumps, ct).ConfigureAwait(false) is long n)
                    active[rs] = n;
                else
                    _logger.DrainReadFailed(rs.Name, rs.Vs.Name, "destination not found in the kernel's table");
            }
            await _gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                _operatorArmed = false;
                if (_stopping is null)
                    _ = Submit(_engine.OnOperatorTick(active));
            }
            finally
            {
                _gate.Release();
            }
            KickApplier();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.ApplyFailed(ex.ToString());
        }
    }

    /// <summary>The active connections of a destination, summed over its services (null: unreadable or not there).</summary>
    private async Task<long?> ReadActiveAsync(IReadOnlyList<IpvsServiceKey> services, IpvsDestinationKey dest,
        Dictionary<IpvsServiceKey, IReadOnlyList<IpvsDestinationStatus>> dumps, CancellationToken ct)
    {
        long sum = 0;
        var found = false;
        foreach (var svc in services)
        {
            if (!dumps.TryGetValue(svc, out var list))
            {
                try
                {
                    list = await _ipvs.GetDestinationsAsync(svc, ct).ConfigureAwait(false);
                }
                catch (NetlinkException)
                {
                    list = [];
                }
                dumps[svc] = list;
            }
            foreach (var d in list)
            {
                if (d.Destination.Key == dest)
                {
                    sum += d.ActiveConnections;
                    found = true;
                }
            }
        }
        return found ? sum : null;
    }
}
