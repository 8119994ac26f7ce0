using System.Net;
using System.Net.Sockets;
using Lb.Netlink.Generic;
using Lb.Netlink.Ipvs;
using Lb.Netlink.Protocol;
using Lb.Netlink.Route;
using Xunit;
using static Lb.Netlink.Tests.Bytes;

namespace Lb.Netlink.Tests.Protocol;

/// <summary>
/// Every decoder, fed truncated and corrupted versions of valid replies, either decodes, declines, or
/// throws <see cref="NetlinkFormatException"/> — never an out-of-range or other exception.
/// </summary>
public class MalformedInputTests
{
    private static IEnumerable<(bool Rtnetlink, byte[] Bytes)> Samples()
    {
        yield return (false, Msg(0x25, 2, 1, 1, Genl(1), Nest(1,
            Attr(1, U16(2)), Attr(2, U16(6)), Attr(3, [10, 0, 0, 1], new byte[12]), Attr(4, Be16(80)), Attr(6, Str("wrr")),
            Attr(7, U32(3), U32(~0u)), Attr(8, U32(5)), Attr(9, U32(~0u)), Nest(12, Attr(1, U64(5)), Attr(4, U64(9))), Nest(10, Attr(1, U32(1))))));
        yield return (false, Msg(0x25, 2, 1, 1, Genl(5), Nest(2,
            Attr(1, IPAddress.Parse("2001:db8::1").GetAddressBytes()), Attr(2, Be16(80)), Attr(3, U32(2)), Attr(4, U32(1)), Attr(11, U16(10)), Attr(13, U8(1)), Nest(12, Attr(1, U64(1))))));
        yield return (false, Msg(0x25, 2, 1, 1, Genl(9), Nest(3, Attr(1, U32(1)), Attr(2, Str("eth0")), Attr(3, U32(1)), Attr(5, [224, 0, 0, 81]))));
        yield return (false, Msg(0x25, 0, 1, 1, Genl(14), Attr(1, U32(0x10201)), Attr(2, U32(4096))));
        yield return (false, Msg(0x25, 0, 1, 1, Genl(12), Attr(4, U32(1)), Attr(5, U32(2)), Attr(6, U32(3))));
        yield return (false, Msg(0x10, 0, 1, 1, Genl(1), Attr(1, U16(0x25)), Attr(2, Str("IPVS")), Attr(3, U32(1)),
            Nest(7, Nest(1, Attr(1, Str("grp")), Attr(2, U32(9))))));
        yield return (true, Msg(16, 0, 0, 0, [0, 0], U16(1), I32(5), U32(0x11043), U32(0), Attr(3, Str("eth5")), Attr(4, U32(1500)), Attr(16, U8(6)), Attr(1, [2, 0, 0, 0, 0, 1])));
        yield return (true, Msg(20, 0, 0, 0, [2, 24, 0x80, 0], U32(5), Attr(1, [10, 0, 0, 2]), Attr(2, [10, 0, 0, 1]), Attr(3, Str("eth5")), Attr(4, [10, 0, 0, 255]), Attr(8, U32(0x80))));
        yield return (true, Msg(20, 0, 0, 0, [10, 64, 0, 0], U32(5), Attr(1, IPAddress.Parse("2001:db8::1").GetAddressBytes()), Attr(8, U32(2))));
    }

    /// <summary>What one decoder produced from one message: the message's type and the decoded object.</summary>
    private sealed record Decoded(ushort MessageType, object Value);

