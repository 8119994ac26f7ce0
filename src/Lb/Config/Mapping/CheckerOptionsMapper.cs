using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Lb.Netlink.Collections;
using Lb.Checkers.Options;

namespace Lb.Config.Mapping;

/// <summary>Maps the effective configuration tree onto the checker subsystem's options records.</summary>
internal static partial class CheckerOptionsMapper
{
    public static CheckerSubsystemOptions Map(IReadOnlyList<ConfigNode> nodes, NodeValues v, string? journalPath)
    {
        var g = KeywordReads.LastOrEmpty(nodes, "global_defs");
        var groups = KeywordReads.Top(nodes, "virtual_server_group").Where(n => n.Arg0 is not null)
            .GroupBy(n => n.Arg0!, StringComparer.Ordinal)
            .ToDictionary(x => x.Key, x => x.Last(), StringComparer.Ordinal);
        var scriptUser = g.Last("script_user");
        var flushOnStop = g.Last("lvs_flush_on_stop");
        v.TrackFiles = TrackFiles(nodes);
        var journal = new JournalOptions();
        if (journalPath is not null)
            journal = journal with { Path = journalPath };
        // smtp_alert of a virtual/real server not set on it: smtp_alert_checker, else smtp_alert (else off / ON for a real server).
        var alert = AlertOptionsMapper.GlobalSmtpAlert(nodes, v, "smtp_alert_checker");
        return new CheckerSubsystemOptions
        {
            VirtualServers = KeywordReads.Top(nodes, "virtual_server").Select(n => VirtualServer(n, groups, v, alert)).OfType<VirtualServerOptions>().ToList(),
            ScriptUser = scriptUser?.Arg0,
            ScriptGroup = scriptUser is { Args.Length: > 1 } ? scriptUser.Args[1] : null,
            EnableScriptSecurity = v.Flag(g, "enable_script_security") ?? false,
            LvsFlush = v.Flag(g, "lvs_flush") ?? false,
            LvsFlushOnStop = flushOnStop is null ? LvsFlushOnStop.None : flushOnStop.Arg0?.ToUpperInvariant() == "VS" ? LvsFlushOnStop.VirtualServers : LvsFlushOnStop.Full,
            CheckerLogAllFailures = v.Flag(g, "checker_log_all_failures") ?? false,
            RsInitNotifies = v.Flag(g, "rs_init_notifies") ?? false,
            NoCheckerEmails = v.Flag(g, "no_checker_emails") ?? false,
            Journal = journal,
        };
    }

