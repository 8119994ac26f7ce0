using Lb.Checkers.Journal;
using Lb.Checkers.Logging;
using Lb.Checkers.Options;
using Lb.Netlink.Ipvs;
using Lb.Scripts;
using Microsoft.Extensions.Logging;

namespace Lb.Checkers.Engine;

/// <summary>
/// keepalived's ipwrapper.c: real-server and virtual-server state, quorum, hysteresis and sorry server, decided without
/// I/O. Each entry point (<see cref="Init"/>, <see cref="OnRoundCompleted"/>, <see cref="Reload"/>,
/// <see cref="Shutdown"/>) returns a <see cref="ChangeSet"/>: the journal entries, the IPVS work and the scripts the
/// decision implies, for the subsystem's applier to perform (journal fsynced before the IPVS work). Not thread-safe: the
/// caller serializes calls (one gate per subsystem) and hands the change sets to the applier in the order they were made.
/// </summary>
internal sealed partial class CheckerEngine
{
    private const string Subsystem = "checkers";
    private CheckerSubsystemOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private IScriptRunner _scripts;
    private readonly List<Task> _notifies = new();
    private ChangeSet _cs = new();
    private readonly HashSet<VsState> _touched = new();
    private VirtualServerView[] _views = [];

    // The services Lb configured in the kernel (start-up, then each reload): a reload may delete those it no longer wants.
    private HashSet<IpvsServiceKey> _owned = new();

    public CheckerEngine(CheckerSubsystemOptions options, ILogger logger, TimeProvider time, IScriptRunner scripts)
    {
        _options = options;
        _logger = logger;
        _time = time;
        _scripts = scripts;
        foreach (var vso in options.VirtualServers)
            VirtualServers.Add(BuildVirtualServer(vso, options));
    }

    /// <summary>The runtime state of <paramref name="vso"/> before start-up: nothing alive, nothing in IPVS.</summary>
    private static VsState BuildVirtualServer(VirtualServerOptions vso, CheckerSubsystemOptions options)
    {
        var vs = new VsState(vso, IpvsMapping.Services(vso));
        if (vso.SorryServer is { } ss)
            vs.Sorry = new SorryState(vs, ss);
        foreach (var rso in vso.RealServers)
        {
            var rs = new RsState(vs, rso);
            for (var i = 0; i < rso.Checkers.Count; i++)
                rs.Checkers.Add(new CheckerState(rs, rso.Checkers[i], EffectiveSettings.Resolve(vso, rso, rso.Checkers[i], options.CheckerLogAllFailures), i));
            vs.RealServers.Add(rs);
        }
        return vs;
    }

    /// <summary>The runner of notify scripts (a reload that changes <c>enable_script_security</c> replaces it).</summary>
    public IScriptRunner Scripts
    {
        get => _scripts;
        set => _scripts = value;
    }

    public List<VsState> VirtualServers { get; } = new();

    /// <summary>Notify scripts started and not yet finished.</summary>
    public Task PendingNotifies()
    {
        lock (_notifies)
        {
            _notifies.RemoveAll(t => t.IsCompleted);
            return Task.WhenAll(_notifies.ToArray());
        }
    }

    // ---------------------------------------------------------------- change sets

    /// <summary>Hands over what the decisions since the last call produced, with the status of the virtual servers they touched.</summary>
    private ChangeSet Take(bool allViews = false)
    {
        var cs = _cs;
        _cs = new ChangeSet();
        if (allViews || _views.Length != VirtualServers.Count)
        {
            _views = VirtualServers.Select(View).ToArray();
            cs.Status = _views;
        }
        else if (_touched.Count > 0)
        {
            var views = (VirtualServerView[])_views.Clone();
            for (var i = 0; i < VirtualServers.Count; i++)
            {
                if (_touched.Contains(VirtualServers[i]))
                    views[i] = View(VirtualServers[i]);
            }
            _views = views;
            cs.Status = views;
        }
        _touched.Clear();
        return cs;
    }

