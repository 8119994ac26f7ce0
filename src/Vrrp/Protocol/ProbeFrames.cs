using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Lb.Vrrp.Protocol;

/// <summary>Why a frame seen by the split-brain probe socket was not taken as an answer.</summary>
public enum ProbeFrameDrop
{
    /// <summary>Not an answer at all (an ARP request, another ICMPv6 type, another ethertype): ignored, not counted.</summary>
    NotAnAnswer,

    /// <summary>Shorter than the headers it announces (a truncated frame).</summary>
    Truncated,

    /// <summary>Header fields a valid answer cannot have (ARP hardware/protocol types or lengths, IPv6 payload length, ICMPv6 code).</summary>
    Malformed,

    /// <summary>ICMPv6 checksum wrong.</summary>
    BadChecksum,

    /// <summary>An NA whose hop limit is not 255 (RFC 4861 7.1.2: it did not come from the link).</summary>
    BadHopLimit,
}

/// <summary>An answer to a split-brain probe: who (hardware address) claims <paramref name="Address"/>.</summary>
/// <param name="Address">The address answered for (ARP sender protocol address, NA target).</param>
/// <param name="Mac">The hardware address that claims it (ARP sender hardware address; NA target link-layer option, else the Ethernet source).</param>
public readonly record struct ProbeAnswer(IPAddress Address, byte[] Mac);

/// <summary>
/// Ethernet frames of the split-brain probe, built as <see cref="GratuitousFrames"/> builds GARP/NA: an ARP probe (RFC 5227
/// 2.1.1: sender protocol address 0.0.0.0, target protocol address the VIP, target hardware address zero) — a host
/// holding the VIP answers it with a unicast ARP reply to the prober, so nobody's ARP cache learns anything from it;
/// and a neighbour solicitation for the VIP to its solicited-node multicast group, from the prober's link-local address
/// with a source link-layer option — a host holding the VIP answers with a unicast NA (solicited, override). A DAD-style
/// NS (source ::) is used only when no link-local address is known: it is answered by an NA to all nodes, which other
/// hosts' caches take in. Answers are parsed from what a NIC delivers: minimum-size frames padded to 60 bytes are
/// accepted, short or inconsistent ones are refused with a reason.
/// </summary>
public static class ProbeFrames
{
    /// <summary>Length of an ARP probe (14 + 28; the NIC pads it to 60).</summary>
    public const int ArpProbeLength = 42;

    /// <summary>Length of a neighbour solicitation with a source link-layer option: 14 + 40 + 24 + 8.</summary>
    public const int NsLength = 86;

    /// <summary>Length of a DAD neighbour solicitation (source ::, no option): 14 + 40 + 24.</summary>
    public const int DadNsLength = 78;

