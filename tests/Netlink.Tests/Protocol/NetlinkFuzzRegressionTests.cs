using Lb.Netlink.Protocol;
using Xunit;

namespace Lb.Netlink.Tests.Protocol;

/// <summary>
/// Inputs found by fuzz/ (target netlink, minimized with afl-tmin): error replies the decoder must turn into the
/// request's exception or a <see cref="NetlinkFormatException"/>, never another exception.
/// </summary>
public class NetlinkFuzzRegressionTests
{
    // NLMSG_ERROR, flags NLM_F_ACK_TLVS|0x30 (not capped), error 0x30303030, echoed nlmsg_len 0xe1303030 (negative as int).
    private static readonly byte[] NegativeEchoedLength = Convert.FromHexString(
        "2c00000002003002" + "3030303030303030" + "30303030" + "303030e1" + "3030303030303030" + "3030303030303030" + "30303030");

    // NLMSG_ERROR, flags 0x3030 (no TLVs), error 0x80000000 = int.MinValue.
    private static readonly byte[] MinValueError = Convert.FromHexString(
        "2c00000002003030" + "3030303030303030" + "00000080" + "3030303030303030" + "3030303030303030" + "3030303030303030");

    /// <summary>What NetlinkSocket does with an NLMSG_ERROR: error and echoed length from struct nlmsgerr, then ParseError.</summary>
    private static NetlinkException ParseErrorReply(byte[] datagram, int? error = null)
    {
        var reader = new NetlinkMessageReader(datagram);
        Assert.True(reader.TryRead(out var m));
        Assert.Equal(NetlinkConstants.NLMSG_ERROR, m.Type);
        return NetlinkSocket.ParseError(m, "add IPVS service TCP 10.0.0.1:80", error ?? (int)BitConverter.ToUInt32(m.Payload[..4]), BitConverter.ToUInt32(m.Payload[4..8]));
    }

    [Fact]
    public void Error_reply_with_an_echoed_length_past_int_max_is_a_format_error_not_an_out_of_range_slice()
    {
        // Was: ArgumentOutOfRangeException from Payload[negative..] (tlvStart = 4 + Align((int)0xe1303030)).
        var e = Assert.Throws<NetlinkFormatException>(() => ParseErrorReply(NegativeEchoedLength));
        Assert.Contains("add IPVS service TCP 10.0.0.1:80", e.Message);
    }

    [Fact]
    public void Error_reply_with_a_real_errno_and_an_echoed_length_past_the_payload_keeps_the_errno_and_skips_the_tlvs()
    {
        var e = ParseErrorReply(NegativeEchoedLength, error: -22);
        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.Null(e.KernelMessage);
        Assert.StartsWith("add IPVS service TCP 10.0.0.1:80 failed: EINVAL", e.Message);
    }

    [Fact]
    public void Error_reply_with_int_min_value_is_a_format_error_not_an_overflow()
    {
        // Was: OverflowException from Math.Abs(int.MinValue) in ErrnoException.FormatMessage.
        var e = Assert.Throws<NetlinkFormatException>(() => ParseErrorReply(MinValueError));
        Assert.Contains("-2147483648", e.Message);
    }
}