    /// <summary>The status of every virtual server now (before start-up: nothing alive, nothing in IPVS).</summary>
    public IReadOnlyList<VirtualServerView> Views()
    {
        _views = VirtualServers.Select(View).ToArray();
        return _views;
    }

    private static VirtualServerView View(VsState vs)
    {
        var realServers = new RealServerView[vs.RealServers.Count];
        for (var i = 0; i < realServers.Length; i++)
        {
            var rs = vs.RealServers[i];
            foreach (var c in rs.Checkers)
                c.Publish();
            realServers[i] = new RealServerView(rs.Name, rs.Alive, rs.Set, rs.Operator.Weight ?? rs.EffectiveWeight, rs.LastReason, rs.Checkers.ToArray())
            {
                Operator = OperatorText(rs),
                SlowStart = SlowStartText(rs),
            };
        }
        return new VirtualServerView(vs.Name, vs.QuorumUp, vs.LiveWeight(), vs.Sorry?.Name, vs.SorryActive, realServers);
    }

    /// <summary>The table Lb wants in the kernel now: every programmed service with the destinations it has added.</summary>
    public List<IpvsVirtualServer> DesiredTable()
    {
        var byKey = new Dictionary<IpvsServiceKey, (IpvsService Service, List<IpvsDestination> Destinations)>();
        var order = new List<IpvsServiceKey>();
        foreach (var vs in VirtualServers)
        {
            if (!vs.Added)
                continue;
            var dests = vs.CurrentDestinations();
            foreach (var svc in vs.Services)
            {
                if (!byKey.TryGetValue(svc.Key, out var entry))
                {
                    entry = (svc, new List<IpvsDestination>());
                    byKey[svc.Key] = entry;
                    order.Add(svc.Key);
                }
                foreach (var d in dests)
                {
                    if (!entry.Destinations.Exists(x => x.Key == d.Key))
                        entry.Destinations.Add(d);
                }
            }
        }
        return order.Select(k => new IpvsVirtualServer(byKey[k].Service, byKey[k].Destinations)).ToList();
    }

    /// <summary>Replaces the explicit operations by one reconcile of the whole desired table against what Lb owns.</summary>
    private void ReconcileAgainst(IpvsOwnership ownership)
    {
        var desired = DesiredTable();
        _cs.Operations.Clear();
        _cs.Reconcile = (desired, ownership);
        _owned = desired.Select(d => d.Service.Key).ToHashSet();
    }

    // ---------------------------------------------------------------- start-up (init_services)

    /// <summary>Start-up: every virtual server and its initially-up real servers; one reconcile (the whole table with lvs_flush).</summary>
    public ChangeSet Init()
    {
        foreach (var vs in VirtualServers)
            InitVirtualServer(vs, reload: false);
        ReconcileAgainst(_options.LvsFlush ? IpvsOwnership.Everything : IpvsOwnership.Of(VirtualServers.SelectMany(v => v.Services).Select(s => s.Key)));
        return Take(allViews: true);
    }

    /// <summary>Programs one virtual server that is not in IPVS yet (start-up, or added by a reload).</summary>
    private void InitVirtualServer(VsState vs, bool reload)
    {
        // set_quorum_states(): nothing is alive yet.
        vs.QuorumUp = vs.LiveWeight() >= vs.Options.Quorum + vs.Options.Hysteresis;

        foreach (var svc in vs.Services)
            _cs.Operations.Add(IpvsOperation.AddService(svc));
        vs.Added = true;
        _touched.Add(vs);

        foreach (var rs in vs.RealServers)
            InitRealServer(rs, reload);

        UpdateQuorumState(vs, init: true);

        if (vs.Sorry is { Inhibit: true, Set: false } sorry)
        {
            AddDestinations(vs, sorry.Destination with { Weight = 0 });
            sorry.Set = true;
        }
    }

