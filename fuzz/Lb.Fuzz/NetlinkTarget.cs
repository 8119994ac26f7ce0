using System.Net.Sockets;
using Lb.Netlink;
using Lb.Netlink.Generic;
using Lb.Netlink.Ipvs;
using Lb.Netlink.Protocol;
using Lb.Netlink.Route;
using static Lb.Netlink.Protocol.NetlinkConstants;

namespace Lb.Fuzz;

/// <summary>
/// The decoders of kernel replies: one datagram walked by <see cref="NetlinkMessageReader"/>, each message offered to
/// every reply parser (generic netlink family, IPVS service/destination/daemon/config/info, rtnetlink link/address),
/// NLMSG_ERROR/NLMSG_DONE turned into the request's exception with its extended ACK as <see cref="NetlinkSocket"/>
/// does, and the datagram as an rtnetlink notification (<see cref="RtnetlinkMonitor.Parse"/>).
/// The documented result for malformed input is <see cref="NetlinkFormatException"/>; anything else is a finding.
/// </summary>
internal sealed class NetlinkTarget : IFuzzTarget
{
    private delegate void Decoder(NetlinkMessage message);

    public void Warmup(string work) => Run(new byte[20] { 20, 0, 0, 0, 3, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, work);

    public void Run(byte[] data, string work)
    {
        try
        {
            _ = RtnetlinkMonitor.Parse(data);
        }
        catch (NetlinkFormatException)
        {
        }

        var reader = new NetlinkMessageReader(data);
        while (true)
        {
            NetlinkMessage message;
            try
            {
                if (!reader.TryRead(out message))
                    break;
            }
            catch (NetlinkFormatException)
            {
                break;
            }

            Decode(message, static m => _ = GenericNetlinkFamily.TryParse(m, out _));
            Decode(message, static m => _ = IpvsMessages.TryParseService(m, out _));
            Decode(message, static m => _ = IpvsMessages.TryParseDestination(m, AddressFamily.InterNetwork, out _));
            Decode(message, static m => _ = IpvsMessages.TryParseDestination(m, AddressFamily.InterNetworkV6, out _));
            Decode(message, static m => _ = IpvsMessages.TryParseDaemon(m, out _));
            Decode(message, static m => _ = IpvsMessages.TryParseConfig(m, out _));
            Decode(message, static m => _ = IpvsMessages.TryParseInfo(m, out _));
            Decode(message, static m => _ = RtnetlinkMessages.TryParseLink(m, out _));
            Decode(message, static m => _ = RtnetlinkMessages.TryParseAddress(m, out _));
            Decode(message, Reply);
        }
    }

    private static void Decode(NetlinkMessage message, Decoder decoder)
    {
        try
        {
            decoder(message);
        }
        catch (NetlinkFormatException)
        {
        }
    }

    /// <summary>What <see cref="NetlinkSocket"/> does with NLMSG_DONE and NLMSG_ERROR in a reply.</summary>
    private static void Reply(NetlinkMessage message)
    {
        if (message.Type == NLMSG_DONE && message.Payload.Length >= 4)
        {
            var error = (int)NetlinkMessageReader.ReadHost32(message.Payload);
            if (error < 0)
                _ = NetlinkSocket.ParseError(message, "fuzzed request", error, 4).Message;
        }
        else if (message.Type == NLMSG_ERROR)
        {
            if (message.Payload.Length < 20)
                throw new NetlinkFormatException("short NLMSG_ERROR");
            var error = (int)NetlinkMessageReader.ReadHost32(message.Payload);
            if (error != 0)
                _ = NetlinkSocket.ParseError(message, "fuzzed request", error, NetlinkMessageReader.ReadHost32(message.Payload[4..])).Message;
        }
    }
}
