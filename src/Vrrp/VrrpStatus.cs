using System.Net;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;

namespace Lb.Vrrp;

/// <summary>One instance, for <c>lb status</c>.</summary>
public sealed record VrrpInstanceStatus
{
    /// <summary>Instance name.</summary>
    public required string Name { get; init; }

    /// <summary>Current state.</summary>
    public required VrrpState State { get; init; }

    /// <summary>Configured priority.</summary>
    public required int BasePriority { get; init; }

    /// <summary>Priority after tracking weights.</summary>
    public required int EffectivePriority { get; init; }

    /// <summary>The master's address as last seen (ours when MASTER).</summary>
    public IPAddress? MasterAddress { get; init; }

    /// <summary>Our advert source address.</summary>
    public IPAddress? SourceAddress { get; init; }

    /// <summary>Interface.</summary>
    public string? Interface { get; init; }

    /// <summary>VRID.</summary>
    public required int VirtualRouterId { get; init; }

    /// <summary>VRRP version in use.</summary>
    public required int Version { get; init; }

    /// <summary>VIPs and excluded VIPs.</summary>
    public required IReadOnlyList<VirtualAddress> VirtualAddresses { get; init; }

    /// <summary>True while the VIPs are installed.</summary>
    public bool VipsSet { get; init; }

    /// <summary>Time of the last state change.</summary>
    public DateTimeOffset? LastTransition { get; init; }

    /// <summary>Why the last state change happened.</summary>
    public string LastReason { get; init; } = "";

    /// <summary>Valid adverts received.</summary>
    public long AdvertsReceived { get; init; }

    /// <summary>Adverts sent.</summary>
    public long AdvertsSent { get; init; }

    /// <summary>Valid adverts of a lower priority than ours received (each counted; their log lines are rate-limited).</summary>
    public long LowerPriorityReceived { get; init; }

    /// <summary>Dropped adverts by reason.</summary>
    public required IReadOnlyDictionary<VrrpDropReason, long> Drops { get; init; }

    /// <summary>The sync group, if any.</summary>
    public string? SyncGroup { get; init; }

    /// <summary>Split-brain episodes detected (another MAC answered a probe for one of our VIPs while we were MASTER), since the daemon started.</summary>
    public long SplitBrainDetected { get; init; }

    /// <summary>The current split brain, while one is detected (the last answer is recent: within three probe intervals); null otherwise.</summary>
    public VrrpSplitBrain? SplitBrain { get; init; }

    /// <summary>When another MAC last answered for one of our VIPs (this MASTER term or an earlier one), if ever.</summary>
    public DateTimeOffset? SplitBrainLastSeen { get; init; }

    /// <summary>
    /// The operator's hold (<c>lb vrrp</c>), null when none: "maintenance" (never MASTER), "maintenance (sync group G)" (held
    /// BACKUP because another member of G is in maintenance) or "failover" (handed MASTER over; stays BACKUP while a master is heard).
    /// </summary>
    public string? Operator { get; init; }
}

/// <summary>One sync group, for <c>lb status</c>.</summary>
/// <param name="Name">Group name.</param>
/// <param name="State">Group state.</param>
/// <param name="Members">Member instance names.</param>
public sealed record VrrpSyncGroupStatus(string Name, VrrpState State, IReadOnlyList<string> Members);

/// <summary>The whole subsystem.</summary>
/// <param name="Instances">Instances, in configuration order.</param>
/// <param name="SyncGroups">Sync groups.</param>
/// <param name="UnattributedDrops">Drops not attributable to an instance (unknown VRID, unparsable packets), by reason.</param>
public sealed record VrrpStatus(IReadOnlyList<VrrpInstanceStatus> Instances, IReadOnlyList<VrrpSyncGroupStatus> SyncGroups, IReadOnlyDictionary<VrrpDropReason, long> UnattributedDrops)
{
    /// <summary>Frames the split-brain probe socket refused as malformed (truncated, bad lengths or checksum), by reason.</summary>
    public IReadOnlyDictionary<ProbeFrameDrop, long> ProbeDrops { get; init; } = new Dictionary<ProbeFrameDrop, long>();
}

/// <summary>The outcome of an operator action (<c>lb vrrp maintenance</c>, <c>lb vrrp failover</c>).</summary>
/// <param name="Done">False when refused (<paramref name="Text"/> says why).</param>
/// <param name="Text">What was done, e.g. "maintenance on: was MASTER, sent priority 0, now BACKUP" (without the instance name).</param>
/// <param name="OldMode">The operator mode before: "normal", "maintenance" or "failover".</param>
/// <param name="NewMode">The operator mode after.</param>
public sealed record VrrpOperatorResult(bool Done, string Text, string OldMode, string NewMode);