    private static VirtualServerOptions? VirtualServer(ConfigNode n, Dictionary<string, ConfigNode> groups, NodeValues v, bool? alert)
    {
        var args = n.Args;
        IPAddress? address = null;
        ushort? port = null;
        uint? fwmark = null;
        string? group = null;
        var entries = new List<VirtualServerGroupEntry>();
        if (args.Length >= 2 && args[0] == "fwmark")
            fwmark = uint.TryParse(args[1], CultureInfo.InvariantCulture, out var m) ? m : null;
        else if (args.Length >= 2 && args[0] == "group")
        {
            group = args[1];
            if (groups.TryGetValue(group, out var gnode))
                entries = GroupEntries(gnode, v);
        }
        else if (args.Length >= 2)
        {
            address = v.ParseAddress(n, args[0]);
            port = v.Port(n, args[1]);
            if (address is null || port is null)
                return null;
        }
        else
            return null;

        var protocol = (v.Word(n, "protocol") ?? "TCP").ToUpperInvariant() switch
        {
            "UDP" => IpvsProtocol.Udp,
            "SCTP" => IpvsProtocol.Sctp,
            _ => IpvsProtocol.Tcp,
        };
        var method = NodeValues.Later(n.Last("lvs_method"), n.Last("lb_kind"));
        var persistence = n.Last("persistence_timeout");
        var sorry = n.Last("sorry_server");
        var sorryMethod = n.Last("sorry_server_lvs_method");
        var flags = SchedulerFlags.None;
        // Each spelling is read (no short-circuit): the keyword-coverage test sees what the mapper reads.
        // As keepalived and <linux/ip_vs.h>: the fallback flags are SCHED1, the port flags SCHED2.
        if (v.Has(n, "flag-1") | v.Has(n, "sh-fallback") | v.Has(n, "mh-fallback"))
            flags |= SchedulerFlags.Flag1;
        if (v.Has(n, "flag-2") | v.Has(n, "sh-port") | v.Has(n, "mh-port"))
            flags |= SchedulerFlags.Flag2;
        if (v.Has(n, "flag-3"))
            flags |= SchedulerFlags.Flag3;
        var family = v.Word(n, "ip_family") switch { "inet" => AddressFamily.InterNetwork, "inet6" => AddressFamily.InterNetworkV6, _ => (AddressFamily?)null };

        return new VirtualServerOptions
        {
            Address = address,
            Port = port,
            FirewallMark = fwmark,
            Group = group,
            GroupEntries = entries,
            Protocol = protocol,
            IpFamily = family,
            Scheduler = NodeValues.Later(n.Last("lvs_sched"), n.Last("lb_algo"))?.Arg0 ?? "wlc",
            SchedulerFlags = flags,
            OnePacketScheduling = v.Flag(n, "ops") ?? false,
            ForwardingMethod = Method(method?.Arg0) ?? ForwardingMethod.Nat,
            Tunnel = Tunnel(method),
            PersistenceTimeout = persistence is null ? null : persistence.Args.Length == 0 ? TimeSpan.FromSeconds(360) : v.Seconds(persistence, persistence.Args[0]),
            PersistenceGranularity = v.Address(n, "persistence_granularity"),
            PersistenceEngine = v.Word(n, "persistence_engine"),
            HaSuspend = v.Flag(n, "ha_suspend") ?? false,
            Virtualhost = v.Word(n, "virtualhost"),
            Alpha = v.Flag(n, "alpha") ?? false,
            Omega = v.Flag(n, "omega") ?? false,
            SmtpAlert = v.Flag(n, "smtp_alert") ?? alert ?? false,
            Quorum = v.Integer(n, "quorum") ?? 1,
            Hysteresis = v.Integer(n, "hysteresis") ?? 0,
            QuorumUp = Script(n.Last("quorum_up")),
            QuorumDown = Script(n.Last("quorum_down")),
            SorryServer = sorry is { Args.Length: >= 1 } && v.ParseAddress(sorry, sorry.Args[0]) is { } sa
                ? new SorryServerOptions
                {
                    Address = sa,
                    Port = sorry.Args.Length > 1 ? v.Port(sorry, sorry.Args[1]) : null,
                    ForwardingMethod = Method(sorryMethod?.Arg0),
                    Tunnel = Tunnel(sorryMethod),
                }
                : null,
            SorryServerInhibit = v.Flag(n, "sorry_server_inhibit") ?? false,
            DelayLoop = v.Timer(n, "delay_loop"),
            ConnectTimeout = v.Timer(n, "connect_timeout"),
            Retry = (int?)v.Integer(n, "retry"),
            DelayBeforeRetry = v.Timer(n, "delay_before_retry"),
            Warmup = v.Timer(n, "warmup"),
            InhibitOnFailure = v.Flag(n, "inhibit_on_failure") ?? false,
            SlowStart = SlowStart(n, v),
            // keepalived: a real server without its own weight takes the virtual server's (default 1).
            RealServers = n.All("real_server").Select(rs => RealServer(rs, v, alert, (int?)v.Integer(n, "weight") ?? 1)).OfType<RealServerOptions>().ToList(),
            SourceLocation = NodeValues.Where(n),
        };
    }