    /// <summary>Decodes every message of <paramref name="datagram"/> as the daemon would and returns what came out.</summary>
    private static List<Decoded> DecodeEverything(byte[] datagram, bool rtnetlink, out int messages)
    {
        // Generic netlink's GENL_ID_CTRL (16) is also RTM_NEWLINK's number: the protocol decides, as on a socket.
        var decoded = new List<Decoded>();
        var r = new NetlinkMessageReader(datagram);
        messages = 0;
        var consumed = 0;
        while (r.TryRead(out var m))
        {
            messages++;
            consumed += NetlinkConstants.NLMSG_HDRLEN + m.Payload.Length;
            Assert.True(consumed <= datagram.Length, $"messages cover {consumed} bytes of a {datagram.Length}-byte datagram");
            if (m.Type == 0x25)
            {
                if (IpvsMessages.TryParseService(m, out var service))
                    decoded.Add(new(m.Type, service));
                else if (IpvsMessages.TryParseDestination(m, AddressFamily.InterNetwork, out var destination))
                    decoded.Add(new(m.Type, destination));
                else if (IpvsMessages.TryParseDaemon(m, out var daemon))
                    decoded.Add(new(m.Type, daemon));
                else if (IpvsMessages.TryParseInfo(m, out var info))
                    decoded.Add(new(m.Type, info));
                else if (IpvsMessages.TryParseConfig(m, out var config))
                    decoded.Add(new(m.Type, config));
            }
            else if (m.Type == GenericNetlinkConstants.GENL_ID_CTRL && !rtnetlink)
            {
                if (GenericNetlinkFamily.TryParse(m, out var family))
                    decoded.Add(new(m.Type, family));
            }
        }
        if (rtnetlink)
            decoded.AddRange(RtnetlinkMonitor.Parse(datagram).Select(e => new Decoded(0, e)));
        return decoded;
    }

    private static T Single<T>(byte[] datagram, bool rtnetlink)
    {
        var decoded = DecodeEverything(datagram, rtnetlink, out var messages);
        Assert.Equal(1, messages);
        return Assert.IsType<T>(Assert.Single(decoded).Value);
    }

