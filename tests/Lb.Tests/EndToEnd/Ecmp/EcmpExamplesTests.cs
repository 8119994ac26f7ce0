using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.EndToEnd.Ecmp;

/// <summary>
/// The active-active examples as files, on the host (the kernel VM's <see cref="EcmpKernelTests"/> runs them): FRR's own
/// parser accepts both FRR configs with and without their BFD lines (<c>vtysh -C</c>, a dry run that fails on an unknown
/// command), and the Lb example is valid to keepalived 2.2.7 and to <c>lb -t</c> without a warning.
/// </summary>
public sealed class EcmpExamplesTests
{
    [ToolFact("vtysh")]
    public void The_FRR_examples_parse_as_the_lab_uses_them()
    {
        foreach (var host in new[] { "rt", "d1", "d3" })
        {
            Check(host, bfd: false);
            Check(host, bfd: true);
        }
    }

    private static void Check(string host, bool bfd)
    {
        var text = EcmpLab.FrrConfig(host, bfd);
        var lines = text.Split('\n');
        Assert.Equal(bfd, lines.Any(l => l.TrimStart().StartsWith("neighbor ", StringComparison.Ordinal) && l.EndsWith(" bfd profile lb-fast", StringComparison.Ordinal)));
        Assert.Equal(bfd, !lines.Any(l => l.StartsWith("!BFD ", StringComparison.Ordinal)));
        var file = Path.Combine(Path.GetTempPath(), $"ecm-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, text);
        try
        {
            var r = ProcessRunner.Run("vtysh", "-C", "-f", file);
            Assert.True(r.ExitCode == 0, $"{host} (BFD: {bfd}): {r.Output}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [ToolFact("keepalived")]
    public void The_active_active_example_is_a_keepalived_configuration_and_lb_accepts_it_without_warnings()
    {
        var file = EcmpLab.RepoFile("examples/keepalived.active-active.conf");
        var ka = ProcessRunner.Run("keepalived", "-t", "-f", file);
        Assert.True(ka.ExitCode == 0, ka.Output);
        var lb = ProcessRunner.Run(LbLab.LbPath, "-t", "-f", file);
        Assert.True(lb.ExitCode == 0, lb.Output);
        Assert.DoesNotContain("warning", lb.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("#lb: announce", File.ReadAllText(file), StringComparison.Ordinal);
    }
}
