using Lb.Vrrp.Options;

namespace Lb.Vrrp.SplitBrain;

/// <summary>Which split-brain probe interval an instance uses.</summary>
public static class SplitBrainProbeInterval
{
    /// <summary>The instance's <c>#lb: split_brain_probe</c>, else global_defs' (default 2 s); <see cref="TimeSpan.Zero"/>: off.</summary>
    public static TimeSpan Of(VrrpInstanceOptions instance, VrrpSubsystemOptions global)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(global);
        return instance.SplitBrainProbe ?? global.SplitBrainProbe;
    }
}