    /// <summary>
    /// <c>init_service_rs()</c> for one real server: alpha checkers start failed (others start up with "one failure is
    /// enough"); an up server is added with its weight, a down one only with inhibit_on_failure (weight 0). While the
    /// sorry server serves (a reload adding a server to a virtual server without quorum) an up server is not added.
    /// </summary>
    private void InitRealServer(RsState rs, bool reload)
    {
        var vs = rs.Vs;
        foreach (var c in rs.Checkers)
        {
            if (c.Settings.Alpha)
                SetCheckerState(c, false);
        }
        var disabled = rs.Operator.Mode == OperatorMode.Disabled;
        var up = rs.NumFailedCheckers == 0 && !disabled;
        var serving = !vs.SorryServing;
        // Slow start: a server a reload adds joins a serving pool; at start-up only with at_start (all start together).
        if (up && (reload || rs.SlowStart is { AtStart: true }))
            StartRamp(rs);
        var kind = reload ? ReloadKind : "real_server";
        var old = reload ? "absent" : "init";
        var reason = disabled ? $"operator: disabled{(rs.Operator.By is { } by ? $" by {by}" : "")}" : (reload, up) switch
        {
            (false, true) => "start-up",
            (false, false) => rs.Checkers.Find(x => x.Options is FileCheckOptions && !x.IsUp) is { } f ? $"FILE_CHECK: {f.LastReason}" : "alpha: down until the first successful check",
            (true, true) => ReloadReason,
            (true, false) => ReloadReason + "; alpha: down until the first successful check",
        };
        if ((up && serving) || rs.Inhibit)
        {
            var weight = up && serving ? rs.PoolWeight : 0;
            if (reload)
                _logger.ServiceStateChange("Adding", rs.Name, "to", vs.Name);
            Journal(kind, vs, rs.Name, old, up ? "up" : "down", reason,
                up && serving ? $"added with weight {weight}{RampNote(rs)}" + (rs.Operator.Mode == OperatorMode.Draining ? " (draining)" : "") : "added with weight 0 (inhibit_on_failure)");
            AddDestinations(vs, rs.Destination(weight));
            rs.Set = true;
        }
        else
        {
            Journal(kind, vs, rs.Name, old, up ? "up" : "down", reason, up ? "none (sorry server active, quorum down)" : "none");
        }
        if (up)
        {
            rs.Alive = true;
            if (_options.RsInitNotifies)
            {
                RunNotify(rs.Options.NotifyUp, wait: false);
                RsFifo(rs);
            }
        }
    }

    // ---------------------------------------------------------------- a checker's round ended (check_*.c epilogs)

    /// <summary>Applies the result of one round (an attempt plus its retries) of <paramref name="c"/>, measured as <paramref name="duration"/>.</summary>
    public ChangeSet OnRoundCompleted(CheckerState c, CheckOutcome outcome, int retriesMade, TimeSpan duration)
    {
        if (c.Retired)
            return Take(); // a reload removed or replaced this checker while its round was in flight
        c.Rounds++;
        if (!outcome.Success)
            c.Failures++;
        c.LastDuration = duration;
        c.LastCheck = _time.GetUtcNow();
        c.LastReason = outcome.Reason;
        var rs = c.Rs;
        var vs = rs.Vs;

        if (c.Options is FileCheckOptions)
            OnFileValue(c, outcome);
        else if (outcome.Success && outcome.DynamicWeight is int w)
            UpdateWeight(vs, rs, w, $"misc_dynamic weight {w}", updateQuorum: true);

        var reason = outcome.Success || retriesMade == 0 ? outcome.Reason : $"{outcome.Reason} after {retriesMade} retries";
        var (checkerWasUp, rsWasAlive) = (c.IsUp, rs.Alive);
        if (c.Options is FileCheckOptions)
        {
            // decided by OnFileValue
        }
        else if (outcome.Success)
        {
            if (!c.IsUp || !c.HasRun)
            {
                LogSuccess(c);
                UpdateCheckerState(c, true, reason);
                CheckerMailAfterRound(c, true, checkerWasUp, rsWasAlive, outcome.Reason);
            }
        }
        else if (c.IsUp || !c.HasRun)
        {
            LogFailure(c, retriesMade, outcome.Reason);
            UpdateCheckerState(c, false, reason);
            CheckerMailAfterRound(c, false, checkerWasUp, rsWasAlive, outcome.Reason);
        }
        c.RetryIt = 0;
        c.HasRun = true;
        foreach (var other in rs.Checkers)
            other.Publish();
        return Take();
    }

