using Lb.Checkers.Options;
using Lb.Vrrp.Options;

namespace Lb.Config.Mapping;

/// <summary>What each subsystem gets from keepalived.conf: its own options records (subsystems never read the file).</summary>
public sealed record SubsystemOptions(VrrpSubsystemOptions Vrrp, CheckerSubsystemOptions Checkers, IReadOnlyList<Diagnostic> Diagnostics);

public static class ConfigMapper
{
    public static SubsystemOptions Map(LoadedConfig config, string? journalPath = null)
    {
        var bag = new DiagnosticBag();
        var values = new NodeValues(bag);
        var vrrp = VrrpOptionsMapper.Map(config.Nodes, values);
        var checkers = CheckerOptionsMapper.Map(config.Nodes, values, journalPath);
        return new SubsystemOptions(vrrp, checkers, bag.ToImmutable());
    }
}
