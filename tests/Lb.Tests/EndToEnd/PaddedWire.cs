using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// The check that keeps a padded-wire variant of a lab test honest: on a <see cref="LabWire.PaddingSwitch"/> lab the
/// switch must really have padded VRRP frames (IP protocol 112) from the host, or the variant silently tested an
/// unpadded wire. No-op on other wires.
/// </summary>
internal static class PaddedWire
{
    public static void AssertCarried(NetnsLab lab, string fromHost)
    {
        if (lab.Padding is not { } sw)
            return;
        Assert.True(sw.Padded(112, from: fromHost) > 0, $"the padding switch padded no VRRP frame from {fromHost}:\n{sw.Process.Output}");
    }
}
