using System.Collections.Concurrent;
using Lb.Vrrp.Host;

namespace Lb.Metrics;

/// <summary>Counts per VRRP instance what the status report does not: how often it became MASTER.</summary>
public sealed class VrrpStatistics
{
    private readonly ConcurrentDictionary<string, long> _becameMaster = new(StringComparer.Ordinal);

    public void OnStateChanged(VrrpStateChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.Kind == VrrpEntityKind.Instance && change.NewState == VrrpState.Master && change.OldState != VrrpState.Master)
            _becameMaster.AddOrUpdate(change.Name, 1, (_, n) => n + 1);
    }

    /// <summary>Transitions into MASTER of <paramref name="instance"/> since start.</summary>
    public long MasterTransitions(string instance) => _becameMaster.TryGetValue(instance, out var n) ? n : 0;
}
