using Lb.Netlink.Collections;
using System.Net;

namespace Lb.Checkers.Options;

/// <summary>
/// Options common to every checker block (keepalived's <c>install_checker_common_keywords</c>).
/// Nullable settings inherit checker → real_server → virtual_server → default (see <see cref="EffectiveSettings"/>).
/// </summary>
public abstract record CheckerOptions
{
    /// <summary>The keepalived block keyword (<c>HTTP_GET</c>, <c>TCP_CHECK</c>, …).</summary>
    public abstract string Keyword { get; }

    /// <summary><c>connect_ip &lt;IPADDR&gt;</c>; null: the real server's address.</summary>
    public IPAddress? ConnectIp { get; init; }

    /// <summary><c>connect_port &lt;PORT&gt;</c>; null: the real server's port.</summary>
    public ushort? ConnectPort { get; init; }

    /// <summary><c>bindto &lt;IPADDR&gt;</c>: source address of the check connection.</summary>
    public IPAddress? BindTo { get; init; }

    /// <summary><c>bind_port &lt;PORT&gt;</c>: source port of the check connection.</summary>
    public ushort? BindPort { get; init; }

    /// <summary><c>bind_if &lt;IFNAME&gt;</c>: interface for an IPv6 link-local <c>bindto</c>.</summary>
    public string? BindInterface { get; init; }

    /// <summary><c>fwmark &lt;INT&gt;</c>: mark put on the checker's packets.</summary>
    public uint? FirewallMark { get; init; }

    /// <summary><c>alpha [&lt;BOOL&gt;]</c>; null: inherited.</summary>
    public bool? Alpha { get; init; }

    /// <summary><c>connect_timeout &lt;TIMER&gt;</c>; null: inherited (default 5 s).</summary>
    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary><c>retry &lt;INT&gt;</c> (HTTP_GET/SSL_GET also <c>nb_get_retry</c>); null: inherited, else the kind's default.</summary>
    public int? Retry { get; init; }

    /// <summary><c>delay_before_retry &lt;TIMER&gt;</c>; null: inherited, else the kind's default.</summary>
    public TimeSpan? DelayBeforeRetry { get; init; }

    /// <summary><c>warmup &lt;TIMER&gt;</c>; null: inherited, else delay_loop.</summary>
    public TimeSpan? Warmup { get; init; }

    /// <summary><c>delay_loop &lt;TIMER&gt;</c>; null: inherited (default 60 s).</summary>
    public TimeSpan? DelayLoop { get; init; }

    /// <summary><c>log_all_failures [&lt;BOOL&gt;]</c>; null: the global <c>checker_log_all_failures</c>.</summary>
    public bool? LogAllFailures { get; init; }

    /// <summary>keepalived's default <c>retry</c> for this kind (1 unless the kind says otherwise).</summary>
    public virtual int DefaultRetry => 1;

    /// <summary>keepalived's default <c>delay_before_retry</c> for this kind given the effective delay_loop (1 s unless the kind says otherwise).</summary>
    public virtual TimeSpan DefaultDelayBeforeRetry(TimeSpan delayLoop) => TimeSpan.FromSeconds(1);

    /// <summary>Where the block starts (<c>file:line</c>). Optional.</summary>
    public string? SourceLocation { get; init; }
}

/// <summary><c>http_protocol 1.0|1.0C|1.1</c>.</summary>
public enum HttpProtocol
{
    /// <summary><c>1.0</c> (default).</summary>
    Http10,

    /// <summary><c>1.0C</c>: HTTP/1.0 with <c>Connection: close</c>.</summary>
    Http10Close,

    /// <summary><c>1.1</c> (with <c>Connection: close</c>).</summary>
    Http11,
}

/// <summary><c>HTTP_GET { … }</c> and <c>SSL_GET { … }</c>.</summary>
public sealed record HttpCheckOptions : CheckerOptions
{
    /// <inheritdoc/>
    public override string Keyword => Ssl ? "SSL_GET" : "HTTP_GET";

    /// <summary>True for <c>SSL_GET</c>: TLS without certificate checks (as keepalived without an <c>SSL</c> block).</summary>
    public bool Ssl { get; init; }

