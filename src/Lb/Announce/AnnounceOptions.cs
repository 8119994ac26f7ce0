using System.Net;
using System.Net.Sockets;

namespace Lb.Announce;

/// <summary>
/// Health-driven announcement of VIPs (Lb's extension lines <c>#lb: announce [ADDRESS...]</c> in a virtual_server and
/// <c>#lb: announce_table N</c> in global_defs): while every virtual server announcing a VIP has its quorum up, the host
/// keeps the route <c>VIP/32 dev lo table N proto 249</c>, which the local FRR redistributes into BGP; the VIP is made local
/// by <c>local VIP/32 dev lo table local proto 249</c> (not an address: zebra would select the address's connected route over
/// the imported one and announce nothing). The host applies it
/// (<see cref="Announcer"/>): it reads the checker subsystem's state, so this record lives with the host, not the checkers.
/// </summary>
public sealed record AnnounceOptions
{
    /// <summary>The default of <c>#lb: announce_table</c>.</summary>
    public const uint DefaultTable = 200;

    /// <summary>The routing protocol number of Lb's announce routes (<c>ip route</c> prints <c>proto 249</c>).</summary>
    public const byte RouteProtocol = 249;

    /// <summary>The routing table the announce routes go into (1..252).</summary>
    public uint Table { get; init; } = DefaultTable;

    /// <summary>The announced VIPs, in the order the file first names them.</summary>
    public IReadOnlyList<AnnouncedVip> Vips { get; init; } = [];

    /// <summary>Whether an announcing virtual server is SCTP (then <c>sloppy_sctp</c> is set too).</summary>
    public bool AnySctp => Vips.Any(v => v.VirtualServers.Any(s => s.Sctp));
}

/// <summary>One VIP and the virtual servers announcing it (each must have its quorum up for the VIP to be announced).</summary>
/// <param name="Address">The VIP.</param>
/// <param name="VirtualServers">The virtual servers that announce it.</param>
public sealed record AnnouncedVip(IPAddress Address, IReadOnlyList<AnnouncingVirtualServer> VirtualServers)
{
    /// <summary>32 for IPv4, 128 for IPv6.</summary>
    public int PrefixLength => Address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;

    /// <summary>The VIP as <c>ip route</c> writes the route's destination.</summary>
    public string Prefix => $"{Address}/{PrefixLength}";
}

/// <summary>A virtual server that announces a VIP.</summary>
/// <param name="Name">The checker subsystem's name of it (keepalived's text, <c>[10.0.0.100]:tcp:80</c>): the key into its status.</param>
/// <param name="Display">How a reason names it: <c>10.0.0.100:80</c>, <c>10.0.0.100:53/udp</c>, <c>fwmark 1</c>, <c>group G:80</c>.</param>
/// <param name="Sctp">Whether it is an SCTP service.</param>
public sealed record AnnouncingVirtualServer(string Name, string Display, bool Sctp = false);
