using Lb.Netlink.Collections;
using System.Collections;
using System.Net;
using System.Net.Sockets;

namespace Lb.Vrrp.Options;

/// <summary>Route type (<c>rtm_type</c>), numbered as the kernel's <c>RTN_*</c>.</summary>
public enum RouteType : byte
{
    /// <summary><c>unicast</c> (the default).</summary>
    Unicast = 1,

    /// <summary><c>local</c>.</summary>
    Local = 2,

    /// <summary><c>broadcast</c> / <c>brd</c>.</summary>
    Broadcast = 3,

    /// <summary><c>anycast</c>.</summary>
    Anycast = 4,

    /// <summary><c>multicast</c>.</summary>
    Multicast = 5,

    /// <summary><c>blackhole</c>.</summary>
    Blackhole = 6,

    /// <summary><c>unreachable</c>.</summary>
    Unreachable = 7,

    /// <summary><c>prohibit</c>.</summary>
    Prohibit = 8,

    /// <summary><c>throw</c>.</summary>
    Throw = 9,

    /// <summary><c>nat</c>.</summary>
    Nat = 10,

    /// <summary><c>xresolve</c>.</summary>
    XResolve = 11,
}

/// <summary>Where the kernel puts a route among routes of the same destination: keepalived's <c>prepend</c> (default: NLM_F_CREATE alone, so
/// before them), <c>add</c> (NLM_F_CREATE|NLM_F_EXCL, as <c>ip route add</c>) or <c>append</c> (NLM_F_CREATE|NLM_F_APPEND).</summary>
public enum RouteInsertMode
{
    /// <summary><c>prepend</c> (the default).</summary>
    Prepend,

    /// <summary><c>add</c>.</summary>
    Add,

    /// <summary><c>append</c>.</summary>
    Append,
}

/// <summary>The <c>RTAX_*</c> metrics a route may set (<c>mtu</c>, <c>advmss</c>, …); null means not written.</summary>
public sealed record RouteMetrics
{
    /// <summary><c>mtu [lock] N</c>.</summary>
    public uint? Mtu { get; init; }

    /// <summary><c>advmss [lock] N</c>.</summary>
    public uint? AdvMss { get; init; }

    /// <summary><c>rtt [lock] TIME</c>, in the kernel's unit (1/8 ms).</summary>
    public uint? Rtt { get; init; }

    /// <summary><c>rttvar [lock] TIME</c>, in the kernel's unit (1/4 ms).</summary>
    public uint? RttVar { get; init; }

    /// <summary><c>reordering [lock] N</c>.</summary>
    public uint? Reordering { get; init; }

    /// <summary><c>window N</c>.</summary>
    public uint? Window { get; init; }

    /// <summary><c>cwnd [lock] N</c>.</summary>
    public uint? Cwnd { get; init; }

    /// <summary><c>ssthresh [lock] N</c>.</summary>
    public uint? SsThresh { get; init; }

    /// <summary><c>rto_min [lock] TIME</c>, in ms.</summary>
    public uint? RtoMin { get; init; }

    /// <summary><c>initcwnd N</c>.</summary>
    public uint? InitCwnd { get; init; }

    /// <summary><c>initrwnd N</c>.</summary>
    public uint? InitRwnd { get; init; }

    /// <summary><c>hoplimit N</c> (0..255).</summary>
    public byte? HopLimit { get; init; }

    /// <summary><c>quickack 0|1</c>.</summary>
    public bool? QuickAck { get; init; }

    /// <summary><c>fastopen_no_cookie 0|1</c>.</summary>
    public bool? FastOpenNoCookie { get; init; }

    /// <summary><c>features ecn</c> (RTAX_FEATURE_ECN = 1).</summary>
    public uint Features { get; init; }

    /// <summary><c>congctl [lock] NAME</c>.</summary>
    public string? CongestionControl { get; init; }

    /// <summary>Bit <c>1 &lt;&lt; RTAX_x</c> for each metric written with <c>lock</c>.</summary>
    public uint Locked { get; init; }

    /// <summary>True when no metric is set.</summary>
    public bool IsEmpty => this == new RouteMetrics();
}

/// <summary>Lightweight tunnel encapsulation (<c>encap ip|ip6|mpls|ila …</c>).</summary>
public sealed record RouteEncap
{
    /// <summary><c>ip</c>, <c>ip6</c>, <c>mpls</c> or <c>ila</c>.</summary>
    public required string Type { get; init; }

    /// <summary><c>id N</c> (ip/ip6).</summary>
    public ulong? Id { get; init; }

    /// <summary><c>dst ADDR</c> (ip/ip6).</summary>
    public IPAddress? Destination { get; init; }

    /// <summary><c>src ADDR</c> (ip/ip6).</summary>
    public IPAddress? Source { get; init; }

    /// <summary><c>tos</c> (ip) / <c>tc</c> (ip6).</summary>
    public byte? Tos { get; init; }

    /// <summary><c>ttl</c> (ip) / <c>hoplimit</c> (ip6).</summary>
    public byte? Ttl { get; init; }

    /// <summary><c>flags N</c> (ip/ip6).</summary>
    public ushort? Flags { get; init; }

