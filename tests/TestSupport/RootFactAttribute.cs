using Xunit;

namespace Lb.TestSupport;

/// <summary>A fact that needs root (network namespaces, raw sockets). Skips outside CI when not root.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute(params string[] commands) => Skip = Prerequisites.RootSkipReason(commands);
}

/// <summary>A fact that needs a kernel with IPVS: it runs inside the tests/kernel VM harness, which sets LB_KERNEL_VM=1.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class KernelFactAttribute : FactAttribute
{
    public KernelFactAttribute()
    {
        if (!Prerequisites.InKernelVm)
            Skip = "needs a kernel with IPVS: runs inside the VM harness (tests/kernel/run.sh), which the README's test command starts";
    }
}

/// <summary>A theory that needs root (and optionally commands). Skips outside CI when missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute(params string[] commands) => Skip = Prerequisites.RootSkipReason(commands);
}