    private void LogSuccess(CheckerState c)
    {
        var name = c.Rs.Name;
        switch (c.Options)
        {
            case HttpCheckOptions:
                _logger.HttpSucceeded(name);
                break;
            case TcpCheckOptions:
                _logger.TcpSucceeded(name);
                break;
            case MiscCheckOptions m:
                _logger.MiscResult(c.Rs.Options.Address.ToString(), ScriptName(m.Path), "succeeded");
                break;
            case UdpCheckOptions:
                _logger.UdpSucceeded(name);
                break;
            case PingCheckOptions:
                _logger.IcmpSucceeded(name);
                break;
            case SmtpCheckOptions:
                _logger.SmtpSucceeded(name);
                break;
            default:
                _logger.GenericSucceeded(c.Options.Keyword, name);
                break;
        }
    }

    private void LogFailure(CheckerState c, int retries, string reason)
    {
        var name = c.Rs.Name;
        var withRetries = retries > 0 && c.HasRun;
        switch (c.Options)
        {
            case HttpCheckOptions:
                if (withRetries)
                    _logger.HttpFailedAfterRetries(name, retries);
                else
                    _logger.HttpFailed(name);
                break;
            case TcpCheckOptions:
                if (withRetries)
                    _logger.TcpFailedAfterRetries(name, retries);
                else
                    _logger.TcpFailed(name);
                break;
            case MiscCheckOptions m:
                if (reason.StartsWith("timed out", StringComparison.Ordinal))
                    _logger.MiscResult(c.Rs.Options.Address.ToString(), ScriptName(m.Path), "timed out");
                else if (TryExitCode(reason, out var code))
                    _logger.MiscResultWithReason(c.Rs.Options.Address.ToString(), ScriptName(m.Path), "failed", "exited with status", code);
                else
                    _logger.MiscResult(c.Rs.Options.Address.ToString(), ScriptName(m.Path), "failed");
                break;
            case PingCheckOptions:
                if (withRetries)
                    _logger.IcmpFailedAfterRetries(name, c.Rs.Vs.Name, retries);
                else
                    _logger.IcmpFailed(name);
                break;
            default:
                // UDP_CHECK, DNS_CHECK, SMTP_CHECK: "<KIND> on service <rs> failed[ after N retries]."
                if (withRetries)
                    _logger.GenericFailedAfterRetries(c.Options.Keyword, name, retries);
                else
                    _logger.GenericFailed(c.Options.Keyword, name);
                break;
        }
    }

    private static bool TryExitCode(string reason, out int code)
    {
        code = 0;
        const string prefix = "exited with status ";
        var i = reason.IndexOf(prefix, StringComparison.Ordinal);
        if (i < 0)
            return false;
        var rest = reason.AsSpan(i + prefix.Length);
        var end = 0;
        while (end < rest.Length && char.IsDigit(rest[end]))
            end++;
        return int.TryParse(rest[..end], out code);
    }

    private static string ScriptName(string path)
    {
        return ScriptCommandLine.TrySplit(path, out var argv, out _) ? argv[0] : path;
    }

    // ---------------------------------------------------------------- ipwrapper.c

    private static void SetCheckerState(CheckerState c, bool up)
    {
        if (c.IsUp == up)
            return;
        c.IsUp = up;
        if (!up)
            c.Rs.NumFailedCheckers++;
        else if (c.Rs.NumFailedCheckers > 0)
            c.Rs.NumFailedCheckers--;
    }

