using Lb.Checkers.Options;
using Lb.Netlink.Ipvs;

namespace Lb.Checkers.Engine;

/// <summary>Runtime state of one virtual server (keepalived's <c>virtual_server_t</c>).</summary>
internal sealed class VsState
{
    public VsState(VirtualServerOptions options, IReadOnlyList<IpvsService> services)
    {
        Options = options;
        Services = services;
        Name = Format.VirtualServer(options);
    }

    /// <summary>The running options; a reload replaces them.</summary>
    public VirtualServerOptions Options { get; set; }

    public IReadOnlyList<IpvsService> Services { get; set; }
    public string Name { get; }
    public List<RsState> RealServers { get; private set; } = new();
    public SorryState? Sorry { get; set; }
    public bool QuorumUp { get; set; }
    public bool Added { get; set; }

    /// <summary>ha_suspend: checkers paused because the virtual address is not local.</summary>
    public bool Suspended { get; set; }

    /// <summary>Sum of the effective weights of alive real servers (<c>weigh_live_realservers</c>).</summary>
    public long LiveWeight()
    {
        long sum = 0;
        foreach (var rs in RealServers)
        {
            if (rs.Alive)
                sum += rs.QuorumWeight;
        }
        return sum;
    }

    public bool SorryActive => Sorry is { Alive: true };

    /// <summary>The sorry server serves instead of the real servers (quorum lost): alive real servers are out of the pool.</summary>
    public bool SorryServing => Sorry is { Alive: true } && !QuorumUp;

    /// <summary>The weight <paramref name="rs"/> has in IPVS while it is there (0 when down, inhibited, or while the sorry server serves).</summary>
    public int WeightInIpvs(RsState rs) => rs.Alive && !SorryServing ? rs.PoolWeight : 0;

    /// <summary>
    /// A copy of this virtual server and everything below it (real, sorry servers, checkers) that shares no mutable state
    /// with it: the dry run of a reload (<see cref="CheckerEngine.Fork"/>) decides on the copy. Field by field
    /// (<see cref="object.MemberwiseClone"/>), so a field added later is copied too; only the links between objects are
    /// re-pointed.
    /// </summary>
    public VsState Fork()
    {
        var copy = (VsState)MemberwiseClone();
        copy.RealServers = RealServers.Select(rs => rs.Fork(copy)).ToList();
        copy.Sorry = Sorry?.Fork();
        return copy;
    }

    /// <summary>The destinations this virtual server has in each of its IPVS services right now.</summary>
    public List<IpvsDestination> CurrentDestinations()
    {
        var dests = new List<IpvsDestination>();
        foreach (var rs in RealServers)
        {
            if (rs.Set)
                dests.Add(rs.Destination(WeightInIpvs(rs)));
        }
        if (Sorry is { Set: true } sorry)
            dests.Add(sorry.Destination with { Weight = sorry.Alive ? sorry.Destination.Weight : 0 });
        return dests;
    }
}

/// <summary>Runtime state of one real server (keepalived's <c>real_server_t</c>).</summary>
internal sealed class RsState
{
    public RsState(VsState vs, RealServerOptions options)
    {
        Vs = vs;
        Options = options;
        Name = Format.RealServer(vs.Options, options);
        EffectiveWeight = options.Weight;
        Inhibit = options.InhibitOnFailure ?? vs.Options.InhibitOnFailure;
    }

    /// <summary>Its virtual server (a reload moves a new real server into the running one).</summary>
    public VsState Vs { get; set; }

    /// <summary>The running options; a reload replaces them.</summary>
    public RealServerOptions Options { get; set; }
    public string Name { get; }
    public int EffectiveWeight { get; set; }
    public bool Alive { get; set; }
    public bool Set { get; set; }
    public bool Inhibit { get; set; }
    public int NumFailedCheckers { get; set; }
    public List<CheckerState> Checkers { get; set; } = new();
    public string LastReason { get; set; } = "";

    /// <summary>The operator's override (<c>lb rs …</c>) and the slow-start ramp (Engine/CheckerEngine.Operator.cs).</summary>
    public OperatorState Operator { get; private set; } = new();

    /// <summary>The weight it has in the pool when fully up: the operator's weight, else the effective weight (quorum counts it).</summary>
    public int FullWeight => Math.Max(0, Operator.Weight ?? EffectiveWeight);

    /// <summary>What it adds to its virtual server's live weight while alive: its full weight (not the slow-start ramp), 0 while draining.</summary>
    public int QuorumWeight => Operator.Mode == OperatorMode.Draining ? 0 : FullWeight;

    /// <summary>The weight it has in IPVS while in the pool: 0 while draining, the slow-start ramp while ramping, else its full weight.</summary>
    public int PoolWeight => Operator.Mode == OperatorMode.Draining ? 0
        : Operator.RampWeight is int ramp ? Math.Min(ramp, FullWeight) : FullWeight;

    /// <summary>Its slow start: its own <c>#lb: slow_start</c>, else its virtual server's (null or zero duration: none).</summary>
    public SlowStartOptions? SlowStart => Options.SlowStart ?? Vs.Options.SlowStart;

    /// <summary>A copy under <paramref name="vs"/> (see <see cref="VsState.Fork"/>).</summary>
    public RsState Fork(VsState vs)
    {
        var copy = (RsState)MemberwiseClone();
        copy.Vs = vs;
        copy.Checkers = Checkers.Select(c => c.Fork(copy)).ToList();
        copy.Operator = Operator.Copy();
        return copy;
    }

