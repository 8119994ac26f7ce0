using System.Net.NetworkInformation;
using System.Text.Json;
using Lb.Netlink.Route;
using Lb.TestSupport;
using Xunit;
using static Lb.Netlink.Tests.Bytes;

namespace Lb.Netlink.Tests.Route;

/// <summary>
/// Creating, typing and deleting links (the VMAC's macvlan): the encoding byte for byte against iproute2's layout
/// (<c>ip link add link P name N address M type macvlan mode private</c>), and the real kernel in a namespace with
/// <c>ip -d -j link</c> as the oracle.
/// </summary>
public class RtnetlinkLinkTests
{
    private static readonly PhysicalAddress Vmac = new([0x00, 0x00, 0x5e, 0x00, 0x01, 0x33]);

    [Fact]
    public void A_macvlan_request_carries_kind_mode_parent_name_and_address()
    {
        var r = RtnetlinkLinkMessages.NewMacvlan(new MacvlanLink("vrrp.51", 7, Vmac));
        var expected = Msg(16, 0x1 | 0x4 | 0x400 | 0x200, 0, 0,
            [0, 0, 0, 0], I32(0), U32(0), U32(0),
            Attr(18, Attr(1, Str("macvlan")), Attr(2, Attr(1, U32(1)))),
            Attr(5, U32(7)),
            Attr(3, Str("vrrp.51")),
            Attr(1, Vmac.GetAddressBytes()));
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(r.Message));
        Assert.Equal("add macvlan vrrp.51 (00:00:5e:00:01:33, mode private) on interface #7", r.Description);
    }

    [Fact]
    public void Delete_and_address_generation_mode_requests_name_the_interface()
    {
        Assert.Equal(Convert.ToHexString(Msg(17, 0x5, 0, 0, [0, 0, 0, 0], I32(9), U32(0), U32(0))), Convert.ToHexString(RtnetlinkLinkMessages.DeleteLink(9, "x").Message));
        var gen = RtnetlinkLinkMessages.SetIpv6AddressGenerationMode(9, Ipv6AddressGenerationMode.None, "vrrp.51");
        Assert.Equal(Convert.ToHexString(Msg(16, 0x5, 0, 0, [0, 0, 0, 0], I32(9), U32(0), U32(0), Attr(26, Attr(10, Attr(8, U8(1)))))), Convert.ToHexString(gen.Message));
        Assert.Equal("set IPv6 address generation mode of vrrp.51 to none", gen.Description);
    }

    [Theory]
    [InlineData("vrrp.51", true)]
    [InlineData("a23456789012345", true)]
    [InlineData("a234567890123456", false)]
    [InlineData("", false)]
    [InlineData("a:b", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    [InlineData("..", false)]
    public void Interface_names_follow_the_kernel_rule(string name, bool valid) => Assert.Equal(valid, RtnetlinkLinkMessages.IsValidName(name));

    [Fact]
    public void A_multicast_MAC_or_a_bad_name_is_refused_before_anything_is_sent()
    {
        Assert.Throws<ArgumentException>(() => RtnetlinkLinkMessages.NewMacvlan(new MacvlanLink("v", 2, new PhysicalAddress([1, 0, 0x5e, 0, 0, 1]))));
        Assert.Throws<ArgumentException>(() => RtnetlinkLinkMessages.NewMacvlan(new MacvlanLink("toolongname12345", 2, Vmac)));
    }

    [RootFact("ip")]
    public async Task Creates_a_private_macvlan_ip_sees_reads_its_type_back_and_deletes_it()
    {
        using var ns = new NetnsFixture();
        using var client = ns.OpenClient();
        var parent = await client.GetIndexAsync("va");
        var index = await client.CreateMacvlanAsync(new MacvlanLink("vrrp.51", parent, Vmac));
        await client.SetIpv6AddressGenerationModeAsync(index, Ipv6AddressGenerationMode.None, "vrrp.51");

        using (var doc = JsonDocument.Parse(ns.Ip("-d", "-j", "link", "show", "dev", "vrrp.51")))
        {
            var link = doc.RootElement[0];
            Assert.Equal(index, link.GetProperty("ifindex").GetInt32());
            Assert.Equal("00:00:5e:00:01:33", link.GetProperty("address").GetString());
            Assert.Equal("va", link.GetProperty("link").GetString());
            Assert.Equal("macvlan", link.GetProperty("linkinfo").GetProperty("info_kind").GetString());
            Assert.Equal("private", link.GetProperty("linkinfo").GetProperty("info_data").GetProperty("mode").GetString());
            Assert.Equal("none", link.GetProperty("inet6_addr_gen_mode").GetString());
        }

        var details = (await client.GetLinkDetailsAsync()).Single(l => l.Name == "vrrp.51");
        Assert.Equal(("macvlan", parent, MacvlanMode.Private, Vmac), (details.Kind, details.ParentIndex, details.MacvlanMode, details.HardwareAddress));
        Assert.Equal("veth", (await client.GetLinkDetailsAsync()).Single(l => l.Name == "va").Kind);

        var e = await Assert.ThrowsAsync<NetlinkException>(() => client.CreateMacvlanAsync(new MacvlanLink("vrrp.51", parent, Vmac)));
        Assert.Equal("EEXIST", e.ErrnoName);
        Assert.Contains("add macvlan vrrp.51", e.Message);

        Assert.True(await client.DeleteLinkAsync(index, "vrrp.51"));
        Assert.DoesNotContain("vrrp.51", ns.Ip("-o", "link", "show"));
        Assert.False(await client.DeleteLinkAsync(index, "vrrp.51"));
    }
}