    /// <summary>An ARP probe for <paramref name="vip"/> from <paramref name="sourceMac"/>, to broadcast.</summary>
    public static int WriteArpProbe(Span<byte> d, ReadOnlySpan<byte> sourceMac, IPAddress vip)
    {
        if (vip.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException("IPv4 address expected", nameof(vip));
        d = d[..ArpProbeLength];
        d.Clear();
        var a = GratuitousFrames.WriteArpRequest(d, sourceMac);
        // sender protocol address 0.0.0.0, target hardware address 0 (RFC 5227 2.1.1)
        vip.TryWriteBytes(a[24..28], out _);
        return ArpProbeLength;
    }

    /// <summary>The solicited-node multicast address of <paramref name="address"/> (ff02::1:ffXX:XXXX).</summary>
    public static IPAddress SolicitedNode(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        b.Clear();
        b[0] = 0xff;
        b[1] = 0x02;
        b[11] = 0x01;
        b[12] = 0xff;
        Span<byte> a = stackalloc byte[16];
        address.TryWriteBytes(a, out _);
        a[13..].CopyTo(b[13..]);
        return new IPAddress(b);
    }

    /// <summary>The Ethernet multicast address of an IPv6 multicast group (33:33 + its last 32 bits).</summary>
    public static byte[] MulticastMac(IPAddress group)
    {
        Span<byte> a = stackalloc byte[16];
        group.TryWriteBytes(a, out _);
        return [0x33, 0x33, a[12], a[13], a[14], a[15]];
    }

    /// <summary>
    /// A neighbour solicitation for <paramref name="vip"/> from <paramref name="source"/> (a link-local address of the
    /// prober, with a source link-layer option; <see cref="IPAddress.IPv6Any"/>: a DAD-style NS without it), hop limit 255.
    /// </summary>
    public static int WriteNeighborSolicitation(Span<byte> d, ReadOnlySpan<byte> sourceMac, IPAddress source, IPAddress vip)
    {
        if (vip.AddressFamily != AddressFamily.InterNetworkV6 || source.AddressFamily != AddressFamily.InterNetworkV6)
            throw new ArgumentException("IPv6 addresses expected", nameof(vip));
        var dad = source.Equals(IPAddress.IPv6Any);
        var icmpLength = dad ? 24 : 32;
        var total = 14 + 40 + icmpLength;
        d = d[..total];
        d.Clear();
        var group = SolicitedNode(vip);
        MulticastMac(group).CopyTo(d);
        sourceMac[..6].CopyTo(d[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(d[12..], 0x86dd);
        var ip = d[14..];
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)icmpLength);
        ip[6] = 58;
        ip[7] = 255;
        source.TryWriteBytes(ip[8..24], out _);
        group.TryWriteBytes(ip[24..40], out _);
        var icmp = ip[40..];
        icmp[0] = 135;
        vip.TryWriteBytes(icmp[8..24], out _);
        if (!dad)
        {
            icmp[24] = 1; // source link-layer address
            icmp[25] = 1;
            sourceMac[..6].CopyTo(icmp[26..]);
        }
        var sum = VrrpChecksum.PseudoHeader(source, group, icmpLength, 58);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], VrrpChecksum.Fold(VrrpChecksum.Add(sum, icmp[..icmpLength])));
        return total;
    }

    /// <summary>
    /// Reads one Ethernet frame as the probe socket delivers it (from the destination MAC on): an ARP reply, or an ICMPv6
    /// neighbour advertisement directly after the IPv6 header. Bytes after the announced length (Ethernet padding to 60
    /// bytes, a trailer) are ignored. False with <see cref="ProbeFrameDrop.NotAnAnswer"/> for frames that are no answer,
    /// with another reason for answers that are malformed.
    /// </summary>
    public static bool TryParseAnswer(ReadOnlySpan<byte> frame, out ProbeAnswer answer, out ProbeFrameDrop drop)
    {
        answer = default;
        drop = ProbeFrameDrop.NotAnAnswer;
        if (frame.Length < 14)
        {
            drop = ProbeFrameDrop.Truncated;
            return false;
        }
        var ethertype = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        var body = frame[14..];
        return ethertype switch
        {
            0x0806 => TryParseArp(body, out answer, out drop),
            0x86dd => TryParseNa(frame[6..12], body, out answer, out drop),
            _ => false,
        };
    }

    private static bool TryParseArp(ReadOnlySpan<byte> a, out ProbeAnswer answer, out ProbeFrameDrop drop)
    {
        answer = default;
        drop = ProbeFrameDrop.NotAnAnswer;
        if (a.Length < 8)
        {
            drop = ProbeFrameDrop.Truncated;
            return false;
        }
        if (BinaryPrimitives.ReadUInt16BigEndian(a[6..]) != 2)
            return false; // a request (probes, GARPs, resolution): not an answer
        if (BinaryPrimitives.ReadUInt16BigEndian(a) != 1 || BinaryPrimitives.ReadUInt16BigEndian(a[2..]) != 0x0800 || a[4] != 6 || a[5] != 4)
        {
            drop = ProbeFrameDrop.Malformed;
            return false;
        }
        if (a.Length < 28)
        {
            drop = ProbeFrameDrop.Truncated;
            return false;
        }
        answer = new ProbeAnswer(new IPAddress(a.Slice(14, 4)), a.Slice(8, 6).ToArray());
        return true;
    }

    private static bool TryParseNa(ReadOnlySpan<byte> ethernetSource, ReadOnlySpan<byte> ip, out ProbeAnswer answer, out ProbeFrameDrop drop)
    {
        answer = default;
        drop = ProbeFrameDrop.NotAnAnswer;
        if (ip.Length < 40)
        {
            drop = ProbeFrameDrop.Truncated;
            return false;
        }
        if (ip[0] >> 4 != 6 || ip[6] != 58)
            return false; // another protocol (or extension headers): not an answer of ours
        if (ip.Length < 41)
        {
            drop = ProbeFrameDrop.Truncated;
            return false;
        }
        if (ip[40] != 136)
            return false;
        var payload = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if (payload < 24)
        {
            drop = ProbeFrameDrop.Malformed;
            return false;
        }
        if (ip.Length < 40 + payload)
        {
            drop = ProbeFrameDrop.Truncated;
            return false;
        }
        var icmp = ip.Slice(40, payload);
        if (icmp[1] != 0)
        {
            drop = ProbeFrameDrop.Malformed;
            return false;
        }
        if (ip[7] != 255)
        {
            drop = ProbeFrameDrop.BadHopLimit;
            return false;
        }
        var source = new IPAddress(ip.Slice(8, 16));
        var destination = new IPAddress(ip.Slice(24, 16));
        var sum = VrrpChecksum.PseudoHeader(source, destination, payload, 58);
        if (VrrpChecksum.Fold(VrrpChecksum.Add(sum, icmp)) != 0)
        {
            drop = ProbeFrameDrop.BadChecksum;
            return false;
        }
        var mac = ethernetSource.ToArray();
        var options = icmp[24..];
        while (options.Length >= 2)
        {
            var len = options[1] * 8;
            if (len == 0 || len > options.Length)
            {
                drop = ProbeFrameDrop.Malformed; // RFC 4861 7.1.2: an option of length 0 invalidates the message
                return false;
            }
            if (options[0] == 2 && len >= 8)
                mac = options.Slice(2, 6).ToArray();
            options = options[len..];
        }
        answer = new ProbeAnswer(new IPAddress(icmp.Slice(8, 16)), mac);
        return true;
    }
}
