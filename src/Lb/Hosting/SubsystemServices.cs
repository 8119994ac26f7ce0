using Lb.Checkers;
using Lb.Checkers.Journal;
using Lb.Checkers.Options;
using Lb.Netlink.Ipvs;
using Lb.Vrrp;
using Lb.Vrrp.Options;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lb.Hosting;

/// <summary>Runs the checker subsystem against the kernel's IPVS (keepalived's checker process).</summary>
public sealed class CheckerService(
    CheckerSubsystemOptions options, CliOptions cli, JournalWriter journal, ILoggerFactory loggerFactory, TimeProvider time, IHttpClientFactory http)
    : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("Lb.Checkers");
    private IpvsClient? _client;
    private NetlinkIpvsDestinations? _ipvs;
    private CheckerSubsystem? _subsystem;

    public CheckerSubsystem? Subsystem => _subsystem;

    public NetlinkIpvsDestinations? Ipvs => _ipvs;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _logger.LogInformation("Starting Healthcheck child process, pid={Pid}", Environment.ProcessId);
        _client = await IpvsClient.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        _ipvs = new NetlinkIpvsDestinations(_client);
        _subsystem = new CheckerSubsystem(options, _ipvs, journal, loggerFactory, time, http);
        await _subsystem.StartAsync(cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Startup complete");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_subsystem is null)
            return;
        if (cli.DontReleaseIpvs && _ipvs is not null)
            _ipvs.KeepOnStop = true;
        await _subsystem.StopAsync(cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Stopped");
    }

    public async ValueTask DisposeAsync()
    {
        if (_subsystem is not null)
            await _subsystem.DisposeAsync().ConfigureAwait(false);
        _client?.Dispose();
    }
}

/// <summary>Runs the VRRP subsystem with VIPs and link state through rtnetlink (keepalived's VRRP process).</summary>
public sealed class VrrpService(
    VrrpSubsystemOptions options, CliOptions cli, JournalWriter journal, ILoggerFactory loggerFactory, TimeProvider time)
    : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("Lb.Vrrp");
    private RtnetlinkHost? _kernel;
    private JournalVrrpEventSink? _sink;
    private VrrpSubsystem? _subsystem;

    public VrrpSubsystem? Subsystem => _subsystem;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _logger.LogInformation("Starting VRRP child process, pid={Pid}", Environment.ProcessId);
        _kernel = await RtnetlinkHost.StartAsync(_logger, cancellationToken).ConfigureAwait(false);
        _sink = new JournalVrrpEventSink(journal, _logger);
        _subsystem = new VrrpSubsystem(options, _kernel, _kernel, _sink, loggerFactory, time);
        await _subsystem.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_subsystem is null)
            return;
        if (cli.DontReleaseVrrp && _kernel is not null)
            _kernel.KeepOnStop = true;
        await _subsystem.StopAsync(cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Stopped");
    }

    public async ValueTask DisposeAsync()
    {
        if (_subsystem is not null)
            await _subsystem.DisposeAsync().ConfigureAwait(false);
        if (_sink is not null)
            await _sink.DisposeAsync().ConfigureAwait(false);
        if (_kernel is not null)
            await _kernel.DisposeAsync().ConfigureAwait(false);
    }
}
