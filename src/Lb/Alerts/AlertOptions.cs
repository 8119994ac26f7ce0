using Lb.Netlink.Collections;

namespace Lb.Alerts;

/// <summary>
/// What the host tells the outside world about both subsystems, from <c>global_defs</c>: the notify FIFOs (with the
/// scripts that read them) and the alert mail. Both subsystems publish events; the host owns these, because
/// <c>notify_fifo</c> carries VRRP and checker lines on one FIFO read by one script, and one mail queue serves both.
/// </summary>
public sealed record AlertOptions
{
    /// <summary><c>notify_fifo</c> (+ <c>notify_fifo_script</c>): VRRP and checker lines.</summary>
    public FifoOptions? NotifyFifo { get; init; }

    /// <summary><c>vrrp_notify_fifo</c> (+ script): VRRP lines only.</summary>
    public FifoOptions? VrrpNotifyFifo { get; init; }

    /// <summary><c>lvs_notify_fifo</c> (+ script): checker lines only.</summary>
    public FifoOptions? LvsNotifyFifo { get; init; }

    /// <summary><c>script_user</c> (FIFO scripts without a user of their own run as it).</summary>
    public string? ScriptUser { get; init; }

    /// <summary>Group part of <c>script_user</c>.</summary>
    public string? ScriptGroup { get; init; }

    /// <summary><c>enable_script_security</c>.</summary>
    public bool EnableScriptSecurity { get; init; }

    /// <summary><c>notification_email</c>: recipients (one RCPT TO each, all in the To: header); none: no mail.</summary>
    public ValueList<string> Emails { get; init; } = [];

    /// <summary><c>notification_email_from</c>; null: keepalived's default <c>user@host</c> (the user Lb runs as, the host's canonical name).</summary>
    public string? EmailFrom { get; init; }

    /// <summary><c>smtp_server</c> address or name; null: no mail.</summary>
    public string? SmtpServer { get; init; }

    /// <summary><c>smtp_server</c>'s port (default 25).</summary>
    public int SmtpPort { get; init; } = 25;

    /// <summary><c>smtp_helo_name</c>; null: the host's canonical name.</summary>
    public string? SmtpHeloName { get; init; }

    /// <summary><c>smtp_connect_timeout</c>: bound of the connection and of each reply (keepalived's default 30 s).</summary>
    public TimeSpan SmtpConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>router_id</c> for the subject's <c>[router_id]</c>; null: the host's canonical name.</summary>
    public string? RouterId { get; init; }

    /// <summary><c>no_email_faults</c>: no mail when a VRRP instance or group enters FAULT.</summary>
    public bool NoEmailFaults { get; init; }

    /// <summary>Mail is configured: at least one recipient and an SMTP server (keepalived sends nothing otherwise).</summary>
    public bool MailEnabled => Emails.Count > 0 && SmtpServer is not null;
}

/// <summary>One notify FIFO: its path and the script started to read it (the path is appended as its last argument).</summary>
/// <param name="Path">The FIFO's path.</param>
/// <param name="Script">The script's argv (null: none).</param>
/// <param name="User">The script's user (null: script_user).</param>
/// <param name="Group">The script's group.</param>
public sealed record FifoOptions(string Path, ValueList<string>? Script = null, string? User = null, string? Group = null);
