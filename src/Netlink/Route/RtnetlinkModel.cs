using System.Net;
using System.Net.NetworkInformation;
using static Lb.Netlink.Route.RtnetlinkConstants;

namespace Lb.Netlink.Route;

/// <summary>Interface flags (IFF_*).</summary>
[Flags]
public enum LinkFlags : uint
{
    None = 0,
    Up = IFF_UP,
    Broadcast = IFF_BROADCAST,
    Loopback = IFF_LOOPBACK,
    PointToPoint = IFF_POINTOPOINT,
    Running = IFF_RUNNING,
    NoArp = IFF_NOARP,
    Promiscuous = IFF_PROMISC,
    Multicast = IFF_MULTICAST,
    LowerUp = IFF_LOWER_UP,
}

/// <summary>RFC 2863 operational state (IF_OPER_*).</summary>
public enum LinkOperationalState : byte
{
    Unknown = IF_OPER_UNKNOWN,
    NotPresent = IF_OPER_NOTPRESENT,
    Down = IF_OPER_DOWN,
    LowerLayerDown = IF_OPER_LOWERLAYERDOWN,
    Testing = IF_OPER_TESTING,
    Dormant = IF_OPER_DORMANT,
    Up = IF_OPER_UP,
}

/// <summary>Address scope (RT_SCOPE_*).</summary>
public enum AddressScope : byte
{
    Universe = RT_SCOPE_UNIVERSE,
    Site = RT_SCOPE_SITE,
    Link = RT_SCOPE_LINK,
    Host = RT_SCOPE_HOST,
    Nowhere = RT_SCOPE_NOWHERE,
}

/// <summary>Address flags (IFA_F_*), carried in IFA_FLAGS (32 bits) and the 8-bit ifa_flags.</summary>
[Flags]
public enum AddressFlags : uint
{
    None = 0,
    Secondary = IFA_F_SECONDARY,
    NoDad = IFA_F_NODAD,
    Optimistic = IFA_F_OPTIMISTIC,
    DadFailed = IFA_F_DADFAILED,
    HomeAddress = IFA_F_HOMEADDRESS,
    Deprecated = IFA_F_DEPRECATED,
    Tentative = IFA_F_TENTATIVE,
    Permanent = IFA_F_PERMANENT,
    ManageTempAddress = IFA_F_MANAGETEMPADDR,
    NoPrefixRoute = IFA_F_NOPREFIXROUTE,
}

/// <summary>A network interface (RTM_NEWLINK).</summary>
public sealed record LinkInfo(int Index, string Name, LinkFlags Flags, LinkOperationalState OperationalState, PhysicalAddress? HardwareAddress, int Mtu)
{
    public bool IsUp => (Flags & LinkFlags.Up) != 0;

    /// <summary>Up and with carrier (IFF_LOWER_UP or IFF_RUNNING).</summary>
    public bool HasCarrier => (Flags & (LinkFlags.LowerUp | LinkFlags.Running)) != 0;

    public override string ToString() => $"{Index}: {Name} <{Flags}> mtu {Mtu} state {OperationalState}";
}

/// <summary>
/// An address on an interface (RTM_NEWADDR). <see cref="Peer"/> is the other end of a point-to-point
/// address (IFA_ADDRESS when it differs from IFA_LOCAL).
/// </summary>
public sealed record InterfaceAddress(int InterfaceIndex, IPAddress Address, int PrefixLength)
{
    public IPAddress? Peer { get; init; }
    /// <summary>IPv4 broadcast address (IFA_BROADCAST); null for none.</summary>
    public IPAddress? Broadcast { get; init; }
    public AddressScope Scope { get; init; } = AddressScope.Universe;
    /// <summary>IPv4 label (IFA_LABEL), e.g. "eth0:vip"; must start with the interface name.</summary>
    public string? Label { get; init; }
    public AddressFlags Flags { get; init; }

    public override string ToString() => Peer is null
        ? $"{Address}/{PrefixLength} dev #{InterfaceIndex}"
        : $"{Address} peer {Peer}/{PrefixLength} dev #{InterfaceIndex}";
}

/// <summary>A change reported by the kernel on the link or address multicast groups.</summary>
public abstract record RtnetlinkEvent;

/// <summary>A link appeared or changed (<see cref="Removed"/> false) or disappeared.</summary>
public sealed record LinkEvent(LinkInfo Link, bool Removed) : RtnetlinkEvent;

/// <summary>An address was added (<see cref="Removed"/> false) or removed.</summary>
public sealed record AddressEvent(InterfaceAddress Address, bool Removed) : RtnetlinkEvent;

/// <summary>The kernel dropped notifications (ENOBUFS): state must be re-read with a dump.</summary>
public sealed record EventsLostEvent : RtnetlinkEvent;
