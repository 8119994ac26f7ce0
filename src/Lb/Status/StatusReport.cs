using System.Text.Json.Serialization;

namespace Lb.Status;

/// <summary>
/// What <c>lb status --json</c>, the SIGUSR1/SIGUSR2 dumps and the JSON dump show: the daemon, its VRRP instances and its
/// virtual servers, in Lb's own layout (names in keepalived's text, states in keepalived's upper case).
/// </summary>
public sealed record StatusReport
{
    public required DaemonInfo Daemon { get; init; }

    public required IReadOnlyList<VrrpInstanceReport> VrrpInstances { get; init; }

    public required IReadOnlyList<SyncGroupReport> SyncGroups { get; init; }

    /// <summary>Dropped adverts that no instance could be blamed for (unknown VRID, unparsable), by reason.</summary>
    public required IReadOnlyDictionary<string, long> UnattributedDrops { get; init; }

    /// <summary>Frames the split-brain probe refused as malformed (truncated, bad lengths or checksum), by reason.</summary>
    public IReadOnlyDictionary<string, long> SplitBrainProbeDrops { get; init; } = new Dictionary<string, long>();

    public required IReadOnlyList<VirtualServerReport> VirtualServers { get; init; }

    public required IpvsReport Ipvs { get; init; }

    /// <summary>How the checkers are paced (null without checkers): delay_loop stretched while the process cannot keep up.</summary>
    public CheckerPacingReport? CheckerPacing { get; init; }

    /// <summary>The announced VIPs (<c>#lb: announce</c>); null when the announcer does not run (no checkers).</summary>
    public AnnounceReport? Announce { get; init; }
}

/// <summary>The announcer's state: the routing table of its routes, the node's announce maintenance, each VIP.</summary>
public sealed record AnnounceReport(uint Table, bool Maintenance, IReadOnlyList<AnnouncedVipReport> Vips);

/// <summary>One announced VIP.</summary>
/// <param name="Vip">The address.</param>
/// <param name="State"><c>announced</c> or <c>withdrawn</c>.</param>
/// <param name="Reason">Why: <c>quorum up</c>, <c>quorum down: 10.0.0.100:80</c>, <c>maintenance</c>, <c>stopping</c>.</param>
/// <param name="Since">When it entered the state.</param>
/// <param name="VirtualServers">The virtual servers announcing it.</param>
/// <param name="RouteInstalled">Whether Lb's route for it is in the kernel.</param>
/// <param name="TransitionsToAnnounced">Transitions to announced since start.</param>
/// <param name="TransitionsToWithdrawn">Transitions to withdrawn since start.</param>
/// <param name="LastError">The last kernel error for it; null when none.</param>
public sealed record AnnouncedVipReport(
    string Vip, string State, string Reason, DateTimeOffset Since, IReadOnlyList<string> VirtualServers, bool RouteInstalled,
    long TransitionsToAnnounced, long TransitionsToWithdrawn, string? LastError);

/// <summary>
/// The checker pacer's state: <paramref name="Stretch"/> is the multiple applied to every delay_loop (1: checking as
/// configured); above 1 the checkers are degraded — they check less often because the process is behind.
/// </summary>
public sealed record CheckerPacingReport(
    double Stretch, bool Degraded, double LagMilliseconds, double MinLagMilliseconds, long LateRounds, long BehindWindows, long StretchedRounds,
    long TimeoutsNotCounted, int InFlight, int Waiting)
{
    /// <summary>The report of a pacer snapshot.</summary>
    public static CheckerPacingReport From(Lb.Checkers.Engine.CheckPacerSnapshot p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new CheckerPacingReport(p.Stretch, p.Degraded, p.LagMilliseconds, p.MinLagMilliseconds, p.LateRounds, p.BehindWindows, p.StretchedRounds,
            p.IgnoredTimeouts, p.InFlight, p.Waiting);
    }
}

public sealed record DaemonInfo(
    int Pid, string Version, DateTimeOffset Started, DateTimeOffset Now, string ConfigFile, string? Namespace, bool VrrpRunning, bool CheckersRunning);

public sealed record VrrpInstanceReport
{
    public required string Name { get; init; }

    /// <summary>INIT, BACKUP, MASTER, FAULT or STOP.</summary>
    public required string State { get; init; }

    public required int BasePriority { get; init; }

    public required int EffectivePriority { get; init; }

    public string? MasterAddress { get; init; }

    public string? SourceAddress { get; init; }

    public string? Interface { get; init; }

    public required int VirtualRouterId { get; init; }

    public required int Version { get; init; }

    /// <summary>VIPs as <c>address/prefix</c>.</summary>
    public required IReadOnlyList<string> VirtualAddresses { get; init; }

    public required bool VipsSet { get; init; }

    public DateTimeOffset? LastTransition { get; init; }

    public required string LastReason { get; init; }

    /// <summary>State changes seen by this daemon since it started.</summary>
    public required long Transitions { get; init; }

    public required long AdvertsSent { get; init; }

    public required long AdvertsReceived { get; init; }

    public required IReadOnlyDictionary<string, long> AdvertsDropped { get; init; }

    public string? SyncGroup { get; init; }

    /// <summary>Split-brain episodes detected since the daemon started (another MAC answered for one of our VIPs while MASTER).</summary>
    public long SplitBrainDetected { get; init; }

    /// <summary>The current split brain, while detected: "VIP on IFACE answered by MAC"; null otherwise.</summary>
    public string? SplitBrain { get; init; }

    /// <summary>The operator's hold (<c>lb vrrp maintenance|failover</c>): "maintenance", "maintenance (sync group G)", "failover"; null when none.</summary>
    public string? Operator { get; init; }
}

public sealed record SyncGroupReport(string Name, string State, IReadOnlyList<string> Members);

public sealed record VirtualServerReport
{
    public required string Name { get; init; }

    public required bool QuorumUp { get; init; }

    public required long LiveWeight { get; init; }

    public string? SorryServer { get; init; }

    public required bool SorryServerActive { get; init; }

    public required IReadOnlyList<RealServerReport> RealServers { get; init; }
}

public sealed record RealServerReport
{
    public required string Name { get; init; }

    public required bool Up { get; init; }

    public required bool InIpvs { get; init; }

    public required int Weight { get; init; }

    public required string LastReason { get; init; }

    /// <summary>The operator's override (<c>lb rs</c>): <c>disabled</c>, <c>draining (3 active, deadline 12:00:30)</c>, <c>weight 5</c>; null: none.</summary>
    public string? Operator { get; init; }

    /// <summary>The slow-start ramp (<c>weight 4 of 10</c>); null: not ramping.</summary>
    public string? SlowStart { get; init; }

    public required IReadOnlyList<CheckerReport> Checkers { get; init; }
}

public sealed record CheckerReport(string Kind, bool Up, bool HasRun, DateTimeOffset? LastCheck, string LastResult, long Rounds, long Failures);

public sealed record IpvsReport(long Operations, long Errors);

/// <summary>The answer to one status-socket request.</summary>
public sealed record StatusResponse(bool Ok, string? Error, StatusReport? Status);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(StatusReport))]
[JsonSerializable(typeof(StatusResponse))]
public sealed partial class StatusJsonContext : JsonSerializerContext;
