using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Netlink.Ipvs;

/// <summary>
/// The reconcile/apply logic shared by the kernel client and the tests' in-memory table (tests/TestSupport): operations are
/// executed in batches; an add that meets EEXIST is retried as an edit, an edit that meets a missing
/// object as an add, and a delete of something already gone counts as done.
/// </summary>
public abstract class IpvsTableBase : IIpvsTable
{
    /// <summary>Where applied and failed operations are logged.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Executes operations in order; returns, per operation, null or the kernel's error.</summary>
    protected abstract Task<IReadOnlyList<NetlinkException?>> ExecuteAsync(IReadOnlyList<IpvsOperation> operations, CancellationToken cancellationToken);

    public abstract Task<IpvsTableSnapshot> DumpAsync(CancellationToken cancellationToken = default);

    public abstract Task FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>The destinations of one service (default: from <see cref="DumpAsync"/>; the kernel client asks for that service only).</summary>
    public virtual async Task<IReadOnlyList<IpvsDestinationStatus>> GetDestinationsAsync(IpvsServiceKey key, CancellationToken cancellationToken = default)
    {
        var dump = await DumpAsync(cancellationToken).ConfigureAwait(false);
        return dump.Find(key)?.Destinations ?? throw new NetlinkException($"get destinations of {key}", Errno.ESRCH);
    }

    public async Task<IpvsApplyResult> ReconcileAsync(IReadOnlyList<IpvsVirtualServer> desired, IpvsOwnership ownership, CancellationToken cancellationToken = default)
    {
        var current = await DumpAsync(cancellationToken).ConfigureAwait(false);
        var ops = IpvsDiff.Compute(current, desired, ownership);
        return ops.Count == 0 ? IpvsApplyResult.Empty : await ApplyAsync(ops, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IpvsApplyResult> ApplyAsync(IReadOnlyList<IpvsOperation> operations, CancellationToken cancellationToken = default)
    {
        if (operations.Count == 0)
            return IpvsApplyResult.Empty;
        Logger.Applying(operations.Count);
        var errors = await ExecuteAsync(operations, cancellationToken).ConfigureAwait(false);
        var results = new IpvsOperationResult[operations.Count];
        var retryIndex = new List<int>();
        var retryOps = new List<IpvsOperation>();
        for (var i = 0; i < operations.Count; i++)
        {
            var op = operations[i];
            var error = errors[i];
            if (error is null)
            {
                results[i] = new IpvsOperationResult(op, IpvsOperationOutcome.Applied);
            }
            else if (IsAlreadyGone(op, error))
            {
                results[i] = new IpvsOperationResult(op, IpvsOperationOutcome.AlreadyInState, error);
            }
            else if (NeedsFallback(op, error) && op.Fallback is { } fallback)
            {
                retryIndex.Add(i);
                retryOps.Add(fallback);
            }
            else
            {
                results[i] = new IpvsOperationResult(op, IpvsOperationOutcome.Failed, error);
            }
        }

        if (retryOps.Count > 0)
        {
            var retryErrors = await ExecuteAsync(retryOps, cancellationToken).ConfigureAwait(false);
            for (var j = 0; j < retryOps.Count; j++)
            {
                var i = retryIndex[j];
                results[i] = retryErrors[j] is null
                    ? new IpvsOperationResult(operations[i], IpvsOperationOutcome.AlreadyInState)
                    : new IpvsOperationResult(operations[i], IpvsOperationOutcome.Failed, retryErrors[j]);
            }
        }
        foreach (var r in results)
        {
            switch (r.Outcome)
            {
                case IpvsOperationOutcome.Applied: Logger.OperationApplied(r.Operation); break;
                case IpvsOperationOutcome.AlreadyInState: Logger.OperationAlreadyInState(r.Operation, r.Error?.ErrnoName ?? "EEXIST/ENOENT"); break;
                default: Logger.OperationFailed(r.Error?.Message ?? r.Operation.ToString()); break;
            }
        }
        return new IpvsApplyResult(results);
    }

    public async Task SetDestinationAsync(IpvsServiceKey service, IpvsDestination destination, CancellationToken cancellationToken = default)
    {
        var result = await ApplyAsync([IpvsOperation.EditDestination(service, destination)], cancellationToken).ConfigureAwait(false);
        result.ThrowOnFailure();
    }

    public async Task RemoveDestinationAsync(IpvsServiceKey service, IpvsDestinationKey destination, CancellationToken cancellationToken = default)
    {
        var result = await ApplyAsync([IpvsOperation.DeleteDestination(service, destination)], cancellationToken).ConfigureAwait(false);
        result.ThrowOnFailure();
    }

    private static bool IsAlreadyGone(IpvsOperation op, NetlinkException error) =>
        (op.Kind is IpvsOperationKind.DeleteService && error.Errno == Errno.ESRCH)
        || (op.Kind is IpvsOperationKind.DeleteDestination && error.Errno is Errno.ENOENT or Errno.ESRCH);

    private static bool NeedsFallback(IpvsOperation op, NetlinkException error) => op.Kind switch
    {
        IpvsOperationKind.AddService or IpvsOperationKind.AddDestination => error.Errno == Errno.EEXIST,
        IpvsOperationKind.EditService => error.Errno == Errno.ESRCH,
        IpvsOperationKind.EditDestination => error.Errno == Errno.ENOENT,
        _ => false,
    };
}
