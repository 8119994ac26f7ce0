using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Lb.TestSupport;

// The attributes every environment-dependent test uses (tests/README.md). Each either runs the test
// or skips it with a reason; under CI=true a missing prerequisite never skips (the test runs and
// fails). No test checks its environment itself and returns early.

/// <summary>A fact that needs root (network namespaces, raw sockets). Skips outside CI when not root.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute(params string[] commands) => Skip = Prerequisites.RootSkipReason(commands);
}

/// <summary>A theory that needs root (and optionally commands). Skips outside CI when missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute(params string[] commands) => Skip = Prerequisites.RootSkipReason(commands);
}

/// <summary>
/// A fact that needs a kernel with IPVS: it runs inside the tests/kernel VM harness, which sets
/// LB_KERNEL_VM=1, and skips everywhere else (also under CI=true: the harness, started by test.sh,
/// is what runs it). It carries the trait <c>Category=Kernel</c>; tests/kernel/run.sh finds the
/// kernel tests by that trait, wherever they are, and fails when the VM ran fewer than it found.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[TraitDiscoverer(KernelTrait.DiscovererTypeName, KernelTrait.AssemblyName)]
public sealed class KernelFactAttribute : FactAttribute, ITraitAttribute
{
    public KernelFactAttribute() => Skip = KernelTrait.SkipReason();
}

/// <summary>The theory form of <see cref="KernelFactAttribute"/> (same trait, same skip rule).</summary>
[AttributeUsage(AttributeTargets.Method)]
[TraitDiscoverer(KernelTrait.DiscovererTypeName, KernelTrait.AssemblyName)]
public sealed class KernelTheoryAttribute : TheoryAttribute, ITraitAttribute
{
    public KernelTheoryAttribute() => Skip = KernelTrait.SkipReason();
}

/// <summary>Gives every [KernelFact]/[KernelTheory] the trait <c>Category=Kernel</c> (the VM tier's filter).</summary>
public sealed class KernelTrait : ITraitDiscoverer
{
    public const string Name = "Category";
    public const string Value = "Kernel";
    /// <summary>The vstest filter that selects exactly the kernel tests.</summary>
    public const string Filter = Name + "=" + Value;
    internal const string DiscovererTypeName = "Lb.TestSupport.KernelTrait";
    internal const string AssemblyName = "Lb.TestSupport";

    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute)
    {
        yield return new KeyValuePair<string, string>(Name, Value);
    }

    internal static string? SkipReason() => Prerequisites.InKernelVm
        ? null
        : "needs a kernel with IPVS: runs inside the VM harness (tests/kernel/run.sh), which the README's test command starts";
}
