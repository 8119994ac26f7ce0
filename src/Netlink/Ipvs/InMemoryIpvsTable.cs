namespace Lb.Netlink.Ipvs;

/// <summary>
/// An IPVS table in memory that answers like the kernel (EEXIST on a duplicate add, ESRCH for a
/// missing service, ENOENT for a missing destination), for tests of code written against
/// <see cref="IIpvsTable"/>. Thread-safe.
/// </summary>
public sealed class InMemoryIpvsTable : IpvsTableBase
{
    private readonly object _gate = new();
    private readonly List<(IpvsService Service, List<IpvsDestination> Destinations)> _services = [];

    /// <summary>Every operation executed, in order, including the ones the table refused.</summary>
    public List<IpvsOperation> Log { get; } = [];

    public override Task<IpvsTableSnapshot> DumpAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var entries = _services.Select(s => new IpvsTableEntry(
                new IpvsServiceStatus(s.Service with { Flags = s.Service.Flags | IpvsServiceFlags.Hashed }, IpvsStats.Zero),
                s.Destinations.Select(d => new IpvsDestinationStatus(d, 0, 0, 0, IpvsStats.Zero)).ToList())).ToList();
            return Task.FromResult(new IpvsTableSnapshot(entries));
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
            _services.Clear();
        return Task.CompletedTask;
    }

    protected override Task<IReadOnlyList<NetlinkException?>> ExecuteAsync(IReadOnlyList<IpvsOperation> operations, CancellationToken cancellationToken)
    {
        var errors = new NetlinkException?[operations.Count];
        lock (_gate)
        {
            for (var i = 0; i < operations.Count; i++)
            {
                Log.Add(operations[i]);
                var errno = Execute(operations[i]);
                errors[i] = errno == 0 ? null : new NetlinkException(operations[i].ToString(), errno);
            }
        }
        return Task.FromResult<IReadOnlyList<NetlinkException?>>(errors);
    }

    private int Execute(IpvsOperation op)
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
