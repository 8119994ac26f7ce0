using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lb.Hosting;

/// <summary>
/// Runs the <see cref="LvsSyncController"/> under the host. Registered before the subsystems, so it starts first (it sees the
/// VRRP instances' first states) and stops last (after the VRRP instances stopped, it stops the daemons it started). It opens
/// its own IPVS netlink socket only when there is something to apply, so a VRRP-only host without ip_vs is not disturbed.
/// </summary>
public sealed class LvsSyncService : IHostedService, IAsyncDisposable
{
    private readonly LvsSyncController _controller;
    private readonly VrrpService? _vrrp;
    private int _disposed;

    public LvsSyncService(LvsSyncOptions options, bool runVrrp, bool runCheckers, VrrpService? vrrp, ILoggerFactory loggerFactory)
    {
        _vrrp = vrrp;
        _controller = new LvsSyncController(options, runVrrp, runCheckers, IpvsSyncKernel.OpenAsync, loggerFactory.CreateLogger("Lb.LvsSync"));
        if (vrrp is not null)
            vrrp.StateChanged += _controller.OnStateChanged;
    }

    public LvsSyncController Controller => _controller;

    public Task StartAsync(CancellationToken cancellationToken) => _controller.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => _controller.StopAsync(cancellationToken);

    /// <summary>SIGHUP: the new settings (see <see cref="LvsSyncController.ReloadAsync"/>).</summary>
    public Task ReloadAsync(LvsSyncOptions options, CancellationToken cancellationToken) => _controller.ReloadAsync(options, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        // Registered as a singleton and as the hosted service's factory result: the container disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (_vrrp is not null)
            _vrrp.StateChanged -= _controller.OnStateChanged;
        await _controller.DisposeAsync().ConfigureAwait(false);
    }
}
