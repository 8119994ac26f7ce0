using System.Globalization;
using Lb.Alerts;
using Lb.Netlink.Collections;

namespace Lb.Config.Mapping;

/// <summary>Maps <c>global_defs</c>' notify FIFOs and mail settings onto the host's <see cref="AlertOptions"/>.</summary>
internal static class AlertOptionsMapper
{
    public static AlertOptions Map(IReadOnlyList<ConfigNode> nodes, NodeValues v)
    {
        var g = KeywordReads.LastOrEmpty(nodes, "global_defs");
        var defaults = new AlertOptions();
        var scriptUser = g.Last("script_user");
        var server = g.Last("smtp_server");
        var port = server is { Args.Length: > 1 } && int.TryParse(server.Args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536 ? p : defaults.SmtpPort;
        return new AlertOptions
        {
            NotifyFifo = Fifo(g, "notify_fifo"),
            VrrpNotifyFifo = Fifo(g, "vrrp_notify_fifo"),
            LvsNotifyFifo = Fifo(g, "lvs_notify_fifo"),
            ScriptUser = scriptUser?.Arg0,
            ScriptGroup = scriptUser is { Args.Length: > 1 } ? scriptUser.Args[1] : null,
            EnableScriptSecurity = v.Flag(g, "enable_script_security") ?? false,
            Emails = g.Last("notification_email") is { } emails ? emails.Children.Select(c => c.Keyword).ToValueList() : [],
            EmailFrom = v.Word(g, "notification_email_from"),
            SmtpServer = server?.Arg0,
            SmtpPort = port,
            SmtpHeloName = v.Word(g, "smtp_helo_name"),
            SmtpConnectTimeout = v.Integer(g, "smtp_connect_timeout") is { } t ? TimeSpan.FromSeconds(t) : defaults.SmtpConnectTimeout,
            RouterId = v.Word(g, "router_id"),
            NoEmailFaults = g.Last("no_email_faults") is not null,
        };
    }

    /// <summary>A FIFO keyword and its <c>*_script</c> (the script's <c>user [group]</c> after the command).</summary>
    private static FifoOptions? Fifo(ConfigNode g, string keyword)
    {
        var script = g.Last(keyword + "_script");
        if (g.Last(keyword)?.Arg0 is not { } path)
            return null;
        ValueList<string>? argv = script?.Arg0 is { } s && Lb.Scripts.ScriptCommandLine.TrySplit(s, out var split, out _) ? split.ToValueList() : null;
        return new FifoOptions(path, argv, script is { Args.Length: > 1 } ? script.Args[1] : null, script is { Args.Length: > 2 } ? script.Args[2] : null);
    }

    /// <summary>keepalived's global default of an object's <c>smtp_alert</c>: the subsystem's own global, else <c>smtp_alert</c>.</summary>
    public static bool? GlobalSmtpAlert(IReadOnlyList<ConfigNode> nodes, NodeValues v, string subsystemKeyword)
    {
        var g = KeywordReads.LastOrEmpty(nodes, "global_defs");
        var specific = v.Flag(g, subsystemKeyword);
        var any = v.Flag(g, "smtp_alert");
        return specific ?? any;
    }
}
