using Lb.Config;
using Lb.Vrrp.SplitBrain;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// Lb's extension <c>#lb: split_brain_probe SECONDS|off</c> (a comment line keepalived ignores) in global_defs and in a
/// vrrp_instance: mapped onto the options (default 2 s; the instance's own setting wins), bad values refused with the line.
/// </summary>
public sealed class SplitBrainProbeConfigTests
{
    private static LoadedConfig Load(string global, string instance) => ConfigLoader.LoadText(
        "global_defs {\n" + global + "}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n" + instance
        + "  virtual_ipaddress {\n    10.0.0.10/32\n  }\n}\nvrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 52\n  virtual_ipaddress {\n    10.0.0.11/32\n  }\n}\n", "t.conf");

    [Fact]
    public void Default_is_two_seconds_for_every_instance()
    {
        var loaded = Load("", "");
        Assert.Empty(loaded.Diagnostics);
        Assert.Equal(TimeSpan.FromSeconds(2), loaded.Options.Vrrp.SplitBrainProbe);
        Assert.All(loaded.Options.Vrrp.Instances, i => Assert.Null(i.SplitBrainProbe));
    }

    [Fact]
    public void Global_and_instance_settings_are_mapped_and_off_is_zero()
    {
        var loaded = Load("  #lb: split_brain_probe 0.5\n", "  #lb: split_brain_probe off\n");
        Assert.Empty(loaded.Diagnostics);
        Assert.Equal(TimeSpan.FromMilliseconds(500), loaded.Options.Vrrp.SplitBrainProbe);
        Assert.Equal(TimeSpan.Zero, loaded.Options.Vrrp.Instances[0].SplitBrainProbe);
        Assert.Null(loaded.Options.Vrrp.Instances[1].SplitBrainProbe);
        Assert.Equal(TimeSpan.Zero, SplitBrainProbeInterval.Of(loaded.Options.Vrrp.Instances[0], loaded.Options.Vrrp));
        Assert.Equal(TimeSpan.FromMilliseconds(500), SplitBrainProbeInterval.Of(loaded.Options.Vrrp.Instances[1], loaded.Options.Vrrp));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("5000")]
    [InlineData("often")]
    [InlineData("1 2")]
    public void Bad_values_are_errors_with_the_line(string value)
    {
        var loaded = Load("", $"  #lb: split_brain_probe {value}\n");
        Assert.Contains(loaded.Diagnostics, d => d.ToString().Contains("Line 6", StringComparison.Ordinal)
            && d.Message.Contains("split_brain_probe", StringComparison.Ordinal) && d.Message.Contains("[0.1, 3600] or 'off'", StringComparison.Ordinal));
    }
}
