using Lb.Netlink.Collections;
namespace Lb.Vrrp.Options;

/// <summary>A <c>vrrp_sync_group</c> block: member instances move between states together.</summary>
public sealed record VrrpSyncGroupOptions
{
    /// <summary>Name (<c>vrrp_sync_group &lt;STRING&gt;</c>).</summary>
    public required string Name { get; init; }

    /// <summary><c>group { … }</c>: member instance names.</summary>
    public required ValueList<string> Members { get; init; }

    /// <summary><c>track_interface</c> applying to every member.</summary>
    public ValueList<TrackedInterface> TrackInterfaces { get; init; } = [];

    /// <summary><c>track_script</c> applying to every member.</summary>
    public ValueList<TrackedReference> TrackScripts { get; init; } = [];

    /// <summary><c>track_file</c> applying to every member.</summary>
    public ValueList<TrackedReference> TrackFiles { get; init; } = [];

    /// <summary><c>track_process</c> applying to every member.</summary>
    public ValueList<TrackedReference> TrackProcesses { get; init; } = [];

    /// <summary><c>notify_master</c>.</summary>
    public NotifyScript? NotifyMaster { get; init; }

    /// <summary><c>notify_backup</c>.</summary>
    public NotifyScript? NotifyBackup { get; init; }

    /// <summary><c>notify_fault</c>.</summary>
    public NotifyScript? NotifyFault { get; init; }

    /// <summary><c>notify_stop</c>.</summary>
    public NotifyScript? NotifyStop { get; init; }

    /// <summary><c>notify</c>: run with GROUP, name, state, priority appended.</summary>
    public NotifyScript? Notify { get; init; }

    /// <summary><c>notify_priority_changes</c>.</summary>
    public bool? NotifyPriorityChanges { get; init; }

    /// <summary><c>smtp_alert</c>, resolved by the mapper as keepalived (group, else <c>smtp_alert_vrrp</c>, else <c>smtp_alert</c>, else off): mail on state changes (sent by the host).</summary>
    public bool? SmtpAlert { get; init; }

    /// <summary><c>sync_group_tracking_weight</c>: keep member tracking weights (otherwise keepalived forces them to 0).</summary>
    public bool SyncGroupTrackingWeight { get; init; }
}
