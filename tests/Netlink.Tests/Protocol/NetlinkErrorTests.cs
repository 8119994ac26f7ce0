using Lb.Netlink.Protocol;
using Xunit;
using static Lb.Netlink.Tests.Bytes;

namespace Lb.Netlink.Tests.Protocol;

public class NetlinkErrorTests
{
    private static NetlinkException Parse(byte[] datagram, string description)
    {
        var r = new NetlinkMessageReader(datagram);
        Assert.True(r.TryRead(out var m));
        var error = (int)BitConverter.ToUInt32(m.Payload[..4]);
        var echoed = BitConverter.ToUInt32(m.Payload[4..8]);
        return NetlinkSocket.ParseError(m, description, error, echoed);
    }

    [Fact]
    public void Capped_error_with_extended_ack_names_the_request_errno_and_kernel_text()
    {
        // NLMSG_ERROR, flags NLM_F_CAPPED|NLM_F_ACK_TLVS; nlmsgerr { error=-22; echoed header }; TLVs.
        var echoedHeader = Cat(U32(64), U16(0x20), U16(5), U32(77), U32(0));
        var datagram = Msg(NetlinkConstants.NLMSG_ERROR, 0x100 | 0x200, 77, 1234,
            I32(-22), echoedHeader,
            Attr(NetlinkConstants.NLMSGERR_ATTR_MSG, Str("Unknown scheduler")),
            Attr(NetlinkConstants.NLMSGERR_ATTR_OFFS, U32(36)));
        var e = Parse(datagram, "add IPVS service TCP 10.0.0.1:80 scheduler 'foo'");
        Assert.Equal(22, e.Errno);
        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.Equal("Unknown scheduler", e.KernelMessage);
        Assert.Equal(36, e.AttributeOffset);
        Assert.StartsWith("add IPVS service TCP 10.0.0.1:80 scheduler 'foo' failed: EINVAL", e.Message);
        Assert.Contains("kernel says: Unknown scheduler", e.Message);
    }

    [Fact]
    public void Uncapped_error_skips_the_echoed_request_before_the_tlvs()
    {
        // Without NLM_F_CAPPED the whole request (header + 8 bytes payload) is echoed back.
        var echoed = Cat(U32(24), U16(0x20), U16(5), U32(9), U32(0), U32(0xAAAAAAAA), U32(0xBBBBBBBB));
        var datagram = Msg(NetlinkConstants.NLMSG_ERROR, 0x200, 9, 1, I32(-17), echoed,
            Attr(NetlinkConstants.NLMSGERR_ATTR_MSG, Str("exists")));
        var e = Parse(datagram, "add address 10.0.0.1/24 on veth0");
        Assert.Equal("EEXIST", e.ErrnoName);
        Assert.Equal("exists", e.KernelMessage);
        Assert.Null(e.AttributeOffset);
    }

    [Fact]
    public void Plain_error_without_tlvs_still_names_request_and_errno_and_eperm_says_cap_net_admin()
    {
        var datagram = Msg(NetlinkConstants.NLMSG_ERROR, 0x100, 3, 1, I32(-1), Cat(U32(20), U16(0x20), U16(5), U32(3), U32(0)));
        var e = Parse(datagram, "flush IPVS table");
        Assert.Equal("EPERM", e.ErrnoName);
        Assert.Null(e.KernelMessage);
        Assert.Contains("flush IPVS table failed: EPERM", e.Message);
        Assert.Contains("needs CAP_NET_ADMIN", e.Message);
    }

    [Fact]
    public void Malformed_tlvs_do_not_hide_the_error()
    {
        var datagram = Msg(NetlinkConstants.NLMSG_ERROR, 0x100 | 0x200, 3, 1, I32(-2), Cat(U32(20), U16(0x20), U16(5), U32(3), U32(0)), Hex("FF00 0100"));
        var e = Parse(datagram, "delete IPVS service TCP 10.0.0.1:80");
        Assert.Equal("ENOENT", e.ErrnoName);
    }

    [Theory]
    [InlineData(1, "EPERM")]
    [InlineData(2, "ENOENT")]
    [InlineData(3, "ESRCH")]
    [InlineData(17, "EEXIST")]
    [InlineData(22, "EINVAL")]
    [InlineData(95, "EOPNOTSUPP")]
    [InlineData(99, "EADDRNOTAVAIL")]
    [InlineData(105, "ENOBUFS")]
    [InlineData(-3, "ESRCH")]
    [InlineData(4000, "errno 4000")]
    public void Errno_names(int errno, string name) => Assert.Equal(name, Errno.GetName(errno));
}
