using Xunit;

namespace Lb.TestSupport;

/// <summary>A fact that needs root (network namespaces, raw sockets). Skips outside CI when not root.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute(params string[] commands)
    {
        if (Prerequisites.IsCi)
            return;
        if (!Prerequisites.IsRoot)
        {
            Skip = "needs root (network namespaces); runs under CI=true";
            return;
        }
        foreach (var c in commands)
        {
            if (!Prerequisites.HasCommand(c))
            {
                Skip = $"needs the command '{c}' (run scripts/setup.sh); runs under CI=true";
                return;
            }
        }
    }
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
    public RootTheoryAttribute(params string[] commands)
    {
        if (Prerequisites.IsCi)
            return;
        if (!Prerequisites.IsRoot)
        {
            Skip = "needs root (network namespaces); runs under CI=true";
            return;
        }
        foreach (var c in commands)
        {
            if (!Prerequisites.HasCommand(c))
            {
                Skip = $"needs the command '{c}' (run scripts/setup.sh); runs under CI=true";
                return;
            }
        }
    }
}
