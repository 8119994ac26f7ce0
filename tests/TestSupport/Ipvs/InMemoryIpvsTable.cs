using Lb.Netlink;
using Lb.Netlink.Ipvs;

namespace Lb.TestSupport;

/// <summary>
/// The one in-memory IPVS of the test suites: a kernel table (services and their destinations) that answers
/// like the kernel — EEXIST on a duplicate add, ESRCH for a missing service, ENOENT for a missing destination —
/// for tests of code written against an IPVS interface where the real kernel cannot run (the host kernel here
/// has no IPVS; the real one is exercised by the kernel tier, tests/kernel).
/// <list type="bullet">
/// <item>As <see cref="IIpvsTable"/> (Netlink's interface) it is the table itself: the product's
/// <see cref="IpvsTableBase"/> reconcile/fallback logic runs over <see cref="Execute"/>.</item>
/// <item>The checker subsystem's <c>IIpvsDestinations</c> is served by <see cref="InMemoryIpvs"/>, a thin adapter
/// over an instance of this class (<see cref="InMemoryIpvs.Kernel"/>).</item>
/// </list>
/// Thread-safe.
/// </summary>
public sealed class InMemoryIpvsTable : IpvsTableBase
{
    private readonly object _gate = new();
    private readonly List<(IpvsService Service, List<IpvsDestination> Destinations)> _services = [];

    /// <summary>Every operation executed, in order, including the ones the table refused.</summary>
    public List<IpvsOperation> Log { get; } = [];

    /// <summary>The table now (services flagged hashed, as the kernel reports them; counters zero).</summary>
    public IpvsTableSnapshot Snapshot()
    {
        lock (_gate)
        {
            var entries = _services.Select(s => new IpvsTableEntry(
                new IpvsServiceStatus(s.Service with { Flags = s.Service.Flags | IpvsServiceFlags.Hashed }, IpvsStats.Zero),
                s.Destinations.Select(d => new IpvsDestinationStatus(d, 0, 0, 0, IpvsStats.Zero)).ToList())).ToList();
            return new IpvsTableSnapshot(entries);
        }
    }

    public override Task<IpvsTableSnapshot> DumpAsync(CancellationToken cancellationToken = default) => Task.FromResult(Snapshot());

    public override Task FlushAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
            _services.Clear();
        return Task.CompletedTask;
    }

    /// <summary>
    /// One kernel request, as the kernel answers it: null when applied, else the error (EEXIST, ESRCH, ENOENT)
    /// naming the operation. No fallback (that is <see cref="IpvsTableBase.ApplyAsync"/>'s job). Invalid input
    /// (<see cref="IpvsMessages.Validate(IpvsService)"/>) throws, as the encoder would before sending.
    /// </summary>
    public NetlinkException? Execute(IpvsOperation operation)
    {
        lock (_gate)
        {
            Log.Add(operation);
            var errno = Apply(operation);
            return errno == 0 ? null : new NetlinkException(operation.ToString(), errno);
        }
    }

    protected override Task<IReadOnlyList<NetlinkException?>> ExecuteAsync(IReadOnlyList<IpvsOperation> operations, CancellationToken cancellationToken)
    {
        var errors = new NetlinkException?[operations.Count];
        lock (_gate)
        {
            for (var i = 0; i < operations.Count; i++)
                errors[i] = Execute(operations[i]);
        }
        return Task.FromResult<IReadOnlyList<NetlinkException?>>(errors);
    }

    private int Apply(IpvsOperation op)
    {
        var index = _services.FindIndex(s => s.Service.Key == op.ServiceKey);
        switch (op.Kind)
        {
            case IpvsOperationKind.AddService:
                IpvsMessages.Validate(op.Service!);
                if (index >= 0)
                    return Errno.EEXIST;
                _services.Add((op.Service!, []));
                return 0;
            case IpvsOperationKind.EditService:
                IpvsMessages.Validate(op.Service!);
                if (index < 0)
                    return Errno.ESRCH;
                _services[index] = (op.Service!, _services[index].Destinations);
                return 0;
            case IpvsOperationKind.DeleteService:
                if (index < 0)
                    return Errno.ESRCH;
                _services.RemoveAt(index);
                return 0;
        }
        if (index < 0)
            return Errno.ESRCH;
        var dests = _services[index].Destinations;
        var d = dests.FindIndex(x => x.Key == op.DestinationKey);
        switch (op.Kind)
        {
            case IpvsOperationKind.AddDestination:
                IpvsMessages.Validate(op.Destination!, op.ToString());
                if (d >= 0)
                    return Errno.EEXIST;
                dests.Add(op.Destination!);
                return 0;
            case IpvsOperationKind.EditDestination:
                IpvsMessages.Validate(op.Destination!, op.ToString());
                if (d < 0)
                    return Errno.ENOENT;
                dests[d] = op.Destination!;
                return 0;
            case IpvsOperationKind.DeleteDestination:
                if (d < 0)
                    return Errno.ENOENT;
                dests.RemoveAt(d);
                return 0;
            default:
                return Errno.EINVAL;
        }
    }
}
