using Lb.Config;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// <c>use_vmac [NAME] [MAC]</c> and <c>vmac_xmit_base</c>: what reaches the options, and keepalived 2.2.7's diagnostics
/// (texts verified with <c>keepalived -t</c> in a namespace whose eth0 exists: each of these is an error, exit 5).
/// </summary>
public sealed class VmacMappingTests
{
    private static LoadedConfig Load(string statements, string peers = "") => ConfigLoader.LoadText(
        $"vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  {statements}\n  {peers}\n  virtual_ipaddress {{\n    10.0.0.10/32\n  }}\n}}\n", "v.conf");

    private static string[] Errors(LoadedConfig c) => c.Diagnostics.Where(d => d.Severity == Severity.Error).Select(d => d.Message).ToArray();

    [Fact]
    public void use_vmac_takes_a_name_and_a_MAC_in_either_order()
    {
        var o = Assert.Single(Load("use_vmac 02:11:22:33:44:55 vmac51").Options.Vrrp.Instances).UseVmac;
        Assert.Equal(("vmac51", "02:11:22:33:44:55"), (o!.InterfaceName, o.MacAddress));
    }

    [Fact]
    public void A_five_octet_MAC_ends_with_the_VRID_and_no_argument_means_the_defaults()
    {
        Assert.Equal("02:11:22:33:44:33", Assert.Single(Load("use_vmac 02:11:22:33:44").Options.Vrrp.Instances).UseVmac!.MacAddress);
        var o = Assert.Single(Load("use_vmac").Options.Vrrp.Instances).UseVmac;
        Assert.Equal((null, null), (o!.InterfaceName, o.MacAddress));
        Assert.Null(Assert.Single(Load("").Options.Vrrp.Instances).UseVmac);
    }

    [Fact]
    public void Invalid_names_and_MACs_are_ignored_with_keepalived_s_errors()
    {
        var c = Load("use_vmac this_name_is_too_long 01:00:5e:00:00:01");
        Assert.Equal(
            ["VMAC interface name 'this_name_is_too_long' too long or invalid characters - ignoring", "VMAC MAC address is multicast 01:00:5e:00:00:01 - ignoring"],
            Errors(c));
        Assert.Equal((null, null), (c.Options.Vrrp.Instances[0].UseVmac!.InterfaceName, c.Options.Vrrp.Instances[0].UseVmac!.MacAddress));
        Assert.Equal(["VMAC MAC address not allowed to be RFC5798 address (00:00:5e:00:01:07) - ignoring"], Errors(Load("use_vmac 00:00:5e:00:01:07")));
    }

    [Fact]
    public void vmac_xmit_base_is_read_forced_by_unicast_and_dropped_without_use_vmac()
    {
        Assert.True(Assert.Single(Load("use_vmac\n  vmac_xmit_base").Options.Vrrp.Instances).VmacXmitBase);
        var unicast = Load("use_vmac", "unicast_peer {\n    10.0.0.9\n  }");
        Assert.True(unicast.Options.Vrrp.Instances[0].VmacXmitBase);
        Assert.Equal(["(VI_1) unicast with use_vmac requires vmac_xmit_base - setting"], Errors(unicast));
        var alone = Load("vmac_xmit_base");
        Assert.False(alone.Options.Vrrp.Instances[0].VmacXmitBase);
        Assert.Equal(["(VI_1) vmac_xmit_base is only valid with a vmac"], Errors(alone));
    }
}
