namespace Lb.Netlink.Ipvs;

/// <summary>
/// The IPVS table as this process last left it, in front of an <see cref="IIpvsTable"/>: read from the kernel once (the
/// first reconcile, at start-up: what is there, and what Lb may own) and from then on kept current from the results of
/// its own requests, so a later reconcile (a reload) is a diff against memory that sends only the differences and reads
/// nothing back. As keepalived's reload (clear_diff_services + init_services) it works from its own state, not from the
/// kernel's: an entry someone else changed behind its back is not repaired unless the new configuration changes it (an
/// edit that meets a missing destination is still re-sent as an add, <see cref="IpvsTableBase"/>'s fallback). When a
/// request fails without a per-operation answer (timeout, socket error) the table is forgotten and the next reconcile
/// dumps the kernel again. Not thread-safe: one serial applier uses it.
/// </summary>
public sealed class IpvsAppliedTable
{
    private readonly IIpvsTable _table;
    private readonly Dictionary<IpvsServiceKey, Entry> _services = new();
    private readonly List<IpvsServiceKey> _order = new();

    private sealed class Entry(IpvsService service)
    {
        public IpvsService Service { get; set; } = service;
        public Dictionary<IpvsDestinationKey, IpvsDestination> Destinations { get; } = new();
    }

    public IpvsAppliedTable(IIpvsTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
    }

    /// <summary>True once the table was read from the kernel (and not forgotten since).</summary>
    public bool Known { get; private set; }

    /// <summary>Kernel dumps taken so far (start-up: one; then one after each forgotten state).</summary>
    public int Dumps { get; private set; }

    /// <summary>
    /// Makes the kernel's table match <paramref name="desired"/> (services not desired deleted when
    /// <paramref name="ownership"/> claims them): dumps the kernel only when the table is not known, else diffs against
    /// what was last applied; one batch.
    /// </summary>
    public async Task<IpvsApplyResult> ReconcileAsync(IReadOnlyList<IpvsVirtualServer> desired, IpvsOwnership ownership, CancellationToken cancellationToken = default)
    {
        var (_, ops) = await PlanAsync(desired, ownership, cancellationToken).ConfigureAwait(false);
        return await ApplyAsync(ops, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// What <see cref="ReconcileAsync"/> would send, without sending it: the table as it stands (read from the kernel
    /// first when it is not known, as the reconcile reads it) and the operations of the diff (<c>lb reload --plan</c>; the
    /// reconcile itself is this, then <see cref="ApplyAsync"/>).
    /// </summary>
    public async Task<(IpvsTableSnapshot Before, IReadOnlyList<IpvsOperation> Operations)> PlanAsync(
        IReadOnlyList<IpvsVirtualServer> desired, IpvsOwnership ownership, CancellationToken cancellationToken = default)
    {
        if (!Known)
        {
            var dump = await _table.DumpAsync(cancellationToken).ConfigureAwait(false);
            Reset(dump);
        }
        var before = Snapshot();
        return (before, IpvsDiff.Compute(before, desired, ownership));
    }

    /// <summary>Applies explicit operations (one batch) and records what the kernel did.</summary>
    public async Task<IpvsApplyResult> ApplyAsync(IReadOnlyList<IpvsOperation> operations, CancellationToken cancellationToken = default)
    {
        if (operations.Count == 0)
            return IpvsApplyResult.Empty;
        IpvsApplyResult result;
        try
        {
            result = await _table.ApplyAsync(operations, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Forget();
            throw;
        }
        Record(result);
        return result;
    }

    /// <summary>Removes every service (ipvsadm -C); the table is then known to be empty.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _table.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Forget();
            throw;
        }
        _services.Clear();
        _order.Clear();
        Known = true;
    }

    /// <summary>The next reconcile reads the kernel again.</summary>
    public void Forget()
    {
        Known = false;
        _services.Clear();
        _order.Clear();
    }

    /// <summary>The table as last applied, in the shape of a dump (counters zero).</summary>
    public IpvsTableSnapshot Snapshot()
    {
        var entries = new List<IpvsTableEntry>(_order.Count);
        foreach (var key in _order)
        {
            var e = _services[key];
            var dests = new List<IpvsDestinationStatus>(e.Destinations.Count);
            foreach (var d in e.Destinations.Values)
                dests.Add(new IpvsDestinationStatus(d, 0, 0, 0, IpvsStats.Zero));
            entries.Add(new IpvsTableEntry(new IpvsServiceStatus(e.Service, IpvsStats.Zero), dests));
        }
        return new IpvsTableSnapshot(entries);
    }

    private void Reset(IpvsTableSnapshot dump)
    {
        _services.Clear();
        _order.Clear();
        foreach (var s in dump.Services)
        {
            var entry = AddService(s.Service);
            foreach (var d in s.Destinations)
                entry.Destinations[d.Destination.Key] = d.Destination;
        }
        Known = true;
        Dumps++;
    }

    private Entry AddService(IpvsService service)
    {
        if (_services.TryGetValue(service.Key, out var entry))
        {
            entry.Service = service;
            return entry;
        }
        entry = new Entry(service);
        _services[service.Key] = entry;
        _order.Add(service.Key);
        return entry;
    }

    private void RemoveService(IpvsServiceKey key)
    {
        if (_services.Remove(key))
            _order.Remove(key);
    }

    /// <summary>
    /// What the kernel now holds after <paramref name="result"/>: an applied (or already-in-state) add or edit holds the
    /// operation's settings, a delete holds nothing; a refused add leaves the object absent, a refused edit or delete
    /// leaves it as it was.
    /// </summary>
    private void Record(IpvsApplyResult result)
    {
        if (!Known)
            return;
        foreach (var r in result.Operations)
        {
            var op = r.Operation;
            var done = r.Outcome != IpvsOperationOutcome.Failed;
            switch (op.Kind)
            {
                case IpvsOperationKind.AddService or IpvsOperationKind.EditService:
                    if (done)
                        AddService(op.Service!);
                    break;
                case IpvsOperationKind.DeleteService:
                    if (done)
                        RemoveService(op.ServiceKey);
                    break;
                case IpvsOperationKind.AddDestination or IpvsOperationKind.EditDestination:
                    if (done && _services.TryGetValue(op.ServiceKey, out var svc))
                        svc.Destinations[op.DestinationKey!.Value] = op.Destination!;
                    break;
                case IpvsOperationKind.DeleteDestination:
                    if (done && _services.TryGetValue(op.ServiceKey, out var from))
                        from.Destinations.Remove(op.DestinationKey!.Value);
                    break;
            }
        }
    }
}
