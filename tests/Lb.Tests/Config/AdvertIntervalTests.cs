using Lb.Config;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>keepalived 2.2.7 (vrrp_complete_instance): a VRRPv2 instance's advert_int must be whole seconds; else an error, rounded.</summary>
public sealed class AdvertIntervalTests
{
    private static LoadedConfig Load(string globalDefs, string instanceExtra, string vip = "10.0.0.1") =>
        ConfigLoader.LoadText($$"""
            global_defs {
            {{globalDefs}}
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
            {{instanceExtra}}
                virtual_ipaddress {
                    {{vip}}
                }
            }
            """);

    [Theory]
    [InlineData("0.5", "1")]
    [InlineData("0.4", "1")]
    [InlineData("1.5", "2")]
    public void FractionalIntervalOfAVersion2InstanceIsAnErrorAndRounded(string configured, string effective)
    {
        var loaded = Load("", $"    advert_int {configured}");
        var error = Assert.Single(loaded.Diagnostics, d => d.Severity == Severity.Error);
        Assert.Equal($"(VI_1) VRRPv2 advertisement interval {decimal.Parse(configured, System.Globalization.CultureInfo.InvariantCulture):F6}s must be an integer. rounding", error.Message);
        Assert.Equal(5, loaded.ExitCode);
        Assert.Equal(effective, loaded.All("vrrp_instance").Single().Last("advert_int")!.Arg0);
    }

    [Theory]
    [InlineData("    vrrp_version 3", "    advert_int 0.5", "10.0.0.1")]
    [InlineData("", "    version 3\n    advert_int 0.5", "10.0.0.1")]
    [InlineData("", "    advert_int 0.5", "2001:db8::1")]
    [InlineData("", "    advert_int 2", "10.0.0.1")]
    public void Version3OrWholeSecondsIsNoError(string globalDefs, string instanceExtra, string vip)
    {
        var loaded = Load(globalDefs, instanceExtra, vip);
        Assert.DoesNotContain(loaded.Diagnostics, d => d.Message.Contains("advertisement interval", StringComparison.Ordinal));
        Assert.Equal(0, loaded.ExitCode);
    }
}
