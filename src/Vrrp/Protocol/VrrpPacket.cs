using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Options;

namespace Lb.Vrrp.Protocol;

/// <summary>IPv4 header facts of a received datagram.</summary>
/// <param name="Source">Source address.</param>
/// <param name="Destination">Destination address.</param>
/// <param name="Ttl">TTL.</param>
/// <param name="Protocol">IP protocol (112 VRRP, 51 AH).</param>
public readonly record struct Ipv4HeaderInfo(IPAddress Source, IPAddress Destination, int Ttl, int Protocol);

/// <summary>
/// A VRRP advertisement: VRRPv2 (RFC 3768, with the 8-byte authentication data) or VRRPv3 (RFC 5798,
/// centisecond Max Adver Int, checksum over the IPv4/IPv6 pseudo-header). Parsing never reads out of
/// bounds and reports why a packet is refused.
/// </summary>
public sealed class VrrpPacket
{
    /// <summary>VRRP header length (common to v2 and v3).</summary>
    public const int HeaderLength = 8;

    /// <summary>Length of the VRRPv2 authentication data.</summary>
    public const int AuthDataLength = 8;

    /// <summary>IPv4 header length Lb sends (no options).</summary>
    public const int Ipv4HeaderLength = 20;

    /// <summary>IP TOS keepalived sets on adverts (internetwork control).</summary>
    public const byte IpTos = 0xc0;

    /// <summary>VRRP version, 2 or 3.</summary>
    public int Version { get; init; } = 2;

    /// <summary>VRRP packet type (1 = ADVERTISEMENT).</summary>
    public int Type { get; init; } = 1;

    /// <summary>Virtual router id.</summary>
    public byte VirtualRouterId { get; init; }

    /// <summary>Priority (0 = master stopping, 255 = address owner).</summary>
    public byte Priority { get; init; }

    /// <summary>VRRPv2 authentication type.</summary>
    public VrrpAuthType AuthType { get; init; }

    /// <summary>Raw VRRPv2 auth type byte (may be an invalid value on received packets).</summary>
    public byte RawAuthType { get; init; }

    /// <summary>Advertisement interval in centiseconds (VRRPv2: seconds × 100).</summary>
    public int AdvertIntervalCentiseconds { get; init; } = 100;

    /// <summary>Checksum as received or written.</summary>
    public ushort Checksum { get; internal set; }

    /// <summary>Address family of the addresses (IPv4 or IPv6).</summary>
    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;

    /// <summary>The virtual addresses carried.</summary>
    public IReadOnlyList<IPAddress> Addresses { get; init; } = [];

    /// <summary>VRRPv2 authentication data (8 bytes; the password zero-padded for PASS).</summary>
    public ReadOnlyMemory<byte> AuthData { get; init; } = new byte[AuthDataLength];

    /// <summary>Set on a received VRRPv3 IPv4 packet whose checksum left out the pseudo-header (<c>v3_checksum_as_v2</c> peers).</summary>
    public bool ChecksumWithoutPseudoHeader { get; init; }

    /// <summary>The IPsec AH header of a received advert that came with one (IPv4 protocol 51), else null.</summary>
    public VrrpAhHeader? Ah { get; internal set; }

    /// <summary>A received AH advert's whole IPv4 datagram (to its total length): what its ICV is checked over.</summary>
    public ReadOnlyMemory<byte> AhDatagram { get; internal set; }

    /// <summary>To send: wrap the message in an IPsec AH header signed with these (<see cref="VrrpAh"/>); null sends plain VRRP.</summary>
    public VrrpAhSigning? AhSigning { get; init; }

    /// <summary>The advertisement interval.</summary>
    public TimeSpan AdvertInterval => TimeSpan.FromMilliseconds(AdvertIntervalCentiseconds * 10L);

    private int AddressSize => Family == AddressFamily.InterNetworkV6 ? 16 : 4;

    private bool HasAuthData => Version == 2 && Family == AddressFamily.InterNetwork;

    /// <summary>Length of the VRRP message.</summary>
    public int Length => HeaderLength + (Addresses.Count * AddressSize) + (HasAuthData ? AuthDataLength : 0);

    /// <summary>Builds the 8 authentication bytes for a PASS password (first 8 bytes, zero padded).</summary>
    public static byte[] PasswordBytes(string password)
    {
        var data = new byte[AuthDataLength];
        var bytes = System.Text.Encoding.UTF8.GetBytes(password);
        bytes.AsSpan(0, Math.Min(bytes.Length, AuthDataLength)).CopyTo(data);
        return data;
    }

