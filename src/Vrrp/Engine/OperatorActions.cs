using System.Globalization;
using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Host;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Engine;

/// <summary>What the operator holds, by instance name, for every machine of one engine (read and changed under the engine lock).</summary>
internal sealed class OperatorHolds
{
    /// <summary>Instances in maintenance (<c>lb vrrp maintenance NAME on</c>): never MASTER while listed.</summary>
    public HashSet<string> Maintenance { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// <c>lb vrrp maintenance</c> and <c>lb vrrp failover</c> on the engine (pure decisions under the engine lock; the machines emit
/// the adverts, VIP removals and notifies as usual). A MASTER leaves with a priority-0 advert (RFC 5798 6.4.3: the backup of
/// highest priority takes over after Skew_Time) and goes BACKUP. A sync group moves together: every MASTER member leaves,
/// and maintenance of one member holds the whole group BACKUP, as a fault of one member holds it in FAULT.
/// </summary>
internal static class OperatorActions
{
    /// <summary>The operator mode shown by <c>lb status</c> (null: none).</summary>
    public static string? Describe(VrrpInstanceMachine m) =>
        m.InMaintenance ? "maintenance"
        : m.Group is { AnyMemberInMaintenance: true } g ? $"maintenance (sync group {g.Name})"
        : m.FailoverHold ? "failover" : null;

    private static string Mode(VrrpInstanceMachine m) => m.InMaintenance ? "maintenance" : m.FailoverHold ? "failover" : "normal";

    private static string Upper(VrrpState s) => s.ToString().ToUpperInvariant();

    /// <summary>Maintenance on or off for <paramref name="name"/> (on: an instance not configured is refused; off: any name, so a stale entry can be cleared).</summary>
    public static VrrpOperatorResult SetMaintenance(VrrpEngine engine, string name, bool on, ILogger logger)
    {
        lock (engine.Gate)
        {
            engine.Instances.TryGetValue(name, out var m);
            if (m is null)
            {
                if (!on && engine.Holds.Maintenance.Remove(name))
                    return new VrrpOperatorResult(true, "maintenance off (instance not in the configuration)", "maintenance", "normal");
                return new VrrpOperatorResult(false, "no such vrrp_instance", "normal", "normal");
            }
            var old = Mode(m);
            if (on)
            {
                if (!engine.Holds.Maintenance.Add(name))
                    return new VrrpOperatorResult(true, $"maintenance already on ({Upper(m.State)})", old, old);
                var members = m.Group?.Members ?? [m];
                foreach (var x in members)
                    x.FailoverHold = false;
                var wasMaster = m.State == VrrpState.Master;
                var others = Leave(members, m, $"operator: maintenance of {name}");
                var text = wasMaster
                    ? "maintenance on: was MASTER, sent priority 0, now BACKUP"
                    : $"maintenance on: {Upper(m.State)}, will not become MASTER";
                if (m.Group is { } g)
                    text += $"; sync group {g.Name} held BACKUP" + (others.Count > 0 ? $" ({string.Join(", ", others)} sent priority 0, now BACKUP)" : "");
                logger.OperatorAction(name, text);
                return new VrrpOperatorResult(true, text, old, "maintenance");
            }
            if (!engine.Holds.Maintenance.Remove(name))
                return new VrrpOperatorResult(true, $"maintenance was not on ({Upper(m.State)})", old, old);
            string offText;
            if (m.Group is { AnyMemberInMaintenance: true } held)
            {
                offText = $"maintenance off: {Upper(m.State)}; sync group {held.Name} still held BACKUP by {string.Join(", ", held.Members.Where(x => x.InMaintenance).Select(x => x.Name))}";
            }
            else
            {
                var o = m.Settings.Options;
                offText = string.Create(CultureInfo.InvariantCulture,
                    $"maintenance off: {Upper(m.State)}, may become MASTER again (priority {m.EffectivePriority}, {(o.Preempt ? "preempt" : "nopreempt")})");
            }
            logger.OperatorAction(name, offText);
            return new VrrpOperatorResult(true, offText, old, "normal");
        }
    }

    /// <summary>
    /// Hands MASTER to the peer: every MASTER member sends priority 0 and goes BACKUP, and the members hold BACKUP while a
    /// master is heard (<see cref="VrrpInstanceMachine.FailoverHold"/>, until the master-down timer makes one MASTER again).
    /// Refused when the instance is in maintenance, not MASTER, or (unless <paramref name="force"/>) has never heard another router.
    /// </summary>
    public static VrrpOperatorResult Failover(VrrpEngine engine, string name, bool force, ILogger logger)
    {
        lock (engine.Gate)
        {
            if (!engine.Instances.TryGetValue(name, out var m))
                return new VrrpOperatorResult(false, "no such vrrp_instance", "normal", "normal");
            var old = Mode(m);
            if (m.HeldBackup)
                return new VrrpOperatorResult(false, $"failover refused: in {Describe(m)} ({Upper(m.State)}); it is not MASTER", old, old);
            if (m.State != VrrpState.Master)
                return new VrrpOperatorResult(false, $"failover refused: not MASTER ({Upper(m.State)}{(m.MasterAddress is { } a && m.State == VrrpState.Backup ? $", master {a}" : "")})", old, old);
            var members = m.Group?.Members ?? [m];
            if (!force && !members.Any(x => x.PeerHeard))
            {
                return new VrrpOperatorResult(false, string.Create(CultureInfo.InvariantCulture,
                    $"failover refused: no other VRRP router heard since start (a BACKUP is silent until it takes over); --force hands over anyway (if no router takes over, this node is MASTER again after the master-down interval, {m.MasterDownInterval.TotalSeconds:0.##} s)"), old, old);
            }
            var others = Leave(members, m, $"operator: failover of {name}");
            foreach (var x in members)
                x.FailoverHold = true;
            var text = "failover: was MASTER, sent priority 0, now BACKUP; stays BACKUP while a master is heard";
            if (m.Group is { } g && others.Count > 0)
                text += $"; sync group {g.Name}: {string.Join(", ", others)} too";
            logger.OperatorAction(name, text);
            return new VrrpOperatorResult(true, text, old, "failover");
        }
    }

    /// <summary>Maintenance read back from the operator state file, before the instances start (a restarted node in maintenance is never MASTER, not even briefly).</summary>
    public static void Restore(VrrpEngine engine, IEnumerable<string> names, ILogger logger)
    {
        lock (engine.Gate)
        {
            foreach (var n in names)
            {
                engine.Holds.Maintenance.Add(n);
                logger.OperatorAction(n, engine.Instances.ContainsKey(n)
                    ? "maintenance on (operator state): stays BACKUP"
                    : "maintenance on (operator state) for an instance not in the configuration: kept until `lb vrrp maintenance " + n + " off`");
            }
        }
    }

    /// <summary>Every MASTER among <paramref name="members"/> sends priority 0, then they go BACKUP; returns the names of those other than <paramref name="m"/>.</summary>
    private static List<string> Leave(IReadOnlyList<VrrpInstanceMachine> members, VrrpInstanceMachine m, string reason)
    {
        var leaving = members.Where(x => x.State == VrrpState.Master).ToList();
        // all priority-0 adverts first: the first LeaveMaster takes the other members to BACKUP through the sync group
        foreach (var x in leaving)
            x.SendPriorityZero();
        foreach (var x in leaving)
            x.LeaveMaster(VrrpState.Backup, reason);
        return leaving.Where(x => x != m).Select(x => x.Name).ToList();
    }
}
