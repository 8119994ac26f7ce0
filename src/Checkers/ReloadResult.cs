namespace Lb.Checkers;

/// <summary>What a configuration reload (<see cref="CheckerSubsystem.ReloadAsync"/>) did, for logging and <c>lb status</c>.</summary>
public sealed record ReloadResult
{
    /// <summary>Every added, removed or changed object, in the order the changes were applied.</summary>
    public IReadOnlyList<ReloadChange> Changes { get; init; } = [];

    /// <summary>Objects (virtual servers and real servers) found identical and left untouched: <c>VS [10.0.0.100]:tcp:80</c>, <c>RS [10.0.0.2]:tcp:80 of VS …</c>.</summary>
    public IReadOnlyList<string> Kept { get; init; } = [];

    /// <summary>
    /// True when a newer reload was requested while this one waited its turn and has already been applied: this one
    /// was skipped (its configuration is older than what runs), nothing was done.
    /// </summary>
    public bool Superseded { get; init; }

    /// <summary>
    /// What the reload did, one line per change, grouped: <c>virtual_server:</c> (servers added, removed, changed),
    /// <c>ipvs:</c> (the operations its reconcile sent, each with what it changes, <c>FAILED: …</c> when the kernel refused),
    /// <c>checkers:</c> (checkers stopped and started). The same lines as <see cref="CheckerSubsystem.PlanReloadAsync"/>
    /// printed before it; empty when nothing changed.
    /// </summary>
    public IReadOnlyList<string> Lines { get; init; } = [];

    /// <summary>Added objects.</summary>
    public IReadOnlyList<ReloadChange> Added => Changes.Where(c => c.Change == ReloadChangeKind.Added).ToList();

    /// <summary>Removed objects.</summary>
    public IReadOnlyList<ReloadChange> Removed => Changes.Where(c => c.Change == ReloadChangeKind.Removed).ToList();

    /// <summary>Changed objects.</summary>
    public IReadOnlyList<ReloadChange> Changed => Changes.Where(c => c.Change == ReloadChangeKind.Changed).ToList();

    /// <summary>Whether the reload changed nothing.</summary>
    public bool IsEmpty => Changes.Count == 0;

    /// <summary><c>added 1, removed 0, changed 2, kept 10</c>.</summary>
    public override string ToString() =>
        Superseded ? "superseded by a newer reload" : $"added {Added.Count}, removed {Removed.Count}, changed {Changed.Count}, kept {Kept.Count}";
}

/// <summary>One object a reload added, removed or changed.</summary>
/// <param name="Object">What kind of object.</param>
/// <param name="Change">Added, removed or changed.</param>
/// <param name="VirtualServer">The virtual server in keepalived's form (<c>[10.0.0.100]:tcp:80</c>).</param>
/// <param name="Name">The real or sorry server (<c>[10.0.0.2]:tcp:80</c>); null for the virtual server itself.</param>
/// <param name="Detail">What changed, in words (<c>weight 1 -> 3</c>, <c>scheduler wlc -> rr</c>, …).</param>
public sealed record ReloadChange(ReloadObjectKind Object, ReloadChangeKind Change, string VirtualServer, string? Name, string Detail)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{Change.ToString().ToLowerInvariant()} {(Object == ReloadObjectKind.VirtualServer ? "VS " + VirtualServer : $"{(Object == ReloadObjectKind.SorryServer ? "sorry server" : "RS")} {Name} of VS {VirtualServer}")}{(Detail.Length > 0 ? ": " + Detail : "")}";
}

/// <summary>The kind of object in a <see cref="ReloadChange"/>.</summary>
public enum ReloadObjectKind
{
    /// <summary>A <c>virtual_server</c> (its IPVS services, quorum, scripts…).</summary>
    VirtualServer,

    /// <summary>A <c>real_server</c> (its destination and checkers).</summary>
    RealServer,

    /// <summary>A <c>sorry_server</c>.</summary>
    SorryServer,
}

/// <summary>Added, removed or changed.</summary>
public enum ReloadChangeKind
{
    /// <summary>In the new configuration only.</summary>
    Added,

    /// <summary>In the running configuration only.</summary>
    Removed,

    /// <summary>In both, with differences.</summary>
    Changed,
}