    /// <summary><c>update_svr_checker_state</c>.</summary>
    private void UpdateCheckerState(CheckerState c, bool alive, string reason)
    {
        var rs = c.Rs;
        if (c.IsUp == alive)
        {
            if (!c.HasRun)
            {
                if (c.Settings.Alpha || !alive)
                {
                    RunNotify(alive ? rs.Options.NotifyUp : rs.Options.NotifyDown, wait: false);
                    RsFifo(rs);
                }
                c.HasRun = true;
            }
            return;
        }
        c.HasRun = true;
        if (alive)
        {
            if (rs.NumFailedCheckers <= 1)
                PerformServerState(rs, true, $"{c.Options.Keyword}: {reason}");
        }
        else if (rs.NumFailedCheckers == 0)
        {
            PerformServerState(rs, false, $"{c.Options.Keyword}: {reason}");
        }
        SetCheckerState(c, alive);
    }

    /// <summary>
    /// <c>perform_svr_state</c>: add or remove a real server from the pool. A server the operator holds out (disabled,
    /// draining) is not added back by its checks; <paramref name="byOperator"/> (an operator command) journals the change
    /// as kind <c>operator</c>. A server coming up starts its slow-start ramp.
    /// </summary>
    private void PerformServerState(RsState rs, bool alive, string reason, OperatorJournal? byOperator = null)
    {
        var vs = rs.Vs;
        if (rs.Alive == alive)
            return;
        if (alive && byOperator is null && rs.Operator.Mode != OperatorMode.None)
        {
            rs.LastReason = $"{reason} (held out: {rs.Operator.StateText} by the operator)";
            _touched.Add(vs);
            return;
        }
        if (alive)
            StartRamp(rs);
        else
            rs.Operator.RampWeight = null;
        _logger.ServiceStateChange(
            alive ? (rs.Inhibit ? "Enabling" : "Adding") : (rs.Inhibit ? "Disabling" : "Removing"),
            rs.Name,
            rs.Inhibit ? "of" : alive ? "to" : "from",
            vs.Name);
        var applies = vs.QuorumUp || vs.Sorry is null || !vs.Sorry.Alive;
        var action = !applies ? "none (sorry server active, quorum down)" : DescribeAddDel(rs, alive);
        rs.LastReason = reason;
        if (byOperator is not null)
            Journal(OperatorKind, vs, rs.Name, byOperator.Old, byOperator.New, reason, action, byOperator.By);
        else
            Journal("real_server", vs, rs.Name, alive ? "down" : "up", alive ? "up" : "down", reason, action);
        if (applies)
            AddOrDel(rs, alive);
        rs.Alive = alive;
        RunNotify(alive ? rs.Options.NotifyUp : rs.Options.NotifyDown, wait: false);
        RsFifo(rs);
        UpdateQuorumState(vs, init: false);
    }

    private static string DescribeAddDel(RsState rs, bool add)
    {
        if (add)
            return (rs.Inhibit && rs.Set ? $"weight 0 -> {rs.PoolWeight} (inhibit_on_failure)" : $"added to IPVS with weight {rs.PoolWeight}") + RampNote(rs);
        return rs.Inhibit && rs.Set ? $"weight {rs.PoolWeight} -> 0 (inhibit_on_failure)" : "removed from IPVS";
    }

    /// <summary><c>ipvs_cmd(LVS_CMD_ADD_DEST|LVS_CMD_DEL_DEST)</c> with inhibit_on_failure turning either into an edit.</summary>
    private void AddOrDel(RsState rs, bool add)
    {
        var vs = rs.Vs;
        if (add)
        {
            var dest = rs.Destination(rs.PoolWeight);
            if (rs.Inhibit && rs.Set)
                EditDestinations(vs, dest);
            else
            {
                AddDestinations(vs, dest);
                rs.Set = true;
            }
        }
        else
        {
            if (rs.Inhibit && rs.Set)
                EditDestinations(vs, rs.Destination(0));
            else if (rs.Set)
            {
                RemoveDestinations(vs, rs.Destination(0));
                rs.Set = false;
            }
        }
    }