    [Fact]
    public void Valid_samples_decode_to_the_values_they_carry()
    {
        var samples = Samples().ToArray();

        var service = Single<IpvsServiceStatus>(samples[0].Bytes, samples[0].Rtnetlink);
        Assert.Equal(IpvsServiceKey.Create(IpvsProtocol.Tcp, IPAddress.Parse("10.0.0.1"), 80), service.Service.Key);
        Assert.Equal("wrr", service.Service.Scheduler);
        Assert.Equal((IpvsServiceFlags)3, service.Service.Flags);
        Assert.Equal(5u, service.Service.PersistenceTimeout);
        Assert.Null(service.Service.PersistenceEngine);
        Assert.Equal(5ul, service.Stats.Connections); // STATS64 wins over the 32-bit STATS (1)
        Assert.Equal(9ul, service.Stats.InBytes);

        var dest = Single<IpvsDestinationStatus>(samples[1].Bytes, samples[1].Rtnetlink);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), dest.Destination.Address); // the destination's own family (AF_INET6), not the service's
        Assert.Equal(80, dest.Destination.Port);
        Assert.Equal(IpvsForwardingMethod.Tunnel, dest.Destination.Forwarding);
        Assert.Equal(1, dest.Destination.Weight);
        Assert.Equal((IpvsTunnelType)1, dest.Destination.TunnelType);
        Assert.Equal(1ul, dest.Stats.Connections);

        var daemon = Single<IpvsSyncDaemon>(samples[2].Bytes, samples[2].Rtnetlink);
        Assert.Equal(new IpvsSyncDaemon(IpvsSyncDaemonState.Master, "eth0", 1) { MulticastGroup = IPAddress.Parse("224.0.0.81") }, daemon);

        var info = Single<IpvsInfo>(samples[3].Bytes, samples[3].Rtnetlink);
        Assert.Equal("1.2.1", info.VersionText);
        Assert.Equal(4096u, info.ConnectionTableSize);

        Assert.Equal(new IpvsTimeouts(1, 2, 3), Single<IpvsTimeouts>(samples[4].Bytes, samples[4].Rtnetlink));

        var family = Single<GenericNetlinkFamily>(samples[5].Bytes, samples[5].Rtnetlink);
        Assert.Equal(("IPVS", (ushort)0x25, 1u), (family.Name, family.Id, family.Version));
        Assert.Equal(9u, Assert.Contains("grp", family.MulticastGroups));

        var link = Single<LinkEvent>(samples[6].Bytes, samples[6].Rtnetlink);
        Assert.False(link.Removed);
        Assert.Equal(new LinkInfo(5, "eth5", (LinkFlags)0x11043, LinkOperationalState.Up, link.Link.HardwareAddress, 1500), link.Link);
        Assert.Equal("020000000001", link.Link.HardwareAddress!.ToString());

        var v4 = Single<AddressEvent>(samples[7].Bytes, samples[7].Rtnetlink).Address;
        Assert.Equal((5, IPAddress.Parse("10.0.0.1"), 24), (v4.InterfaceIndex, v4.Address, v4.PrefixLength));
        Assert.Equal(IPAddress.Parse("10.0.0.2"), v4.Peer); // IFA_ADDRESS differs from IFA_LOCAL
        Assert.Equal(IPAddress.Parse("10.0.0.255"), v4.Broadcast);
        Assert.Equal("eth5", v4.Label);
        Assert.Equal(AddressFlags.Permanent, v4.Flags);

        var v6 = Single<AddressEvent>(samples[8].Bytes, samples[8].Rtnetlink).Address;
        Assert.Equal((5, IPAddress.Parse("2001:db8::1"), 64), (v6.InterfaceIndex, v6.Address, v6.PrefixLength));
        Assert.Null(v6.Peer);
        Assert.Equal(AddressFlags.NoDad, v6.Flags); // IFA_FLAGS (32 bits) overrides ifa_flags
    }

    /// <summary>What an accepted (possibly corrupted) datagram must still satisfy, whatever its bytes.</summary>
    private static void AssertInvariants(byte[] datagram, IReadOnlyList<Decoded> decoded, int messages, string hex)
    {
        Assert.True(decoded.Count <= messages, $"{decoded.Count} objects from {messages} messages: {hex}");
        foreach (var d in decoded)
        {
            switch (d.Value)
            {
                case IpvsServiceStatus s when s.Service.Key.Address is { } a:
                    Assert.True(a.AddressFamily == s.Service.Key.Family, $"service address {a} in family {s.Service.Key.Family}: {hex}");
                    Assert.True(s.Service.Scheduler.Length < datagram.Length && !s.Service.Scheduler.Contains('\0'), hex);
                    break;
                case IpvsDestinationStatus ds:
                    Assert.True(ds.Destination.Address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6, hex);
                    break;
                case IpvsSyncDaemon sd:
                    Assert.True(sd.Interface.Length < datagram.Length && !sd.Interface.Contains('\0'), hex);
                    break;
                case GenericNetlinkFamily f:
                    Assert.True(f.Name.Length < datagram.Length && !f.Name.Contains('\0'), hex);
                    Assert.True(f.MulticastGroups.Count <= 1, hex); // the sample carries one group: corruption cannot make more
                    break;
                case LinkEvent l:
                    Assert.True(l.Link.Name.Length < datagram.Length && !l.Link.Name.Contains('\0'), hex);
                    Assert.True((l.Link.HardwareAddress?.GetAddressBytes().Length ?? 0) < datagram.Length, hex);
                    break;
                case AddressEvent ae:
                    // The address, its peer and broadcast are of the family ifaddrmsg names (byte 16 of the only message).
                    var family = datagram[16] == 10 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
                    Assert.True(datagram[16] is 2 or 10, $"an address decoded from family {datagram[16]}: {hex}");
                    Assert.Equal(family, ae.Address.Address.AddressFamily);
                    Assert.True(ae.Address.Peer is null || ae.Address.Peer.AddressFamily == family, $"peer {ae.Address.Peer} on a {family} address: {hex}");
                    Assert.True(ae.Address.Broadcast is null || ae.Address.Broadcast.AddressFamily == family, $"broadcast {ae.Address.Broadcast} on a {family} address: {hex}");
                    break;
            }
        }
    }

    private static string Describe(IEnumerable<Decoded> decoded) => string.Join("; ", decoded.Select(d => d.Value switch
    {
        IpvsServiceStatus s => $"{s.Service.Key} {s.Service.Scheduler} {s.Service.Flags} {s.Service.PersistenceTimeout} {s.Service.PersistenceNetmask} {s.Stats}",
        IpvsDestinationStatus ds => $"{ds.Destination} {ds.Destination.TunnelType} {ds.Stats}",
        GenericNetlinkFamily f => $"{f.Name} {f.Id} {f.Version} {string.Join(",", f.MulticastGroups)}",
        LinkEvent l => $"{l.Link} {l.Link.HardwareAddress}",
        AddressEvent a => $"{a.Address} {a.Address.Broadcast} {a.Address.Label} {a.Address.Flags}",
        var o => o.ToString()!,
    }));

    /// <summary>
    /// Each truncation and random corruption of a valid sample is either refused with a
    /// <see cref="NetlinkFormatException"/> that says what is wrong, or accepted with the invariants an accepted
    /// datagram must keep (messages within the buffer, no more objects than messages, addresses of the family the
    /// message names, strings within the payload); a corruption that rewrote bytes with their own values decodes to
    /// exactly what the sample does.
    /// </summary>
    [Fact]
    public void Truncated_and_corrupted_replies_are_refused_with_a_reason_or_decoded_within_their_invariants()
    {
        var random = new Random(20261121);
        int cases = 0, refused = 0, accepted = 0, unchanged = 0;
        foreach (var (rt, sample) in Samples())
        {
            var original = Describe(DecodeEverything(sample, rt, out _));
            var variants = new List<(byte[] Bytes, int Cut)>();
            for (var cut = 0; cut < sample.Length; cut++)
            {
                var t = sample[..cut];
                if (t.Length >= 4)
                    BitConverter.TryWriteBytes(t.AsSpan(0, 4), (uint)t.Length); // a header that agrees with the cut: the inner lengths lie
                variants.Add((t, cut));
            }
            // Every byte after the netlink header set to each value that means something somewhere (a family, a
            // length's low byte, a flag), then random multi-byte corruption.
            for (var at = 16; at < sample.Length; at++)
            {
                foreach (var value in (byte[])[0, 1, 2, 4, 10, 0x7f, 0xff])
                {
                    var v = (byte[])sample.Clone();
                    v[at] = value;
                    variants.Add((v, -1));
                }
            }
            for (var i = 0; i < 400; i++)
            {
                var v = (byte[])sample.Clone();
                var flips = random.Next(1, 4);
                for (var f = 0; f < flips; f++)
                    v[random.Next(16, v.Length)] = (byte)random.Next(256);
                variants.Add((v, -1));
            }
            foreach (var (v, cut) in variants)
            {
                cases++;
                var hex = Convert.ToHexString(v);
                List<Decoded> decoded;
                int messages;
                try
                {
                    decoded = DecodeEverything(v, rt, out messages);
                }
                catch (NetlinkFormatException e)
                {
                    refused++;
                    Assert.False(string.IsNullOrWhiteSpace(e.Message), hex);
                    if (cut is > 0 and < 16)
                        Assert.Equal($"truncated netlink header: {cut} bytes left, a header needs 16", e.Message);
                    else if (cut >= 16)
                        Assert.True(e.Message.Contains("truncated") || e.Message.Contains("claims length") || e.Message.Contains("holds")
                            || e.Message.Contains("without") || e.Message.Contains("shorter than") || e.Message.Contains("needs"), $"{cut}-byte cut refused with: {e.Message}");
                    continue;
                }
                catch (Exception e)
                {
                    Assert.Fail($"decoding {hex} threw {e.GetType().Name}: {e.Message}");
                    throw;
                }
                accepted++;
                Assert.True(cut is not (> 0 and < 16), $"a {cut}-byte datagram was accepted: {hex}");
                if (cut == 0)
                    Assert.Empty(decoded);
                AssertInvariants(v, decoded, messages, hex);
                if (cut < 0 && v.AsSpan().SequenceEqual(sample))
                {
                    unchanged++;
                    Assert.Equal(original, Describe(decoded));
                }
            }
        }
        Assert.True(cases > 7000, $"{cases} cases");
        // Both outcomes occur, so neither branch above is vacuous.
        Assert.True(refused > 500 && accepted > 500 && unchanged > 0, $"refused {refused}, accepted {accepted}, unchanged {unchanged} of {cases}");
    }
}
