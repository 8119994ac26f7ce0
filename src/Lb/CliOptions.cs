namespace Lb;

public sealed class CliException(string message) : Exception(message);

/// <summary>keepalived 2.2.7's command-line flags, as Lb accepts them.</summary>
public sealed record CliOptions
{
    public string ConfigFile { get; private set; } = Cli.DefaultConfigFile;

    public bool ConfigTest { get; private set; }

    public bool DumpConf { get; private set; }

    public bool Json { get; private set; }

    /// <summary>With -d: print secrets (auth_pass) instead of masking them.</summary>
    public bool ShowSecrets { get; private set; }

    public string? ConfigId { get; private set; }

    /// <summary><c>--peer FILE</c> (with <c>-t</c>): the other director's configuration, for the pair check.</summary>
    public string? PeerFile { get; private set; }

    public bool VrrpOnly { get; private set; }

    public bool CheckOnly { get; private set; }

    public bool LogConsole { get; private set; }

    public bool LogDetail { get; private set; }

    public string? LogFacility { get; private set; }

    public string? LogFile { get; private set; }

    public bool NoSyslog { get; private set; }

    /// <summary>Journal of state changes (Lb's own flag; default /var/lib/lb/journal.jsonl).</summary>
    public string? JournalFile { get; private set; }

    /// <summary>The original arguments, for the "Command line:" log line.</summary>
    public IReadOnlyList<string> Arguments { get; private set; } = [];

    public bool DontFork { get; private set; }

    public bool DontReleaseVrrp { get; private set; }

    public bool DontReleaseIpvs { get; private set; }

    /// <summary>-X: remove VIPs left behind by a previous run (e.g. after SIGKILL) at start.</summary>
    public bool ReleaseVips { get; private set; }

    public string? PidFile { get; private set; }

    public string? VrrpPidFile { get; private set; }

    public string? CheckersPidFile { get; private set; }

    public string? Namespace { get; private set; }

    /// <summary>Status socket (Lb's own flag; default /run/lb/lb.sock, or next to the -p pid file).</summary>
    public string? SocketPath { get; private set; }

    /// <summary>SIGUSR1 data dump (default /tmp/keepalived.data).</summary>
    public string? DataFile { get; private set; }

    /// <summary>SIGUSR2 statistics (default /tmp/keepalived.stats).</summary>
    public string? StatsFile { get; private set; }

    /// <summary>SIGRTMIN+2 JSON dump (default /tmp/keepalived.json).</summary>
    public string? JsonFile { get; private set; }

    /// <summary>Prometheus listen address (off by default; loopback only unless <see cref="MetricsAllowRemote"/>).</summary>
    public System.Net.IPEndPoint? MetricsListen { get; private set; }

    public bool MetricsAllowRemote { get; private set; }

    public bool Help { get; private set; }

    public bool Version { get; private set; }

