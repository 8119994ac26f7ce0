using Lb.Vrrp.Engine;

namespace Lb.Vrrp;

/// <summary>The operator's commands (<c>lb vrrp maintenance</c>, <c>lb vrrp failover</c>); see <see cref="OperatorActions"/>.</summary>
public sealed partial class VrrpSubsystem
{
    /// <summary>
    /// Maintenance on: a MASTER sends a priority-0 advert, removes its VIPs and goes BACKUP; while on, the instance (and its
    /// sync group) never becomes MASTER. Off: elections run as usual again (a preempting higher priority takes MASTER back).
    /// The hold is kept by name: a reload that restarts or re-adds the instance keeps it.
    /// </summary>
    public VrrpOperatorResult SetMaintenance(string instance, bool on) => OperatorActions.SetMaintenance(_engine, instance, on, _logger);

    /// <summary>
    /// Hands MASTER to the peer: priority-0 advert, VIPs removed, BACKUP, and no preempting back while a master is heard.
    /// Refused when not MASTER, in maintenance, or (unless <paramref name="force"/>) when no other router was ever heard.
    /// </summary>
    public VrrpOperatorResult Failover(string instance, bool force) => OperatorActions.Failover(_engine, instance, force, _logger);

    /// <summary>Maintenance persisted by the host (operator state file): call before <see cref="StartAsync"/>, so these instances never become MASTER.</summary>
    public void RestoreMaintenance(IEnumerable<string> instances) => OperatorActions.Restore(_engine, instances, _logger);
}