    /// <summary><c>http_protocol</c>. Default 1.0.</summary>
    public HttpProtocol Protocol { get; init; } = HttpProtocol.Http10;

    /// <summary><c>virtualhost &lt;STRING&gt;</c> of the checker; null: the real server's, then the virtual server's.</summary>
    public string? Virtualhost { get; init; }

    /// <summary><c>enable_sni [&lt;BOOL&gt;]</c> (SSL_GET): send the virtualhost as TLS SNI.</summary>
    public bool EnableSni { get; init; }

    /// <summary><c>fast_recovery [&lt;BOOL&gt;]</c>: check the URLs back to back (no delay_loop between them) while recovering.</summary>
    public bool FastRecovery { get; init; }

    /// <summary>The <c>url { … }</c> blocks; every one must pass.</summary>
    public ValueList<UrlOptions> Urls { get; init; } = [];

    /// <inheritdoc/>
    public override TimeSpan DefaultDelayBeforeRetry(TimeSpan delayLoop) => TimeSpan.FromSeconds(3);
}

/// <summary>A <c>url { … }</c> block of HTTP_GET/SSL_GET.</summary>
public sealed record UrlOptions
{
    /// <summary><c>path &lt;STRING&gt;</c>, e.g. <c>/health</c>.</summary>
    public required string Path { get; init; }

    /// <summary><c>digest &lt;HEX&gt;</c>: MD5 of the body as printed by genhash (lower-case hex); null: not checked.</summary>
    public string? Digest { get; init; }

    /// <summary><c>status_code &lt;INT|RANGE&gt; …</c>; empty: 200-299.</summary>
    public ValueList<StatusCodeRange> StatusCodes { get; init; } = [];

    /// <summary><c>virtualhost &lt;STRING&gt;</c> of this URL; null: the checker's.</summary>
    public string? Virtualhost { get; init; }

    /// <summary><c>regex &lt;STRING&gt;</c>: the body must match (.NET regular expression syntax, close to PCRE2 for common patterns).</summary>
    public string? Regex { get; init; }

    /// <summary><c>regex_no_match</c>: a match fails the check.</summary>
    public bool RegexNoMatch { get; init; }

    /// <summary><c>regex_options</c>: the supported subset (caseless, multiline, dotall, extended, ungreedy is ignored).</summary>
    public ValueList<string> RegexOptions { get; init; } = [];

    /// <summary><c>regex_min_offset &lt;OFFSET&gt;</c>.</summary>
    public int? RegexMinOffset { get; init; }

    /// <summary><c>regex_max_offset &lt;OFFSET&gt;</c>.</summary>
    public int? RegexMaxOffset { get; init; }
}

/// <summary>An inclusive range of HTTP status codes (<c>200-299</c>, or <c>503</c> as 503-503).</summary>
public readonly record struct StatusCodeRange(int Min, int Max)
{
    /// <summary>keepalived's default, 200-299.</summary>
    public static readonly StatusCodeRange Default = new(200, 299);

    /// <summary>Whether <paramref name="code"/> lies in the range.</summary>
    public bool Contains(int code) => code >= Min && code <= Max;

    /// <summary>Parses <c>200</c> or <c>200-299</c>.</summary>
    public static bool TryParse(string text, out StatusCodeRange range)
    {
        range = default;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            if (!int.TryParse(text, out var c) || c < 100 || c > 999)
                return false;
            range = new(c, c);
            return true;
        }
        if (!int.TryParse(text.AsSpan(0, dash), out var a) || !int.TryParse(text.AsSpan(dash + 1), out var b) || a < 100 || b > 999 || a > b)
            return false;
        range = new(a, b);
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => Min == Max ? Min.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Min}-{Max}";
}

/// <summary><c>TCP_CHECK { … }</c>: a TCP connect within connect_timeout.</summary>
public sealed record TcpCheckOptions : CheckerOptions
{
    /// <inheritdoc/>
    public override string Keyword => "TCP_CHECK";
}

