namespace Lb.Control;

/// <summary>The control socket's settings from keepalived.conf (Lb extensions in global_defs).</summary>
public sealed record ControlOptions
{
    /// <summary><c>#lb: control_group NAME</c>: members of this group may use the status and control socket besides root and
    /// the daemon's uid. Null: nobody else.</summary>
    public string? Group { get; init; }
}