    /// <summary><c>update_quorum_state</c>.</summary>
    private void UpdateQuorumState(VsState vs, bool init)
    {
        var o = vs.Options;
        var weightSum = vs.LiveWeight();
        var threshold = o.Quorum + (vs.QuorumUp ? -1 : 1) * o.Hysteresis;

        if (!vs.QuorumUp && weightSum >= threshold)
        {
            vs.QuorumUp = true;
            _logger.GainedQuorum(o.Quorum, o.Hysteresis, threshold, weightSum, vs.Name);
            var action = "none";
            if (vs.Sorry is { Alive: true } sorry)
            {
                _logger.SorryServer(sorry.Inhibit ? "Disabling" : "Removing", sorry.Name, "from", vs.Name);
                action = sorry.Inhibit ? $"sorry server {sorry.Name} weight -> 0; alive real servers added back" : $"sorry server {sorry.Name} removed; alive real servers added back";
                Journal("quorum", vs, null, "down", "up", $"gained quorum {o.Quorum}+{o.Hysteresis}={threshold} <= {weightSum}", action);
                Journal("sorry_server", vs, sorry.Name, "in", "out", "quorum gained", sorry.Inhibit ? "weight 0 (sorry_server_inhibit)" : "removed from IPVS");
                SorryDel(vs, sorry);
                sorry.Alive = false;
                PerformQuorumState(vs, add: true);
            }
            else
            {
                Journal("quorum", vs, null, init ? "init" : "down", "up", $"gained quorum {o.Quorum}+{o.Hysteresis}={threshold} <= {weightSum}", action);
            }
            RunNotify(o.QuorumUp, wait: false);
            VsNotification(vs, QuorumMessage(vs, init, threshold, weightSum));
            return;
        }
        if ((vs.QuorumUp && (weightSum == 0 || weightSum < threshold)) ||
            (init && !vs.QuorumUp && vs.Sorry is { Alive: false }))
        {
            vs.QuorumUp = false;
            var what = init ? "Starting with quorum down" : "Lost quorum";
            _logger.LostQuorum(what, o.Quorum, o.Hysteresis, threshold, weightSum, vs.Name);
            var reason = $"{(init ? "starting with quorum down" : "lost quorum")} {o.Quorum}-{o.Hysteresis}={threshold} > {weightSum}";
            if (vs.Sorry is { Alive: false } sorry)
            {
                _logger.SorryServer(sorry.Inhibit ? "Enabling" : "Adding", sorry.Name, "to", vs.Name);
                Journal("quorum", vs, null, init ? "init" : "up", "down", reason, $"alive real servers removed; sorry server {sorry.Name} in");
                Journal("sorry_server", vs, sorry.Name, "out", "in", "quorum lost",
                    sorry.Inhibit && sorry.Set ? $"weight 0 -> {sorry.Destination.Weight} (sorry_server_inhibit)" : $"added to IPVS with weight {sorry.Destination.Weight}");
                PerformQuorumState(vs, add: false);
                SorryAdd(vs, sorry);
                sorry.Alive = true;
            }
            else
            {
                Journal("quorum", vs, null, init ? "init" : "up", "down", reason, "none");
            }
            RunNotify(o.QuorumDown, wait: false);
            VsNotification(vs, QuorumMessage(vs, init, threshold, weightSum));
        }
    }

    /// <summary><c>perform_quorum_state</c>: add or remove the alive real servers.</summary>
    private void PerformQuorumState(VsState vs, bool add)
    {
        _logger.QuorumPool(add ? "Adding alive servers to" : "Removing alive servers from", vs.Name);
        foreach (var rs in vs.RealServers)
        {
            if (!rs.Alive)
                continue;
            AddOrDel(rs, add);
        }
    }

    private void SorryAdd(VsState vs, SorryState sorry)
    {
        if (sorry.Inhibit && sorry.Set)
            EditDestinations(vs, sorry.Destination);
        else
        {
            AddDestinations(vs, sorry.Destination);
            sorry.Set = true;
        }
    }

