using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;

namespace Lb.Fuzz;

/// <summary>
/// The VRRP decoder: <see cref="VrrpPacket.TryParseIpv4"/>, <see cref="VrrpPacket.TryParseIpv6"/> and
/// <see cref="VrrpPacket.TryParse"/>. The first input byte picks the entry point and whether the harness fixes the VRRP
/// checksum first (so the fuzzer gets past it); a refused packet must return false with a reason, and an accepted one
/// must encode again and parse back to the same advertisement.
/// </summary>
internal sealed class VrrpTarget : IFuzzTarget
{
    private static readonly IPAddress Src4 = IPAddress.Parse("192.0.2.1"), Dst4 = IPAddress.Parse("224.0.0.18");
    private static readonly IPAddress Src6 = IPAddress.Parse("fe80::1"), Dst6 = IPAddress.Parse("ff02::12");

    public void Warmup(string work) => Run(new byte[64], work);

    public void Run(byte[] input, string work)
    {
        if (input.Length == 0)
            return;
        var mode = input[0];
        var data = input.AsSpan(1).ToArray();
        var fix = (mode & 4) != 0;
        VrrpPacket? packet;
        VrrpDropReason reason;
        IPAddress src, dst;
        switch (mode & 3)
        {
            case 0:
                if (fix && data.Length >= 20)
                    FixChecksum(data.AsSpan(Math.Min((data[0] & 0x0f) * 4, data.Length)), new IPAddress(data.AsSpan(12, 4)), new IPAddress(data.AsSpan(16, 4)));
                _ = VrrpPacket.TryParseIpv4(data, out packet, out var ip4, out reason);
                (src, dst) = (ip4.Source ?? Src4, ip4.Destination ?? Dst4);
                break;
            case 1:
                if (fix && data.Length >= 40 && 40 + BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(4, 2)) <= data.Length)
                    FixChecksum(data.AsSpan(40, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(4, 2))), new IPAddress(data.AsSpan(8, 16)), new IPAddress(data.AsSpan(24, 16)));
                _ = VrrpPacket.TryParseIpv6(data, out packet, out var ip6, out reason);
                (src, dst) = (ip6.Source ?? Src6, ip6.Destination ?? Dst6);
                break;
            case 2:
                if (fix)
                    FixChecksum(data, Src4, Dst4);
                _ = VrrpPacket.TryParse(data, AddressFamily.InterNetwork, Src4, Dst4, out packet, out reason);
                (src, dst) = (Src4, Dst4);
                break;
            default:
                if (fix)
                    FixChecksum(data, Src6, Dst6);
                _ = VrrpPacket.TryParse(data, AddressFamily.InterNetworkV6, Src6, Dst6, out packet, out reason);
                (src, dst) = (Src6, Dst6);
                break;
        }
        if (packet is null)
        {
            if (reason == VrrpDropReason.None)
                throw new InvalidOperationException("refused packet without a reason");
            return;
        }
        if (reason != VrrpDropReason.None)
            throw new InvalidOperationException($"accepted packet with drop reason {reason}");

        // Round trip: what was accepted must encode and parse back to the same advertisement.
        var buffer = new byte[packet.Length];
        packet.WriteTo(buffer, src, dst, v3ChecksumAsV2: packet.ChecksumWithoutPseudoHeader);
        if (!VrrpPacket.TryParse(buffer, packet.Family, src, dst, out var again, out var againReason))
            throw new InvalidOperationException($"re-encoded packet refused: {againReason}");
        if (again!.VirtualRouterId != packet.VirtualRouterId || again.Priority != packet.Priority || again.Version != packet.Version
            || again.AdvertIntervalCentiseconds != packet.AdvertIntervalCentiseconds || !again.Addresses.SequenceEqual(packet.Addresses))
            throw new InvalidOperationException("re-encoded packet differs");
    }

    /// <summary>Writes a valid VRRP checksum (v2 plain, v3 with the pseudo-header) into a message, when it is long enough.</summary>
    private static void FixChecksum(Span<byte> vrrp, IPAddress source, IPAddress destination)
    {
        if (vrrp.Length < VrrpPacket.HeaderLength)
            return;
        vrrp[6] = 0;
        vrrp[7] = 0;
        var sum = (vrrp[0] >> 4) == 3 ? VrrpChecksum.PseudoHeader(source, destination, vrrp.Length, VrrpDefaults.IpProtocol) : 0u;
        BinaryPrimitives.WriteUInt16BigEndian(vrrp.Slice(6, 2), VrrpChecksum.Fold(VrrpChecksum.Add(sum, vrrp)));
    }
}
