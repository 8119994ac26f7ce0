using System.Net;
using Lb.Netlink.Route;

namespace Lb.Hosting;

/// <summary>
/// The addresses configured on this host, for the checker subsystem's <c>ha_suspend</c> hook
/// (<see cref="Checkers.CheckerSubsystem.IsLocalAddress"/>): a view of the process's one link/address cache
/// (<see cref="KernelEvents"/>), kept current from rtnetlink address events and re-read when events are lost. A lookup
/// is a dictionary read, never a netlink round trip.
/// </summary>
public sealed class LocalAddresses(RtnetlinkCache cache) : IAsyncDisposable
{
    /// <summary>A view of <paramref name="kernel"/>'s cache (started on first use).</summary>
    public static async Task<LocalAddresses> StartAsync(KernelEvents kernel, CancellationToken cancellationToken) =>
        new(await kernel.GetAsync(cancellationToken).ConfigureAwait(false));

    public bool Contains(IPAddress address) => cache.HasAddress(address);

    /// <summary>Nothing to release: the cache belongs to <see cref="KernelEvents"/>.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
