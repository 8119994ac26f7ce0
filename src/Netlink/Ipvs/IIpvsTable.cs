namespace Lb.Netlink.Ipvs;

/// <summary>
/// The IPVS table as the checker subsystem sees it (adapted from src/Lb): read it, make it match a
/// desired set of virtual servers, and flip single destinations as real servers go up and down.
/// Implemented by <see cref="IpvsClient"/> (the kernel) and, for tests, by tests/TestSupport/Ipvs/InMemoryIpvsTable.cs.
/// </summary>
public interface IIpvsTable
{
    /// <summary>Every service and its destinations, with counters.</summary>
    Task<IpvsTableSnapshot> DumpAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes the table match <paramref name="desired"/> with the fewest changes (see <see cref="IpvsDiff"/>),
    /// applied in batches. Services not desired are deleted only when <paramref name="ownership"/> claims them.
    /// Idempotent: a second call with the same input does nothing. Per-operation failures are in the result.
    /// </summary>
    Task<IpvsApplyResult> ReconcileAsync(IReadOnlyList<IpvsVirtualServer> desired, IpvsOwnership ownership, CancellationToken cancellationToken = default);

    /// <summary>Applies explicit operations in batches; EEXIST/ENOENT/ESRCH are handled as states, not failures.</summary>
    Task<IpvsApplyResult> ApplyAsync(IReadOnlyList<IpvsOperation> operations, CancellationToken cancellationToken = default);

    /// <summary>Adds the destination, or edits it when it exists. Throws <see cref="NetlinkException"/> when the kernel refuses.</summary>
    Task SetDestinationAsync(IpvsServiceKey service, IpvsDestination destination, CancellationToken cancellationToken = default);

    /// <summary>Removes the destination; succeeds when it is already gone.</summary>
    Task RemoveDestinationAsync(IpvsServiceKey service, IpvsDestinationKey destination, CancellationToken cancellationToken = default);

    /// <summary>
    /// The destinations of one service as the kernel has them now, with their connection counts (GET_DEST dump:
    /// <c>IPVS_DEST_ATTR_ACTIVE_CONNS</c>, …). Throws <see cref="NetlinkException"/> (ESRCH) when the service is missing.
    /// </summary>
    Task<IReadOnlyList<IpvsDestinationStatus>> GetDestinationsAsync(IpvsServiceKey key, CancellationToken cancellationToken = default);

    /// <summary>Removes every service (ipvsadm -C).</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);
}
