namespace Lb.Vrrp.Reload;

/// <summary>How a reload changed one object.</summary>
public enum VrrpReloadAction
{
    /// <summary>New in the configuration: created and started as at start-up.</summary>
    Added,

    /// <summary>Gone from the configuration: stopped as at shutdown.</summary>
    Removed,

    /// <summary>Changed in a way applied in place: state, timers, sockets and VIPs kept.</summary>
    ChangedInPlace,

    /// <summary>Changed in a way that needs a restart of this object only: stopped as removed, started as added.</summary>
    Restarted,
}

/// <summary>What a reloaded object is.</summary>
public enum VrrpReloadObject
{
    /// <summary>A <c>vrrp_instance</c>.</summary>
    Instance,

    /// <summary>A <c>vrrp_sync_group</c>.</summary>
    SyncGroup,

    /// <summary>A <c>vrrp_script</c>.</summary>
    Script,

    /// <summary>A <c>track_file</c>.</summary>
    TrackFile,

    /// <summary>A <c>vrrp_track_process</c>.</summary>
    TrackProcess,

    /// <summary>A <c>global_defs</c> setting.</summary>
    Global,
}

/// <summary>One change a reload applied (also journalled through <see cref="Host.IVrrpEventSink.OnReloadApplied"/>).</summary>
/// <param name="At">When it was applied.</param>
/// <param name="Object">What kind of object.</param>
/// <param name="Name">Its name (for <see cref="VrrpReloadObject.Global"/>, the option name).</param>
/// <param name="Action">Added, removed, changed in place or restarted.</param>
/// <param name="Fields">The options that differ (changed objects), e.g. <c>Priority</c>, <c>VirtualIpAddresses</c>.</param>
public sealed record VrrpReloadChange(DateTimeOffset At, VrrpReloadObject Object, string Name, VrrpReloadAction Action, IReadOnlyList<string> Fields)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Object} {Name} {Action}" + (Fields.Count > 0 ? $" ({string.Join(", ", Fields)})" : "");
}

/// <summary>The outcome of <see cref="VrrpSubsystem.ReloadAsync"/>.</summary>
public sealed record VrrpReloadResult
{
    /// <summary>Every change applied, in the order applied.</summary>
    public IReadOnlyList<VrrpReloadChange> Changes { get; init; } = [];

    /// <summary>
    /// The plan the reload executed, one line per change (<c>vrrp: instance VI_1: virtual_ipaddress + 10.0.0.101/32 dev
    /// eth0</c>): the same lines <see cref="VrrpSubsystem.PlanReloadAsync"/> printed before it; empty when nothing changed.
    /// </summary>
    public IReadOnlyList<string> Lines { get; init; } = [];

    /// <summary>Instances left exactly as they were.</summary>
    public IReadOnlyList<string> Kept { get; init; } = [];

    /// <summary>Warnings logged (global settings that need a restart to take effect).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Instances added.</summary>
    public IReadOnlyList<string> Added => Names(VrrpReloadObject.Instance, VrrpReloadAction.Added);

    /// <summary>Instances removed.</summary>
    public IReadOnlyList<string> Removed => Names(VrrpReloadObject.Instance, VrrpReloadAction.Removed);

    /// <summary>Instances changed in place (soft changes).</summary>
    public IReadOnlyList<string> ChangedSoft => Names(VrrpReloadObject.Instance, VrrpReloadAction.ChangedInPlace);

    /// <summary>Instances restarted (hard changes).</summary>
    public IReadOnlyList<string> ChangedHard => Names(VrrpReloadObject.Instance, VrrpReloadAction.Restarted);

    /// <summary>True when the reload found nothing to do.</summary>
    public bool NothingChanged => Changes.Count == 0;

    private string[] Names(VrrpReloadObject o, VrrpReloadAction a) => Changes.Where(c => c.Object == o && c.Action == a).Select(c => c.Name).ToArray();
}