/// <summary><c>SMTP_CHECK { … }</c>: connect, read the 220 greeting, <c>HELO</c>, expect 250, <c>QUIT</c>.</summary>
public sealed record SmtpCheckOptions : CheckerOptions
{
    /// <summary>keepalived's default HELO name.</summary>
    public const string DefaultHeloName = "smtpchecker.keepalived";

    /// <inheritdoc/>
    public override string Keyword => "SMTP_CHECK";

    /// <summary><c>helo_name &lt;STRING&gt;</c>. Default <c>smtpchecker.keepalived</c>.</summary>
    public string HeloName { get; init; } = DefaultHeloName;
}

/// <summary><c>DNS_CHECK { … }</c>: a UDP DNS query that must get a NOERROR answer with the same id.</summary>
public sealed record DnsCheckOptions : CheckerOptions
{
    /// <inheritdoc/>
    public override string Keyword => "DNS_CHECK";

    /// <summary><c>type A|NS|CNAME|SOA|MX|TXT|AAAA</c>. Default SOA.</summary>
    public string Type { get; init; } = "SOA";

    /// <summary><c>name &lt;STRING&gt;</c>. Default <c>.</c>.</summary>
    public string Name { get; init; } = ".";

    /// <inheritdoc/>
    public override int DefaultRetry => 3;

    /// <inheritdoc/>
    public override TimeSpan DefaultDelayBeforeRetry(TimeSpan delayLoop) => delayLoop;
}

/// <summary><c>MISC_CHECK { … }</c>: run a program; exit 0 is success, 1 failure, 2-255 with misc_dynamic success with weight code-2.</summary>
public sealed record MiscCheckOptions : CheckerOptions
{
    /// <inheritdoc/>
    public override string Keyword => "MISC_CHECK";

    /// <summary><c>misc_path &lt;STRING&gt;|&lt;QUOTED-STRING&gt;</c>: the command line, split into argv like keepalived.</summary>
    public required string Path { get; init; }

    /// <summary><see cref="Path"/> split once at configuration time (argv[0] resolved); null: split <see cref="Path"/> when the check is built.</summary>
    public ValueList<string>? Argv { get; init; }

    /// <summary><c>misc_timeout &lt;INT&gt;</c>; null: delay_loop.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary><c>misc_dynamic</c>: exit codes 2-255 set the weight to code-2.</summary>
    public bool Dynamic { get; init; }

    /// <summary><c>user USERNAME [GROUPNAME]</c>; null: <c>script_user</c>.</summary>
    public string? User { get; init; }

    /// <summary>The GROUPNAME of <c>user</c>.</summary>
    public string? Group { get; init; }

    /// <inheritdoc/>
    public override int DefaultRetry => 0;
}

/// <summary><c>UDP_CHECK { … }</c>: send a datagram; fail on an ICMP error, or (require_reply) on no/bad reply.</summary>
public sealed record UdpCheckOptions : CheckerOptions
{
    /// <inheritdoc/>
    public override string Keyword => "UDP_CHECK";

    /// <summary><c>payload &lt;HEX_STR&gt;</c>; null: a random payload.</summary>
    public ValueList<byte>? Payload { get; init; }

    /// <summary><c>require_reply [&lt;HEX_STR&gt;]</c>: a reply is required.</summary>
    public bool RequireReply { get; init; }

    /// <summary>The <c>&lt;HEX_STR&gt;</c> of <c>require_reply</c> (X nibbles are wildcards); null: content not checked.</summary>
    public HexPattern? RequireReplyPattern { get; init; }

    /// <summary><c>min_reply_length &lt;INT&gt;</c>. Default 0.</summary>
    public int MinReplyLength { get; init; }

    /// <summary><c>max_reply_length &lt;INT&gt;</c>. Default 255.</summary>
    public int MaxReplyLength { get; init; } = 255;
}

/// <summary><c>PING_CHECK { … }</c>: an ICMP echo (unprivileged ping socket, falling back to raw).</summary>
public sealed record PingCheckOptions : CheckerOptions
{
    /// <inheritdoc/>
    public override string Keyword => "PING_CHECK";
}
