using System.Collections.Immutable;
using Lb.Checkers.Options;
using Lb.Vrrp.Options;

namespace Lb.Config.Mapping;

/// <summary>
/// What each subsystem gets from keepalived.conf: its own options records (subsystems never read the file).
/// <see cref="Diagnostics"/> are the mappers' own findings; they are also part of <see cref="LoadedConfig.Diagnostics"/>.
/// </summary>
public sealed record SubsystemOptions(VrrpSubsystemOptions Vrrp, CheckerSubsystemOptions Checkers, IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary>The host's notify FIFOs and alert mail (both subsystems' events go there).</summary>
    public Lb.Alerts.AlertOptions Alerts { get; init; } = new();
    /// <summary>The kernel's connection-sync daemons and IPVS timeouts, applied by the host (<see cref="Hosting.LvsSyncController"/>).</summary>
    public Hosting.LvsSyncOptions LvsSync { get; init; } = new();
    /// <summary>Who besides root and the daemon's uid may use the control socket (<c>#lb: control_group</c>).</summary>
    public Lb.Control.ControlOptions Control { get; init; } = new();
    /// <summary>The VIPs announced by a host route while healthy (<c>#lb: announce</c>), applied by the host (<see cref="Lb.Announce.Announcer"/>).</summary>
    public Lb.Announce.AnnounceOptions Announce { get; init; } = new();
}

/// <summary>The last stage of <see cref="ConfigLoader"/>: the effective tree onto the subsystems' options records.</summary>
public static class ConfigMapper
{
    /// <summary>Maps <paramref name="nodes"/>; every problem found is added to <paramref name="diagnostics"/> and to the result's own list.</summary>
    public static SubsystemOptions Map(ImmutableArray<ConfigNode> nodes, DiagnosticBag diagnostics, string? journalPath = null)
    {
        var bag = new DiagnosticBag();
        var values = new NodeValues(bag);
        var vrrp = VrrpOptionsMapper.Map(nodes, values);
        var checkers = CheckerOptionsMapper.Map(nodes, values, journalPath);
        var alerts = AlertOptionsMapper.Map(nodes, values);
        var lvsSync = LvsSyncOptionsMapper.Map(nodes, values, vrrp);
        var announce = AnnounceOptionsMapper.Map(nodes, values, checkers);
        var control = new Lb.Control.ControlOptions { Group = values.Word(KeywordReads.LastOrEmpty(nodes, "global_defs"), "lb:control_group") };
        var found = bag.ToImmutable();
        foreach (var d in found)
            diagnostics.Add(d.Severity, d.Location, d.Message);
        return new SubsystemOptions(vrrp, checkers, found) { Alerts = alerts, LvsSync = lvsSync, Control = control, Announce = announce };
    }
}
