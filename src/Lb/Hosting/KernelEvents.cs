using Lb.Netlink.Route;
using Microsoft.Extensions.Logging;

namespace Lb.Hosting;

/// <summary>
/// The process's one kernel-events service: one <see cref="RtnetlinkCache"/> (one rtnetlink monitor socket, one link and
/// address cache), opened by whichever subsystem needs it first and shared by all of them — the VRRP subsystem's view
/// (<see cref="RtnetlinkHost"/>) and the checkers' <c>ha_suspend</c> lookups (<see cref="LocalAddresses"/>). A process that
/// needs neither opens nothing. Registered as a singleton; the container disposes it after the services that use it.
/// </summary>
public sealed class KernelEvents(ILoggerFactory loggerFactory) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private RtnetlinkCache? _cache;
    private bool _disposed;

    /// <summary>The started cache (opened, dumped and followed on the first call).</summary>
    public async Task<RtnetlinkCache> GetAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_cache is not null)
                return _cache;
            var cache = RtnetlinkCache.Open(loggerFactory.CreateLogger("Lb.Netlink"));
            try
            {
                await cache.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await cache.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            _cache = cache;
            return cache;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _disposed))
            return;
        await _gate.WaitAsync().ConfigureAwait(false);
        if (_disposed)
        {
            _gate.Release();
            return;
        }
        _disposed = true;
        try
        {
            if (_cache is not null)
                await _cache.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            // Held from here on: a late GetAsync fails (ObjectDisposedException) instead of opening a new cache.
            _gate.Dispose();
        }
    }
}
