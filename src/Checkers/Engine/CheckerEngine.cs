using System.Net.Sockets;
using Lb.Checkers.Ipvs;
using Lb.Checkers.Journal;
using Lb.Checkers.Logging;
using Lb.Checkers.Options;
using Lb.Scripts;
using Microsoft.Extensions.Logging;

namespace Lb.Checkers.Engine;

/// <summary>
/// keepalived's ipwrapper.c: real-server and virtual-server state, quorum, hysteresis and sorry server, turned into
/// IPVS operations and journal entries. Not thread-safe: the caller serializes calls (one gate per subsystem).
/// Every change is journalled (appended and fsynced) before the IPVS operation is issued.
/// </summary>
internal sealed partial class CheckerEngine
{
    private const string Subsystem = "checkers";
    private CheckerSubsystemOptions _options;
    private readonly IIpvsDestinations _ipvs;
    private readonly IJournal _journal;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private IScriptRunner _scripts;
    private readonly List<Task> _notifies = new();

    public CheckerEngine(CheckerSubsystemOptions options, IIpvsDestinations ipvs, IJournal journal, ILogger logger, TimeProvider time, IScriptRunner scripts)
    {
        _options = options;
        _ipvs = ipvs;
        _journal = journal;
        _logger = logger;
        _time = time;
        _scripts = scripts;
        foreach (var vso in options.VirtualServers)
            VirtualServers.Add(BuildVirtualServer(vso, options));
    }