    public IpvsDestination Destination(int weight) => IpvsMapping.Destination(
        Options.Address, Options.Port ?? Vs.Options.Port ?? 0, weight,
        Options.ForwardingMethod ?? Vs.Options.ForwardingMethod, Options.Tunnel ?? Vs.Options.Tunnel,
        Options.UpperThreshold, Options.LowerThreshold);
}

/// <summary>Runtime state of a sorry server.</summary>
internal sealed class SorryState
{
    public SorryState(VsState vs, SorryServerOptions options)
    {
        Options = options;
        Name = Format.SorryServer(vs.Options, options);
        Inhibit = vs.Options.SorryServerInhibit;
        Destination = IpvsMapping.Destination(
            options.Address, options.Port ?? vs.Options.Port ?? 0, options.Weight,
            options.ForwardingMethod ?? vs.Options.ForwardingMethod, options.Tunnel ?? vs.Options.Tunnel);
    }

    public SorryServerOptions Options { get; }
    public string Name { get; }
    public bool Inhibit { get; }
    public bool Alive { get; set; }
    public bool Set { get; set; }
    public IpvsDestination Destination { get; }

    /// <summary>A copy (see <see cref="VsState.Fork"/>).</summary>
    public SorryState Fork() => (SorryState)MemberwiseClone();
}

/// <summary>Runtime state of one checker (keepalived's <c>checker_t</c>).</summary>
internal sealed class CheckerState
{
    public CheckerState(RsState rs, CheckerOptions options, EffectiveSettings settings, int index)
    {
        Rs = rs;
        Options = options;
        Settings = settings;
        Index = index;
        IsUp = true;
        RetryIt = settings.Retry;
    }

    public RsState Rs { get; private set; }
    public CheckerOptions Options { get; }
    public EffectiveSettings Settings { get; }
    public int Index { get; }
    public bool IsUp { get; set; }
    public bool HasRun { get; set; }
    public int RetryIt { get; set; }

    /// <summary>What this checker adds to its real server's weight (keepalived's <c>cur_weight</c>; FILE_CHECK).</summary>
    public int CurWeight { get; set; }
    public string LastReason { get; set; } = "not run yet";
    public DateTimeOffset? LastCheck { get; set; }
    public long Rounds { get; set; }
    public long Failures { get; set; }

    /// <summary>How long the last round took (attempt, retries and delay_before_retry), measured by the subsystem's loop.</summary>
    public TimeSpan? LastDuration { get; set; }

    /// <summary>
    /// The checker's state as last published (<see cref="Publish"/>, under the subsystem's gate): an immutable record
    /// that status and metrics read without the gate.
    /// </summary>
    public CheckerStatus Status => Volatile.Read(ref _status) ?? Snapshot();

    private CheckerStatus? _status;

    /// <summary>Publishes the current state for readers (after each round and when a decision changed it).</summary>
    public void Publish() => Volatile.Write(ref _status, Snapshot());

    private CheckerStatus Snapshot() => new(Options.Keyword, IsUp, HasRun, LastCheck, LastReason)
    {
        Rounds = Rounds,
        Failures = Failures,
        LastDuration = LastDuration,
    };

    /// <summary>Set (under the subsystem's gate) when a reload removed or replaced this checker: a round still in
    /// flight is discarded, and its loop ends.</summary>
    public bool Retired { get; set; }

    /// <summary>Cancels this checker's loop (owned by the subsystem).</summary>
    public CancellationTokenSource? Stop { get; set; }

    /// <summary>A copy under <paramref name="rs"/> (see <see cref="VsState.Fork"/>); its loop (<see cref="Stop"/>) is not the copy's.</summary>
    public CheckerState Fork(RsState rs)
    {
        var copy = (CheckerState)MemberwiseClone();
        copy.Rs = rs;
        copy.Stop = null;
        return copy;
    }

    /// <summary>keepalived's TCP_CHECK keeps retrying while down; HTTP_GET, SSL_GET and MISC_CHECK do not.</summary>
    public bool RetriesWhileDown => Options is TcpCheckOptions;

    /// <summary>How many retries the next round may make (keepalived's <c>retry - retry_it</c>).</summary>
    public int RetriesForNextRound()
    {
        if (!HasRun)
            return Math.Max(0, Settings.Retry - RetryIt);
        if (!IsUp && !RetriesWhileDown)
            return 0;
        return Settings.Retry;
    }
}

/// <summary>A virtual server's state as decided by one change set (immutable; its checkers are read through their published status).</summary>
internal sealed record VirtualServerView(string Name, bool QuorumUp, long LiveWeight, string? SorryServer, bool SorryServerActive, IReadOnlyList<RealServerView> RealServers);

/// <summary>A real server's state as decided by one change set.</summary>
internal sealed record RealServerView(string Name, bool Alive, bool InIpvs, int Weight, string LastReason, IReadOnlyList<CheckerState> Checkers)
{
    /// <summary>The operator's override in words (<c>disabled</c>, <c>draining (3 active, deadline …)</c>, <c>weight 5</c>); null: none.</summary>
    public string? Operator { get; init; }

    /// <summary>The slow-start ramp in words (<c>weight 4 of 10</c>); null: not ramping.</summary>
    public string? SlowStart { get; init; }
}
