using Lb.Checkers.Journal;
using Lb.Netlink.Ipvs;
using Lb.Scripts;

namespace Lb.Checkers.Engine;

/// <summary>
/// What one decision of the engine (start-up, a checker's round, a reload, the stop) changes, as data: the journal
/// entries in order, the IPVS work, the notify scripts to start, and the status of the virtual servers it touched.
/// The subsystem's applier performs it: journal batch appended and fsynced once, then the IPVS work in one batch, then
/// the scripts, then the status is published. Built under the subsystem's gate; immutable once handed over.
/// </summary>
internal sealed class ChangeSet
{
    /// <summary>Journal entries, in the order the decisions were made.</summary>
    public List<JournalEntry> Journal { get; } = new();

    /// <summary>Explicit IPVS operations (steady state and stop), in order; ignored when <see cref="Reconcile"/> is set.</summary>
    public List<IpvsOperation> Operations { get; } = new();

    /// <summary>Start-up and reload: the table wanted afterwards and what Lb owns in the kernel (one reconcile).</summary>
    public (IReadOnlyList<IpvsVirtualServer> Desired, IpvsOwnership Ownership)? Reconcile { get; set; }

    /// <summary><c>lvs_flush_onstop</c> full: the whole table is removed (ipvsadm -C).</summary>
    public bool Flush { get; set; }

    /// <summary>Notify scripts to start once the IPVS work is done (not awaited).</summary>
    public List<ScriptInvocation> Scripts { get; } = new();

    /// <summary>FIFO lines and mails (keepalived's notify_fifo_rs/vs, smtp_alert), raised as events once the IPVS work is done, in order.</summary>
    public List<CheckerNotification> Notifications { get; } = new();

    /// <summary>
    /// Log lines written once the IPVS work is done (the stop's line per real server: thousands of synchronous writes that
    /// must not delay the removal itself), in order.
    /// </summary>
    public List<Action> LogAfterApply { get; } = new();

    /// <summary>The virtual servers' status after this change set (null: unchanged), published once it is applied.</summary>
    public IReadOnlyList<VirtualServerView>? Status { get; set; }

    /// <summary>Operator overrides to persist (key, value; null: removed), before the IPVS work.</summary>
    public List<(string Key, Operator.RealServerOverride? Value)> OverrideWrites { get; } = new();

    /// <summary>
    /// A reload's dry run (<c>lb reload --plan</c>): the applier only computes, at this change set's turn, the operations
    /// the <see cref="Reconcile"/> would send (into <see cref="Ipvs"/>); nothing is journalled, sent, run or published.
    /// </summary>
    public bool DryRun { get; init; }

    /// <summary>Filled in by the applier for a <see cref="Reconcile"/>: the table before it and the operations sent (or, dry run, that would be).</summary>
    public IpvsReconcileOutcome? Ipvs { get; set; }

    public bool HasIpvsWork => Flush || Reconcile is not null || Operations.Count > 0;

    public bool IsEmpty => Journal.Count == 0 && !HasIpvsWork && Scripts.Count == 0 && Notifications.Count == 0 && Status is null && LogAfterApply.Count == 0 && OverrideWrites.Count == 0;
}

/// <summary>What one reconcile did (or, dry run, would do): the table it started from and each operation with its outcome (null: not sent).</summary>
/// <param name="Error">Why the operations could not be computed (the kernel could not be read), else null.</param>
internal sealed record IpvsReconcileOutcome(IpvsTableSnapshot Before, IReadOnlyList<IpvsOperation> Operations, IReadOnlyList<IpvsOperationResult>? Results, string? Error = null);
