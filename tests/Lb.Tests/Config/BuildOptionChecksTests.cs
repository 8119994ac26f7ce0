using Lb.Config;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>Keywords whose keepalived verdict depends on its build (the reference: Debian's 2.2.7, nftables without iptables).</summary>
public sealed class BuildOptionChecksTests
{
    [Fact]
    public void VrrpIptablesIsAnErrorAsInAnNftablesBuild()
    {
        var loaded = ConfigLoader.LoadText("global_defs {\n  vrrp_iptables KUBE-KEEPALIVED-VIP\n}\n");
        var error = Assert.Single(loaded.Diagnostics, d => d.Severity == Severity.Error);
        Assert.Contains("iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, error.Location.Line);
        Assert.Equal(5, loaded.ExitCode);
    }

    [Fact]
    public void NftablesIsNotAnError() =>
        Assert.Equal(0, ConfigLoader.LoadText("global_defs {\n  nftables keepalived\n}\n").ExitCode);
}
