using System.Collections.Frozen;

namespace Lb.Config.Schema;

/// <summary>
/// What keepalived 2.2.7 says and does when a keyword's value is invalid, beyond the number reader's own line
/// (<c>number '0' outside range [1, 2678400]</c>): the keyword handler's message (<c>persistence_timeout invalid</c>),
/// and the value it then uses, if any (<c>priority 300</c>: 100). Verified with <c>keepalived -t</c> for each keyword,
/// value below, above and not a number (the messages are keepalived's check_parser.c, check_api.c, vrrp_parser.c).
/// </summary>
internal static class InvalidValueMessages
{
    /// <summary>
    /// One keyword's handling of a bad value. <paramref name="Message"/>: <c>{v}</c> is the value, <c>{owner}</c> the name of
    /// the enclosing block (the vrrp_instance). <paramref name="Instead"/>: the message replaces Lb's own (keepalived's
    /// reader says nothing for that type); otherwise it follows the number reader's line. <paramref name="Use"/>: the value
    /// keepalived then uses; null when the statement is ignored (the earlier or default value stays).
    /// </summary>
    internal sealed record Entry(string Message, bool Instead = false, string? Use = null);

    private static readonly string[] Checkers = ["HTTP_GET", "SSL_GET", "TCP_CHECK", "MISC_CHECK", "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "SMTP_CHECK", "host"];

    private static readonly FrozenDictionary<(string Context, string Keyword), Entry> Entries = Build();

    private static FrozenDictionary<(string, string), Entry> Build()
    {
        var d = new Dictionary<(string, string), Entry>
        {
            [("virtual_server", "persistence_timeout")] = new("persistence_timeout invalid"),
            [("virtual_server", "quorum")] = new("Quorum {v} must be in [1, 4294967295]. Setting to 1.", Use: "1"),
            [("virtual_server", "hysteresis")] = new("Hysteresis {v} must be in [0, 4294967295] - ignoring"),
            [("virtual_server", "weight")] = new("Virtual server weight {v} is outside range 1-2147483647"),
            [("virtual_server", "connect_timeout")] = new("virtual server connect_timeout {v} invalid - ignoring"),
            [("virtual_server", "retry")] = new("retry value invalid - {v}"),
            [("virtual_server", "delay_before_retry")] = new("virtual server delay before retry '{v}' invalid - ignoring"),
            [("virtual_server", "warmup")] = new("virtual server warmup '{v}' invalid - ignoring"),
            [("virtual_server", "delay_loop")] = new("virtual server delay loop '{v}' invalid - ignoring"),
            [("virtual_server", "protocol")] = new("Unknown protocol {v} - ignoring", Instead: true),
            [("real_server", "weight")] = new("Real server weight {v} is outside range 0-2147483647"),
            [("real_server", "uthreshold")] = new("Invalid real_server uthreshold '{v}' - ignoring"),
            [("real_server", "lthreshold")] = new("Invalid real_server lthreshold '{v}' - ignoring"),
            [("real_server", "connect_timeout")] = new("real server connect_timeout {v} invalid - ignoring"),
            [("real_server", "retry")] = new("retry value invalid - {v}"),
            [("real_server", "delay_before_retry")] = new("real server delay_before_retry '{v}' invalid - ignoring"),
            [("real_server", "warmup")] = new("real server warmup '{v}' invalid - ignoring"),
            [("real_server", "delay_loop")] = new("real server delay_loop '{v}' invalid - ignoring"),
            [("MISC_CHECK", "misc_timeout")] = new("Invalid misc_timeout value '{v}'"),
            [("UDP_CHECK", "min_reply_length")] = new("UDP_CHECK min length {v} not valid - must be between 0 & 65535"),
            [("UDP_CHECK", "max_reply_length")] = new("UDP_CHECK max length {v} not valid - must be between 0 & 65535"),
            [("vrrp_instance", "priority")] = new("({owner}) Priority not valid! must be between 1 & 255. Using default 100", Use: "100"),
        };
        foreach (var checker in Checkers)
        {
            d[(checker, "connect_port")] = new("Invalid checker connect_port '{v}'");
            d[(checker, "bind_port")] = new("Invalid checker bind_port '{v}'");
            d[(checker, "fwmark")] = new("Invalid fwmark connection value '{v}'");
            d[(checker, "connect_timeout")] = new("connect_timeout {v} invalid - ignoring");
            d[(checker, "retry")] = new("Invalid retry connection value '{v}'");
            d[(checker, "delay_before_retry")] = new("Invalid delay_before_retry connection value '{v}'");
            d[(checker, "warmup")] = new("Invalid warmup connection value '{v}'");
            d[(checker, "delay_loop")] = new("delay_loop '{v}' is invalid - ignoring");
        }
        return d.ToFrozenDictionary();
    }

    public static Entry? Find(string context, string keyword) => Entries.GetValueOrDefault((context, keyword));

    public static string Format(Entry entry, string value, string? owner) =>
        entry.Message.Replace("{v}", value, StringComparison.Ordinal).Replace("{owner}", owner ?? string.Empty, StringComparison.Ordinal);
}
