namespace Lb.Netlink.Ipvs;

/// <summary>
/// Computes the smallest set of operations that turns the kernel's table into the desired one. Pure.
/// Order: stale services deleted, then per desired service: add or edit it, delete its stale
/// destinations, add or edit the others. Services the ownership does not claim are left alone.
/// </summary>
public static class IpvsDiff
{
    public static IReadOnlyList<IpvsOperation> Compute(IpvsTableSnapshot current, IReadOnlyList<IpvsVirtualServer> desired, IpvsOwnership ownership)
    {
        var currentByKey = new Dictionary<IpvsServiceKey, IpvsTableEntry>();
        foreach (var entry in current.Services)
            currentByKey[entry.Service.Key] = entry;

        var desiredKeys = new HashSet<IpvsServiceKey>();
        foreach (var vs in desired)
        {
            if (!desiredKeys.Add(vs.Service.Key))
                throw new ArgumentException($"IPVS service {vs.Service.Key} is desired twice", nameof(desired));
            var seen = new HashSet<IpvsDestinationKey>();
            foreach (var d in vs.Destinations)
            {
                if (!seen.Add(d.Key))
                    throw new ArgumentException($"destination {d.Key} appears twice in IPVS service {vs.Service.Key}", nameof(desired));
            }
        }

        var ops = new List<IpvsOperation>();
        foreach (var entry in current.Services)
        {
            var key = entry.Service.Key;
            if (!desiredKeys.Contains(key) && ownership.Owns(key))
                ops.Add(IpvsOperation.DeleteService(key));
        }

        foreach (var vs in desired)
        {
            var key = vs.Service.Key;
            if (!currentByKey.TryGetValue(key, out var existing))
            {
                ops.Add(IpvsOperation.AddService(vs.Service));
                foreach (var d in vs.Destinations)
                    ops.Add(IpvsOperation.AddDestination(key, d));
                continue;
            }

            if (!existing.Service.SettingsEqual(vs.Service))
                ops.Add(IpvsOperation.EditService(vs.Service));

            var wanted = vs.Destinations.ToDictionary(d => d.Key);
            var have = new Dictionary<IpvsDestinationKey, IpvsDestination>();
            foreach (var d in existing.Destinations)
            {
                have[d.Destination.Key] = d.Destination;
                if (!wanted.ContainsKey(d.Destination.Key))
                    ops.Add(IpvsOperation.DeleteDestination(key, d.Destination.Key));
            }
            foreach (var d in vs.Destinations)
            {
                if (!have.TryGetValue(d.Key, out var old))
                    ops.Add(IpvsOperation.AddDestination(key, d));
                else if (!old.SettingsEqual(d))
                    ops.Add(IpvsOperation.EditDestination(key, d));
            }
        }
        return ops;
    }
}