    /// <summary>The MPLS label stack as written (<c>100/200</c>), or the ILA locator (<c>2001:0:0:1</c>).</summary>
    public string? Text { get; init; }
}

/// <summary>One <c>nexthop</c> (or <c>or</c> alternative) of a multipath route.</summary>
public sealed record RouteNextHop
{
    /// <summary><c>via ADDR</c>.</summary>
    public IPAddress? Via { get; init; }

    /// <summary><c>dev IF</c>.</summary>
    public string? Device { get; init; }

    /// <summary><c>weight N</c> (1..256; null: not written, the kernel's 1).</summary>
    public int? Weight { get; init; }

    /// <summary><c>onlink</c>.</summary>
    public bool OnLink { get; init; }

    /// <summary><c>realms [FROM/]TO</c>, packed as the kernel's RTA_FLOW.</summary>
    public uint? Realms { get; init; }

    /// <summary><c>encap …</c>.</summary>
    public RouteEncap? Encap { get; init; }
}

/// <summary>
/// One line of <c>virtual_routes</c> / <c>static_routes</c>, as keepalived 2.2.7's <c>alloc_route</c> reads it:
/// <c>[inet|inet6] [TYPE] [to] DEST [src ADDR] [from PREFIX] [via|gw [inet|inet6] ADDR] [dev|oif IF] [table T] [scope S]
/// [metric|priority|preference N] [protocol P] [tos|dsfield D] [onlink] [encap …] [mtu …] … [add|prepend|append] [no_track]
/// [track_group G] [nexthop via ADDR dev IF weight N …]…</c>. Installed over rtnetlink by the host's <c>IRouteTable</c> (not <c>encap</c>, <c>vrf</c>
/// or a gateway of the other family, which are refused with an error when installed).
/// </summary>
public sealed record VirtualRoute
{
    /// <summary>The line as written, e.g. <c>192.168.110.0/24 via 192.168.200.254 dev eth1</c>.</summary>
    public required string Text { get; init; }

    /// <summary>The route's family: from <c>inet</c>/<c>inet6</c> or its addresses (IPv4 when nothing says).</summary>
    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;

    /// <summary>The destination (<c>default</c> is the family's /0).</summary>
    public required IpPrefix Destination { get; init; }

    /// <summary><c>blackhole</c>, <c>unreachable</c>, … (default unicast).</summary>
    public RouteType Type { get; init; } = RouteType.Unicast;

    /// <summary><c>from PREFIX</c>: source-specific route (IPv6 only).</summary>
    public IpPrefix? From { get; init; }

    /// <summary><c>src ADDR</c>: preferred source address.</summary>
    public IPAddress? PreferredSource { get; init; }

    /// <summary><c>via</c> / <c>gw</c> gateway.</summary>
    public IPAddress? Via { get; init; }

    /// <summary><c>dev</c> / <c>oif</c>.</summary>
    public string? Device { get; init; }

    /// <summary><c>vrf NAME</c>: the route goes in that VRF's table (read from the kernel when installed).</summary>
    public string? Vrf { get; init; }

    /// <summary><c>table</c> (default 254, main).</summary>
    public uint Table { get; init; } = 254;

    /// <summary><c>scope</c> (null: not written; the kernel's universe for unicast).</summary>
    public byte? Scope { get; init; }

    /// <summary>The protocol the route is installed with: 18 (keepalived) when tracked, else <c>protocol</c> as written (null: not written).</summary>
    public byte? Protocol { get; init; }

    /// <summary><c>metric</c> / <c>priority</c> / <c>preference</c>.</summary>
    public uint? Metric { get; init; }

    /// <summary><c>tos</c> / <c>dsfield</c>.</summary>
    public byte? Tos { get; init; }

    /// <summary><c>onlink</c>.</summary>
    public bool OnLink { get; init; }

    /// <summary><c>realms [FROM/]TO</c> (IPv4 only), packed as the kernel's RTA_FLOW.</summary>
    public uint? Realms { get; init; }

    /// <summary><c>expires N</c> seconds (IPv6 only).</summary>
    public uint? Expires { get; init; }

    /// <summary><c>pref low|medium|high|N</c> (IPv6 only), the ICMPv6 router preference.</summary>
    public byte? Preference { get; init; }

    /// <summary><c>ttl-propagate enabled|disabled</c> (MPLS).</summary>
    public bool? TtlPropagate { get; init; }

    /// <summary><c>encap …</c>.</summary>
    public RouteEncap? Encap { get; init; }

    /// <summary>The RTAX metrics written.</summary>
    public RouteMetrics Metrics { get; init; } = new();

    /// <summary><c>add</c> / <c>prepend</c> / <c>append</c>.</summary>
    public RouteInsertMode InsertMode { get; init; } = RouteInsertMode.Prepend;

    /// <summary><c>nexthop …</c> (or the deprecated <c>via A or B</c>).</summary>
    public ValueList<RouteNextHop> NextHops { get; init; } = [];

    /// <summary>The route is not tracked: <c>no_track</c> written, or no <c>dev</c> to track (keepalived then says so and does not track it).</summary>
    public bool NoTrack { get; init; }

    /// <summary><c>track_group</c> (static routes with a <c>dev</c> only).</summary>
    public string? TrackGroup { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Text;
}
