using Lb.Checkers.Ipvs;
using Lb.Checkers.Options;

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

    public VirtualServerOptions Options { get; }
    public IReadOnlyList<IpvsService> Services { get; }
    public string Name { get; }
    public List<RsState> RealServers { get; } = new();
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
                sum += Math.Max(0, rs.EffectiveWeight);
        }
        return sum;
    }

    public bool SorryActive => Sorry is { Alive: true };
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

    public VsState Vs { get; }
    public RealServerOptions Options { get; }
    public string Name { get; }
    public int EffectiveWeight { get; set; }
    public bool Alive { get; set; }
    public bool Set { get; set; }
    public bool Inhibit { get; }
    public int NumFailedCheckers { get; set; }
    public List<CheckerState> Checkers { get; } = new();
    public string LastReason { get; set; } = "";

    public IpvsDestination Destination(int weight) => new()
    {
        Address = Options.Address,
        Port = Options.Port ?? Vs.Options.Port ?? 0,
        Weight = weight,
        ForwardingMethod = Options.ForwardingMethod ?? Vs.Options.ForwardingMethod,
        Tunnel = Options.Tunnel ?? Vs.Options.Tunnel,
        UpperThreshold = Options.UpperThreshold,
        LowerThreshold = Options.LowerThreshold,
    };
}

/// <summary>Runtime state of a sorry server.</summary>
internal sealed class SorryState
{
    public SorryState(VsState vs, SorryServerOptions options)
    {
        Options = options;
        Name = Format.SorryServer(vs.Options, options);
        Inhibit = vs.Options.SorryServerInhibit;
        Destination = new IpvsDestination
        {
            Address = options.Address,
            Port = options.Port ?? vs.Options.Port ?? 0,
            Weight = options.Weight,
            ForwardingMethod = options.ForwardingMethod ?? vs.Options.ForwardingMethod,
            Tunnel = options.Tunnel ?? vs.Options.Tunnel,
        };
    }

    public SorryServerOptions Options { get; }
    public string Name { get; }
    public bool Inhibit { get; }
    public bool Alive { get; set; }
    public bool Set { get; set; }
    public IpvsDestination Destination { get; }
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

    public RsState Rs { get; }
    public CheckerOptions Options { get; }
    public EffectiveSettings Settings { get; }
    public int Index { get; }
    public bool IsUp { get; set; }
    public bool HasRun { get; set; }
    public int RetryIt { get; set; }
    public string LastReason { get; set; } = "not run yet";
    public DateTimeOffset? LastCheck { get; set; }
    public long Rounds { get; set; }

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
