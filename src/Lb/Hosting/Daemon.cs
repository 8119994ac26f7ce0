using System.Runtime.InteropServices;
using Lb.Checkers;
using Lb.Checkers.Journal;
using Lb.Config;
using Lb.Config.Mapping;
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

    public static int Run(CliOptions options, TextWriter stderr)
    {
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
        log.LogInformation("Command line: {Args}", string.Join(' ', new[] { "lb" }.Concat(options.Arguments).Select(a => $"'{a}'")));
        log.LogInformation("Opening file '{File}'.", options.ConfigFile);

        var config = ConfigLoader.Load(options.ConfigFile, new ConfigLoadOptions
        {
            Preprocessor = new PreprocessorOptions { ConfigId = options.ConfigId ?? PreprocessorOptions.DefaultConfigId() },
            CheckInterfaces = true,
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
        var mapped = ConfigMapper.Map(config, options.JournalFile);
        foreach (var d in mapped.Diagnostics)
            log.LogError("{Diagnostic}", d.ToString());

        var runVrrp = !options.CheckOnly && mapped.Vrrp.Instances.Count > 0;
        var runCheckers = !options.VrrpOnly && mapped.Checkers.VirtualServers.Count > 0;
        if (!runVrrp && !runCheckers)
            log.LogWarning("Nothing to run: no vrrp_instance{Vrrp} and no virtual_server{Check}",
                options.CheckOnly ? " (VRRP disabled by -C)" : string.Empty, options.VrrpOnly ? " (checker disabled by -P)" : string.Empty);

        using var pidFiles = PidFiles.Create(options, runVrrp, runCheckers, log);
        if (pidFiles is null)
            return 1;

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(mapped.Checkers);
        builder.Services.AddSingleton(mapped.Vrrp);
        builder.Services.AddSingleton(_ => new JournalWriter(mapped.Checkers.Journal));
        builder.Services.AddLbCheckers();
        if (runVrrp)
            builder.Services.AddHostedService<VrrpService>();
        if (runCheckers)
            builder.Services.AddHostedService<CheckerService>();

        using var host = builder.Build();
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
        {
            ctx.Cancel = true;
            log.LogWarning("Reloading is not available in this build yet (SIGHUP ignored); restart lb to apply a new configuration");
        });
        try
        {
            host.Run();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.LogError("{Message}", e.Message);
            return 1;
        }
        log.LogInformation("Stopped Lb v{Version}", typeof(Daemon).Assembly.GetName().Version?.ToString(3));
        return 0;
    }
}

/// <summary>keepalived's -p/-r/-c pid files, removed on exit.</summary>
public sealed class PidFiles : IDisposable
{
    private readonly List<string> _paths = new();

    public static PidFiles? Create(CliOptions options, bool vrrp, bool checkers, ILogger log)
    {
        var files = new PidFiles();
        var pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n";
        foreach (var (path, wanted) in new[] { (options.PidFile, true), (options.VrrpPidFile, vrrp), (options.CheckersPidFile, checkers) })
        {
            if (path is null || !wanted)
                continue;
            try
            {
                if (File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var other) && other != Environment.ProcessId && Directory.Exists($"/proc/{other}"))
                {
                    log.LogError("daemon is already running (pid {Pid} in {File}); not starting a second one on the same pid file", other, path);
                    files.Dispose();
                    return null;
                }
                File.WriteAllText(path, pid);
                files._paths.Add(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogError("cannot write pid file {File}: {Message}", path, e.Message);
                files.Dispose();
                return null;
            }
        }
        return files;
    }

    public void Dispose()
    {
        foreach (var p in _paths)
        {
            try
            {
                File.Delete(p);
            }
            catch (IOException)
            {
            }
        }
        _paths.Clear();
    }
}