    private static List<VirtualServerGroupEntry> GroupEntries(ConfigNode group, NodeValues v)
    {
        var result = new List<VirtualServerGroupEntry>();
        foreach (var c in group.Children)
        {
            if (c.Keyword == "fwmark")
            {
                if (c.Arg0 is string m && uint.TryParse(m, CultureInfo.InvariantCulture, out var mark))
                    result.Add(new VirtualServerGroupEntry { FirewallMark = mark });
                continue;
            }
            var text = c.Keyword;
            var dash = text.LastIndexOf('-');
            IPAddress? start = null, end = null;
            // keepalived's inet_stor: the range end replaces the last byte of an IPv4 address (decimal, 0..255) or the last
            // 16-bit group of an IPv6 one (hexadecimal, 0..ffff).
            if (dash > 0 && IPAddress.TryParse(text[..dash], out var s) && s.AddressFamily == AddressFamily.InterNetwork
                && byte.TryParse(text[(dash + 1)..], CultureInfo.InvariantCulture, out var last))
            {
                start = s;
                var bytes = s.GetAddressBytes();
                bytes[3] = last;
                end = new IPAddress(bytes);
            }
            else if (dash > 0 && IPAddress.TryParse(text[..dash], out var s6) && s6.AddressFamily == AddressFamily.InterNetworkV6
                && ushort.TryParse(text[(dash + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var last6))
            {
                start = s6;
                var bytes = s6.GetAddressBytes();
                bytes[14] = (byte)(last6 >> 8);
                bytes[15] = (byte)last6;
                end = new IPAddress(bytes);
            }
            else
                start = v.ParseAddress(c, text);
            if (start is null)
                continue;
            result.Add(new VirtualServerGroupEntry
            {
                Address = start,
                AddressEnd = end,
                Port = c.Arg0 is string p ? v.Port(c, p) : null,
                Family = start.AddressFamily,
            });
        }
        return result;
    }

    private static ForwardingMethod? Method(string? word) => word?.ToUpperInvariant() switch
    {
        "NAT" => ForwardingMethod.Nat,
        "DR" => ForwardingMethod.DirectRouting,
        "TUN" => ForwardingMethod.Tunnel,
        _ => null,
    };

    // lvs_method TUN [type {ipip|gue port N|gre}] [nocsum|csum|remcsum]
    private static TunnelOptions? Tunnel(ConfigNode? method)
    {
        if (method is null || !string.Equals(method.Arg0, "TUN", StringComparison.OrdinalIgnoreCase) || method.Args.Length == 1)
            return method is not null && string.Equals(method.Arg0, "TUN", StringComparison.OrdinalIgnoreCase) ? new TunnelOptions() : null;
        var t = new TunnelOptions();
        for (var i = 1; i < method.Args.Length; i++)
        {
            var w = method.Args[i];
            var next = i + 1 < method.Args.Length ? method.Args[i + 1] : null;
            switch (w)
            {
                case "type" when next is not null:
                    i++;
                    t = t with { Type = next switch { "gue" => TunnelType.Gue, "gre" => TunnelType.Gre, _ => TunnelType.IpIp } };
                    break;
                case "port" when next is not null:
                    i++;
                    t = t with { Port = ushort.TryParse(next, CultureInfo.InvariantCulture, out var p) ? p : null };
                    break;
                case "nocsum":
                    t = t with { Checksum = TunnelChecksum.NoChecksum };
                    break;
                case "csum":
                    t = t with { Checksum = TunnelChecksum.Checksum };
                    break;
                case "remcsum":
                    t = t with { Checksum = TunnelChecksum.RemoteChecksum };
                    break;
            }
        }
        return t;
    }

    private static ScriptOptions? Script(ConfigNode? n) =>
        n?.Arg0 is string s && Lb.Scripts.ScriptCommandLine.TrySplit(s, out var argv, out _)
            ? new ScriptOptions { Command = s, Argv = argv?.ToValueList(), User = n.Args.Length > 1 ? n.Args[1] : null, Group = n.Args.Length > 2 ? n.Args[2] : null }
            : null;

    /// <summary>Lb extension <c>#lb: slow_start SECONDS [at_start]</c> (virtual_server and real_server).</summary>
    private static SlowStartOptions? SlowStart(ConfigNode n, NodeValues v) =>
        v.Timer(n, "lb:slow_start") is { } duration
            ? new SlowStartOptions { Duration = duration, AtStart = n.Last("lb:slow_start") is { Args.Length: > 1 } }
            : null;

    private static RealServerOptions? RealServer(ConfigNode n, NodeValues v, bool? alert, int defaultWeight)
    {
        if (n.Arg0 is not string a || v.ParseAddress(n, a) is not { } address)
            return null;
        var method = n.Last("lvs_method");
        return new RealServerOptions
        {
            Address = address,
            Port = n.Args.Length > 1 ? v.Port(n, n.Args[1]) : null,
            Weight = (int?)v.Integer(n, "weight") ?? defaultWeight,
            ForwardingMethod = Method(method?.Arg0),
            Tunnel = Tunnel(method),
            InhibitOnFailure = v.Flag(n, "inhibit_on_failure"),
            NotifyUp = Script(n.Last("notify_up")),
            NotifyDown = Script(n.Last("notify_down")),
            UpperThreshold = (uint)(v.Integer(n, "uthreshold") ?? 0),
            LowerThreshold = (uint)(v.Integer(n, "lthreshold") ?? 0),
            SmtpAlert = v.Flag(n, "smtp_alert") ?? alert ?? true,
            Virtualhost = v.Word(n, "virtualhost"),
            Alpha = v.Flag(n, "alpha"),
            ConnectTimeout = v.Timer(n, "connect_timeout"),
            Retry = (int?)v.Integer(n, "retry"),
            DelayBeforeRetry = v.Timer(n, "delay_before_retry"),
            Warmup = v.Timer(n, "warmup"),
            DelayLoop = v.Timer(n, "delay_loop"),
            SlowStart = SlowStart(n, v),
            Checkers = n.Children.Select(c => Checker(n, c, v)).OfType<CheckerOptions>().ToList(),
            SourceLocation = NodeValues.Where(n),
        };
    }

    private static CheckerOptions? Checker(ConfigNode realServer, ConfigNode n, NodeValues v)
    {
        if (n.Keyword == "FILE_CHECK")
        {
            KeywordReads.Read(realServer, n.Keyword);
            return FileCheck(n, v); // none of the common checker options
        }
        CheckerOptions? checker = n.Keyword switch
        {
            "HTTP_GET" or "SSL_GET" => new HttpCheckOptions
            {
                Ssl = n.Keyword == "SSL_GET",
                Protocol = v.Word(n, "http_protocol") switch { "1.1" => HttpProtocol.Http11, "1.0C" => HttpProtocol.Http10Close, _ => HttpProtocol.Http10 },
                Virtualhost = v.Word(n, "virtualhost"),
                EnableSni = v.Flag(n, "enable_sni") ?? false,
                FastRecovery = v.Flag(n, "fast_recovery") ?? false,
                Urls = n.All("url").Select(u => Url(u, v)).OfType<UrlOptions>().ToList(),
            },
            "TCP_CHECK" => new TcpCheckOptions(),
            "SMTP_CHECK" => new SmtpCheckOptions { HeloName = v.Word(n, "helo_name") ?? SmtpCheckOptions.DefaultHeloName },
            "DNS_CHECK" => new DnsCheckOptions { Type = v.Word(n, "type") ?? "SOA", Name = v.Word(n, "name") ?? "." },
            "MISC_CHECK" => Misc(n, v),
            "UDP_CHECK" => Udp(n, v),
            "PING_CHECK" => new PingCheckOptions(),
            _ => null,
        };
        if (checker is null)
            return null;
        KeywordReads.Read(realServer, n.Keyword);
        return checker with
        {
            ConnectIp = v.Address(n, "connect_ip"),
            ConnectPort = v.Word(n, "connect_port") is string cp ? v.Port(n, cp) : null,
            BindTo = v.Address(n, "bindto"),
            BindPort = v.Word(n, "bind_port") is string bp ? v.Port(n, bp) : null,
            BindInterface = v.Word(n, "bind_if"),
            FirewallMark = (uint?)v.Integer(n, "fwmark"),
            Alpha = v.Flag(n, "alpha"),
            ConnectTimeout = v.Timer(n, "connect_timeout"),
            Retry = (int?)v.Integer(n, "retry"),
            DelayBeforeRetry = v.Timer(n, "delay_before_retry"),
            Warmup = v.Timer(n, "warmup"),
            DelayLoop = v.Timer(n, "delay_loop"),
            LogAllFailures = v.Flag(n, "log_all_failures"),
            SourceLocation = NodeValues.Where(n),
        };
    }

    private static UrlOptions? Url(ConfigNode u, NodeValues v)
    {
        var path = v.Word(u, "path");
        if (path is null)
        {
            v.Diagnostics.Error(u.Location, "HTTP/SSL_GET checker url has no path - ignoring");
            return null;
        }
        var codes = new List<StatusCodeRange>();
        foreach (var s in u.All("status_code").SelectMany(s => s.Args))
        {
            if (StatusCodeRange.TryParse(s, out var r))
                codes.Add(r);
        }
        return new UrlOptions
        {
            Path = path,
            Digest = v.Word(u, "digest")?.ToLowerInvariant(),
            StatusCodes = codes,
            Virtualhost = v.Word(u, "virtualhost"),
            Regex = v.Word(u, "regex"),
            RegexNoMatch = v.Flag(u, "regex_no_match") ?? false,
            RegexOptions = u.Last("regex_options")?.Args.ToList() ?? [],
            RegexMinOffset = (int?)v.Integer(u, "regex_min_offset"),
            RegexMaxOffset = (int?)v.Integer(u, "regex_max_offset"),
        };
    }

    private static MiscCheckOptions? Misc(ConfigNode n, NodeValues v)
    {
        var path = v.Word(n, "misc_path");
        if (path is null)
        {
            v.Diagnostics.Error(n.Location, "MISC_CHECK without misc_path - ignoring");
            return null;
        }
        if (!Lb.Scripts.ScriptCommandLine.TrySplit(path, out var argv, out var error))
        {
            v.Diagnostics.Error(n.Location, $"{error} - ignoring MISC_CHECK");
            return null;
        }
        var user = n.Last("user");
        return new MiscCheckOptions
        {
            Path = path,
            Argv = argv?.ToValueList(),
            Timeout = v.Timer(n, "misc_timeout"),
            Dynamic = v.Flag(n, "misc_dynamic") ?? false,
            User = user?.Arg0,
            Group = user is { Args.Length: > 1 } ? user.Args[1] : null,
        };
    }

    private static UdpCheckOptions Udp(ConfigNode n, NodeValues v)
    {
        var payload = n.Last("payload");
        var reply = n.Last("require_reply");
        HexPattern? pattern = null;
        if (reply is { Args.Length: > 0 })
        {
            try
            {
                pattern = HexPattern.Parse(string.Join(' ', reply.Args));
            }
            catch (FormatException e)
            {
                v.Diagnostics.Error(reply.Location, $"require_reply: {e.Message}");
            }
        }
        ValueList<byte>? bytes = null;
        if (payload is { Args.Length: > 0 })
        {
            try
            {
                bytes = HexPattern.Parse(string.Join(' ', payload.Args)).Value;
            }
            catch (FormatException e)
            {
                v.Diagnostics.Error(payload.Location, $"payload: {e.Message}");
            }
        }
        return new UdpCheckOptions
        {
            Payload = bytes,
            RequireReply = reply is not null,
            RequireReplyPattern = pattern,
            MinReplyLength = (int?)v.Integer(n, "min_reply_length") ?? 0,
            MaxReplyLength = (int?)v.Integer(n, "max_reply_length") ?? 255,
        };
    }
}
