namespace Lb.Checkers.Engine;

/// <summary>What the operator holds a real server in (<c>lb rs disable|drain</c>); <see cref="None"/>: its checks decide.</summary>
internal enum OperatorMode
{
    None,
    Disabled,
    Draining,
}

/// <summary>A real server's operator override and slow-start ramp (mutated under the subsystem's gate only).</summary>
internal sealed class OperatorState
{
    public OperatorMode Mode { get; set; }

    /// <summary><c>lb rs weight</c>: used instead of the configured (and misc_dynamic) weight until <c>enable</c>.</summary>
    public int? Weight { get; set; }

    /// <summary>While draining: when the server is removed whatever its connections.</summary>
    public DateTimeOffset? Deadline { get; set; }

    /// <summary>While draining: the active connections last read from the kernel.</summary>
    public long? Active { get; set; }

    /// <summary>Who set the override (<c>root (uid 0, pid 1234)</c>) and when.</summary>
    public string? By { get; set; }

    public DateTimeOffset? Since { get; set; }

    /// <summary>The slow-start ramp's current weight; null: not ramping.</summary>
    public int? RampWeight { get; set; }

    public DateTimeOffset RampStart { get; set; }

    public TimeSpan RampDuration { get; set; }

    /// <summary>Whether there is anything to persist (a mode or a weight).</summary>
    public bool IsSet => Mode != OperatorMode.None || Weight is not null;

    /// <summary>The journal's form of the state: <c>enabled</c>, <c>weight 5</c>, <c>disabled</c>, <c>draining</c>.</summary>
    public string StateText => Mode switch
    {
        OperatorMode.Disabled => "disabled",
        OperatorMode.Draining => "draining",
        _ => Weight is int w ? $"weight {w}" : "enabled",
    };

    /// <summary>A copy sharing nothing with this one (a reload's dry run decides on copies: <see cref="RsState.Fork"/>).</summary>
    public OperatorState Copy() => (OperatorState)MemberwiseClone();

    public void Clear()
    {
        Mode = OperatorMode.None;
        Weight = null;
        Deadline = null;
        Active = null;
        By = null;
        Since = null;
    }
}
