using Lb.Hosting;
using Lb.Status;
using Microsoft.Extensions.Logging;

namespace Lb.Metrics;

/// <summary>
/// What one scrape renders: the status report, the checkers' statistics and pacing, the VRRP instances' transitions into
/// MASTER and — while the checker subsystem runs (it is what puts services into IPVS) — the kernel's IPVS counters, read
/// at scrape time within <see cref="IpvsStatsScraper.Bound"/>.
/// </summary>
public sealed class MetricsSource : IAsyncDisposable
{
    private readonly Func<StatusReport> _collect;
    private readonly CheckerService? _checkers;
    private readonly VrrpStatistics _vrrp = new();
    private readonly IpvsStatsScraper? _ipvs;

    /// <summary>Subscribes to <paramref name="vrrp"/>'s state changes now: create it before the subsystems start.</summary>
    public MetricsSource(Func<StatusReport> collect, CheckerService? checkers, VrrpService? vrrp, ILogger logger)
    {
        _collect = collect;
        _checkers = checkers;
        if (vrrp is not null)
            vrrp.StateChanged += _vrrp.OnStateChanged;
        if (checkers is not null)
            _ipvs = new IpvsStatsScraper(IpvsStatsScraper.OpenKernel, logger);
    }

    public async ValueTask<string> RenderAsync(CancellationToken cancellationToken)
    {
        var ipvs = _ipvs is not null && _checkers?.Subsystem is not null ? await _ipvs.ScrapeAsync(cancellationToken).ConfigureAwait(false) : null;
        return MetricsText.Render(_collect(), _checkers?.Statistics, _checkers?.Subsystem?.Pacing, ipvs, _vrrp);
    }

    public ValueTask DisposeAsync() => _ipvs?.DisposeAsync() ?? ValueTask.CompletedTask;
}
