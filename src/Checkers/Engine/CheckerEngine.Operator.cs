using System.Globalization;
using Lb.Checkers.Logging;
using Lb.Checkers.Operator;
using Lb.Netlink.Ipvs;

namespace Lb.Checkers.Engine;

/// <summary>
/// Operator overrides (<c>lb rs disable|enable|weight|drain</c>) and slow start, decided like everything else: each
/// returns a <see cref="ChangeSet"/> (journal kind <c>operator</c> with who did it, the IPVS work, the override to persist).
/// A disabled or draining server is held out of the pool: a successful check cannot bring it back, a failed one still
/// takes it down. Timed work (a ramp's steps, a drain's end) is decided by <see cref="OnOperatorTick"/>, which the
/// subsystem calls every <see cref="TickInterval"/> while there is any, with the active connections it read from the kernel.
/// </summary>
internal sealed partial class CheckerEngine
{
    private const string OperatorKind = "operator";

    /// <summary>How often ramps step and draining servers' connections are read.</summary>
    public static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);

    // Servers ramping or draining (the subsystem ticks while this is not empty).
    private readonly HashSet<RsState> _timed = new();

    /// <summary>Whether a ramp or a drain is in progress.</summary>
    public bool HasTimedWork => _timed.Count > 0;

    /// <summary>How a pool change made by the operator is journalled (instead of keepalived's <c>real_server</c> entry).</summary>
    private sealed record OperatorJournal(string Old, string New, string? By);

    // ---------------------------------------------------------------- lookup

    /// <summary>The real server a command names, or null with the reason.</summary>
    public RsState? Find(string vsText, string rsText, out string error)
    {
        error = "";
        if (!VirtualServerSelector.TryParse(vsText, out var sel))
        {
            error = $"{vsText}: not a virtual server (ip:port, [ipv6]:port, fwmark:N or group:NAME)";
            return null;
        }
        if (!EndpointText.TryParse(rsText, out var address, out var port))
        {
            error = $"{rsText}: not a real server (ip:port or [ipv6]:port)";
            return null;
        }
        var vss = VirtualServers.Where(v => Matches(v.Options, sel)).ToList();
        if (vss.Count == 0)
        {
            error = $"{vsText}: no such virtual server";
            return null;
        }
        if (vss.Count > 1)
        {
            error = $"{vsText}: ambiguous, it names {string.Join(", ", vss.Select(v => v.Name))}";
            return null;
        }
        var vs = vss[0];
        var rss = vs.RealServers.Where(r => r.Options.Address.Equals(address) && (port is null || (r.Options.Port ?? vs.Options.Port ?? 0) == port)).ToList();
        if (rss.Count != 1)
        {
            error = rss.Count == 0 ? $"{rsText}: no such real server in {vs.Name}" : $"{rsText}: ambiguous in {vs.Name}, give its port";
            return null;
        }
        return rss[0];
    }

    private static bool Matches(Options.VirtualServerOptions o, VirtualServerSelector sel)
    {
        if (sel.Group is not null)
            return string.Equals(o.Group, sel.Group, StringComparison.Ordinal);
        if (sel.FirewallMark is uint mark)
            return o.Group is null && o.FirewallMark == mark;
        return o.Group is null && o.FirewallMark is null && sel.Address!.Equals(o.Address) && (o.Port ?? 0) == sel.Port;
    }

    /// <summary>The command-line form of a virtual server: <c>10.0.0.100:80</c>, <c>fwmark:1</c>, <c>group:NAME</c>.</summary>
    public static string ShortName(VsState vs) =>
        vs.Options.Group is { } g ? $"group:{g}"
        : vs.Options.FirewallMark is uint m ? $"fwmark:{m}"
        : Format.Endpoint(vs.Options.Address!, vs.Options.Port ?? 0);

    /// <summary>The command-line form of a real server: <c>10.0.0.11:80</c>.</summary>
    public static string ShortName(RsState rs) => Format.Endpoint(rs.Options.Address, rs.Options.Port ?? rs.Vs.Options.Port ?? 0);

    // ---------------------------------------------------------------- commands

    /// <summary>Decides one operator command on <paramref name="rs"/>; returns the change set and the outcome in words.</summary>
    public (ChangeSet Changes, RealServerCommandResult Result) Operate(RsState rs, RealServerCommand cmd)
    {
        var op = rs.Operator;
        var vs = rs.Vs;
        var old = op.StateText;
        var now = _time.GetUtcNow();
        string text;
        switch (cmd.Action)
        {
            case RealServerAction.Disable:
                if (op.Mode == OperatorMode.Disabled)
                    return (Take(), new(true, "already disabled"));
                op.RampWeight = null;
                if (rs.Alive)
                    PerformServerState(rs, false, cmd.CommandLine, new OperatorJournal(old, "disabled", cmd.By));
                else
                    Journal(OperatorKind, vs, rs.Name, old, "disabled", cmd.CommandLine, "none (not in the pool)", cmd.By);
                SetMode(rs, OperatorMode.Disabled, cmd.By, now);
                text = rs.Set ? "disabled, in IPVS with weight 0 (inhibit_on_failure)" : "disabled, not in IPVS";
                break;

            case RealServerAction.Enable:
            {
                if (!op.IsSet)
                    return (Take(), new(true, $"already enabled, {PoolText(rs)}"));
                var wasDraining = op.Mode == OperatorMode.Draining;
                var before = vs.WeightInIpvs(rs);
                op.Clear();
                if (!rs.Alive)
                {
                    if (rs.NumFailedCheckers == 0)
                        PerformServerState(rs, true, cmd.CommandLine, new OperatorJournal(old, "enabled", cmd.By));
                    else
                        Journal(OperatorKind, vs, rs.Name, old, "enabled", cmd.CommandLine, "none (its checks say down)", cmd.By);
                }
                else
                {
                    if (wasDraining)
                        StartRamp(rs);
                    var after = vs.WeightInIpvs(rs);
                    var edit = rs.Set && after != before;
                    Journal(OperatorKind, vs, rs.Name, old, "enabled", cmd.CommandLine, edit ? $"weight {before} -> {after}{RampNote(rs)}" : "none", cmd.By);
                    if (edit)
                        EditDestinations(vs, rs.Destination(after));
                    UpdateQuorumState(vs, init: false);
                }
                text = "enabled, " + PoolText(rs);
                break;
            }

            case RealServerAction.Weight:
            {
                if (op.Mode != OperatorMode.None)
                    return (Take(), new(false, $"is {op.StateText}: enable it first"));
                var weight = cmd.Weight ?? 0;
                var before = vs.WeightInIpvs(rs);
                op.Weight = weight;
                op.By = cmd.By;
                op.Since = now;
                var after = vs.WeightInIpvs(rs);
                var edit = rs.Set && after != before;
                Journal(OperatorKind, vs, rs.Name, old, op.StateText, cmd.CommandLine,
                    edit ? $"weight {before} -> {after}" : rs.Alive ? "none" : "none (takes effect when the server is in the pool)", cmd.By);
                if (edit)
                    EditDestinations(vs, rs.Destination(after));
                UpdateQuorumState(vs, init: false);
                text = $"weight {weight} (configured {rs.Options.Weight}), " + PoolText(rs);
                break;
            }

            case RealServerAction.Drain:
            {
                if (op.Mode == OperatorMode.Disabled)
                    return (Take(), new(true, "already disabled"));
                var timeout = cmd.Timeout ?? RealServerCommand.DefaultDrainTimeout;
                op.RampWeight = null;
                if (!rs.Set)
                {
                    // Not in IPVS (down, or the sorry server serves): nothing to drain.
                    if (rs.Alive)
                        PerformServerState(rs, false, cmd.CommandLine, new OperatorJournal(old, "disabled", cmd.By));
                    else
                        Journal(OperatorKind, vs, rs.Name, old, "disabled", cmd.CommandLine, "none (not in IPVS: nothing to drain)", cmd.By);
                    SetMode(rs, OperatorMode.Disabled, cmd.By, now);
                    text = "disabled, not in IPVS (nothing to drain)";
                    break;
                }
                var before = vs.WeightInIpvs(rs);
                SetMode(rs, OperatorMode.Draining, cmd.By, now);
                op.Deadline = now + timeout;
                op.Active = null;
                _timed.Add(rs);
                Journal(OperatorKind, vs, rs.Name, old, "draining", cmd.CommandLine,
                    (before != 0 ? $"weight {before} -> 0; " : "") + $"removed when its active connections reach 0, at the latest at {op.Deadline.Value.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} UTC", cmd.By);
                if (before != 0)
                    EditDestinations(vs, rs.Destination(0));
                UpdateQuorumState(vs, init: false);
                text = "draining, weight 0";
                break;
            }

            default:
                return (Take(), new(false, $"unknown action {cmd.Action}"));
        }
        _logger.OperatorAction(cmd.By, cmd.CommandLine, rs.Name, vs.Name, rs.Operator.StateText, text);
        Persist(rs);
        _touched.Add(vs);
        return (Take(), new(true, text));
    }

    private static void SetMode(RsState rs, OperatorMode mode, string? by, DateTimeOffset now)
    {
        rs.Operator.Mode = mode;
        rs.Operator.By = by;
        rs.Operator.Since = now;
        if (mode != OperatorMode.Draining)
        {
            rs.Operator.Deadline = null;
            rs.Operator.Active = null;
        }
    }

    /// <summary>Where the server is now, for a command's answer: <c>in IPVS with weight 10</c>, <c>down (its checks fail)</c>.</summary>
    private static string PoolText(RsState rs)
    {
        if (!rs.Alive)
            return rs.Operator.Mode == OperatorMode.None ? "down (its checks fail), not in the pool" : "not in the pool";
        if (!rs.Set)
            return "up, not in IPVS (the sorry server serves)";
        var w = rs.Vs.WeightInIpvs(rs);
        return rs.Operator.RampWeight is not null ? $"in IPVS with weight {w}, slow start to {rs.FullWeight} over {rs.Operator.RampDuration.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s" : $"in IPVS with weight {w}";
    }

    private static string RampNote(RsState rs) =>
        rs.Operator.RampWeight is not null ? $" (slow start to {rs.FullWeight} over {rs.Operator.RampDuration.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s)" : "";

    /// <summary>Queues the server's override (or its removal) for the host's operator-state file.</summary>
    private void Persist(RsState rs) => _cs.OverrideWrites.Add((RealServerOverride.Key(rs.Vs.Name, rs.Name), Override(rs)));

    private static RealServerOverride? Override(RsState rs)
    {
        var op = rs.Operator;
        if (!op.IsSet)
            return null;
        return new RealServerOverride
        {
            State = op.Mode switch { OperatorMode.Disabled => "disabled", OperatorMode.Draining => "draining", _ => "enabled" },
            Weight = op.Weight,
            Deadline = op.Mode == OperatorMode.Draining ? op.Deadline : null,
            By = op.By,
            Since = op.Since,
        };
    }

    // ---------------------------------------------------------------- restore (start-up)

    /// <summary>
    /// Before <see cref="Init"/>: the persisted overrides of the servers still configured (a drain continues with what is
    /// left of its deadline). Returns the keys that match no real server (the caller drops them).
    /// </summary>
    public IReadOnlyList<string> Restore(IReadOnlyDictionary<string, RealServerOverride> overrides)
    {
        var byKey = new Dictionary<string, RsState>(StringComparer.Ordinal);
        foreach (var vs in VirtualServers)
        {
            foreach (var rs in vs.RealServers)
                byKey.TryAdd(RealServerOverride.Key(vs.Name, rs.Name), rs);
        }
        var unknown = new List<string>();
        foreach (var (key, o) in overrides)
        {
            if (!byKey.TryGetValue(key, out var rs))
            {
                unknown.Add(key);
                continue;
            }
            var op = rs.Operator;
            op.Mode = o.State switch { "disabled" => OperatorMode.Disabled, "draining" => OperatorMode.Draining, _ => OperatorMode.None };
            op.Weight = o.Weight is int w ? Math.Clamp(w, 0, 65535) : null;
            op.By = o.By;
            op.Since = o.Since;
            if (op.Mode == OperatorMode.Draining)
            {
                op.Deadline = o.Deadline ?? _time.GetUtcNow();
                _timed.Add(rs);
            }
            _logger.OperatorRestored(rs.Name, rs.Vs.Name, op.StateText);
        }
        return unknown;
    }

    // ---------------------------------------------------------------- slow start and drain progress

    /// <summary>Starts the slow-start ramp of a server coming up (weight 1 now), when it has one.</summary>
    private void StartRamp(RsState rs)
    {
        var op = rs.Operator;
        if (rs.SlowStart is not { } ss || ss.Duration <= TimeSpan.Zero || rs.FullWeight <= 1)
        {
            op.RampWeight = null;
            return;
        }
        op.RampWeight = 1;
        op.RampStart = _time.GetUtcNow();
        op.RampDuration = ss.Duration;
        _timed.Add(rs);
    }

    /// <summary>The servers draining now, with where to read their connections (called under the gate).</summary>
    public List<(RsState Rs, IReadOnlyList<IpvsServiceKey> Services, IpvsDestinationKey Destination)> Draining() =>
        _timed.Where(rs => rs.Operator.Mode == OperatorMode.Draining && rs.Set)
            .Select(rs => (rs, (IReadOnlyList<IpvsServiceKey>)rs.Vs.Services.Select(s => s.Key).ToList(), rs.Destination(0).Key)).ToList();

    /// <summary>
    /// One tick: each ramp steps to weight × elapsed / duration (at least 1; the full weight at the end); each draining
    /// server whose active connections (<paramref name="active"/>, as read from the kernel; absent: unknown) are 0, that
    /// left IPVS meanwhile, or whose deadline passed is removed and disabled.
    /// </summary>
    public ChangeSet OnOperatorTick(IReadOnlyDictionary<RsState, long> active)
    {
        var now = _time.GetUtcNow();
        foreach (var rs in _timed.ToList())
        {
            var vs = rs.Vs;
            var op = rs.Operator;
            if (!vs.RealServers.Contains(rs) || !VirtualServers.Contains(vs))
            {
                _timed.Remove(rs); // removed by a reload
                continue;
            }
            if (op.Mode == OperatorMode.Draining)
            {
                var known = active.TryGetValue(rs, out var n);
                if (known && op.Active != n)
                {
                    op.Active = n;
                    _touched.Add(vs);
                }
                string? why = !rs.Set ? "no longer in IPVS"
                    : known && n == 0 ? "no active connections left"
                    : now >= op.Deadline ? $"deadline reached with {(known ? n.ToString(CultureInfo.InvariantCulture) : "unknown")} active connections"
                    : null;
                if (why is not null)
                    FinishDrain(rs, why);
                continue;
            }
            if (op.RampWeight is not int ramp)
            {
                _timed.Remove(rs);
                continue;
            }
            var before = vs.WeightInIpvs(rs);
            var elapsed = now - op.RampStart;
            if (elapsed >= op.RampDuration)
            {
                op.RampWeight = null;
                _timed.Remove(rs);
                _logger.SlowStartDone(rs.Name, vs.Name, rs.FullWeight);
            }
            else
            {
                op.RampWeight = Math.Max(1, (int)((Int128)rs.FullWeight * elapsed.Ticks / op.RampDuration.Ticks));
                if (op.RampWeight == ramp)
                    continue;
            }
            _touched.Add(vs);
            var after = vs.WeightInIpvs(rs);
            if (rs.Set && after != before)
                EditDestinations(vs, rs.Destination(after));
        }
        return Take();
    }

    private void FinishDrain(RsState rs, string why)
    {
        var op = rs.Operator;
        _timed.Remove(rs);
        _logger.DrainDone(rs.Name, rs.Vs.Name, why);
        var reason = $"drain done: {why}";
        if (rs.Alive)
            PerformServerState(rs, false, reason, new OperatorJournal("draining", "disabled", op.By));
        else
            Journal(OperatorKind, rs.Vs, rs.Name, "draining", "disabled", reason, rs.Set ? "none (in IPVS with weight 0: inhibit_on_failure)" : "none (not in IPVS)", op.By);
        SetMode(rs, OperatorMode.Disabled, op.By, _time.GetUtcNow());
        Persist(rs);
        _touched.Add(rs.Vs);
    }

    /// <summary>The operator override in words for the status (null: none).</summary>
    private static string? OperatorText(RsState rs)
    {
        var op = rs.Operator;
        return op.Mode switch
        {
            OperatorMode.Disabled => "disabled",
            OperatorMode.Draining => $"draining ({(op.Active is long n ? n.ToString(CultureInfo.InvariantCulture) : "?")} active, deadline {op.Deadline!.Value.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)})",
            _ => op.Weight is int w ? $"weight {w}" : null,
        };
    }

    /// <summary>The ramp in words for the status (null: not ramping).</summary>
    private static string? SlowStartText(RsState rs) =>
        rs.Operator.RampWeight is int r && rs.Operator.Mode == OperatorMode.None ? $"weight {Math.Min(r, rs.FullWeight)} of {rs.FullWeight}" : null;
}
