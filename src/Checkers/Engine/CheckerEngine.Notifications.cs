using Lb.Checkers.Options;

namespace Lb.Checkers.Engine;

/// <summary>
/// The FIFO lines and mails of the checkers (keepalived's ipwrapper.c <c>do_rs_notifies</c>/<c>do_vs_notifies</c>,
/// <c>clear_service_rs</c>, and each checker's <c>smtp_alert(SMTP_MSG_RS, …)</c>), queued in the change set next to
/// the notify scripts of the same decision; the host writes and sends them.
/// </summary>
internal sealed partial class CheckerEngine
{
    /// <summary><c>do_rs_notifies</c>' FIFO line: the real server's state as it is now.</summary>
    private void RsFifo(RsState rs)
        => _cs.Notifications.Add(new CheckerNotification($"RS {rs.Name} {rs.Vs.Name} {(rs.Alive ? "UP" : "DOWN")}", null));

    /// <summary>
    /// <c>do_vs_notifies</c>: the FIFO line and, with the virtual server's <c>smtp_alert</c>, the mail
    /// (<paramref name="message"/> null: the stop's "=> Shutting down <=").
    /// </summary>
    private void VsNotification(VsState vs, string? message)
    {
        var state = vs.QuorumUp ? "UP" : "DOWN";
        var mail = vs.Options.SmtpAlert ? new CheckerMail($"Virtualserver {vs.Name} - {state}", message ?? "=> Shutting down <=") : null;
        _cs.Notifications.Add(new CheckerNotification($"VS {vs.Name} {state}", mail));
    }

    /// <summary>keepalived's quorum mail text: <c>=&gt; Gained quorum 1+0=1 &lt;= 2 &lt;=</c> (always "+", as keepalived writes it).</summary>
    private static string QuorumMessage(VsState vs, bool init, long threshold, long weightSum)
    {
        var what = vs.QuorumUp ? (init ? "Starting with quorum up" : "Gained quorum") : (init ? "Starting with quorum down" : "Lost quorum");
        return $"=> {what} {vs.Options.Quorum}+{vs.Options.Hysteresis}={threshold} <= {weightSum} <=";
    }

    /// <summary><c>clear_service_rs</c>: an alive real server removed by a reload or the stop (omega): FIFO line, then SMTP_MSG_RS_SHUT.</summary>
    private void RsRemovedNotification(RsState rs, bool stopping)
    {
        RsFifo(rs);
        if (rs.Options.SmtpAlert)
            _cs.Notifications.Add(new CheckerNotification(null, new CheckerMail($"Realserver {rs.Name} of virtual server {rs.Vs.Name} - DOWN", stopping ? "=> Shutting down <=" : "=> Removing <=")));
    }

    /// <summary>
    /// The checker's own mail after a round changed its state (check_tcp.c, check_http.c …): sent when the checker
    /// changed (MISC_CHECK: whenever its result was acted on) and the real server changed too, or always unless
    /// <c>no_checker_emails</c>. The subject carries the real server's state after the round.
    /// </summary>
    private void CheckerMailAfterRound(CheckerState c, bool success, bool checkerWasUp, bool rsWasAlive, string reason)
    {
        var rs = c.Rs;
        if (!rs.Options.SmtpAlert)
            return;
        var isMisc = c.Options is MiscCheckOptions;
        if (!isMisc && checkerWasUp == success)
            return;
        if (rsWasAlive == rs.Alive && _options.NoCheckerEmails)
            return;
        var body = (c.Options, success) switch
        {
            (TcpCheckOptions, true) => "=> TCP CHECK succeed on service <=",
            (TcpCheckOptions, false) => "=> TCP CHECK failed on service <=",
            (HttpCheckOptions, true) => "=> CHECK succeed on service <=",
            (HttpCheckOptions, false) => "=> CHECK failed on service : HTTP request failed <=",
            (UdpCheckOptions, true) => "=> UDP CHECK succeed on service <=",
            (UdpCheckOptions, false) => "=> UDP CHECK failed on service <=",
            (PingCheckOptions, true) => "=> ICMP CHECK succeed on service <=",
            (PingCheckOptions, false) => "=> ICMP CHECK failed on service <=",
            (DnsCheckOptions, true) => "=> DNS_CHECK: succeed on service <=",
            (DnsCheckOptions, false) => "=> DNS_CHECK: failed on service <=",
            (SmtpCheckOptions, true) => "=> CHECK succeed on service <=",
            (SmtpCheckOptions, false) => $"=> CHECK failed on service : {reason} <=",
            (MiscCheckOptions, true) => "=> MISC CHECK succeeded on service <=",
            (MiscCheckOptions, false) => reason.StartsWith("timed out", StringComparison.Ordinal) ? "=> MISC CHECK timed out on service <=" : "=> MISC CHECK failed on service <=",
            (_, true) => $"=> {c.Options.Keyword} succeed on service <=",
            (_, false) => $"=> {c.Options.Keyword} failed on service <=",
        };
        _cs.Notifications.Add(new CheckerNotification(null, new CheckerMail($"Realserver {rs.Name} of virtual server {rs.Vs.Name} - {(rs.Alive ? "UP" : "DOWN")}", body)));
    }
}