    private void SorryDel(VsState vs, SorryState sorry)
    {
        if (sorry.Inhibit && sorry.Set)
            EditDestinations(vs, sorry.Destination with { Weight = 0 });
        else if (sorry.Set)
        {
            RemoveDestinations(vs, sorry.Destination);
            sorry.Set = false;
        }
    }

    /// <summary><c>update_svr_wgt</c>.</summary>
    public void UpdateWeight(VsState vs, RsState rs, int weight, string reason, bool updateQuorum)
    {
        // The pool weight (in IPVS) and the full weight (quorum) differ from the effective weight under an operator weight,
        // a drain or a slow-start ramp; without them all three are max(0, weight), as keepalived's.
        var (oldWeight, oldPool) = (rs.FullWeight, rs.PoolWeight);
        rs.EffectiveWeight = weight;
        var (newWeight, newPool) = (rs.FullWeight, rs.PoolWeight);
        if (newWeight == oldWeight && newPool == oldPool)
            return;
        _logger.ChangingWeight(oldWeight, newWeight, rs.Alive ? "" : "in", rs.Name, vs.Name);
        var applies = rs.Set && rs.Alive && (vs.QuorumUp || vs.Sorry is null || !vs.Sorry.Alive);
        Journal("weight", vs, rs.Name, $"weight {oldWeight}", $"weight {newWeight}", reason,
            !applies ? "none (takes effect when the server is in the pool)"
            : newPool != oldPool ? $"weight {oldPool} -> {newPool}"
            : $"none (weight {newPool} in IPVS: {(rs.Operator.Mode == OperatorMode.Draining ? "draining" : "slow start")})");
        if (applies && newPool != oldPool)
            EditDestinations(vs, rs.Destination(newPool));
        if (updateQuorum)
            UpdateQuorumState(vs, init: false);
    }

    // ---------------------------------------------------------------- shutdown (clear_services)

    /// <summary>
    /// The stop (<c>clear_services</c>, or the whole table with <c>lvs_flush_onstop</c>). With <paramref name="release"/>
    /// false (<c>-I, --dont-release-ipvs</c>) Lb releases nothing at stop: as keepalived skips clear_services, the table,
    /// the states and the journal stay as they are and no omega script runs.
    /// </summary>
    public ChangeSet Shutdown(bool release)
    {
        if (!release)
            return Take();
        if (_options.LvsFlushOnStop == LvsFlushOnStop.Full)
        {
            _cs.Flush = true;
            foreach (var vs in VirtualServers)
                VsShutdownNotifies(vs);
            return Take(allViews: true);
        }
        foreach (var vs in VirtualServers)
        {
            if (!vs.Added)
                continue;
            if (_options.LvsFlushOnStop == LvsFlushOnStop.None)
            {
                // keepalived's clear_service_vs deletes each destination, then the service. The service's delete below
                // removes its destinations with it in the kernel (same table after the stop, one request instead of one
                // per destination); each server's journal entry, log line and omega script stay as keepalived has them.
                if (vs.Sorry is { Set: true } sorry)
                {
                    Journal("sorry_server", vs, sorry.Name, sorry.Alive ? "in" : "out", "removed", "shutdown", "removed from IPVS");
                    sorry.Set = false;
                    sorry.Alive = false;
                }
                foreach (var rs in vs.RealServers)
                {
                    if (rs.Set)
                    {
                        var inhibited = rs.Inhibit && !rs.Alive ? "(inhibited) " : "";
                        var (rsName, vsName) = (rs.Name, vs.Name);
                        _cs.LogAfterApply.Add(() => _logger.ClearService("Shutting down", inhibited, rsName, vsName));
                        Journal("real_server", vs, rs.Name, rs.Alive ? "up" : "down", "removed", "shutdown", "removed from IPVS");
                        rs.Set = false;
                    }
                    if (!rs.Alive)
                        continue;
                    rs.Alive = false;
                    // keepalived starts the omega scripts and goes on (system_call_script); the subsystem's stop waits for
                    // them after the table is clean, so a slow script cannot hold the kernel state past the stop budget.
                    if (vs.Options.Omega)
                    {
                        RunNotify(rs.Options.NotifyDown, wait: false);
                        RsRemovedNotification(rs, stopping: true);
                    }
                }
            }
            VsShutdownNotifies(vs);
            foreach (var svc in vs.Services)
                _cs.Operations.Add(IpvsOperation.DeleteService(svc.Key));
            vs.Added = false;
        }
        return Take(allViews: true);
    }

