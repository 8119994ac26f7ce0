using Xunit;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// The kernel tier's lb-process tests run one at a time: under software emulation the VM has two
/// vCPUs, and lb processes of other test classes starting in parallel starved them for minutes (seen: an lb taking 3 min from
/// reading its configuration to starting its checkers). Tests in this collection run one at a time, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelLabCollection
{
    public const string Name = "Kernel labs (run alone)";
}
