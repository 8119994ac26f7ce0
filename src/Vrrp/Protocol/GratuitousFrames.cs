using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Lb.Vrrp.Protocol;

/// <summary>Ethernet frames for gratuitous ARP (IPv4) and unsolicited neighbour advertisement (IPv6), as keepalived sends them.</summary>
public static class GratuitousFrames
{
    /// <summary>Ethernet broadcast.</summary>
    public static readonly byte[] Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

    /// <summary>33:33:00:00:00:01, the MAC of ff02::1.</summary>
    public static readonly byte[] AllNodesMac = [0x33, 0x33, 0, 0, 0, 1];

    /// <summary>ff02::1.</summary>
    public static readonly IPAddress AllNodes = IPAddress.Parse("ff02::1");

    /// <summary>Length of a gratuitous ARP frame (14 + 28; the NIC pads it).</summary>
    public const int ArpFrameLength = 42;

    /// <summary>Length of an unsolicited NA frame: 14 + 40 + 32.</summary>
    public const int NaFrameLength = 86;

    /// <summary>
    /// The broadcast Ethernet header and the fixed part of an ARP request from <paramref name="sourceMac"/> (Ethernet/IPv4,
    /// opcode 1, sender hardware address); returns the ARP payload for the caller's protocol and target addresses.
    /// </summary>
    internal static Span<byte> WriteArpRequest(Span<byte> d, ReadOnlySpan<byte> sourceMac)
    {
        Broadcast.CopyTo(d);
        sourceMac[..6].CopyTo(d[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(d[12..], 0x0806);
        var a = d[14..];
        BinaryPrimitives.WriteUInt16BigEndian(a, 1); // Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(a[2..], 0x0800);
        a[4] = 6;
        a[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(a[6..], 1); // request
        sourceMac[..6].CopyTo(a[8..]);
        return a;
    }

    /// <summary>A gratuitous ARP request (keepalived sends requests): sender and target protocol address the VIP, target hardware broadcast.</summary>
    public static int WriteGratuitousArp(Span<byte> d, ReadOnlySpan<byte> sourceMac, IPAddress vip)
    {
        d = d[..ArpFrameLength];
        var a = WriteArpRequest(d, sourceMac);
        vip.TryWriteBytes(a[14..18], out _);
        Broadcast.CopyTo(a[18..]);
        vip.TryWriteBytes(a[24..28], out _);
        return ArpFrameLength;
    }

    /// <summary>An unsolicited neighbour advertisement (RFC 4861 7.2.6): from the VIP to ff02::1, hop limit 255, Override set, target link-layer option.</summary>
    public static int WriteUnsolicitedNa(Span<byte> d, ReadOnlySpan<byte> sourceMac, IPAddress vip, bool router = false)
    {
        if (vip.AddressFamily != AddressFamily.InterNetworkV6)
            throw new ArgumentException("IPv6 address expected", nameof(vip));
        d = d[..NaFrameLength];
        d.Clear();
        AllNodesMac.CopyTo(d);
        sourceMac[..6].CopyTo(d[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(d[12..], 0x86dd);
        var ip = d[14..];
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 32);
        ip[6] = 58;
        ip[7] = 255;
        vip.TryWriteBytes(ip[8..24], out _);
        AllNodes.TryWriteBytes(ip[24..40], out _);
        var icmp = ip[40..];
        icmp[0] = 136;
        icmp[1] = 0;
        icmp[4] = (byte)((router ? 0x80 : 0) | 0x20); // R, S=0, O=1
        vip.TryWriteBytes(icmp[8..24], out _);
        icmp[24] = 2; // target link-layer address
        icmp[25] = 1;
        sourceMac[..6].CopyTo(icmp[26..]);
        var sum = VrrpChecksum.PseudoHeader(vip, AllNodes, 32, 58);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], VrrpChecksum.Fold(VrrpChecksum.Add(sum, icmp[..32])));
        return NaFrameLength;
    }
}
