using Lb.Checkers.Journal;
using Lb.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lb.Announce;

/// <summary>
/// Runs the <see cref="Announcer"/> under the host, composed from the checker subsystem's state and the kernel. Registered
/// after the checker service: it starts after the checkers (their first state is published) and stops before them, so
/// the routes are withdrawn before IPVS is torn down. Each checker state change wakes it.
/// </summary>
public sealed class AnnounceService : IHostedService, IAsyncDisposable
{
    private readonly CheckerService _checkers;
    private readonly Announcer _announcer;
    private Checkers.CheckerSubsystem? _subscribed;
    private int _disposed;

    public AnnounceService(AnnounceOptions options, CheckerService checkers, JournalWriter journal, ILoggerFactory loggerFactory, Func<bool>? maintenanceAtStart = null)
    {
        _checkers = checkers;
        _announcer = new Announcer(options, () => checkers.Subsystem?.GetSnapshot().VirtualServers, NetlinkAnnounceKernel.OpenAsync, journal,
            loggerFactory.CreateLogger("Lb.Announce"), TimeProvider.System, maintenanceAtStart?.Invoke() ?? false);
    }

    public Announcer Announcer => _announcer;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_checkers.Subsystem is { } subsystem)
        {
            subsystem.StateChanged += OnCheckerChange;
            _subscribed = subsystem;
        }
        await _announcer.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _announcer.StopAsync(cancellationToken);

    /// <summary>SIGHUP: the new configuration (after the checkers reloaded theirs).</summary>
    public Task ReloadAsync(AnnounceOptions options, CancellationToken cancellationToken) => _announcer.ReloadAsync(options, cancellationToken);

    private void OnCheckerChange(object? sender, JournalEntry e) => _announcer.Wake();

    public async ValueTask DisposeAsync()
    {
        // Registered as a singleton and as the hosted service's factory result: the container disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (_subscribed is not null)
            _subscribed.StateChanged -= OnCheckerChange;
        await _announcer.DisposeAsync().ConfigureAwait(false);
    }
}
