using Lb.Netlink;
using Lb.Netlink.Ipvs;
using Microsoft.Extensions.Logging;

namespace Lb.Metrics;

/// <summary>What one scrape read from the kernel's IPVS table: the dump (null when it failed) and the scraper's error count.</summary>
/// <param name="Table">Every service and destination with the kernel's counters; null when the dump failed or timed out.</param>
/// <param name="Duration">How long the dump took (or until it was given up).</param>
/// <param name="Errors">Dumps that failed or timed out since start.</param>
/// <param name="Error">Why this one failed, in words; null on success.</param>
public sealed record IpvsScrape(IpvsTableSnapshot? Table, TimeSpan Duration, long Errors, string? Error);

/// <summary>
/// Reads the kernel's IPVS statistics for each metrics scrape, on a generic netlink socket of its own, opened at the
/// first scrape: a dump never queues behind (or holds up) the checker subsystem's writes on its client, and a dump
/// given up mid-way leaves no stray replies on a socket anyone else reads. Each dump is bounded by <see cref="Bound"/>;
/// one that fails or times out is counted, its socket closed (the next scrape opens a new one), and the scrape answers
/// without IPVS samples — it never fails the scrape. Scrapes are serialized (one dump at a time).
/// </summary>
public sealed class IpvsStatsScraper : IAsyncDisposable
{
    /// <summary>Default bound on one dump (Prometheus' default scrape timeout is 10 s; the rest of the scrape is cheap).</summary>
    public static readonly TimeSpan DefaultBound = TimeSpan.FromSeconds(3);

    private readonly Func<CancellationToken, Task<IIpvsTable>> _open;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IIpvsTable? _table;
    private long _errors;
    private bool _failing;

    /// <param name="open">Opens the table to dump (the kernel's: <see cref="OpenKernel"/>); disposed after a failure if disposable.</param>
    public IpvsStatsScraper(Func<CancellationToken, Task<IIpvsTable>> open, ILogger logger, TimeSpan? bound = null, TimeProvider? time = null)
    {
        _open = open;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        Bound = bound ?? DefaultBound;
    }

    /// <summary>How long one dump (opening the socket included) may take.</summary>
    public TimeSpan Bound { get; }

    /// <summary>Opens a second IPVS generic netlink client, with a receive buffer sized for dumps rather than batches.</summary>
    public static async Task<IIpvsTable> OpenKernel(CancellationToken cancellationToken) =>
        await IpvsClient.OpenAsync(new NetlinkSocketOptions { ReceiveBufferSize = 1024 * 1024 }, cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>Dumps the table within <see cref="Bound"/>; never throws but for the caller's cancellation.</summary>
    public async Task<IpvsScrape> ScrapeAsync(CancellationToken cancellationToken)
    {
        var began = _time.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Bound);
        var entered = false;
        try
        {
            await _gate.WaitAsync(timeout.Token).ConfigureAwait(false);
            entered = true;
            _table ??= await _open(timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
            // WaitAsync: the bound holds even if the dump ignored its token.
            var snapshot = await _table.DumpAsync(timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
            if (_failing)
                _logger.LogInformation("IPVS statistics for metrics read again");
            _failing = false;
            return new IpvsScrape(snapshot, _time.GetElapsedTime(began), Interlocked.Read(ref _errors), null);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            var why = e is OperationCanceledException or TimeoutException
                ? $"no IPVS dump within {Bound.TotalSeconds:0.###} s"
                : $"IPVS dump failed: {e.Message}";
            var errors = Interlocked.Increment(ref _errors);
            if (entered)
            {
                Drop();
                if (!_failing)
                    _logger.LogWarning("Metrics: {Reason}; IPVS samples left out of this scrape (counted in lb_ipvs_stats_scrape_errors_total)", why);
                _failing = true;
            }
            return new IpvsScrape(null, _time.GetElapsedTime(began), errors, why);
        }
        finally
        {
            if (entered)
                _gate.Release();
        }
    }

    /// <summary>Closes the socket of a failed dump: an abandoned dump may still be answered on it.</summary>
    private void Drop()
    {
        (_table as IDisposable)?.Dispose();
        _table = null;
    }

    public async ValueTask DisposeAsync()
    {
        // Waits for a scrape under way (bounded by its own timeout) so its client is not disposed under it; the gate is
        // kept, so a scrape after this fails on the disposed gate instead of opening a socket again.
        if (await _gate.WaitAsync(Bound + TimeSpan.FromSeconds(1)).ConfigureAwait(false))
        {
            Drop();
            _gate.Dispose();
        }
    }
}