    /// <summary>
    /// Writes the VRRP message into <paramref name="destination"/> and returns its length.
    /// For VRRPv3 the checksum covers the pseudo-header built from <paramref name="source"/> and
    /// <paramref name="ipDestination"/> unless <paramref name="v3ChecksumAsV2"/> (or the family is IPv4 and they are null).
    /// </summary>
    public int WriteTo(Span<byte> destination, IPAddress? source = null, IPAddress? ipDestination = null, bool v3ChecksumAsV2 = false)
    {
        var len = Length;
        if (destination.Length < len)
            throw new ArgumentException("buffer too small", nameof(destination));
        var d = destination[..len];
        d.Clear();
        d[0] = (byte)((Version << 4) | (Type & 0x0f));
        d[1] = VirtualRouterId;
        d[2] = Priority;
        d[3] = (byte)Addresses.Count;
        if (Version == 2)
        {
            d[4] = (byte)AuthType;
            d[5] = (byte)Math.Clamp(AdvertIntervalCentiseconds / 100, 0, 255);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(d.Slice(4, 2), (ushort)(AdvertIntervalCentiseconds & 0x0fff));
        }
        var off = HeaderLength;
        foreach (var a in Addresses)
        {
            if (!a.TryWriteBytes(d.Slice(off, AddressSize), out var w) || w != AddressSize)
                throw new InvalidOperationException($"address {a} is not of family {Family}");
            off += AddressSize;
        }
        if (HasAuthData)
            AuthData.Span[..Math.Min(AuthData.Length, AuthDataLength)].CopyTo(d.Slice(off, AuthDataLength));
        uint sum = 0;
        if (Version == 3 && !(v3ChecksumAsV2 && Family == AddressFamily.InterNetwork))
        {
            if (source is null || ipDestination is null)
                throw new ArgumentException("VRRPv3 checksum needs the IP source and destination");
            sum = VrrpChecksum.PseudoHeader(source, ipDestination, len, VrrpDefaults.IpProtocol);
        }
        var ck = VrrpChecksum.Fold(VrrpChecksum.Add(sum, d));
        BinaryPrimitives.WriteUInt16BigEndian(d.Slice(6, 2), ck);
        Checksum = ck;
        return len;
    }

    /// <summary>
    /// Writes a full IPv4 datagram (20-byte header, TOS 0xc0, DF clear, protocol 112) around the message; with
    /// <see cref="AhSigning"/>, protocol 51 and the AH header before the message (IP id from the sequence number, <paramref name="id"/> unused).
    /// </summary>
    public int WriteIpv4Datagram(Span<byte> destination, IPAddress source, IPAddress ipDestination, byte ttl = 255, ushort id = 0, bool v3ChecksumAsV2 = false)
    {
        if (AhSigning is { } ah)
            return VrrpAh.WriteIpv4Datagram(this, destination, source, ipDestination, ttl, VrrpAh.IpId(ah.SequenceNumber), ah);
        var total = Ipv4HeaderLength + Length;
        if (destination.Length < total)
            throw new ArgumentException("buffer too small", nameof(destination));
        WriteIpv4Header(destination, source, ipDestination, total, ttl, id, VrrpDefaults.IpProtocol);
        WriteTo(destination[Ipv4HeaderLength..], source, ipDestination, v3ChecksumAsV2);
        return total;
    }

    /// <summary>Writes a 20-byte IPv4 header with its checksum.</summary>
    public static void WriteIpv4Header(Span<byte> d, IPAddress source, IPAddress destination, int totalLength, byte ttl, ushort id, byte protocol)
    {
        var h = d[..Ipv4HeaderLength];
        h.Clear();
        h[0] = 0x45;
        h[1] = IpTos;
        BinaryPrimitives.WriteUInt16BigEndian(h.Slice(2, 2), (ushort)totalLength);
        BinaryPrimitives.WriteUInt16BigEndian(h.Slice(4, 2), id);
        h[8] = ttl;
        h[9] = protocol;
        source.TryWriteBytes(h.Slice(12, 4), out _);
        destination.TryWriteBytes(h.Slice(16, 4), out _);
        BinaryPrimitives.WriteUInt16BigEndian(h.Slice(10, 2), VrrpChecksum.Fold(VrrpChecksum.Add(0, h)));
    }

