using System.Runtime.InteropServices;
using Lb.Checkers;
using Lb.Checkers.Journal;
using Lb.Config;
using Lb.Metrics;
using Lb.Status;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NLog.Extensions.Logging;

namespace Lb.Hosting;

/// <summary>
/// The <c>lb</c> daemon: one process (always in the foreground) running the VRRP and checker subsystems under the generic
/// host, or one of them with -P/-C. SIGTERM/SIGINT stop it gracefully within a bound.
/// </summary>
public static class Daemon
{
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Runs the daemon; <paramref name="signals"/> has caught the daemon's signals since Main (see <see cref="SignalRouter"/>).</summary>
    public static int Run(CliOptions options, TextWriter stderr, SignalRouter signals)
    {
        if (options.Namespace is not null)
            return NamespaceLauncher.Run(options, stderr, signals);

        // No defaults: no appsettings files or watchers (keepalived.conf is the only configuration), console lifetime for signals.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true, ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddSingleton<IHostLifetime, Microsoft.Extensions.Hosting.Internal.ConsoleLifetime>();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(options.LogDetail ? LogLevel.Debug : LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Logging.AddNLog(LbLogging.Build(options));
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = StopTimeout);

        using var bootstrap = LoggerFactory.Create(l => l.ClearProviders().SetMinimumLevel(LogLevel.Debug).AddNLog(LbLogging.Build(options)));
        var log = bootstrap.CreateLogger("Lb");
        log.LogInformation("Starting Lb v{Version} (keepalived 2.2.7 compatible)", typeof(Daemon).Assembly.GetName().Version?.ToString(3));
        log.LogInformation("Running on {Os}", RuntimeInformation.OSDescription);
        if (Environment.GetEnvironmentVariable(NamespaceLauncher.EnvironmentVariable) is string ns)
            log.LogInformation("Running in network namespace {Namespace}", ns);
        log.LogInformation("Command line: {Args}", string.Join(' ', new[] { "lb" }.Concat(options.Arguments).Select(a => $"'{a}'")));
        log.LogInformation("Opening file '{File}'.", options.ConfigFile);

        var config = ConfigLoader.Load(options.ConfigFile, new ConfigLoadOptions
        {
            Preprocessor = new PreprocessorOptions { ConfigId = options.ConfigId ?? PreprocessorOptions.DefaultConfigId() },
            CheckInterfaces = true,
            JournalPath = options.JournalFile,
        });
        foreach (var d in config.Diagnostics)
        {
            if (d.Severity == Severity.Warning)
                log.LogWarning("{Diagnostic}", d.ToString());
            else
                log.LogError("{Diagnostic}", d.ToString());
        }
        if (config.HasFatal)
        {
            log.LogError("Configuration cannot be run; exiting (lb -t -f {File} shows the same errors)", options.ConfigFile);
            return 4;
        }
        var mapped = config.Options;

        var runVrrp = !options.CheckOnly && mapped.Vrrp.HasWork;
        var runCheckers = !options.VrrpOnly && mapped.Checkers.VirtualServers.Count > 0;
        if (!runVrrp && !runCheckers)
            log.LogWarning("Nothing to run: no vrrp_instance{Vrrp} and no virtual_server{Check}",
                options.CheckOnly ? " (VRRP disabled by -C)" : string.Empty, options.VrrpOnly ? " (checker disabled by -P)" : string.Empty);

        using var daemonLock = DaemonLock.Acquire(options, runVrrp, runCheckers, log);
        if (daemonLock is null)
            return 1;

