using Lb.Vrrp.Host;

namespace Lb.Vrrp.Notify;

/// <summary>
/// One VRRP notification as keepalived sends it (vrrp_notify.c <c>notify_fifo</c>, <c>vrrp_smtp_notifier</c>): the
/// FIFO line for <c>notify_fifo</c>/<c>vrrp_notify_fifo</c> and, for a state change of an instance or group with
/// <c>smtp_alert</c>, a mail. Published after the notify scripts of the same change were run, in order.
/// </summary>
/// <param name="Kind">Instance or sync group.</param>
/// <param name="Name">The instance's or group's name.</param>
/// <param name="State">keepalived's word: MASTER, BACKUP, FAULT, STOP, MASTER_RX_LOWER_PRI, MASTER_PRIORITY, BACKUP_PRIORITY.</param>
/// <param name="Priority">Effective priority (0 for a group, as keepalived).</param>
/// <param name="SmtpAlert">The object's effective <c>smtp_alert</c>; false for the events keepalived never mails (priority, lower-priority advert).</param>
public sealed record VrrpNotification(VrrpEntityKind Kind, string Name, string State, int Priority, bool SmtpAlert)
{
    /// <summary><c>INSTANCE "VI_1" MASTER 100</c>, <c>GROUP "G1" BACKUP 0</c>.</summary>
    public string FifoLine => NotifyDispatcher.FifoLine(Kind, Name, State, Priority);
}
