using System.Globalization;
using System.Text;
using System.Text.Json;
using Lb.Announce;
using Lb.Checkers.Journal;
using Microsoft.Extensions.Logging;

namespace Lb.Control;

/// <summary>
/// The <c>announce</c> noun of the control socket: <c>lb announce maintenance on|off</c> (node level: every VIP withdrawn
/// while on) and <c>lb announce [status]</c> (each VIP's state). Maintenance is saved in the operator state file (section
/// "announce", key "node", the same record as <c>lb vrrp maintenance</c>'s) before it is applied, survives SIGHUP and
/// restart, and is journaled (kind "operator", By = the caller) and logged.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Lives as long as the daemon; its semaphore never allocates a wait handle")]
public sealed class AnnounceControl
{
    /// <summary>The state file's section.</summary>
    public const string Section = "announce";

    /// <summary>The one key of the section: maintenance is node level.</summary>
    public const string NodeKey = "node";

    private const string Usage = "usage: lb announce [status] | lb announce maintenance on|off | lb announce withdraw (with lb not running)";

    private readonly Announcer? _announcer;
    private readonly OperatorStateStore _store;
    private readonly IJournal _journal;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _serial = new(1, 1);

    private AnnounceControl(Announcer? announcer, OperatorStateStore store, IJournal journal, ILogger log, TimeProvider time)
    {
        _announcer = announcer;
        _store = store;
        _journal = journal;
        _log = log;
        _time = time;
    }

    /// <summary>Registers the noun (with a null <paramref name="announcer"/> — the checkers do not run — its verbs say so).</summary>
    public static void Register(ControlCommands commands, Announcer? announcer, OperatorStateStore store, IJournal journal, ILogger log, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(commands);
        var control = new AnnounceControl(announcer, store, journal, log, time ?? TimeProvider.System);
        commands.Register("announce", control.RunAsync);
    }

    /// <summary>Whether the state file says the node is in announce maintenance (an unreadable entry is logged and ignored).</summary>
    public static bool SavedMaintenance(OperatorStateStore store, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!store.Section(Section).TryGetValue(NodeKey, out var value))
            return false;
        VrrpOperatorEntry? e = null;
        try
        {
            e = value.Deserialize(VrrpControlJsonContext.Default.VrrpOperatorEntry);
        }
        catch (JsonException)
        {
        }
        if (e?.Mode == "maintenance")
        {
            log.LogInformation("Operator state: announce maintenance since {Since} by {By}: no VIP is announced", e.Since, e.By);
            return true;
        }
        log.LogWarning("Operator state: announce entry not understood ({Json}); ignored", value.GetRawText());
        return false;
    }

    private async Task<ControlReply> RunAsync(ControlCaller caller, IReadOnlyList<string> args, CancellationToken ct)
    {
        bool? on;
        switch (args)
        {
            case [] or ["status"]:
                on = null;
                break;
            case ["maintenance", "on" or "off"]:
                on = args[1] == "on";
                break;
            default:
                return ControlReply.Refused($"lb announce {string.Join(' ', args)}: not understood; {Usage}");
        }
        if (_announcer is null)
            return ControlReply.Refused("announce: the checkers do not run in this daemon (started with -P, or no virtual_server)");
        if (on is null)
            return ControlReply.Ok(Describe(_announcer.Snapshot()));
        var command = $"lb announce {string.Join(' ', args)}";
        await _serial.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var was = _announcer.Maintenance;
            try
            {
                // saved first: a crash after this line restarts the node in the state the operator asked for
                _store.Set(Section, NodeKey, on.Value
                    ? JsonSerializer.SerializeToElement(new VrrpOperatorEntry("maintenance", _time.GetUtcNow(), caller.Describe()), VrrpControlJsonContext.Default.VrrpOperatorEntry)
                    : null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return ControlReply.Refused($"announce: cannot save the operator state ({e.Message}); nothing changed");
            }
            if (was != on.Value)
            {
                try
                {
                    await _journal.AppendAsync(new JournalEntry
                    {
                        Time = _time.GetUtcNow(),
                        Subsystem = "announce",
                        Kind = "operator",
                        Instance = "announce",
                        OldState = was ? "maintenance" : "normal",
                        NewState = on.Value ? "maintenance" : "normal",
                        Reason = command,
                        Action = on.Value ? "withdraw every VIP" : "announce the healthy VIPs",
                        By = caller.Describe(),
                    }, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
                {
                    _log.LogError("Journal: cannot record {Command}: {Message}", command, e.Message);
                }
            }
            var snapshot = await _announcer.SetMaintenanceAsync(on.Value, caller.Describe(), ct).ConfigureAwait(false);
            var text = $"announce maintenance {(on.Value ? "on" : "off")}{(was == on.Value ? " (already)" : "")}\n" + Describe(snapshot);
            _log.LogInformation("Operator {By}: {Command}", caller.Describe(), command);
            return ControlReply.Ok(text);
        }
        finally
        {
            _serial.Release();
        }
    }

    /// <summary>One line per VIP: <c>10.0.0.100  announced  (table 200)</c>, <c>10.0.0.101  withdrawn  quorum down: 10.0.0.101:80</c>.</summary>
    public static string Describe(AnnounceSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Announced VIPs (table {snapshot.Table}{(snapshot.Maintenance ? ", maintenance" : "")}):\n");
        if (snapshot.Vips.Count == 0)
            sb.Append("  (none configured)\n");
        var width = snapshot.Vips.Count == 0 ? 0 : snapshot.Vips.Max(v => v.Vip.ToString().Length);
        foreach (var v in snapshot.Vips)
            sb.Append("  ").Append(Line(v, snapshot.Table, width)).Append('\n');
        return sb.ToString();
    }

    /// <summary>The status line of one VIP (without indentation).</summary>
    public static string Line(VipAnnounceStatus v, uint table, int width)
    {
        ArgumentNullException.ThrowIfNull(v);
        var detail = v.Announced ? $"(table {table})" : v.Reason;
        if (v.LastError is { } error)
            detail += $"; kernel: {error}";
        else if (v.Announced != v.RouteInstalled)
            detail += v.Announced ? "; route not installed yet" : "; route still installed";
        return $"{v.Vip.ToString().PadRight(width)}  {v.State,-9}  {detail}";
    }
}