    private void VsShutdownNotifies(VsState vs)
    {
        // update_vs_notifies(stopping=true): quorum goes down; scripts only with omega.
        var wasUp = vs.QuorumUp;
        vs.QuorumUp = false;
        if (wasUp)
            Journal("quorum", vs, null, "up", "down", "shutdown", "none");
        if (vs.Options.Omega)
        {
            RunNotify(vs.Options.QuorumDown, wait: false);
            VsNotification(vs, null);
        }
    }

    // ---------------------------------------------------------------- helpers

    private void Journal(string kind, VsState vs, string? rs, string oldState, string newState, string reason, string action, string? by = null)
    {
        _touched.Add(vs);
        _cs.Journal.Add(new JournalEntry
        {
            Time = _time.GetUtcNow(),
            Subsystem = Subsystem,
            Kind = kind,
            VirtualServer = vs.Name,
            RealServer = rs,
            OldState = oldState,
            NewState = newState,
            Reason = reason,
            Action = action,
            By = by,
        });
    }

    private void AddDestinations(VsState vs, IpvsDestination d)
    {
        foreach (var svc in vs.Services)
            _cs.Operations.Add(IpvsOperation.AddDestination(svc.Key, d));
    }

    private void EditDestinations(VsState vs, IpvsDestination d)
    {
        foreach (var svc in vs.Services)
            _cs.Operations.Add(IpvsOperation.EditDestination(svc.Key, d));
    }

    private void RemoveDestinations(VsState vs, IpvsDestination d)
    {
        foreach (var svc in vs.Services)
            _cs.Operations.Add(IpvsOperation.DeleteDestination(svc.Key, d.Key));
    }

    private ScriptInvocation? Invocation(ScriptOptions? script)
    {
        if (script is null)
            return null;
        IReadOnlyList<string>? argv = script.Argv;
        if (argv is null && !ScriptCommandLine.TrySplit(script.Command, out argv, out var error))
        {
            _logger.ScriptProblem(script.Command, error!);
            return null;
        }
        return ScriptInvocation.Create(argv, script.User, script.Group, _options.ScriptUser, _options.ScriptGroup, _options.NotifyScriptTimeout);
    }

    /// <summary>Queues <paramref name="script"/> to start once the change set is applied (keepalived does not wait for it).</summary>
    private void RunNotify(ScriptOptions? script, bool wait)
    {
        _ = wait;
        if (Invocation(script) is { } inv)
            _cs.Scripts.Add(inv);
    }

    /// <summary>Starts the scripts of an applied change set; they are not awaited (see <see cref="PendingNotifies"/>).</summary>
    public void StartScripts(IReadOnlyList<ScriptInvocation> scripts)
    {
        foreach (var inv in scripts)
        {
            var task = RunScriptLoggedAsync(inv);
            lock (_notifies)
            {
                _notifies.RemoveAll(t => t.IsCompleted);
                _notifies.Add(task);
            }
        }
    }

    private async Task RunScriptLoggedAsync(ScriptInvocation inv)
    {
        try
        {
            var r = await _scripts.RunAsync(inv, CancellationToken.None).ConfigureAwait(false);
            if (r.TimedOut)
                _logger.ScriptProblem(inv.Argv[0], $"timed out after {inv.Timeout.TotalSeconds:0.###} s and was killed");
            else if (r.Error is not null)
                _logger.ScriptProblem(inv.Argv[0], r.Error);
        }
        catch (Exception ex)
        {
            _logger.ScriptProblem(inv.Argv[0], ex.Message);
        }
    }
}
