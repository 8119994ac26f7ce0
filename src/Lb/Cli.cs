using Lb.Config;

namespace Lb;

/// <summary>Command-line entry: keepalived's flags plus Lb's own subcommands (<c>lb ipvs</c>, <c>lb journal</c>, <c>lb genhash</c>, <c>lb status</c>).</summary>
public static class Cli
{
    public const string DefaultConfigFile = "/etc/keepalived/keepalived.conf";

    /// <summary>True when <paramref name="args"/> run the daemon (or one of its flag-only modes), not a subcommand.</summary>
    public static bool IsDaemon(string[] args) => args.Length == 0 || !Subcommands.ContainsKey(args[0]);

    /// <summary>
    /// True when <paramref name="args"/> are daemon flags that only print and exit (<c>-t</c>, <c>-d</c>, <c>-v</c>, <c>-h</c>):
    /// no daemon starts, so there are no signals to route. False for a command line <see cref="Run"/> will refuse.
    /// </summary>
    public static bool IsOneShot(string[] args)
    {
        if (args.Length == 0 || !IsDaemon(args))
            return false;
        try
        {
            var options = CliOptions.Parse(args);
            return options.Help || options.Version || options.ConfigTest || options.DumpConf;
        }
        catch (CliException)
        {
            return false;
        }
    }

    /// <summary>Runs the command line; <paramref name="signals"/> is the router Main installed (one is installed here when null).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, Hosting.SignalRouter? signals = null)
    {
        if (args.Length > 0 && Subcommands.TryGetValue(args[0], out var sub))
            return sub(args.Skip(1).ToList(), stdout, stderr);

        CliOptions options;
        try
        {
            options = CliOptions.Parse(args);
        }
        catch (CliException e)
        {
            stderr.WriteLine($"lb: {e.Message}");
            stderr.WriteLine("Try 'lb --help' for more information.");
            return 1;
        }

        if (options.Help)
        {
            stdout.Write(CliOptions.HelpText);
            return 0;
        }
        if (options.Version)
        {
            stdout.WriteLine($"Lb v{typeof(Cli).Assembly.GetName().Version?.ToString(3)} (keepalived 2.2.7 compatible)");
            return 0;
        }
        if (options.ConfigTest && !options.DumpConf)
            return Config.Pair.ConfigTestCommand.Run(options.ConfigFile, options.ConfigId, options.PeerFile, stderr);
        if (options.ConfigTest || options.DumpConf)
            return CheckConfig(options, stdout, stderr);

        if (signals is not null)
            return Hosting.Daemon.Run(options, stderr, signals);
        using var own = Hosting.SignalRouter.Install();
        return Hosting.Daemon.Run(options, stderr, own);
    }

    private static readonly Dictionary<string, Func<IReadOnlyList<string>, TextWriter, TextWriter, int>> Subcommands = new(StringComparer.Ordinal)
    {
        ["ipvs"] = Ipvs,
        ["journal"] = Commands.JournalCommand.Run,
        ["genhash"] = Commands.GenhashCommand.Run,
        ["status"] = Status.StatusCommand.Run,
        ["rs"] = (a, o, e) => Control.ControlCommand.Run("rs", a, o, e),
        ["vrrp"] = (a, o, e) => Control.ControlCommand.Run("vrrp", a, o, e),
        ["announce"] = (a, o, e) => a is ["withdraw", ..] ? Announce.WithdrawCommand.Run([.. a.Skip(1)], o, e) : Control.ControlCommand.Run("announce", a, o, e),
        ["reload"] = (a, o, e) => Control.ControlCommand.Run("reload", a, o, e),
    };

    private static int Ipvs(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Count == 0 || args[0] is "list" or "ls")
            return Commands.IpvsListCommand.Run(args.Skip(args.Count == 0 ? 0 : 1).ToList(), stdout, stderr);
        stderr.WriteLine($"lb ipvs: unknown command '{args[0]}' (try: lb ipvs list [--json] [--stats])");
        return 1;
    }

    private static int CheckConfig(CliOptions options, TextWriter stdout, TextWriter stderr)
    {
        var load = new ConfigLoadOptions
        {
            Preprocessor = new PreprocessorOptions { ConfigId = options.ConfigId ?? PreprocessorOptions.DefaultConfigId() },
            CheckInterfaces = options.ConfigTest,
            JournalPath = options.JournalFile,
        };
        var config = ConfigLoader.Load(options.ConfigFile, load);
        foreach (var d in config.Diagnostics)
            stderr.WriteLine(d.ToString());
        if (options.DumpConf && !config.HasFatal)
            stdout.Write(options.Json ? ConfigDumper.ToJson(config, options.ShowSecrets) + "\n" : ConfigDumper.ToText(config.Nodes, options.ShowSecrets));
        return config.ExitCode;
    }
}
