using Lb.Netlink.Collections;
using System.Net;

namespace Lb.Checkers.Options;

/// <summary>
/// One <c>real_server &lt;IPADDR&gt; [&lt;PORT&gt;]</c> block. Nullable settings inherit from the virtual server.
/// </summary>
public sealed record RealServerOptions
{
    /// <summary>The <c>&lt;IPADDR&gt;</c>.</summary>
    public required IPAddress Address { get; init; }

    /// <summary>The <c>[&lt;PORT&gt;]</c>; null: the virtual server's port.</summary>
    public ushort? Port { get; init; }

    /// <summary><c>weight &lt;INT&gt;</c>. Default 1.</summary>
    public int Weight { get; init; } = 1;

    /// <summary><c>lvs_method NAT|DR|TUN</c>; null: the virtual server's.</summary>
    public ForwardingMethod? ForwardingMethod { get; init; }

    /// <summary>Tunnel options of <c>lvs_method TUN type …</c>; null: the virtual server's.</summary>
    public TunnelOptions? Tunnel { get; init; }

    /// <summary><c>inhibit_on_failure [&lt;BOOL&gt;]</c>; null: the virtual server's.</summary>
    public bool? InhibitOnFailure { get; init; }

    /// <summary><c>notify_up &lt;STRING&gt; [user [group]]</c>.</summary>
    public ScriptOptions? NotifyUp { get; init; }

    /// <summary><c>notify_down &lt;STRING&gt; [user [group]]</c>.</summary>
    public ScriptOptions? NotifyDown { get; init; }

    /// <summary><c>uthreshold &lt;INT&gt;</c>: maximum connections (0: none).</summary>
    public uint UpperThreshold { get; init; }

    /// <summary><c>lthreshold &lt;INT&gt;</c>: minimum connections.</summary>
    public uint LowerThreshold { get; init; }

    /// <summary>
    /// <c>smtp_alert</c>, resolved by the mapper as keepalived (real server, else <c>smtp_alert_checker</c>, else
    /// <c>smtp_alert</c>, else ON: keepalived's own exception, kept for backward compatibility): its checkers' mails.
    /// </summary>
    public bool SmtpAlert { get; init; } = true;

    /// <summary><c>virtualhost &lt;STRING&gt;</c>: default Host of HTTP_GET/SSL_GET checkers; null: the virtual server's.</summary>
    public string? Virtualhost { get; init; }

    /// <summary><c>alpha [&lt;BOOL&gt;]</c>; null: the virtual server's.</summary>
    public bool? Alpha { get; init; }

    /// <summary><c>connect_timeout &lt;TIMER&gt;</c>; null: inherited.</summary>
    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary><c>retry &lt;INT&gt;</c>; null: inherited.</summary>
    public int? Retry { get; init; }

    /// <summary><c>delay_before_retry &lt;TIMER&gt;</c>; null: inherited.</summary>
    public TimeSpan? DelayBeforeRetry { get; init; }

    /// <summary><c>warmup &lt;TIMER&gt;</c>; null: inherited.</summary>
    public TimeSpan? Warmup { get; init; }

    /// <summary><c>delay_loop &lt;TIMER&gt;</c>; null: inherited.</summary>
    public TimeSpan? DelayLoop { get; init; }

    /// <summary>Lb extension <c>#lb: slow_start SECONDS [at_start]</c>; null: the virtual server's.</summary>
    public SlowStartOptions? SlowStart { get; init; }

    /// <summary>The checker blocks (HTTP_GET, SSL_GET, TCP_CHECK, MISC_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK, SMTP_CHECK), in file order.</summary>
    public ValueList<CheckerOptions> Checkers { get; init; } = [];

    /// <summary>Where the block starts (<c>file:line</c>). Optional.</summary>
    public string? SourceLocation { get; init; }
}

/// <summary>
/// A script keyword value: <c>&lt;STRING&gt;|&lt;QUOTED-STRING&gt; [username [groupname]]</c>.
/// <see cref="Command"/> is split into argv like keepalived does (<see cref="Lb.Scripts.ScriptCommandLine.Split"/>); never run through a shell.
/// </summary>
public sealed record ScriptOptions
{
    /// <summary>The command line (the quoted string's content, or the single word).</summary>
    public required string Command { get; init; }

    /// <summary><see cref="Command"/> split once at configuration time (argv[0] resolved); null: split <see cref="Command"/> when run.</summary>
    public ValueList<string>? Argv { get; init; }

    /// <summary>The <c>username</c>; null: <c>script_user</c>, else the user lb runs as.</summary>
    public string? User { get; init; }

    /// <summary>The <c>groupname</c>; null: the user's primary group.</summary>
    public string? Group { get; init; }
}

/// <summary>
/// Lb extension <c>#lb: slow_start SECONDS [at_start]</c> (virtual_server: the default of its real servers; real_server):
/// a real server coming up ramps its IPVS weight from 1 to its weight over <see cref="Duration"/>.
/// </summary>
public sealed record SlowStartOptions
{
    /// <summary>How long the ramp takes (0: none).</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary><c>at_start</c>: also ramp the servers that are up when Lb starts (default: only later arrivals).</summary>
    public bool AtStart { get; init; }
}
