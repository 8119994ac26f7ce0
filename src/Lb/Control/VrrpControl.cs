using System.Text.Json;
using System.Text.Json.Serialization;
using Lb.Checkers.Journal;
using Lb.Hosting;
using Lb.Vrrp;
using Microsoft.Extensions.Logging;

namespace Lb.Control;

/// <summary>What the operator state file keeps of an instance (section "vrrp", key = instance name): only maintenance persists.</summary>
/// <param name="Mode">"maintenance".</param>
/// <param name="Since">When it was set.</param>
/// <param name="By">Who set it (<see cref="ControlCaller.Describe"/>).</param>
public sealed record VrrpOperatorEntry(string Mode, DateTimeOffset Since, string By);

/// <summary>Source-generated JSON for <see cref="VrrpOperatorEntry"/> (NativeAOT).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(VrrpOperatorEntry))]
public sealed partial class VrrpControlJsonContext : JsonSerializerContext;

/// <summary>
/// The <c>vrrp</c> noun of the control socket:
/// <c>lb vrrp maintenance INSTANCE on|off</c> and <c>lb vrrp failover INSTANCE [--force]</c>.
/// Maintenance is saved in the operator state file before it is applied (a crash in between still restarts the node in
/// maintenance) and survives SIGHUP and restart; a failover is not saved (after a restart the node follows its configuration).
/// Every action is journaled (Kind "operator", By = the caller) and logged.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Lives as long as the daemon; its semaphore never allocates a wait handle")]
public sealed class VrrpControl
{
    /// <summary>The state file's section.</summary>
    public const string Section = "vrrp";

    private const string Usage = "usage: lb vrrp maintenance INSTANCE on|off | lb vrrp failover INSTANCE [--force]";

    private readonly VrrpService? _vrrp;
    private readonly OperatorStateStore _store;
    private readonly IJournal _journal;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _serial = new(1, 1);

    private VrrpControl(VrrpService? vrrp, OperatorStateStore store, IJournal journal, ILogger log, TimeProvider time)
    {
        _vrrp = vrrp;
        _store = store;
        _journal = journal;
        _log = log;
        _time = time;
    }

    /// <summary>
    /// Registers the noun, and hands the saved maintenance to <paramref name="vrrp"/> for its start (null with -C: the verbs
    /// answer that VRRP is not running). Call before the host starts.
    /// </summary>
    public static void Register(ControlCommands commands, VrrpService? vrrp, OperatorStateStore store, IJournal journal, ILogger log, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(commands);
        var control = new VrrpControl(vrrp, store, journal, log, time ?? TimeProvider.System);
        if (vrrp is not null)
            vrrp.MaintenanceAtStart = control.SavedMaintenance;
        commands.Register("vrrp", control.RunAsync);
    }

    /// <summary>Instances saved in maintenance (an unreadable entry is logged and ignored).</summary>
    private IEnumerable<string> SavedMaintenance()
    {
        var names = new List<string>();
        foreach (var (name, value) in _store.Section(Section))
        {
            VrrpOperatorEntry? e = null;
            try
            {
                e = value.Deserialize(VrrpControlJsonContext.Default.VrrpOperatorEntry);
            }
            catch (JsonException)
            {
            }
            if (e?.Mode == "maintenance")
                names.Add(name);
            else
                _log.LogWarning("Operator state: vrrp entry {Instance} not understood ({Json}); ignored", name, value.GetRawText());
        }
        return names;
    }

    private async Task<ControlReply> RunAsync(ControlCaller caller, IReadOnlyList<string> args, CancellationToken ct)
    {
        string verb;
        string name;
        bool on = false;
        bool force = false;
        switch (args)
        {
            case ["maintenance", var n, "on" or "off"]:
                (verb, name, on) = ("maintenance", n, args[2] == "on");
                break;
            case ["failover", var n]:
                (verb, name) = ("failover", n);
                break;
            case ["failover", var n, "--force"]:
                (verb, name, force) = ("failover", n, true);
                break;
            default:
                return new ControlReply(1, $"lb vrrp {string.Join(' ', args)}: not understood; {Usage}");
        }
        var command = $"lb vrrp {string.Join(' ', args)}";
        if (_vrrp?.Subsystem is not { } vrrp)
            return new ControlReply(1, $"{name}: VRRP is not running in this daemon");
        await _serial.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var configured = vrrp.GetStatus().Instances.Select(i => i.Name).ToList();
            var saved = _store.Section(Section).ContainsKey(name);
            if (!configured.Contains(name, StringComparer.Ordinal) && !(verb == "maintenance" && !on && saved))
                return new ControlReply(1, $"{name}: no such vrrp_instance (configured: {(configured.Count == 0 ? "none" : string.Join(", ", configured))})");
            VrrpOperatorResult result;
            if (verb == "maintenance")
            {
                // saved first: a crash after this line restarts the node in the state the operator asked for
                try
                {
                    _store.Set(Section, name, on ? JsonSerializer.SerializeToElement(new VrrpOperatorEntry("maintenance", _time.GetUtcNow(), caller.Describe()), VrrpControlJsonContext.Default.VrrpOperatorEntry) : null);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return new ControlReply(1, $"{name}: cannot save the operator state ({e.Message}); nothing changed");
                }
                result = vrrp.SetMaintenance(name, on);
            }
            else
            {
                result = vrrp.Failover(name, force);
            }
            var text = $"{name}: {result.Text}";
            if (!result.Done)
            {
                _log.LogWarning("Operator {By}: {Command}: {Text}", caller.Describe(), command, text);
                return new ControlReply(1, text);
            }
            _log.LogInformation("Operator {By}: {Command}: {Text}", caller.Describe(), command, text);
            if (result.OldMode != result.NewMode)
            {
                try
                {
                    await _journal.AppendAsync(new JournalEntry
                    {
                        Time = _time.GetUtcNow(),
                        Subsystem = "vrrp",
                        Kind = "operator",
                        Instance = name,
                        OldState = result.OldMode,
                        NewState = result.NewMode,
                        Reason = command,
                        Action = result.Text,
                        By = caller.Describe(),
                    }, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
                {
                    _log.LogError("Journal: cannot record {Command}: {Message}", command, e.Message);
                }
            }
            return new ControlReply(0, text);
        }
        finally
        {
            _serial.Release();
        }
    }
}
