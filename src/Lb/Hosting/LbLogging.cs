using System.Net.Sockets;
using System.Text;
using NLog;
using NLog.Config;
using NLog.Layouts;
using NLog.Targets;

namespace Lb.Hosting;

/// <summary>
/// NLog set up the way keepalived logs: to syslog (facility daemon, or local0-7 with -S) always, to the console with -l
/// (prefixed by keepalived's timestamp, <c>Sat Nov 21 21:42:01 2026: </c>), to a file with -g; -D turns on the detail lines.
/// The syslog ident follows keepalived's process names so existing filters keep matching.
/// </summary>
public static class LbLogging
{
    public static readonly Layout ConsoleLayout = Layout.FromString(
        "${date:format=ddd MMM} ${pad:padding=2:inner=${date:format=%d}} ${date:format=HH\\:mm\\:ss yyyy}: ${message}${onexception:inner= ${exception:format=Message}}");

    // The targets created here belong to the returned configuration: NLog closes (disposes) them when the configuration
    // is replaced or its LogFactory shuts down. The analyzer cannot see that hand-over through AddRule.
#pragma warning disable CA2000
    public static LoggingConfiguration Build(CliOptions options, bool syslog = true)
    {
        var config = new LoggingConfiguration();
        var min = options.LogDetail ? NLog.LogLevel.Debug : NLog.LogLevel.Info;
        // Framework chatter (HttpClient request logs, host lifetime) is not part of keepalived's log: only its warnings pass.
        var sink = new NullTarget("framework");
        config.AddRule(NLog.LogLevel.Trace, NLog.LogLevel.Info, sink, "System.*", final: true);
        config.AddRule(NLog.LogLevel.Trace, NLog.LogLevel.Info, sink, "Microsoft.*", final: true);
        if (options.LogConsole)
        {
            var console = new ConsoleTarget("console") { Layout = ConsoleLayout, AutoFlush = true };
            config.AddRule(min, NLog.LogLevel.Fatal, console);
        }
        if (options.LogFile is string file)
        {
            var target = new FileTarget("file") { FileName = file, Layout = ConsoleLayout, KeepFileOpen = true, AutoFlush = true };
            config.AddRule(min, NLog.LogLevel.Fatal, target);
        }
        if (syslog && !options.NoSyslog && File.Exists(SyslogTarget.DevLog))
            config.AddRule(min, NLog.LogLevel.Fatal, new SyslogTarget(Facility(options.LogFacility)) { Name = "syslog" });
        return config;
    }
#pragma warning restore CA2000

    /// <summary>keepalived's -S: 0-7 means local0-7; "user"/"daemon" by name; default daemon (3).</summary>
    public static int Facility(string? value) => value switch
    {
        null => 3,
        "daemon" => 3,
        "user" => 1,
        _ when value.StartsWith("local", StringComparison.Ordinal) && int.TryParse(value.AsSpan(5), out var l) && l is >= 0 and <= 7 => 16 + l,
        _ when int.TryParse(value, out var n) && n is >= 0 and <= 7 => 16 + n,
        _ => throw new CliException($"invalid log facility '{value}' (expected 0-7, local0-7, user or daemon)"),
    };
}

/// <summary>Writes RFC 3164 datagrams to the local syslog socket (/dev/log), as keepalived does; never blocks the caller.</summary>
public sealed class SyslogTarget : TargetWithLayout
{
    public const string DevLog = "/dev/log";
    private readonly int _facility;
    private Socket? _socket;

    public SyslogTarget(int facility)
    {
        _facility = facility;
        Layout = "${message}";
    }

    protected override void Write(LogEventInfo logEvent)
    {
        var severity = logEvent.Level.Ordinal switch
        {
            >= 5 => 2, // fatal -> crit
            4 => 3,    // error -> err
            3 => 4,    // warn -> warning
            2 => 6,    // info -> info
            _ => 7,    // debug/trace -> debug
        };
        var ident = Ident(logEvent.LoggerName);
        var text = $"<{(_facility * 8) + severity}>{logEvent.TimeStamp.ToLocalTime():MMM} {logEvent.TimeStamp.ToLocalTime().Day,2} {logEvent.TimeStamp.ToLocalTime():HH:mm:ss} {ident}[{Environment.ProcessId}]: {RenderLogEvent(Layout, logEvent)}";
        try
        {
            _socket ??= Connect();
            _socket.Send(Encoding.UTF8.GetBytes(text), SocketFlags.None);
        }
        catch (SocketException)
        {
            _socket?.Dispose();
            _socket = null;
        }
    }

    private static Socket Connect()
    {
        Socket? s = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            s.Blocking = false;
            s.Connect(new UnixDomainSocketEndPoint(DevLog));
            var connected = s;
            s = null; // the target owns it now (closed in CloseTarget or after a send error)
            return connected;
        }
        finally
        {
            s?.Dispose();
        }
    }

    /// <summary>keepalived's idents: Keepalived_vrrp, Keepalived_healthcheckers, Keepalived.</summary>
    public static string Ident(string? logger) => logger switch
    {
        not null when logger.StartsWith("Lb.Vrrp", StringComparison.Ordinal) => "Keepalived_vrrp",
        not null when logger.StartsWith("Lb.Checkers", StringComparison.Ordinal) => "Keepalived_healthcheckers",
        _ => "Keepalived",
    };

    protected override void CloseTarget()
    {
        _socket?.Dispose();
        _socket = null;
        base.CloseTarget();
    }
}
