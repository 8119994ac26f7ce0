namespace Lb.Checkers;

/// <summary>
/// What keepalived's checker process tells the outside world besides the journal and the notify scripts, as data the
/// host turns into FIFO lines and mail (src/Checkers writes no FIFO and sends no mail itself: <c>notify_fifo</c> is
/// shared with VRRP). Raised by the applier after the change set that caused it was applied, in decision order.
/// </summary>
/// <param name="FifoLine">
/// keepalived's ipwrapper.c <c>notify_fifo_rs</c>/<c>notify_fifo_vs</c> line (without its newline) for
/// <c>notify_fifo</c> and <c>lvs_notify_fifo</c>: <c>RS [10.0.0.2]:tcp:80 [10.0.0.100]:tcp:80 UP</c>,
/// <c>VS [10.0.0.100]:tcp:80 DOWN</c>; null when only a mail is due.
/// </param>
/// <param name="Mail">The mail keepalived sends for this change (<c>smtp_alert</c> on the object); null: none.</param>
public sealed record CheckerNotification(string? FifoLine, CheckerMail? Mail);

/// <summary>
/// One alert mail of the checkers, as keepalived's smtp.c builds it, without the <c>[router_id] </c> prefix the host
/// adds to the subject.
/// </summary>
/// <param name="Subject"><c>Realserver [10.0.0.2]:tcp:80 of virtual server [10.0.0.100]:tcp:80 - DOWN</c>, <c>Virtualserver [10.0.0.100]:tcp:80 - UP</c>.</param>
/// <param name="Body"><c>=&gt; TCP CHECK failed on service &lt;=</c>, <c>=&gt; Gained quorum 1+0=1 &lt;= 2 &lt;=</c>, <c>=&gt; Shutting down &lt;=</c>…</param>
public sealed record CheckerMail(string Subject, string Body);