    public static CliOptions Parse(IReadOnlyList<string> args)
    {
        var o = new CliOptions();
        string? metrics = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inline = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains('=', StringComparison.Ordinal))
            {
                inline = arg[(arg.IndexOf('=', StringComparison.Ordinal) + 1)..];
                arg = arg[..arg.IndexOf('=', StringComparison.Ordinal)];
            }
            string Value()
            {
                if (inline is not null)
                    return inline;
                if (i + 1 >= args.Count)
                    throw new CliException($"option '{arg}' requires an argument");
                return args[++i];
            }
            switch (arg)
            {
                case "-f" or "--use-file": o.ConfigFile = Value(); break;
                case "-t" or "--config-test":
                    o.ConfigTest = true;
                    break;
                case "-d" or "--dump-conf": o.DumpConf = true; break;
                case "--json": o.Json = true; break;
                case "--show-secrets": o.ShowSecrets = true; break;
                case "-i" or "--config-id": o.ConfigId = Value(); break;
                case "--peer": o.PeerFile = Value(); break;
                case "-P" or "--vrrp": o.VrrpOnly = true; break;
                case "-C" or "--check": o.CheckOnly = true; break;
                case "-l" or "--log-console": o.LogConsole = true; break;
                case "-D" or "--log-detail": o.LogDetail = true; break;
                case "-S" or "--log-facility": o.LogFacility = Value(); break;
                case "-g" or "--log-file": o.LogFile = Value(); break;
                case "-G" or "--no-syslog": o.NoSyslog = true; break;
                case "--journal": o.JournalFile = Value(); break;
                case "-n" or "--dont-fork": o.DontFork = true; break;
                case "-V" or "--dont-release-vrrp": o.DontReleaseVrrp = true; break;
                case "-I" or "--dont-release-ipvs": o.DontReleaseIpvs = true; break;
                case "-X" or "--release-vips": o.ReleaseVips = true; break;
                case "-p" or "--pid": o.PidFile = Value(); break;
                case "-r" or "--vrrp_pid": o.VrrpPidFile = Value(); break;
                case "-c" or "--checkers_pid": o.CheckersPidFile = Value(); break;
                case "-s" or "--namespace": o.Namespace = Value(); break;
                case "--socket": o.SocketPath = Value(); break;
                case "--data-file": o.DataFile = Value(); break;
                case "--stats-file": o.StatsFile = Value(); break;
                case "--json-file": o.JsonFile = Value(); break;
                case "--metrics": metrics = Value(); break;
                case "--metrics-allow-remote": o.MetricsAllowRemote = true; break;
                case "-h" or "--help": o.Help = true; break;
                case "-v" or "--version": o.Version = true; break;
                default:
                    // "lb -t FILE" is accepted as a convenience: a bare argument after -t is the file to check.
                    if (!arg.StartsWith('-') && o.ConfigTest && o.ConfigFile == Cli.DefaultConfigFile)
                    {
                        o.ConfigFile = arg;
                        break;
                    }
                    throw new CliException($"unknown option '{args[i]}'");
            }
        }
        o.Arguments = args.ToList();
        if (o.LogFacility is not null)
            Hosting.LbLogging.Facility(o.LogFacility); // throws CliException for a bad -S before anything starts
        if (metrics is not null)
            o.MetricsListen = Metrics.MetricsServer.ParseListen(metrics, o.MetricsAllowRemote);
        if (o.PeerFile is not null && (!o.ConfigTest || o.DumpConf))
            throw new CliException("--peer is a check of two configurations: it goes with -t (and not -d)");
        if (o.VrrpOnly && o.CheckOnly)
            throw new CliException("-P/--vrrp and -C/--check are exclusive (give neither to run both)");
        return o;
    }

    public const string HelpText = """
        Usage: lb [OPTION...]
          -f, --use-file=FILE          Use the specified configuration file (default /etc/keepalived/keepalived.conf)
          -P, --vrrp                   Only run the VRRP subsystem
          -C, --check                  Only run the checker (IPVS) subsystem
          -l, --log-console            Log messages to the console
          -D, --log-detail             Detailed log messages
          -S, --log-facility=[0-7]     Syslog facility LOCAL[0-7] (default LOG_DAEMON)
          -g, --log-file=FILE          Also log to FILE
          -G, --no-syslog              Don't log via syslog
              --journal=FILE           Journal of state changes (default /var/lib/lb/journal.jsonl)
          -n, --dont-fork              Don't fork. Lb always runs in the foreground (use systemd Type=notify, or '&');
                                       the flag is accepted for compatibility and changes nothing
          -V, --dont-release-vrrp      Don't remove VRRP VIPs and routes on exit
          -X, --release-vips           Drop VIP on transition from signal (keepalived's flag; accepted: Lb always removes
                                       configured VIPs when it leaves MASTER, and any left by a crashed run at start)
          -I, --dont-release-ipvs      Don't remove IPVS entries on exit
          -t, --config-test            Check the configuration for obvious errors and exit (0 ok, 5 errors, 4 cannot run, 6 script security).
                                       A file with @ID lines is also loaded once per ID it names (diagnostics prefixed
                                       '@ID: ') and the pair check runs between those directors; the exit code stays
                                       keepalived's verdict for -i ID (or this host)
              --peer=FILE              With -t: also load FILE, the other director's configuration, and check the pair
                                       (priority gap vs tracker weights, advert_int, version, auth, VIPs, unicast peers);
                                       pair findings are warnings
          -d, --dump-conf              Print the effective configuration (after includes, macros and defaults) and exit
              --json                   With -d: print it as JSON
              --show-secrets           With -d: print auth_pass as written (masked as ******** otherwise)
          -i, --config-id ID           Skip any configuration lines beginning '@' that don't match ID
          -p, --pid=FILE               Use the specified pidfile for the parent process
          -r, --vrrp_pid=FILE          Use the specified pidfile for the VRRP subsystem
          -c, --checkers_pid=FILE      Use the specified pidfile for the checker subsystem
          -s, --namespace=NAME         Run in network namespace NAME (re-runs lb under 'ip netns exec NAME', forwarding signals)
              --socket=PATH            Status socket for 'lb status' (default /run/lb/lb.sock, or PIDFILE-DIR/NAME.sock with -p)
              --data-file=FILE         SIGUSR1 data dump (default /tmp/keepalived.data)
              --stats-file=FILE        SIGUSR2 statistics (default /tmp/keepalived.stats)
              --json-file=FILE         SIGRTMIN+2 JSON dump (default /tmp/keepalived.json)
              --metrics=ADDR:PORT      Serve Prometheus metrics on http://ADDR:PORT/metrics (off by default; loopback only)
              --metrics-allow-remote   Allow a non-loopback --metrics address (the metrics are unauthenticated)
          -v, --version                Display the version number
          -h, --help                   Display this help message

        Signals: TERM/INT stop (VIPs and IPVS entries removed unless -V/-I), HUP reloads, USR1 writes the data dump,
        USR2 the statistics, RTMIN+2 the JSON dump. With $NOTIFY_SOCKET set, readiness is reported to systemd.

        Commands (each is a client; the daemon is not started):
          lb status [--json] [--watch [--interval S]]   The running daemon's VRRP instances, virtual servers, operator state
          lb journal [--since T] [--vs X] [--rs Y] [--follow] [--json] [--file PATH]   State changes and operator actions
          lb ipvs list [--json] [--stats]               The kernel's IPVS table, read through Lb's own netlink client
          lb genhash -s SERVER -p PORT -u URL [-S] [-H HOST]   The MD5 digest of a URL, for HTTP_GET/SSL_GET digest lines
          lb rs drain VS RS [--timeout S]               Weight 0 now; out of IPVS at 0 active connections or the deadline
          lb rs disable VS RS                           Out of IPVS until enabled, whatever its checks say
          lb rs enable VS RS                            Back under its checks (ends drain, disable, weight)
          lb rs weight VS RS N                          Set the IPVS weight to N
          lb vrrp maintenance INSTANCE on|off           on: leave MASTER (priority-0 advert) and stay BACKUP
          lb vrrp failover INSTANCE                     Hand MASTER to the peer
          lb announce [status]                          Each announced VIP (#lb: announce): announced or withdrawn, and why
          lb announce maintenance on|off                on: withdraw every VIP's route and keep it withdrawn; off: back to health
          lb announce withdraw [--journal PATH]         With lb not running (the unit's ExecStopPost): delete its announce routes
          lb reload [--plan]                            Reload and print what changed; --plan: only print what would change
        VS, RS: IP:PORT, [IPV6]:PORT or fwmark:N. The daemon to talk to: --socket PATH, -p PIDFILE (socket beside it)
        or -s NAMESPACE. rs/vrrp/announce/reload need root, the daemon's user or the group of '#lb: control_group NAME'.
        Exit codes: 0 done, 1 refused or invalid (reload: configuration errors), 3 daemon unreachable,
        5 permission denied. Lb's own configuration keywords are comment lines '#lb: KEYWORD ARGS'. See lb(8).

        """;
}
