namespace Lb.Netlink.Ipvs;

public enum IpvsOperationKind
{
    AddService,
    EditService,
    DeleteService,
    AddDestination,
    EditDestination,
    DeleteDestination,
}

/// <summary>One change to the kernel's IPVS table (what one <c>ipvsadm</c> command does).</summary>
public sealed record IpvsOperation
{
    private IpvsOperation(IpvsOperationKind kind, IpvsServiceKey serviceKey, IpvsService? service, IpvsDestination? destination, IpvsDestinationKey? destinationKey)
    {
        Kind = kind;
        ServiceKey = serviceKey;
        Service = service;
        Destination = destination;
        DestinationKey = destinationKey;
    }

    public IpvsOperationKind Kind { get; }
    public IpvsServiceKey ServiceKey { get; }
    /// <summary>The service settings, for <see cref="IpvsOperationKind.AddService"/> and <see cref="IpvsOperationKind.EditService"/>.</summary>
    public IpvsService? Service { get; }
    /// <summary>The destination settings, for add and edit of a destination.</summary>
    public IpvsDestination? Destination { get; }
    /// <summary>The destination, for every destination operation.</summary>
    public IpvsDestinationKey? DestinationKey { get; }

    public bool IsServiceOperation => Kind is IpvsOperationKind.AddService or IpvsOperationKind.EditService or IpvsOperationKind.DeleteService;

    public static IpvsOperation AddService(IpvsService service) => new(IpvsOperationKind.AddService, service.Key, service, null, null);
    public static IpvsOperation EditService(IpvsService service) => new(IpvsOperationKind.EditService, service.Key, service, null, null);
    public static IpvsOperation DeleteService(IpvsServiceKey key) => new(IpvsOperationKind.DeleteService, key, null, null, null);
    public static IpvsOperation AddDestination(IpvsServiceKey service, IpvsDestination destination) => new(IpvsOperationKind.AddDestination, service, null, destination, destination.Key);
    public static IpvsOperation EditDestination(IpvsServiceKey service, IpvsDestination destination) => new(IpvsOperationKind.EditDestination, service, null, destination, destination.Key);
    public static IpvsOperation DeleteDestination(IpvsServiceKey service, IpvsDestinationKey destination) => new(IpvsOperationKind.DeleteDestination, service, null, null, destination);

    /// <summary>The same change expressed the other way when the kernel's state was not what the diff assumed (add ↔ edit).</summary>
    internal IpvsOperation? Fallback => Kind switch
    {
        IpvsOperationKind.AddService => EditService(Service!),
        IpvsOperationKind.EditService => AddService(Service!),
        IpvsOperationKind.AddDestination => EditDestination(ServiceKey, Destination!),
        IpvsOperationKind.EditDestination => AddDestination(ServiceKey, Destination!),
        _ => null,
    };

    public NetlinkRequest ToRequest(ushort familyId) => Kind switch
    {
        IpvsOperationKind.AddService => IpvsMessages.NewService(familyId, Service!),
        IpvsOperationKind.EditService => IpvsMessages.SetService(familyId, Service!),
        IpvsOperationKind.DeleteService => IpvsMessages.DelService(familyId, ServiceKey),
        IpvsOperationKind.AddDestination => IpvsMessages.NewDestination(familyId, ServiceKey, Destination!),
        IpvsOperationKind.EditDestination => IpvsMessages.SetDestination(familyId, ServiceKey, Destination!),
        IpvsOperationKind.DeleteDestination => IpvsMessages.DelDestination(familyId, ServiceKey, DestinationKey!.Value),
        _ => throw new InvalidOperationException($"unknown IPVS operation {Kind}"),
    };

    public override string ToString() => Kind switch
    {
        IpvsOperationKind.AddService => $"add service {Service}",
        IpvsOperationKind.EditService => $"edit service {Service}",
        IpvsOperationKind.DeleteService => $"delete service {ServiceKey}",
        IpvsOperationKind.AddDestination => $"add destination {Destination} to {ServiceKey}",
        IpvsOperationKind.EditDestination => $"edit destination {Destination} of {ServiceKey}",
        IpvsOperationKind.DeleteDestination => $"delete destination {DestinationKey} from {ServiceKey}",
        _ => Kind.ToString(),
    };
}

public enum IpvsOperationOutcome
{
    /// <summary>The kernel did it.</summary>
    Applied,
    /// <summary>The kernel was already in the wanted state (EEXIST on add turned into an edit, ENOENT/ESRCH on delete, …).</summary>
    AlreadyInState,
    /// <summary>The kernel refused; see <see cref="IpvsOperationResult.Error"/>.</summary>
    Failed,
}

/// <summary>What happened to one operation.</summary>
public sealed record IpvsOperationResult(IpvsOperation Operation, IpvsOperationOutcome Outcome, NetlinkException? Error = null)
{
    public override string ToString() => Error is null ? $"{Operation}: {Outcome}" : $"{Operation}: {Error.Message}";
}

/// <summary>The outcome of applying a set of operations (or of a reconcile): every operation and what happened to it.</summary>
public sealed record IpvsApplyResult(IReadOnlyList<IpvsOperationResult> Operations)
{
    public static IpvsApplyResult Empty { get; } = new([]);

    public IReadOnlyList<IpvsOperationResult> Failures => Operations.Where(o => o.Outcome == IpvsOperationOutcome.Failed).ToList();

    public bool Succeeded => Operations.All(o => o.Outcome != IpvsOperationOutcome.Failed);

    public int Count(IpvsOperationKind kind) => Operations.Count(o => o.Operation.Kind == kind && o.Outcome != IpvsOperationOutcome.Failed);

    public int ServicesAdded => Count(IpvsOperationKind.AddService);
    public int ServicesEdited => Count(IpvsOperationKind.EditService);
    public int ServicesDeleted => Count(IpvsOperationKind.DeleteService);
    public int DestinationsAdded => Count(IpvsOperationKind.AddDestination);
    public int DestinationsEdited => Count(IpvsOperationKind.EditDestination);
    public int DestinationsDeleted => Count(IpvsOperationKind.DeleteDestination);

    /// <summary>Throws an <see cref="AggregateException"/> of every failure, if any.</summary>
    public IpvsApplyResult ThrowOnFailure()
    {
        var failures = Failures;
        if (failures.Count == 0)
            return this;
        if (failures.Count == 1)
            throw failures[0].Error!;
        throw new AggregateException($"{failures.Count} of {Operations.Count} IPVS operations failed; first: {failures[0].Error!.Message}", failures.Select(f => (Exception)f.Error!));
    }

    public override string ToString() =>
        $"services +{ServicesAdded} ~{ServicesEdited} -{ServicesDeleted}, destinations +{DestinationsAdded} ~{DestinationsEdited} -{DestinationsDeleted}, {Failures.Count} failed";
}