    /// <summary>Parses a full IPv6 packet (fixed header, next header 112; extension headers are refused).</summary>
    public static bool TryParseIpv6(ReadOnlySpan<byte> datagram, out VrrpPacket? packet, out Ipv4HeaderInfo ip, out VrrpDropReason reason)
    {
        packet = null;
        ip = default;
        if (datagram.Length < 40)
        {
            reason = VrrpDropReason.Truncated;
            return false;
        }
        if ((datagram[0] >> 4) != 6)
        {
            reason = VrrpDropReason.BadIpHeader;
            return false;
        }
        var payload = BinaryPrimitives.ReadUInt16BigEndian(datagram.Slice(4, 2));
        if (40 + payload > datagram.Length)
        {
            reason = VrrpDropReason.Truncated;
            return false;
        }
        ip = new Ipv4HeaderInfo(new IPAddress(datagram.Slice(8, 16)), new IPAddress(datagram.Slice(24, 16)), datagram[7], datagram[6]);
        if (ip.Protocol != VrrpDefaults.IpProtocol)
        {
            reason = VrrpDropReason.NotVrrp;
            return false;
        }
        return TryParse(datagram.Slice(40, payload), AddressFamily.InterNetworkV6, ip.Source, ip.Destination, out packet, out reason);
    }

