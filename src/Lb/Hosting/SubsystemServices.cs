using Lb.Checkers;
using Lb.Checkers.Journal;
using System.Collections.Concurrent;
using Lb.Checkers.Options;
using Lb.Metrics;
using Lb.Netlink.Ipvs;
using Lb.Vrrp;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lb.Hosting;

/// <summary>Runs the checker subsystem against the kernel's IPVS (keepalived's checker process).</summary>
public sealed class CheckerService(
    CheckerSubsystemOptions options, CliOptions cli, JournalWriter journal, ILoggerFactory loggerFactory, TimeProvider time, IHttpClientFactory http,
    KernelEvents kernel, Alerts.AlertHub? alerts = null)
    : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("Lb.Checkers");
    private IpvsClient? _client;
    private CheckerSubsystem? _subsystem;
    private LocalAddresses? _local;
    private int _disposed;

    public CheckerSubsystem? Subsystem => _subsystem;

    /// <summary>Called with the new subsystem before it starts (the operator state's restore and persistence hook).</summary>
    public Action<CheckerSubsystem>? BeforeStart { get; set; }

    /// <summary>Rounds and measured round durations per checker kind, for metrics.</summary>
    public CheckStatistics Statistics { get; } = new(time);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _logger.LogInformation("Starting Healthcheck child process, pid={Pid}", Environment.ProcessId);
        _client = await IpvsClient.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        _subsystem = new CheckerSubsystem(options, _client, journal, loggerFactory, time, http)
        {
            // -I, --dont-release-ipvs: at stop Lb owns nothing in the kernel, so nothing is removed.
            ReleaseIpvsOnStop = !cli.DontReleaseIpvs,
            // The removal at stop ends (or gives up) within the host's stop budget.
            StopBound = Daemon.StopTimeout - TimeSpan.FromSeconds(3),
        };
        _subsystem.CheckCompleted += (_, e) => Statistics.OnCheckCompleted(e);
        _subsystem.StateChanged += (_, e) => Statistics.OnStateChanged(e);
        if (alerts is not null)
            _subsystem.Notified += (_, n) => alerts.OnChecker(n);
        if (options.VirtualServers.Any(v => v.HaSuspend))
        {
            _local = await LocalAddresses.StartAsync(kernel, cancellationToken).ConfigureAwait(false);
            _subsystem.IsLocalAddress = _local.Contains;
        }
        BeforeStart?.Invoke(_subsystem);
        await _subsystem.StartAsync(cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Startup complete");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_subsystem is null)
            return;
        await _subsystem.StopAsync(cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Stopped");
    }

    public async ValueTask DisposeAsync()
    {
        // Registered as a singleton and as the hosted service's factory result: the container disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // The subsystem's dispose waits for a stop still under way (the host's stop may have timed out): its IPVS removal
        // completes, or gives up within its bound, before the netlink client it uses is disposed.
        if (_subsystem is not null)
            await _subsystem.DisposeAsync().ConfigureAwait(false);
        if (_local is not null)
            await _local.DisposeAsync().ConfigureAwait(false);
        _client?.Dispose();
    }
}

/// <summary>Runs the VRRP subsystem with VIPs and link state through rtnetlink (keepalived's VRRP process).</summary>
public sealed class VrrpService(
    VrrpSubsystemOptions options, JournalWriter journal, ILoggerFactory loggerFactory, TimeProvider time, KernelEvents kernel, Alerts.AlertHub? alerts = null)
    : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("Lb.Vrrp");
    private RtnetlinkHost? _kernel;
    private JournalVrrpEventSink? _sink;
    private VrrpSubsystem? _subsystem;
    private int _disposed;
    private readonly ConcurrentDictionary<string, long> _transitions = new(StringComparer.Ordinal);

    public VrrpSubsystem? Subsystem => _subsystem;

    /// <summary>
    /// Instances in operator maintenance (the operator state file, section "vrrp"), asked for when the subsystem is created:
    /// handed to it before any instance starts, so a node restarted in maintenance is never MASTER, not even briefly.
    /// </summary>
    public Func<IEnumerable<string>>? MaintenanceAtStart { get; set; }

    /// <summary>State changes per instance since start (the subsystem has no counter; counted from its events).</summary>
    public long Transitions(string instance) => _transitions.TryGetValue(instance, out var n) ? n : 0;

    /// <summary>Raised on every instance or sync-group state change (sd_notify STATUS=, metrics).</summary>
    public event Action<VrrpStateChange>? StateChanged;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _logger.LogInformation("Starting VRRP child process, pid={Pid}", Environment.ProcessId);
        _kernel = await RtnetlinkHost.StartAsync(kernel, _logger, cancellationToken).ConfigureAwait(false);
        _sink = new JournalVrrpEventSink(journal, _logger);
        _sink.StateChanged += c =>
        {
            if (c.Kind == VrrpEntityKind.Instance)
                _transitions.AddOrUpdate(c.Name, 1, (_, n) => n + 1);
            StateChanged?.Invoke(c);
        };
        if (alerts is not null)
            _sink.Notified += alerts.OnVrrp;
        _subsystem = new VrrpSubsystem(options, _kernel, _kernel, _sink, loggerFactory, time);
        if (MaintenanceAtStart?.Invoke() is { } maintenance)
            _subsystem.RestoreMaintenance(maintenance);
        await _subsystem.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_subsystem is null)
            return;
        await _subsystem.StopAsync(cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Stopped");
    }

    public async ValueTask DisposeAsync()
    {
        // Registered as a singleton and as the hosted service's factory result: the container disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (_subsystem is not null)
            await _subsystem.DisposeAsync().ConfigureAwait(false);
        if (_sink is not null)
            await _sink.DisposeAsync().ConfigureAwait(false);
        if (_kernel is not null)
            await _kernel.DisposeAsync().ConfigureAwait(false);
    }
}
