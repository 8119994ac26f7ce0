namespace Lb.Vrrp.Protocol;

/// <summary>Why a received advertisement was dropped. Each reason has its own counter (<see cref="VrrpDropCounters"/>).</summary>
public enum VrrpDropReason
{
    /// <summary>Not dropped.</summary>
    None = 0,

    /// <summary>Shorter than the IP header or the VRRP header (keepalived: "ip/vrrp header too short").</summary>
    Truncated,

    /// <summary>The IP header is malformed (version, IHL, total length).</summary>
    BadIpHeader,

    /// <summary>The IP protocol is neither VRRP (112) nor AH (51).</summary>
    NotVrrp,

    /// <summary>TTL / hop limit is not 255 (or outside the unicast peer's min_ttl..max_ttl).</summary>
    BadTtl,

    /// <summary>VRRP version is neither 2 nor 3, or not the instance's version.</summary>
    BadVersion,

    /// <summary>VRRP type is not 1 (ADVERTISEMENT).</summary>
    BadType,

    /// <summary>The address count does not fit in the packet (oversize count) or the length does not match it.</summary>
    BadLength,

    /// <summary>The checksum is wrong.</summary>
    BadChecksum,

    /// <summary>No instance on this socket has this VRID.</summary>
    UnknownVrid,

    /// <summary>Invalid authentication type (not 0, 1 or 2).</summary>
    InvalidAuthType,

    /// <summary>Authentication type differs from ours.</summary>
    AuthTypeMismatch,

    /// <summary>Wrong password.</summary>
    AuthFailure,

    /// <summary>IPsec AH: the ICV is not the one our <c>auth_pass</c> gives (keepalived: "invalid IPSEC HMAC-MD5 value … bad password"; its auth_failure).</summary>
    AhIcvMismatch,

    /// <summary>IPsec AH: the SPI is not the IP source address (keepalived: "invalid IPSEC SPI value"; its auth_failure).</summary>
    AhSpiMismatch,

    /// <summary>IPsec AH: the sequence number is not above the last one processed (keepalived: "sequence number … already processed"; its auth_failure).</summary>
    AhSequenceReplay,

    /// <summary>VRRPv2 advertisement interval differs from ours.</summary>
    AdvertIntervalMismatch,

    /// <summary>Number of addresses differs from ours.</summary>
    AddressCountMismatch,

    /// <summary>An address of ours is missing from the advert.</summary>
    AddressListMismatch,

    /// <summary>Unicast source is not a configured peer.</summary>
    NotUnicastPeer,

    /// <summary>The advert comes from one of our own addresses (our own packet looped back).</summary>
    OwnPacket,

    /// <summary>Address family differs from the instance's.</summary>
    WrongFamily,
}
