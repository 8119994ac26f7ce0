namespace Lb.Netlink.Ipvs;

/// <summary>
/// Which services of the kernel's table a reconcile may delete when they are not desired. A service
/// that is desired is always managed (added or edited, its destinations made exact).
/// </summary>
public sealed class IpvsOwnership
{
    private readonly Func<IpvsServiceKey, bool> _owns;

    private IpvsOwnership(Func<IpvsServiceKey, bool> owns, string description)
    {
        _owns = owns;
        Description = description;
    }

    public string Description { get; }

    /// <summary>Only the desired services are touched; every other service is left alone.</summary>
    public static IpvsOwnership DesiredOnly { get; } = new(_ => false, "desired services only");

    /// <summary>The whole table is ours: services that are not desired are deleted (like a flush).</summary>
    public static IpvsOwnership Everything { get; } = new(_ => true, "the whole table");

    /// <summary>These services are ours (e.g. what we configured before a reload): deleted when no longer desired.</summary>
    public static IpvsOwnership Of(IEnumerable<IpvsServiceKey> keys)
    {
        var set = keys.ToHashSet();
        return new IpvsOwnership(set.Contains, $"{set.Count} owned services");
    }

    public static IpvsOwnership Where(Func<IpvsServiceKey, bool> predicate, string description = "a predicate") => new(predicate, description);

    public bool Owns(IpvsServiceKey key) => _owns(key);

    public override string ToString() => Description;
}
