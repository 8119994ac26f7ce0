using Lb.Netlink.Generic;
using Lb.Netlink.Protocol;
using Xunit;

namespace Lb.Netlink.Tests.Generic;

/// <summary>Generic netlink family resolution against the host kernel (needs no privileges).</summary>
public class GenericNetlinkFamilyHostTests
{
    [Fact]
    public async Task Resolves_nlctrl_itself_with_its_fixed_id_and_notify_group()
    {
        using var socket = NetlinkSocket.Open(NetlinkConstants.NETLINK_GENERIC);
        Assert.NotEqual(0u, socket.PortId);
        var family = await GenericNetlinkFamily.ResolveAsync(socket, "nlctrl");
        Assert.Equal("nlctrl", family.Name);
        Assert.Equal(GenericNetlinkConstants.GENL_ID_CTRL, family.Id);
        Assert.True(family.MulticastGroups.ContainsKey("notify"));
    }

    [Fact]
    public async Task Unknown_family_throws_family_not_found_with_ENOENT()
    {
        using var socket = NetlinkSocket.Open(NetlinkConstants.NETLINK_GENERIC);
        var e = await Assert.ThrowsAsync<GenericNetlinkFamilyNotFoundException>(() => GenericNetlinkFamily.ResolveAsync(socket, "NoSuchFamily42"));
        Assert.Equal("ENOENT", e.ErrnoName);
        Assert.Equal("NoSuchFamily42", e.Family);
        Assert.Contains("NoSuchFamily42", e.Message);
    }

    [Fact]
    public async Task Socket_receive_buffer_is_large_enough_for_batched_acks()
    {
        using var socket = NetlinkSocket.Open(NetlinkConstants.NETLINK_GENERIC);
        Assert.True(socket.GetReceiveBufferSize() >= 32 * 1024);
        // The socket is still usable after the query.
        var family = await GenericNetlinkFamily.ResolveAsync(socket, "nlctrl");
        Assert.Equal("nlctrl", family.Name);
    }
}
