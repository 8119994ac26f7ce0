using Lb.Checkers.Ipvs;

namespace Lb.Checkers.Tests.Support;

/// <summary>An IPVS table in memory that records every operation as text, in order.</summary>
public sealed class InMemoryIpvs : IIpvsDestinations
{
    private readonly object _gate = new();
    public List<string> Operations { get; } = new();
    public Dictionary<string, Dictionary<string, IpvsDestination>> Table { get; } = new();

    /// <summary>The services as last added or edited (scheduler, persistence…), by their text.</summary>
    public Dictionary<string, IpvsService> Services { get; } = new();

    /// <summary>Called at the start of each operation (e.g. to check the journal already has the entry).</summary>
    public Action<string>? BeforeOperation { get; set; }

    private void Record(string op)
    {
        BeforeOperation?.Invoke(op);
        lock (_gate)
            Operations.Add(op);
    }

    public Task FlushAsync(CancellationToken cancellationToken)
    {
        Record("flush");
        lock (_gate)
        {
            Table.Clear();
            Services.Clear();
        }
        return Task.CompletedTask;
    }

    public Task AddServiceAsync(IpvsService service, CancellationToken cancellationToken)
    {
        Record($"add-service {service}");
        lock (_gate)
        {
            if (Table.ContainsKey(service.ToString()))
                throw new InvalidOperationException($"service {service} exists");
            Table[service.ToString()] = new();
            Services[service.ToString()] = service;
        }
        return Task.CompletedTask;
    }

    public Task EditServiceAsync(IpvsService service, CancellationToken cancellationToken)
    {
        Record($"edit-service {service} {service.Scheduler}");
        lock (_gate)
        {
            if (!Table.ContainsKey(service.ToString()))
                throw new InvalidOperationException($"service {service} missing");
            Services[service.ToString()] = service;
        }
        return Task.CompletedTask;
    }

    public Task RemoveServiceAsync(IpvsService service, CancellationToken cancellationToken)
    {
        Record($"del-service {service}");
        lock (_gate)
        {
            if (!Table.Remove(service.ToString()))
                throw new InvalidOperationException($"service {service} missing");
            Services.Remove(service.ToString());
        }
        return Task.CompletedTask;
    }

    public Task AddDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken)
    {
        Record($"add {Key(destination)} w{destination.Weight}");
        lock (_gate)
        {
            if (Table[service.ToString()].ContainsKey(Key(destination)))
                throw new InvalidOperationException($"destination {Key(destination)} exists");
            Table[service.ToString()][Key(destination)] = destination;
        }
        return Task.CompletedTask;
    }

    public Task EditDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken)
    {
        Record($"edit {Key(destination)} w{destination.Weight}");
        lock (_gate)
        {
            if (!Table[service.ToString()].ContainsKey(Key(destination)))
                throw new InvalidOperationException($"destination {Key(destination)} missing");
            Table[service.ToString()][Key(destination)] = destination;
        }
        return Task.CompletedTask;
    }

    public Task RemoveDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken)
    {
        Record($"del {Key(destination)}");
        lock (_gate)
        {
            if (!Table[service.ToString()].Remove(Key(destination)))
                throw new InvalidOperationException($"destination {Key(destination)} missing");
        }
        return Task.CompletedTask;
    }

    /// <summary>The weights in the table of <paramref name="service"/>: "10.0.0.2:80=1".</summary>
    public List<string> Weights(string service)
    {
        lock (_gate)
            return Table.TryGetValue(service, out var d) ? d.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key}={k.Value.Weight}").ToList() : new();
    }

    public List<string> TakeOperations()
    {
        lock (_gate)
        {
            var copy = Operations.ToList();
            Operations.Clear();
            return copy;
        }
    }

    private static string Key(IpvsDestination d) => Format.Endpoint(d.Address, d.Port);
}
