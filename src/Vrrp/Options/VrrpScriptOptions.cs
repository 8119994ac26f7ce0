using Lb.Netlink.Collections;
namespace Lb.Vrrp.Options;

/// <summary>A <c>vrrp_script</c> block.</summary>
public sealed record VrrpScriptOptions
{
    /// <summary>Name (<c>vrrp_script &lt;SCRIPT_NAME&gt;</c>).</summary>
    public required string Name { get; init; }

    /// <summary><c>script</c>: argv, already split (see <see cref="Lb.Scripts.ScriptCommandLine.Split"/>); run directly, never through a shell.</summary>
    public required ValueList<string> Command { get; init; }

    /// <summary><c>interval</c> (default 1 s).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>timeout</c> (null, the default: the interval).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary><c>weight</c> (-253..253, default 0: failing = FAULT).</summary>
    public int Weight { get; init; }

    /// <summary><c>weight … reverse</c>.</summary>
    public bool WeightReverse { get; init; }

    /// <summary><c>rise</c> (default 1).</summary>
    public int Rise { get; init; } = 1;

    /// <summary><c>fall</c> (default 1).</summary>
    public int Fall { get; init; } = 1;

    /// <summary><c>user USERNAME</c> (null: <c>script_user</c>).</summary>
    public string? User { get; init; }

    /// <summary><c>user USERNAME GROUPNAME</c>.</summary>
    public string? Group { get; init; }

    /// <summary><c>init_fail</c>: start in the failed state.</summary>
    public bool InitFail { get; init; }

    /// <summary>The timeout in force.</summary>
    public TimeSpan EffectiveTimeout => Timeout ?? Interval;
}

/// <summary>A <c>track_file</c> (<c>vrrp_track_file</c>) block.</summary>
public sealed record VrrpTrackFileOptions
{
    /// <summary>Name.</summary>
    public required string Name { get; init; }

    /// <summary><c>file</c>.</summary>
    public required string Path { get; init; }

    /// <summary><c>weight</c> (default 1).</summary>
    public int Weight { get; init; } = 1;

    /// <summary><c>weight … reverse</c>.</summary>
    public bool WeightReverse { get; init; }

    /// <summary><c>init_file [VALUE]</c>: value written at startup when the file does not exist (null: no init_file).</summary>
    public long? InitFileValue { get; init; }

    /// <summary><c>init_file … overwrite</c>.</summary>
    public bool InitFileOverwrite { get; init; }
}

/// <summary><c>param_match</c> of a <c>vrrp_track_process</c>.</summary>
public enum ProcessParamMatch
{
    /// <summary>Parameters not matched.</summary>
    None,

    /// <summary>Exact parameter match.</summary>
    Exact,

    /// <summary><c>partial</c>: the first n parameters match.</summary>
    Partial,

    /// <summary><c>initial</c>: like partial, the last may be longer.</summary>
    Initial,
}

/// <summary>A <c>vrrp_track_process</c> block.</summary>
public sealed record VrrpTrackProcessOptions
{
    /// <summary>Name.</summary>
    public required string Name { get; init; }

    /// <summary><c>process</c>: name or path.</summary>
    public required string Process { get; init; }

    /// <summary>Parameters following the process name.</summary>
    public ValueList<string> Parameters { get; init; } = [];

    /// <summary><c>param_match</c>.</summary>
    public ProcessParamMatch ParamMatch { get; init; }

    /// <summary><c>weight</c> (default 0 since 2.2.x documentation fix).</summary>
    public int Weight { get; init; }

    /// <summary><c>weight … reverse</c>.</summary>
    public bool WeightReverse { get; init; }

    /// <summary><c>quorum</c> (default 1).</summary>
    public int Quorum { get; init; } = 1;

    /// <summary><c>quorum_max</c> (default unlimited).</summary>
    public int QuorumMax { get; init; } = int.MaxValue;

    /// <summary><c>fork_delay</c>.</summary>
    public TimeSpan ForkDelay { get; init; }

    /// <summary><c>terminate_delay</c>.</summary>
    public TimeSpan TerminateDelay { get; init; }

    /// <summary><c>full_command</c>: match the full command line rather than the process name.</summary>
    public bool FullCommand { get; init; }
}