    /// <summary>Writes a full IPv6 packet (hop limit <paramref name="hopLimit"/>, next header 112) around the message.</summary>
    public int WriteIpv6Packet(Span<byte> destination, IPAddress source, IPAddress ipDestination, byte hopLimit = 255)
    {
        var len = Length;
        if (destination.Length < 40 + len)
            throw new ArgumentException("buffer too small", nameof(destination));
        var h = destination[..40];
        h.Clear();
        h[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(h.Slice(4, 2), (ushort)len);
        h[6] = VrrpDefaults.IpProtocol;
        h[7] = hopLimit;
        source.TryWriteBytes(h.Slice(8, 16), out _);
        ipDestination.TryWriteBytes(h.Slice(24, 16), out _);
        WriteTo(destination[40..], source, ipDestination);
        return 40 + len;
    }

    /// <summary>Parses a full IPv4 datagram (as a raw IPv4 socket delivers it).</summary>
    public static bool TryParseIpv4(ReadOnlySpan<byte> datagram, out VrrpPacket? packet, out Ipv4HeaderInfo ip, out VrrpDropReason reason)
    {
        packet = null;
        ip = default;
        if (datagram.Length < Ipv4HeaderLength)
        {
            reason = VrrpDropReason.Truncated;
            return false;
        }
        var ihl = (datagram[0] & 0x0f) * 4;
        if ((datagram[0] >> 4) != 4 || ihl < Ipv4HeaderLength || ihl > datagram.Length)
        {
            reason = VrrpDropReason.BadIpHeader;
            return false;
        }
        // A physical NIC pads a frame to Ethernet's 60-byte minimum, and AF_PACKET hands the padding over:
        // a short advert arrives with trailing bytes beyond the IP total length. The IP header is the truth.
        var total = BinaryPrimitives.ReadUInt16BigEndian(datagram.Slice(2, 2));
        if (total > datagram.Length)
        {
            reason = VrrpDropReason.Truncated;
            return false;
        }
        if (total < ihl)
        {
            reason = VrrpDropReason.BadIpHeader;
            return false;
        }
        datagram = datagram[..total];
        ip = new Ipv4HeaderInfo(new IPAddress(datagram.Slice(12, 4)), new IPAddress(datagram.Slice(16, 4)), datagram[8], datagram[9]);
        if (ip.Protocol == VrrpAh.IpProtocol)
            return TryParseAh(datagram, ihl, ip, out packet, out reason);
        if (ip.Protocol != VrrpDefaults.IpProtocol)
        {
            reason = VrrpDropReason.NotVrrp;
            return false;
        }
        return TryParse(datagram[ihl..], AddressFamily.InterNetwork, ip.Source, ip.Destination, out packet, out reason);
    }

    /// <summary>
    /// An IPv4 datagram with an AH header (keepalived: "IPv4 VRRP packet with AH too short"): the fixed 24-byte header
    /// keepalived sends, then the VRRP message. An AH header for another protocol is not VRRP (keepalived ignores it).
    /// The ICV is checked later, by the instance that owns the VRID (its key, its unicast TTL rule).
    /// </summary>
    private static bool TryParseAh(ReadOnlySpan<byte> datagram, int ihl, Ipv4HeaderInfo ip, out VrrpPacket? packet, out VrrpDropReason reason)
    {
        packet = null;
        if (datagram.Length < ihl + VrrpAh.HeaderLength + HeaderLength)
        {
            reason = VrrpDropReason.Truncated;
            return false;
        }
        var ah = VrrpAh.ReadHeader(datagram[ihl..]);
        if (ah.NextHeader != VrrpDefaults.IpProtocol)
        {
            reason = VrrpDropReason.NotVrrp;
            return false;
        }
        if (!TryParse(datagram[(ihl + VrrpAh.HeaderLength)..], AddressFamily.InterNetwork, ip.Source, ip.Destination, out packet, out reason))
            return false;
        packet!.Ah = ah;
        packet.AhDatagram = datagram.ToArray();
        return true;
    }

    /// <summary>
    /// Parses a VRRP message (the IP payload). <paramref name="source"/> and <paramref name="destination"/>
    /// are the IP addresses, needed for the VRRPv3 pseudo-header checksum. A VRRPv3 IPv4 message whose
    /// checksum leaves out the pseudo-header is accepted and flagged (<see cref="ChecksumWithoutPseudoHeader"/>).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, AddressFamily family, IPAddress source, IPAddress destination, out VrrpPacket? packet, out VrrpDropReason reason)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        packet = null;
        if (data.Length < HeaderLength)
        {
            reason = VrrpDropReason.Truncated;
            return false;
        }
        var version = data[0] >> 4;
        if (version is not (2 or 3))
        {
            reason = VrrpDropReason.BadVersion;
            return false;
        }
        if ((data[0] & 0x0f) != 1)
        {
            reason = VrrpDropReason.BadType;
            return false;
        }
        var count = data[3];
        var addrSize = family == AddressFamily.InterNetworkV6 ? 16 : 4;
        var hasAuth = version == 2 && family == AddressFamily.InterNetwork;
        var expected = HeaderLength + (count * addrSize) + (hasAuth ? AuthDataLength : 0);
        if (expected != data.Length)
        {
            reason = expected > data.Length ? VrrpDropReason.BadLength : VrrpDropReason.BadLength;
            return false;
        }
        var withoutPseudo = false;
        if (version == 2)
        {
            if (VrrpChecksum.Fold(VrrpChecksum.Add(0, data)) != 0)
            {
                reason = VrrpDropReason.BadChecksum;
                return false;
            }
        }
        else
        {
            var ph = VrrpChecksum.PseudoHeader(source, destination, data.Length, VrrpDefaults.IpProtocol);
            if (VrrpChecksum.Fold(VrrpChecksum.Add(ph, data)) != 0)
            {
                if (family == AddressFamily.InterNetwork && VrrpChecksum.Fold(VrrpChecksum.Add(0, data)) == 0)
                {
                    withoutPseudo = true;
                }
                else
                {
                    reason = VrrpDropReason.BadChecksum;
                    return false;
                }
            }
        }
        var rawAuth = version == 2 ? data[4] : (byte)0;
        if (version == 2 && rawAuth > 2)
        {
            reason = VrrpDropReason.InvalidAuthType;
            return false;
        }
        var addrs = new IPAddress[count];
        for (var i = 0; i < count; i++)
            addrs[i] = new IPAddress(data.Slice(HeaderLength + (i * addrSize), addrSize));
        packet = new VrrpPacket
        {
            Version = version,
            Type = 1,
            VirtualRouterId = data[1],
            Priority = data[2],
            RawAuthType = rawAuth,
            AuthType = (VrrpAuthType)rawAuth,
            AdvertIntervalCentiseconds = version == 2 ? data[5] * 100 : BinaryPrimitives.ReadUInt16BigEndian(data.Slice(4, 2)) & 0x0fff,
            Checksum = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(6, 2)),
            Family = family,
            Addresses = addrs,
            AuthData = hasAuth ? data.Slice(data.Length - AuthDataLength, AuthDataLength).ToArray() : new byte[AuthDataLength],
            ChecksumWithoutPseudoHeader = withoutPseudo,
        };
        reason = VrrpDropReason.None;
        return true;
    }
}
