namespace Lb.Vrrp.Host;

/// <summary>VRRP states, as keepalived names them.</summary>
public enum VrrpState
{
    /// <summary>INIT: not started.</summary>
    Init,

    /// <summary>BACKUP.</summary>
    Backup,

    /// <summary>MASTER.</summary>
    Master,

    /// <summary>FAULT: a tracked interface/script/file is down.</summary>
    Fault,

    /// <summary>STOP: the subsystem stopped (only in notifications).</summary>
    Stop,
}

/// <summary>What a state change concerns: an instance or a sync group (keepalived's INSTANCE/GROUP).</summary>
public enum VrrpEntityKind
{
    /// <summary>A <c>vrrp_instance</c>.</summary>
    Instance,

    /// <summary>A <c>vrrp_sync_group</c>.</summary>
    Group,
}

/// <summary>One state change, for the durable journal.</summary>
/// <param name="At">When (from the injected TimeProvider).</param>
/// <param name="Kind">Instance or group.</param>
/// <param name="Name">Instance or group name.</param>
/// <param name="OldState">State before.</param>
/// <param name="NewState">State after.</param>
/// <param name="Priority">Effective priority at the change.</param>
/// <param name="Reason">Why, in words (e.g. "advertisement timeout", "higher priority advert from 10.0.0.3 (150)", "track_script chk_http failed").</param>
public sealed record VrrpStateChange(DateTimeOffset At, VrrpEntityKind Kind, string Name, VrrpState OldState, VrrpState NewState, int Priority, string Reason);

/// <summary>
/// A MASTER found another host answering for one of its VIPs (two masters: split brain) — the first confirmed answer of an
/// episode; later answers of the same episode are only counted in the status.
/// </summary>
/// <param name="At">When it was confirmed.</param>
/// <param name="Instance">The instance that is MASTER here.</param>
/// <param name="Vip">The VIP the other host answered for.</param>
/// <param name="Interface">Where (the VIP's interface).</param>
/// <param name="OtherMac">The other host's MAC address (aa:bb:cc:dd:ee:ff).</param>
/// <param name="OurMac">The MAC we probe and announce from.</param>
/// <param name="Detections">Episodes detected for this instance so far, this one included.</param>
public sealed record VrrpSplitBrain(DateTimeOffset At, string Instance, System.Net.IPAddress Vip, string Interface, string OtherMac, string OurMac, long Detections);

/// <summary>Receives every state change (the host writes them to its journal). Called on the instance's thread; must not block.</summary>
public interface IVrrpEventSink
{
    /// <summary>A state changed.</summary>
    void OnStateChanged(VrrpStateChange change);

    /// <summary>The effective priority of an instance changed.</summary>
    void OnPriorityChanged(string instance, int oldPriority, int newPriority) { }

    /// <summary>A reload applied one change (an instance, group or tracker added, removed, changed in place or restarted).</summary>
    void OnReloadApplied(Reload.VrrpReloadChange change) { }

    /// <summary>A split brain was detected (see <see cref="VrrpSplitBrain"/>); called on the probe's thread, must not block.</summary>
    void OnSplitBrain(VrrpSplitBrain detection) { }

    /// <summary>A notification for the notify FIFOs and mail (after its notify scripts ran); called off the engine lock, in order.</summary>
    void OnNotification(Notify.VrrpNotification notification) { }
}
