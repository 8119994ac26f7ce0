using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using Lb.Vrrp.Options;

namespace Lb.Vrrp.Protocol;

/// <summary>
/// The IPsec AH header (RFC 2402) of a received VRRPv2 advert, as keepalived 2.2.7 sends it: next header 112,
/// payload length 4 (24 bytes), the SPI = the sender's IPv4 source address, a sequence number, a 96-bit ICV.
/// </summary>
/// <param name="NextHeader">Next header (112 for VRRP).</param>
/// <param name="PayloadLength">AH payload length in 32-bit words minus 2 (4 for a 96-bit ICV).</param>
/// <param name="Spi">Security parameter index, as the 4 bytes on the wire read big-endian.</param>
/// <param name="SequenceNumber">Sequence number.</param>
public readonly record struct VrrpAhHeader(byte NextHeader, byte PayloadLength, uint Spi, uint SequenceNumber);

/// <summary>What the sender of an AH advert needs: the key (<c>auth_pass</c>, 8 bytes zero padded), the sequence number the state machine chose, and whether the TTL is left out of the ICV (unicast).</summary>
/// <param name="Key">The HMAC key: keepalived's 8-byte <c>auth_data</c>.</param>
/// <param name="SequenceNumber">The AH sequence number of this advert.</param>
/// <param name="ZeroTtl">True for unicast adverts: the TTL is a mutable field of the ICV.</param>
public sealed record VrrpAhSigning(ReadOnlyMemory<byte> Key, uint SequenceNumber, bool ZeroTtl);

/// <summary>
/// keepalived's VRRPv2 IPsec AH authentication (vrrp.c <c>vrrp_build_ipsecah</c>, <c>vrrp_update_pkt</c>,
/// <c>vrrp_in_chk_ipsecah</c>; vrrp_ipsecah.c <c>hmac_md5</c>): IPv4 protocol 51, the 24-byte AH header between the IP
/// header and the VRRP message, ICV = HMAC-MD5 keyed with the 8-byte password over the whole datagram with the IP
/// header's TOS, fragment field and checksum (and, for unicast, the TTL) zeroed and the ICV itself zeroed, truncated to
/// 96 bits. The VRRP message keeps auth type 2 and eight zero bytes of authentication data.
/// </summary>
public static class VrrpAh
{
    /// <summary>IP protocol number of AH.</summary>
    public const byte IpProtocol = 51;

    /// <summary>AH header length with a 96-bit ICV.</summary>
    public const int HeaderLength = 24;

    /// <summary>ICV length (HMAC-MD5 truncated to 96 bits).</summary>
    public const int IcvLength = 12;

    /// <summary>Offset of the ICV inside the AH header.</summary>
    public const int IcvOffset = 12;

    /// <summary>The AH payload length field for a 96-bit ICV: (12 + 12) / 4 − 2.</summary>
    public const byte PayloadLength = 4;

    /// <summary>Reads the AH header at the start of <paramref name="ah"/> (at least <see cref="HeaderLength"/> bytes).</summary>
    public static VrrpAhHeader ReadHeader(ReadOnlySpan<byte> ah) => new(ah[0], ah[1], BinaryPrimitives.ReadUInt32BigEndian(ah.Slice(4, 4)), BinaryPrimitives.ReadUInt32BigEndian(ah.Slice(8, 4)));

    /// <summary>
    /// Computes the 96-bit ICV of <paramref name="datagram"/> (a whole IPv4 datagram, header of any IHL, AH header
    /// right after it, total length = its length) into <paramref name="icv"/>. The datagram itself is not modified.
    /// </summary>
    public static void ComputeIcv(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> key, bool zeroTtl, Span<byte> icv)
    {
        var ihl = (datagram[0] & 0x0f) * 4;
        if (ihl < VrrpPacket.Ipv4HeaderLength || datagram.Length < ihl + HeaderLength)
            throw new ArgumentException("not an IPv4 datagram with an AH header", nameof(datagram));
        if (icv.Length < IcvLength)
            throw new ArgumentException("ICV buffer too small", nameof(icv));
        Span<byte> copy = datagram.Length <= 2048 ? stackalloc byte[datagram.Length] : new byte[datagram.Length];
        datagram.CopyTo(copy);
        copy[1] = 0; // TOS
        copy[6] = 0; // flags + fragment offset
        copy[7] = 0;
        copy[10] = 0; // header checksum
        copy[11] = 0;
        if (zeroTtl)
            copy[8] = 0;
        copy.Slice(ihl + IcvOffset, IcvLength).Clear();
        Span<byte> digest = stackalloc byte[16];
        HMACMD5.HashData(key, copy, digest);
        digest[..IcvLength].CopyTo(icv);
    }

    /// <summary>True when the ICV carried in <paramref name="datagram"/> is the one <paramref name="key"/> gives (constant-time comparison).</summary>
    public static bool VerifyIcv(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> key, bool zeroTtl)
    {
        var ihl = (datagram[0] & 0x0f) * 4;
        Span<byte> icv = stackalloc byte[IcvLength];
        ComputeIcv(datagram, key, zeroTtl, icv);
        return CryptographicOperations.FixedTimeEquals(icv, datagram.Slice(ihl + IcvOffset, IcvLength));
    }

    /// <summary>The SPI keepalived puts in its adverts: the IPv4 source address's 4 bytes.</summary>
    public static uint SpiOf(IPAddress source)
    {
        Span<byte> b = stackalloc byte[4];
        source.TryWriteBytes(b, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(b);
    }

    /// <summary>
    /// Writes <paramref name="packet"/> as an IPv4 datagram with the AH header (protocol 51, IP id <paramref name="id"/>,
    /// which must not be 0 — the kernel would replace it after the ICV was computed) and returns its length.
    /// </summary>
    public static int WriteIpv4Datagram(VrrpPacket packet, Span<byte> destination, IPAddress source, IPAddress ipDestination, byte ttl, ushort id, VrrpAhSigning signing)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentNullException.ThrowIfNull(signing);
        var total = VrrpPacket.Ipv4HeaderLength + HeaderLength + packet.Length;
        if (destination.Length < total)
            throw new ArgumentException("buffer too small", nameof(destination));
        var d = destination[..total];
        VrrpPacket.WriteIpv4Header(d, source, ipDestination, total, ttl, id, IpProtocol);
        var ah = d.Slice(VrrpPacket.Ipv4HeaderLength, HeaderLength);
        ah.Clear();
        ah[0] = (byte)VrrpDefaults.IpProtocol;
        ah[1] = PayloadLength;
        BinaryPrimitives.WriteUInt32BigEndian(ah.Slice(4, 4), SpiOf(source));
        BinaryPrimitives.WriteUInt32BigEndian(ah.Slice(8, 4), signing.SequenceNumber);
        packet.WriteTo(d[(VrrpPacket.Ipv4HeaderLength + HeaderLength)..], source, ipDestination);
        ComputeIcv(d, signing.Key.Span, signing.ZeroTtl, ah.Slice(IcvOffset, IcvLength));
        return total;
    }

    /// <summary>The IP identification of an AH advert: the low 16 bits of its sequence number, never 0 (keepalived counts 1, 2, … per advert).</summary>
    public static ushort IpId(uint sequenceNumber) => (ushort)sequenceNumber is 0 ? (ushort)1 : (ushort)sequenceNumber;
}
