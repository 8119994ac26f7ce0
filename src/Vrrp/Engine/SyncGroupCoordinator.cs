using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Engine;

/// <summary>
/// A <c>vrrp_sync_group</c>: members move together. One member becoming MASTER takes the others
/// to MASTER; one member leaving MASTER for BACKUP takes the others to BACKUP; a fault of any member
/// puts every member in FAULT, and none may become MASTER while one is faulted. The group's own
/// state (for GROUP notifies) follows.
/// </summary>
internal sealed class SyncGroupCoordinator
{
    private readonly ILogger _logger;
    private readonly IVrrpEventSink _events;
    private readonly TimeProvider _time;
    private readonly Action<SyncGroupCoordinator, VrrpState> _notify;
    private bool _syncing;

    public SyncGroupCoordinator(VrrpSyncGroupOptions options, IReadOnlyList<VrrpInstanceMachine> members, IVrrpEventSink events, TimeProvider time, ILogger logger, Action<SyncGroupCoordinator, VrrpState> notify)
    {
        Options = options;
        Members = members;
        _events = events;
        _time = time;
        _logger = logger;
        _notify = notify;
        foreach (var m in members)
            m.Group = this;
    }

    public VrrpSyncGroupOptions Options { get; set; }

    public string Name => Options.Name;

    public IReadOnlyList<VrrpInstanceMachine> Members { get; private set; }

    /// <summary>Reload: replaces the members (removed ones leave the group, added ones join it); the group state is kept.</summary>
    public void SetMembers(IReadOnlyList<VrrpInstanceMachine> members)
    {
        foreach (var m in Members)
        {
            if (!members.Contains(m) && m.Group == this)
                m.Group = null;
        }
        foreach (var m in members)
            m.Group = this;
        Members = members;
    }

    /// <summary>
    /// Reload, after a membership change: faults are re-applied to every member, and when one member is
    /// MASTER the BACKUP members follow it (as they would have had they been members when it became MASTER).
    /// </summary>
    public void Resync(string reason)
    {
        Reevaluate(reason);
        var master = Members.FirstOrDefault(m => m.State == VrrpState.Master);
        if (master is not null && Members.Any(m => m.State == VrrpState.Backup))
            MemberBecameMaster(master);
    }

    public VrrpState State { get; private set; } = VrrpState.Init;

    public bool AnyMemberFaulted => Members.Any(m => m.OwnFaults > 0);

    public bool CanGotoMaster(VrrpInstanceMachine member) => !AnyMemberFaulted;

    /// <summary>A member is in operator maintenance: the whole group is held BACKUP (as a fault holds it in FAULT).</summary>
    public bool AnyMemberInMaintenance => Members.Any(m => m.InMaintenance);

    public void MemberBecameMaster(VrrpInstanceMachine member)
    {
        if (_syncing)
            return;
        _syncing = true;
        try
        {
            if (Members.Any(m => m != member && m.State == VrrpState.Backup))
                _logger.SyncGroupSyncing(Name, "MASTER");
            foreach (var m in Members)
            {
                if (m != member && m.State == VrrpState.Backup)
                    m.GotoMaster($"sync group {Name}", force: true);
            }
        }
        finally
        {
            _syncing = false;
        }
        UpdateGroupState(VrrpState.Master, $"member {member.Name} became MASTER");
    }

    public void MemberLeftMaster(VrrpInstanceMachine member)
    {
        if (_syncing)
            return;
        _syncing = true;
        try
        {
            if (Members.Any(m => m != member && m.State == VrrpState.Master))
                _logger.SyncGroupSyncing(Name, "BACKUP");
            foreach (var m in Members)
            {
                if (m != member && m.State == VrrpState.Master)
                    m.LeaveMaster(VrrpState.Backup, $"sync group {Name}");
            }
        }
        finally
        {
            _syncing = false;
        }
        UpdateGroupState(VrrpState.Backup, $"member {member.Name} left MASTER");
    }

    /// <summary>Re-applies FAULT to every member after a tracking change of one of them.</summary>
    public void Reevaluate(string reason)
    {
        _syncing = true;
        try
        {
            foreach (var m in Members)
                m.ApplyFault(reason);
        }
        finally
        {
            _syncing = false;
        }
        if (Members.All(m => m.State == VrrpState.Fault))
            UpdateGroupState(VrrpState.Fault, reason);
        else if (Members.All(m => m.State == VrrpState.Master))
            UpdateGroupState(VrrpState.Master, reason);
        else if (Members.All(m => m.State is VrrpState.Backup or VrrpState.Master))
            UpdateGroupState(Members.Any(m => m.State == VrrpState.Master) ? VrrpState.Master : VrrpState.Backup, reason);
    }

    /// <summary>Sets the group state after all members started.</summary>
    public void Started()
    {
        var s = Members.Any(m => m.State == VrrpState.Fault) ? VrrpState.Fault
            : Members.Any(m => m.State == VrrpState.Master) ? VrrpState.Master : VrrpState.Backup;
        UpdateGroupState(s, "init");
    }

    public void Stopped() => UpdateGroupState(VrrpState.Stop, "stopping");

    private void UpdateGroupState(VrrpState to, string reason)
    {
        if (State == to)
            return;
        var from = State;
        State = to;
        var prio = Members.Count > 0 ? Members.Max(m => m.EffectivePriority) : 0;
        _events.OnStateChanged(new VrrpStateChange(_time.GetUtcNow(), VrrpEntityKind.Group, Name, from, to, prio, reason));
        _notify(this, to);
    }
}