        builder.Services.AddSingleton(options);
        // Operator overrides (lb rs …, lb vrrp …) beside the journal: loaded before the subsystems start, which apply them.
        var operatorState = Control.OperatorStateStore.Open(Control.OperatorStateStore.PathBeside(mapped.Checkers.Journal.Path), log);
        builder.Services.AddSingleton(operatorState);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(mapped.Checkers);
        builder.Services.AddSingleton(Reloader.Apply(mapped.Vrrp, options));
        builder.Services.AddSingleton(sp => new JournalWriter(mapped.Checkers.Journal, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Lb.Journal")));
        builder.Services.AddLbCheckers();
        builder.Services.AddSingleton<KernelEvents>();
        // Registered first so it stops last (hosted services stop in reverse order).
        if (Environment.GetEnvironmentVariable(HangOnStopService.EnvironmentVariable) == "1")
            builder.Services.AddHostedService<HangOnStopService>();
        // notify FIFOs and alert mail: started before the subsystems, stopped after them (their STOP lines and last mails).
        builder.Services.AddSingleton(sp => new Alerts.AlertHub(mapped.Alerts, runVrrp, runCheckers, sp.GetRequiredService<ILoggerFactory>(), TimeProvider.System));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Alerts.AlertHub>());
        // Before the subsystems: it starts first (sees the instances' first states) and stops last.
        if (runVrrp || runCheckers)
        {
            builder.Services.AddSingleton(sp => new LvsSyncService(mapped.LvsSync, runVrrp, runCheckers, sp.GetService<VrrpService>(), sp.GetRequiredService<ILoggerFactory>()));
            builder.Services.AddHostedService(sp => sp.GetRequiredService<LvsSyncService>());
        }
        if (runVrrp)
        {
            builder.Services.AddSingleton<VrrpService>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<VrrpService>());
        }
        if (runCheckers)
        {
            builder.Services.AddSingleton<CheckerService>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<CheckerService>());
            // After the checkers: starts once their first state is published, stops (withdraws the routes) before IPVS is torn down.
            builder.Services.AddSingleton(sp => new Announce.AnnounceService(mapped.Announce, sp.GetRequiredService<CheckerService>(),
                sp.GetRequiredService<JournalWriter>(), sp.GetRequiredService<ILoggerFactory>(), () => Control.AnnounceControl.SavedMaintenance(operatorState, log)));
            builder.Services.AddHostedService(sp => sp.GetRequiredService<Announce.AnnounceService>());
        }

        using var host = builder.Build();
        var vrrp = host.Services.GetService<VrrpService>();
        var checkers = host.Services.GetService<CheckerService>();
        var announce = host.Services.GetService<Announce.AnnounceService>();
        var collector = new StatusCollector(options, TimeProvider.System, vrrp, checkers) { Announce = announce?.Announcer };
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var hostLog = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Lb");
        using var notify = SdNotify.FromEnvironment();

        var socketPath = StatusServer.DefaultPath(options.SocketPath, options.PidFile, Environment.GetEnvironmentVariable(NamespaceLauncher.EnvironmentVariable));
        // Control commands by noun; a subsystem that does not run registers none (its nouns are refused with a reason).
        var commands = new Control.ControlCommands();
        var status = StatusServer.Start(socketPath, collector.Collect, hostLog, commands: commands, access: Control.ControlAccess.For(mapped.Control.Group));
        var dumps = new DumpWriter(collector.Collect, hostLog, options.DataFile, options.StatsFile, options.JsonFile);
        MetricsServer? metrics = null;
        MetricsSource? metricsSource = null;
        using var reloader = new Reloader(options, config, hostLog, notify, () => Summary(collector), vrrp, checkers, host.Services.GetService<LvsSyncService>())
        {
            Alerts = host.Services.GetService<Alerts.AlertHub>(),
            Announce = announce,
        };
        // The control nouns: each subsystem's (none when it does not run) and the reload.
        Control.RsControl.Register(commands, checkers, operatorState, hostLog);
        Control.VrrpControl.Register(commands, vrrp, operatorState, host.Services.GetRequiredService<JournalWriter>(), hostLog);
        Control.AnnounceControl.Register(commands, announce?.Announcer, operatorState, host.Services.GetRequiredService<JournalWriter>(), hostLog);
        commands.Register("reload", async (caller, args, ct) =>
        {
            var (exit, text) = await Control.ReloadControl.RunAsync(reloader, args, caller.Describe(), hostLog, ct).ConfigureAwait(false);
            return new Control.ControlReply(exit, text);
        });
        var context = new DaemonContext(host, hostLog, notify, collector, reloader);
        var routes = new List<IDisposable>
        {
            signals.Route(Signals.SIGUSR1, () => dumps.Request(DumpKind.Data)),
            signals.Route(Signals.SIGUSR2, () => dumps.Request(DumpKind.Stats)),
            signals.Route(Signals.JsonDump, () => dumps.Request(DumpKind.Json)),
        };
        Timer? watchdog = null;
        lifetime.ApplicationStopping.Register(() =>
        {
            notify.Stopping();
            // The host gives each service StopTimeout; past that plus a margin something ignores cancellation: exit anyway.
            watchdog = new Timer(_ =>
            {
                hostLog.LogError("Stop did not finish within {Seconds} s; exiting now", (StopTimeout + StopMargin).TotalSeconds);
                NLog.LogManager.Flush(TimeSpan.FromSeconds(1));
                Environment.Exit(ForcedExitCode);
            }, null, StopTimeout + StopMargin, Timeout.InfiniteTimeSpan);
        });
        if (vrrp is not null)
            vrrp.StateChanged += _ => ThreadPool.QueueUserWorkItem(_ => notify.Status(Summary(collector)));
        try
        {
            if (options.MetricsListen is { } endPoint)
                metrics = MetricsServer.Start(endPoint, (metricsSource = new MetricsSource(collector.Collect, checkers, vrrp, hostLog)).RenderAsync, hostLog);
            if (signals.IsPending(PosixSignal.SIGTERM) || signals.IsPending(PosixSignal.SIGINT))
            {
                log.LogInformation("Stop requested during start-up; exiting before starting the subsystems");
                notify.Stopping();
                return 0;
            }
            routes.Add(signals.Route(PosixSignal.SIGTERM, lifetime.StopApplication));
            routes.Add(signals.Route(PosixSignal.SIGINT, lifetime.StopApplication));
            try
            {
                host.Start();
                hostLog.LogInformation("Startup complete");
                notify.Ready(Summary(collector));
                // SIGHUP is routed only now, so a reload that arrived during start-up is applied to the running subsystems.
                if (signals.IsPending(PosixSignal.SIGHUP))
                    hostLog.LogInformation("Reload requested during start-up; applying it now");
                routes.Add(signals.Route(PosixSignal.SIGHUP, () => OnSighup(context)));
            }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                // SIGTERM/SIGINT while the services were starting: stop what did start, as a normal stop does.
                hostLog.LogInformation("Stop requested during start-up");
            }
            host.WaitForShutdown();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.LogError("{Message}", e.Message);
            notify.Stopping();
            return 1;
        }
        finally
        {
            foreach (var r in routes)
                r.Dispose();
            metrics?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
            metricsSource?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
            status?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
            dumps.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
        }
        watchdog?.Dispose();
        log.LogInformation("Stopped Lb v{Version}", typeof(Daemon).Assembly.GetName().Version?.ToString(3));
        return 0;
    }

    /// <summary>Exit code when the stop watchdog fires.</summary>
    public const int ForcedExitCode = 2;

    /// <summary>How long past <see cref="StopTimeout"/> the watchdog waits before exiting.</summary>
    public static readonly TimeSpan StopMargin = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The one place SIGHUP is dispatched. Runs on the signal thread: it only raises the reloader's flag (see
    /// <see cref="Reloader"/>), which sends RELOADING=1, validates, applies the diff and sends READY=1, and asks the
    /// journal to reopen its file (after a rotation by logrotate; never waits for an append under way).
    /// </summary>
    private static void OnSighup(DaemonContext context)
    {
        context.Host.Services.GetService<JournalWriter>()?.Reopen();
        context.Reloader.Request();
    }

    /// <summary>sd_notify's STATUS= text: instance states and real servers up.</summary>
    public static string Summary(StatusCollector collector)
    {
        var r = collector.Collect();
        var parts = new List<string>();
        if (r.VrrpInstances.Count > 0)
            parts.Add(string.Join(", ", r.VrrpInstances.Select(i => $"{i.Name} {i.State}")));
        if (r.VirtualServers.Count > 0)
            parts.Add($"{r.VirtualServers.Count} virtual servers, {r.VirtualServers.Sum(v => v.RealServers.Count(rs => rs.Up))}/{r.VirtualServers.Sum(v => v.RealServers.Count)} real servers up");
        return parts.Count == 0 ? "running (nothing configured)" : string.Join("; ", parts);
    }
}

/// <summary>What a signal handler of the daemon can reach.</summary>
public sealed record DaemonContext(IHost Host, ILogger Log, SdNotify Notify, StatusCollector Status, Reloader Reloader);

/// <summary>Test hook (<c>LB_TEST_HANG_ON_STOP=1</c>): a service whose stop ignores cancellation and never ends, to prove the
/// stop watchdog bounds shutdown.</summary>
internal sealed class HangOnStopService : IHostedService
{
    public const string EnvironmentVariable = "LB_TEST_HANG_ON_STOP";

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.Delay(Timeout.Infinite, CancellationToken.None);
}