    /// <summary>The runtime state of <paramref name="vso"/> before start-up: nothing alive, nothing in IPVS.</summary>
    private static VsState BuildVirtualServer(VirtualServerOptions vso, CheckerSubsystemOptions options)
    {
        var vs = new VsState(vso, BuildServices(vso));
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

    /// <summary>Raised after each state change has been journalled and applied.</summary>
    public event Action<JournalEntry>? Changed;

    /// <summary>Notify scripts started and not yet finished.</summary>
    public Task PendingNotifies()
    {
        lock (_notifies)
        {
            _notifies.RemoveAll(t => t.IsCompleted);
            return Task.WhenAll(_notifies.ToArray());
        }
    }

    // ---------------------------------------------------------------- start-up (init_services)

    public async Task InitAsync(CancellationToken ct)
    {
        if (_options.LvsFlush)
            await IpvsAsync("flush", () => _ipvs.FlushAsync(ct)).ConfigureAwait(false);
        foreach (var vs in VirtualServers)
            await InitVirtualServerAsync(vs, reload: false, ct).ConfigureAwait(false);
    }

    /// <summary>Programs one virtual server that is not in IPVS yet (start-up, or added by a reload).</summary>
    private async Task InitVirtualServerAsync(VsState vs, bool reload, CancellationToken ct)
    {
        // set_quorum_states(): nothing is alive yet.
        vs.QuorumUp = vs.LiveWeight() >= vs.Options.Quorum + vs.Options.Hysteresis;

        foreach (var svc in vs.Services)
            await IpvsAsync($"add service {svc}", () => _ipvs.AddServiceAsync(svc, ct)).ConfigureAwait(false);
        vs.Added = true;

        foreach (var rs in vs.RealServers)
            await InitRealServerAsync(rs, reload, ct).ConfigureAwait(false);

        await UpdateQuorumStateAsync(vs, init: true, ct).ConfigureAwait(false);

        if (vs.Sorry is { Inhibit: true, Set: false } sorry)
        {
            await AddDestinationsAsync(vs, sorry.Destination with { Weight = 0 }, ct).ConfigureAwait(false);
            sorry.Set = true;
        }
    }

    /// <summary>
    /// <c>init_service_rs()</c> for one real server: alpha checkers start failed (others start up with "one failure is
    /// enough"); an up server is added with its weight, a down one only with inhibit_on_failure (weight 0). While the
    /// sorry server serves (a reload adding a server to a virtual server without quorum) an up server is not added.
    /// </summary>
    private async Task InitRealServerAsync(RsState rs, bool reload, CancellationToken ct)
    {
        var vs = rs.Vs;
        foreach (var c in rs.Checkers)
        {
            if (c.Settings.Alpha)
                SetCheckerState(c, false);
        }
        var up = rs.NumFailedCheckers == 0;
        var serving = !vs.SorryServing;
        var kind = reload ? ReloadKind : "real_server";
        var old = reload ? "absent" : "init";
        var reason = (reload, up) switch
        {
            (false, true) => "start-up",
            (false, false) => "alpha: down until the first successful check",
            (true, true) => ReloadReason,
            (true, false) => ReloadReason + "; alpha: down until the first successful check",
        };
        if ((up && serving) || rs.Inhibit)
        {
            var weight = up && serving ? Math.Max(0, rs.EffectiveWeight) : 0;
            if (reload)
                _logger.ServiceStateChange("Adding", rs.Name, "to", vs.Name);
            await JournalAsync(kind, vs, rs.Name, old, up ? "up" : "down", reason,
                up && serving ? $"added with weight {weight}" : "added with weight 0 (inhibit_on_failure)").ConfigureAwait(false);
            await AddDestinationsAsync(vs, rs.Destination(weight), ct).ConfigureAwait(false);
            rs.Set = true;
        }
        else
        {
            await JournalAsync(kind, vs, rs.Name, old, up ? "up" : "down", reason, up ? "none (sorry server active, quorum down)" : "none").ConfigureAwait(false);
        }
        if (up)
        {
            rs.Alive = true;
            if (_options.RsInitNotifies)
                RunNotify(rs.Options.NotifyUp, wait: false);
        }
    }

    // ---------------------------------------------------------------- a checker's round ended (check_*.c epilogs)

    /// <summary>Applies the result of one round (an attempt plus its retries) of <paramref name="c"/>.</summary>
    public async Task OnRoundCompletedAsync(CheckerState c, CheckOutcome outcome, int retriesMade, CancellationToken ct)
    {
        if (c.Retired)
            return; // a reload removed or replaced this checker while its round was in flight
        c.Rounds++;
        c.LastCheck = _time.GetUtcNow();
        c.LastReason = outcome.Reason;
        var rs = c.Rs;
        var vs = rs.Vs;

        if (outcome.Success && outcome.DynamicWeight is int w)
            await UpdateWeightAsync(vs, rs, w, $"misc_dynamic weight {w}", updateQuorum: true, ct).ConfigureAwait(false);

        var reason = outcome.Success || retriesMade == 0 ? outcome.Reason : $"{outcome.Reason} after {retriesMade} retries";
        if (outcome.Success)
        {
            if (!c.IsUp || !c.HasRun)
            {
                LogSuccess(c);
                await UpdateCheckerStateAsync(c, true, reason, ct).ConfigureAwait(false);
            }
        }
        else if (c.IsUp || !c.HasRun)
        {
            LogFailure(c, retriesMade, outcome.Reason);
            await UpdateCheckerStateAsync(c, false, reason, ct).ConfigureAwait(false);
        }
        c.RetryIt = 0;
        c.HasRun = true;
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
    private async Task UpdateCheckerStateAsync(CheckerState c, bool alive, string reason, CancellationToken ct)
    {
        var rs = c.Rs;
        if (c.IsUp == alive)
        {
            if (!c.HasRun)
            {
                if (c.Settings.Alpha || !alive)
                    RunNotify(alive ? rs.Options.NotifyUp : rs.Options.NotifyDown, wait: false);
                c.HasRun = true;
            }
            return;
        }
        c.HasRun = true;
        if (alive)
        {
            if (rs.NumFailedCheckers <= 1)
                await PerformServerStateAsync(rs, true, $"{c.Options.Keyword}: {reason}", ct).ConfigureAwait(false);
        }
        else if (rs.NumFailedCheckers == 0)
        {
            await PerformServerStateAsync(rs, false, $"{c.Options.Keyword}: {reason}", ct).ConfigureAwait(false);
        }
        SetCheckerState(c, alive);
    }

    /// <summary><c>perform_svr_state</c>: add or remove a real server from the pool.</summary>
    private async Task PerformServerStateAsync(RsState rs, bool alive, string reason, CancellationToken ct)
    {
        var vs = rs.Vs;
        if (rs.Alive == alive)
            return;
        _logger.ServiceStateChange(
            alive ? (rs.Inhibit ? "Enabling" : "Adding") : (rs.Inhibit ? "Disabling" : "Removing"),
            rs.Name,
            rs.Inhibit ? "of" : alive ? "to" : "from",
            vs.Name);
        var applies = vs.QuorumUp || vs.Sorry is null || !vs.Sorry.Alive;
        var action = !applies ? "none (sorry server active, quorum down)" : DescribeAddDel(rs, alive);
        rs.LastReason = reason;
        await JournalAsync("real_server", vs, rs.Name, alive ? "down" : "up", alive ? "up" : "down", reason, action).ConfigureAwait(false);
        if (applies)
            await AddOrDelAsync(rs, alive, ct).ConfigureAwait(false);
        rs.Alive = alive;
        RunNotify(alive ? rs.Options.NotifyUp : rs.Options.NotifyDown, wait: false);
        await UpdateQuorumStateAsync(vs, init: false, ct).ConfigureAwait(false);
    }

    private static string DescribeAddDel(RsState rs, bool add)
    {
        if (add)
            return rs.Inhibit && rs.Set ? $"weight 0 -> {Math.Max(0, rs.EffectiveWeight)} (inhibit_on_failure)" : $"added to IPVS with weight {Math.Max(0, rs.EffectiveWeight)}";
        return rs.Inhibit && rs.Set ? $"weight {Math.Max(0, rs.EffectiveWeight)} -> 0 (inhibit_on_failure)" : "removed from IPVS";
    }

    /// <summary><c>ipvs_cmd(LVS_CMD_ADD_DEST|LVS_CMD_DEL_DEST)</c> with inhibit_on_failure turning either into an edit.</summary>
    private async Task AddOrDelAsync(RsState rs, bool add, CancellationToken ct)
    {
        var vs = rs.Vs;
        if (add)
        {
            var dest = rs.Destination(Math.Max(0, rs.EffectiveWeight));
            if (rs.Inhibit && rs.Set)
                await EditDestinationsAsync(vs, dest, ct).ConfigureAwait(false);
            else
            {
                await AddDestinationsAsync(vs, dest, ct).ConfigureAwait(false);
                rs.Set = true;
            }
        }
        else
        {
            if (rs.Inhibit && rs.Set)
                await EditDestinationsAsync(vs, rs.Destination(0), ct).ConfigureAwait(false);
            else if (rs.Set)
            {
                await RemoveDestinationsAsync(vs, rs.Destination(0), ct).ConfigureAwait(false);
                rs.Set = false;
            }
        }
    }

    /// <summary><c>update_quorum_state</c>.</summary>
    private async Task UpdateQuorumStateAsync(VsState vs, bool init, CancellationToken ct)
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
                await JournalAsync("quorum", vs, null, "down", "up", $"gained quorum {o.Quorum}+{o.Hysteresis}={threshold} <= {weightSum}", action).ConfigureAwait(false);
                await JournalAsync("sorry_server", vs, sorry.Name, "in", "out", "quorum gained", sorry.Inhibit ? "weight 0 (sorry_server_inhibit)" : "removed from IPVS").ConfigureAwait(false);
                await SorryDelAsync(vs, sorry, ct).ConfigureAwait(false);
                sorry.Alive = false;
                await PerformQuorumStateAsync(vs, add: true, ct).ConfigureAwait(false);
            }
            else
            {
                await JournalAsync("quorum", vs, null, init ? "init" : "down", "up", $"gained quorum {o.Quorum}+{o.Hysteresis}={threshold} <= {weightSum}", action).ConfigureAwait(false);
            }
            RunNotify(o.QuorumUp, wait: false);
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
                await JournalAsync("quorum", vs, null, init ? "init" : "up", "down", reason, $"alive real servers removed; sorry server {sorry.Name} in").ConfigureAwait(false);
                await JournalAsync("sorry_server", vs, sorry.Name, "out", "in", "quorum lost",
                    sorry.Inhibit && sorry.Set ? $"weight 0 -> {sorry.Destination.Weight} (sorry_server_inhibit)" : $"added to IPVS with weight {sorry.Destination.Weight}").ConfigureAwait(false);
                await PerformQuorumStateAsync(vs, add: false, ct).ConfigureAwait(false);
                await SorryAddAsync(vs, sorry, ct).ConfigureAwait(false);
                sorry.Alive = true;
            }
            else
            {
                await JournalAsync("quorum", vs, null, init ? "init" : "up", "down", reason, "none").ConfigureAwait(false);
            }
            RunNotify(o.QuorumDown, wait: false);
        }
    }

    /// <summary><c>perform_quorum_state</c>: add or remove the alive real servers.</summary>
    private async Task PerformQuorumStateAsync(VsState vs, bool add, CancellationToken ct)
    {
        _logger.QuorumPool(add ? "Adding alive servers to" : "Removing alive servers from", vs.Name);
        foreach (var rs in vs.RealServers)
        {
            if (!rs.Alive)
                continue;
            await AddOrDelAsync(rs, add, ct).ConfigureAwait(false);
        }
    }

    private async Task SorryAddAsync(VsState vs, SorryState sorry, CancellationToken ct)
    {
        if (sorry.Inhibit && sorry.Set)
            await EditDestinationsAsync(vs, sorry.Destination, ct).ConfigureAwait(false);
        else
        {
            await AddDestinationsAsync(vs, sorry.Destination, ct).ConfigureAwait(false);
            sorry.Set = true;
        }
    }

    private async Task SorryDelAsync(VsState vs, SorryState sorry, CancellationToken ct)
    {
        if (sorry.Inhibit && sorry.Set)
            await EditDestinationsAsync(vs, sorry.Destination with { Weight = 0 }, ct).ConfigureAwait(false);
        else if (sorry.Set)
        {
            await RemoveDestinationsAsync(vs, sorry.Destination, ct).ConfigureAwait(false);
            sorry.Set = false;
        }
    }

    /// <summary><c>update_svr_wgt</c>.</summary>
    public async Task UpdateWeightAsync(VsState vs, RsState rs, int weight, string reason, bool updateQuorum, CancellationToken ct)
    {
        var newWeight = Math.Max(0, weight);
        var oldWeight = Math.Max(0, rs.EffectiveWeight);
        rs.EffectiveWeight = weight;
        if (newWeight == oldWeight)
            return;
        _logger.ChangingWeight(oldWeight, newWeight, rs.Alive ? "" : "in", rs.Name, vs.Name);
        var applies = rs.Set && rs.Alive && (vs.QuorumUp || vs.Sorry is null || !vs.Sorry.Alive);
        await JournalAsync("weight", vs, rs.Name, $"weight {oldWeight}", $"weight {newWeight}", reason,
            applies ? $"weight {oldWeight} -> {newWeight}" : "none (takes effect when the server is in the pool)").ConfigureAwait(false);
        if (applies)
            await EditDestinationsAsync(vs, rs.Destination(newWeight), ct).ConfigureAwait(false);
        if (updateQuorum)
            await UpdateQuorumStateAsync(vs, init: false, ct).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- shutdown (clear_services)

    public async Task ShutdownAsync(CancellationToken ct)
    {
        if (_options.LvsFlushOnStop == LvsFlushOnStop.Full)
        {
            await IpvsAsync("flush", () => _ipvs.FlushAsync(ct)).ConfigureAwait(false);
            foreach (var vs in VirtualServers)
                await VsShutdownNotifiesAsync(vs).ConfigureAwait(false);
            return;
        }
        foreach (var vs in VirtualServers)
        {
            if (!vs.Added)
                continue;
            if (_options.LvsFlushOnStop == LvsFlushOnStop.None)
            {
                if (vs.Sorry is { Set: true } sorry)
                {
                    await JournalAsync("sorry_server", vs, sorry.Name, sorry.Alive ? "in" : "out", "removed", "shutdown", "removed from IPVS").ConfigureAwait(false);
                    await RemoveDestinationsAsync(vs, sorry.Destination, ct).ConfigureAwait(false);
                    sorry.Set = false;
                    sorry.Alive = false;
                }
                foreach (var rs in vs.RealServers)
                {
                    if (rs.Set)
                    {
                        _logger.ClearService("Shutting down", rs.Inhibit && !rs.Alive ? "(inhibited) " : "", rs.Name, vs.Name);
                        await JournalAsync("real_server", vs, rs.Name, rs.Alive ? "up" : "down", "removed", "shutdown", "removed from IPVS").ConfigureAwait(false);
                        await RemoveDestinationsAsync(vs, rs.Destination(0), ct).ConfigureAwait(false);
                        rs.Set = false;
                    }
                    if (!rs.Alive)
                        continue;
                    rs.Alive = false;
                    // keepalived starts the omega scripts and goes on (system_call_script); the subsystem's stop waits for
                    // them after the table is clean, so a slow script cannot hold the kernel state past the stop budget.
                    if (vs.Options.Omega)
                        RunNotify(rs.Options.NotifyDown, wait: false);
                }
            }
            await VsShutdownNotifiesAsync(vs).ConfigureAwait(false);
            foreach (var svc in vs.Services)
                await IpvsAsync($"remove service {svc}", () => _ipvs.RemoveServiceAsync(svc, ct)).ConfigureAwait(false);
            vs.Added = false;
        }
    }

    private async Task VsShutdownNotifiesAsync(VsState vs)
    {
        // update_vs_notifies(stopping=true): quorum goes down; scripts only with omega.
        var wasUp = vs.QuorumUp;
        vs.QuorumUp = false;
        if (wasUp)
            await JournalAsync("quorum", vs, null, "up", "down", "shutdown", "none").ConfigureAwait(false);
        if (vs.Options.Omega)
            RunNotify(vs.Options.QuorumDown, wait: false);
    }

    // ---------------------------------------------------------------- helpers

    private async Task JournalAsync(string kind, VsState vs, string? rs, string oldState, string newState, string reason, string action)
    {
        var entry = new JournalEntry
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
        };
        try
        {
            await _journal.AppendAsync(entry, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            _logger.JournalFailed(ex.Message);
        }
        Changed?.Invoke(entry);
    }

    private async Task IpvsAsync(string what, Func<Task> op)
    {
        try
        {
            await op().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.IpvsFailed(what, ex.Message);
        }
    }

    private async Task AddDestinationsAsync(VsState vs, IpvsDestination d, CancellationToken ct)
    {
        foreach (var svc in vs.Services)
            await IpvsAsync($"add destination {d} to {svc}", () => _ipvs.AddDestinationAsync(svc, d, ct)).ConfigureAwait(false);
    }

    private async Task EditDestinationsAsync(VsState vs, IpvsDestination d, CancellationToken ct)
    {
        foreach (var svc in vs.Services)
            await IpvsAsync($"edit destination {d} of {svc}", () => _ipvs.EditDestinationAsync(svc, d, ct)).ConfigureAwait(false);
    }

    private async Task RemoveDestinationsAsync(VsState vs, IpvsDestination d, CancellationToken ct)
    {
        foreach (var svc in vs.Services)
            await IpvsAsync($"remove destination {d} from {svc}", () => _ipvs.RemoveDestinationAsync(svc, d, ct)).ConfigureAwait(false);
    }

    private ScriptInvocation? Invocation(ScriptOptions? script)
    {
        if (script is null)
            return null;
        var argv = script.Argv;
        if (argv is null && !ScriptCommandLine.TrySplit(script.Command, out argv, out var error))
        {
            _logger.ScriptProblem(script.Command, error!);
            return null;
        }
        return ScriptInvocation.Create(argv, script.User, script.Group, _options.ScriptUser, _options.ScriptGroup, _options.NotifyScriptTimeout);
    }

    private void RunNotify(ScriptOptions? script, bool wait)
    {
        _ = wait;
        var inv = Invocation(script);
        if (inv is null)
            return;
        var task = RunScriptLoggedAsync(inv);
        lock (_notifies)
        {
            _notifies.RemoveAll(t => t.IsCompleted);
            _notifies.Add(task);
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

    // ---------------------------------------------------------------- IPVS services of a virtual server

    internal static IReadOnlyList<IpvsService> BuildServices(VirtualServerOptions vs)
    {
        IpvsService Make(System.Net.IPAddress? addr, ushort port, uint mark, AddressFamily family) => new()
        {
            Family = family,
            Protocol = vs.Protocol,
            Address = addr,
            Port = port,
            FirewallMark = mark,
            Scheduler = vs.Scheduler,
            SchedulerFlags = vs.SchedulerFlags,
            OnePacketScheduling = vs.OnePacketScheduling,
            PersistenceTimeout = vs.PersistenceTimeout,
            PersistenceNetmask = vs.PersistenceGranularity,
            PersistenceEngine = vs.PersistenceEngine,
        };
        AddressFamily DefaultFamily()
        {
            if (vs.IpFamily is { } f)
                return f;
            var families = vs.RealServers.Select(r => r.Address.AddressFamily).Distinct().ToList();
            return families.Count == 1 ? families[0] : AddressFamily.InterNetwork;
        }

        var list = new List<IpvsService>();
        if (vs.Address is { } a)
            list.Add(Make(a, vs.Port ?? 0, 0, a.AddressFamily));
        else if (vs.FirewallMark is uint m)
            list.Add(Make(null, 0, m, DefaultFamily()));
        else
        {
            foreach (var e in vs.GroupEntries)
            {
                if (e.FirewallMark is uint gm)
                {
                    list.Add(Make(null, 0, gm, e.Family ?? DefaultFamily()));
                    continue;
                }
                if (e.Address is null)
                    continue;
                var port = e.Port ?? vs.Port ?? 0;
                foreach (var addr in AddressRange.Expand(e.Address, e.AddressEnd ?? e.Address, 65536))
                    list.Add(Make(addr, port, 0, addr.AddressFamily));
            }
        }
        return list;
    }
}
