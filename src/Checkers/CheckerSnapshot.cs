namespace Lb.Checkers;

/// <summary>
/// The state of every virtual server, for <c>lb status</c> and metrics: as published after the last applied change set
/// (virtual and real servers) and after each checker's last round (checkers). Reading it never waits for the subsystem.
/// </summary>
public sealed record CheckerSnapshot(DateTimeOffset Time, IReadOnlyList<VirtualServerStatus> VirtualServers)
{
    /// <summary>Change sets applied since start (each: journal batch, IPVS batch, scripts).</summary>
    public long ChangeSetsApplied { get; init; }

    /// <summary>IPVS operations sent to the kernel (including the reconcile's) since start.</summary>
    public long IpvsOperations { get; init; }

    /// <summary>IPVS operations the kernel refused, or that could not be sent.</summary>
    public long IpvsErrors { get; init; }

    /// <summary>Checker rounds completed since start, all checkers.</summary>
    public long Rounds => VirtualServers.Sum(v => v.RealServers.Sum(r => r.Checkers.Sum(c => c.Rounds)));
}

/// <summary>One virtual server's state.</summary>
/// <param name="Name">keepalived's text (<c>[10.0.0.100]:tcp:80</c>).</param>
/// <param name="QuorumUp">Whether the live weight meets the quorum.</param>
/// <param name="LiveWeight">Sum of the weights of live real servers.</param>
/// <param name="SorryServer">The sorry server's text, if configured.</param>
/// <param name="SorryServerActive">Whether the sorry server is serving (quorum lost).</param>
/// <param name="RealServers">The real servers.</param>
public sealed record VirtualServerStatus(string Name, bool QuorumUp, long LiveWeight, string? SorryServer, bool SorryServerActive, IReadOnlyList<RealServerStatus> RealServers);

/// <summary>One real server's state.</summary>
/// <param name="Name">keepalived's text (<c>[10.0.0.2]:tcp:80</c>).</param>
/// <param name="Alive">Up (in the pool).</param>
/// <param name="InIpvs">Present in the IPVS table (alive, or inhibited with weight 0).</param>
/// <param name="Weight">Effective weight (misc_dynamic may change it).</param>
/// <param name="LastReason">Reason of the last state change.</param>
/// <param name="Checkers">Its checkers.</param>
public sealed record RealServerStatus(string Name, bool Alive, bool InIpvs, int Weight, string LastReason, IReadOnlyList<CheckerStatus> Checkers)
{
    /// <summary>The operator's override (<c>lb rs</c>) in words: <c>disabled</c>, <c>draining (3 active, deadline 12:00:30)</c>, <c>weight 5</c>; null: none.</summary>
    public string? Operator { get; init; }

    /// <summary>The slow-start ramp in words (<c>weight 4 of 10</c>); null: not ramping.</summary>
    public string? SlowStart { get; init; }
}

/// <summary>One checker's state.</summary>
/// <param name="Kind">The keepalived keyword (<c>HTTP_GET</c>).</param>
/// <param name="Up">The checker's own verdict.</param>
/// <param name="HasRun">Whether it completed a round.</param>
/// <param name="LastCheck">When the last round ended.</param>
/// <param name="LastResult">The last round's reason.</param>
public sealed record CheckerStatus(string Kind, bool Up, bool HasRun, DateTimeOffset? LastCheck, string LastResult)
{
    /// <summary>Rounds completed.</summary>
    public long Rounds { get; init; }

    /// <summary>Rounds that failed.</summary>
    public long Failures { get; init; }

    /// <summary>Measured duration of the last round (attempt, retries, delay_before_retry); null before the first.</summary>
    public TimeSpan? LastDuration { get; init; }
}

/// <summary>Raised after every checker round (diagnostics, tests, metrics).</summary>
/// <param name="VirtualServer">The virtual server's text.</param>
/// <param name="RealServer">The real server's text.</param>
/// <param name="Kind">Checker keyword.</param>
/// <param name="Index">Index of the checker in its real server.</param>
/// <param name="Success">Round result.</param>
/// <param name="Reason">Round reason.</param>
/// <param name="Retries">Retries made in the round.</param>
public sealed record CheckCompletedEvent(string VirtualServer, string RealServer, string Kind, int Index, bool Success, string Reason, int Retries)
{
    /// <summary>How long the round took, measured (attempt, retries and delay_before_retry).</summary>
    public TimeSpan Duration { get; init; }
}

/// <summary>One IPVS service of the desired table with its destinations.</summary>
/// <param name="Service">The service.</param>
/// <param name="Destinations">Its destinations with their weights.</param>
public sealed record DesiredService(Lb.Netlink.Ipvs.IpvsService Service, IReadOnlyList<Lb.Netlink.Ipvs.IpvsDestination> Destinations);
