using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Lb.Netlink;
using Lb.Netlink.Ipvs;

namespace Lb.TestSupport;

/// <summary>
/// The one in-memory IPVS of the test suites: a kernel table (services and their destinations) that answers
/// like the kernel — EEXIST on a duplicate add, ESRCH for a missing service, ENOENT for a missing destination —
/// for tests of code written against an IPVS interface where the real kernel cannot run (the host kernel here
/// has no IPVS; the real one is exercised by the kernel tier, tests/kernel).
/// As <see cref="IIpvsTable"/> (the interface the checker subsystem and the IPVS tools use) it is the table itself:
/// the product's <see cref="IpvsTableBase"/> reconcile/fallback logic runs over <see cref="Execute"/>, so a subsystem
/// that loses track of the table shows extra operations (an add that met EEXIST is retried as an edit, both recorded).
/// Besides <see cref="Log"/>, every executed request is recorded as text in keepalived's naming, in order
/// (<see cref="Operations"/>: <c>add-service [10.0.0.100]:tcp:80</c>, <c>edit-service … rr</c>, <c>del-service …</c>,
/// <c>add 10.0.0.2:80 w1</c>, <c>edit …</c>, <c>del …</c>, <c>flush</c>); a dump is not an operation.
/// Thread-safe.
/// </summary>
public sealed class InMemoryIpvsTable : IpvsTableBase
{
    private readonly object _gate = new();
    private readonly List<(IpvsService Service, List<IpvsDestination> Destinations)> _services = [];

    /// <summary>Every operation executed, in order, including the ones the table refused.</summary>
    public List<IpvsOperation> Log { get; } = [];

    /// <summary>Every request executed (also the ones the table refused), as text, in order (see the class summary).</summary>
    public List<string> Operations { get; } = [];

    /// <summary>Called before each request is executed, with its text, outside the table's lock (e.g. to check the journal
    /// already has the entry, to hold the request, or to throw).</summary>
    public Action<string>? BeforeOperation { get; set; }

    /// <summary>Makes the table refuse requests: return an errno (e.g. <see cref="Errno.EINVAL"/>) for a request, or 0 to execute it.</summary>
    public Func<IpvsOperation, int>? Refuse { get; set; }

    /// <summary>The requests recorded since the last call, as text.</summary>
    public List<string> TakeOperations()
    {
        lock (_gate)
        {
            var copy = Operations.ToList();
            Operations.Clear();
            return copy;
        }
    }

    /// <summary>The destinations now, by service text (<c>[10.0.0.100]:tcp:80</c>) and destination text (<c>10.0.0.2:80</c>).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, IpvsDestination>> Table =>
        Snapshot().Services.ToDictionary(
            e => Text(e.Service.Key),
            e => (IReadOnlyDictionary<string, IpvsDestination>)e.Destinations.ToDictionary(d => Endpoint(d.Destination.Address, d.Destination.Port), d => d.Destination));

    /// <summary>The services now (scheduler, persistence…), by their text.</summary>
    public IReadOnlyDictionary<string, IpvsService> Services =>
        Snapshot().Services.ToDictionary(e => Text(e.Service.Key), e => e.Service);

    /// <summary>The weights in the table of <paramref name="service"/>: "10.0.0.2:80=1".</summary>
    public List<string> Weights(string service) =>
        Table.TryGetValue(service, out var d) ? d.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key}={k.Value.Weight}").ToList() : [];

    /// <summary>keepalived's text of a service: <c>[10.0.0.100]:tcp:80</c>, <c>FWM 1</c>.</summary>
    public static string Text(IpvsServiceKey key) =>
        key.IsFirewallMark
            ? $"FWM {key.FirewallMark}"
            : $"[{key.Address}]:{key.Protocol switch { IpvsProtocol.Udp => "udp", IpvsProtocol.Sctp => "sctp", _ => "tcp" }}:{key.Port.ToString(CultureInfo.InvariantCulture)}";

    private static string Endpoint(IPAddress address, ushort port) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";

    /// <summary>A request as <see cref="Operations"/> records it.</summary>
    public static string Text(IpvsOperation op) => op.Kind switch
    {
        IpvsOperationKind.AddService => $"add-service {Text(op.ServiceKey)}",
        IpvsOperationKind.EditService => $"edit-service {Text(op.ServiceKey)} {op.Service!.Scheduler}",
        IpvsOperationKind.DeleteService => $"del-service {Text(op.ServiceKey)}",
        IpvsOperationKind.AddDestination => $"add {Endpoint(op.Destination!.Address, op.Destination.Port)} w{op.Destination.Weight}",
        IpvsOperationKind.EditDestination => $"edit {Endpoint(op.Destination!.Address, op.Destination.Port)} w{op.Destination.Weight}",
        IpvsOperationKind.DeleteDestination => $"del {Endpoint(op.DestinationKey!.Value.Address, op.DestinationKey.Value.Port)}",
        _ => op.ToString(),
    };

    /// <summary>Active connections a dump reports for a destination (<c>10.0.0.2:80</c>); absent: 0 (tests of draining).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, uint> ActiveConnections { get; } = new(StringComparer.Ordinal);

    /// <summary>The table now (services flagged hashed, as the kernel reports them; counters zero but <see cref="ActiveConnections"/>).</summary>
    public IpvsTableSnapshot Snapshot()
    {
        lock (_gate)
        {
            var entries = _services.Select(s => new IpvsTableEntry(
                new IpvsServiceStatus(s.Service with { Flags = s.Service.Flags | IpvsServiceFlags.Hashed }, IpvsStats.Zero),
                s.Destinations.Select(d => new IpvsDestinationStatus(d, ActiveConnections.GetValueOrDefault(Endpoint(d.Address, d.Port)), 0, 0, IpvsStats.Zero)).ToList())).ToList();
            return new IpvsTableSnapshot(entries);
        }
    }

    public override Task<IpvsTableSnapshot> DumpAsync(CancellationToken cancellationToken = default) => Task.FromResult(Snapshot());

    public override Task FlushAsync(CancellationToken cancellationToken = default)
    {
        BeforeOperation?.Invoke("flush");
        lock (_gate)
        {
            Operations.Add("flush");
            _services.Clear();
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// One kernel request, as the kernel answers it: null when applied, else the error (EEXIST, ESRCH, ENOENT)
    /// naming the operation. No fallback (that is <see cref="IpvsTableBase.ApplyAsync"/>'s job). Invalid input
    /// (<see cref="IpvsMessages.Validate(IpvsService)"/>) throws, as the encoder would before sending.
    /// </summary>
    public NetlinkException? Execute(IpvsOperation operation)
    {
        BeforeOperation?.Invoke(Text(operation));
        lock (_gate)
        {
            Log.Add(operation);
            Operations.Add(Text(operation));
            var errno = Refuse?.Invoke(operation) ?? 0;
            if (errno == 0)
                errno = Apply(operation);
            return errno == 0 ? null : new NetlinkException(operation.ToString(), errno);
        }
    }

    protected override Task<IReadOnlyList<NetlinkException?>> ExecuteAsync(IReadOnlyList<IpvsOperation> operations, CancellationToken cancellationToken)
    {
        var errors = new NetlinkException?[operations.Count];
        for (var i = 0; i < operations.Count; i++)
            errors[i] = Execute(operations[i]);
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
