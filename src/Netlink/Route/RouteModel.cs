using System.Net;
using System.Net.Sockets;
using Lb.Netlink.Collections;
using static Lb.Netlink.Route.RtnetlinkRouteConstants;

namespace Lb.Netlink.Route;

/// <summary>One <c>RTAX_*</c> metric of a route (inside RTA_METRICS), as a 32-bit value.</summary>
/// <param name="Type">The <c>RTAX_*</c> number.</param>
/// <param name="Value">Its value.</param>
public readonly record struct RouteMetric(ushort Type, uint Value);

/// <summary>One hop of a multipath route (<c>struct rtnexthop</c> and its RTA_GATEWAY / RTA_FLOW).</summary>
public sealed record RouteNextHopEntry
{
    /// <summary>RTA_GATEWAY (null: none).</summary>
    public IPAddress? Gateway { get; init; }

    /// <summary><c>rtnh_ifindex</c> (0: none).</summary>
    public int InterfaceIndex { get; init; }

    /// <summary><c>rtnh_hops</c>: the weight minus one (iproute2's <c>weight N</c> is <c>N - 1</c> on the wire).</summary>
    public byte Hops { get; init; }

    /// <summary><c>rtnh_flags</c> (<c>RTNH_F_ONLINK</c>, …).</summary>
    public byte Flags { get; init; }

    /// <summary>RTA_FLOW (realms; null: none).</summary>
    public uint? Flow { get; init; }
}

/// <summary>
/// A route (<c>struct rtmsg</c> and its attributes) as written to or read from the kernel: what <c>ip route</c> shows.
/// Unset attributes are null. <see cref="Table"/> is the full 32-bit table (RTA_TABLE), whatever <c>rtm_table</c> carries.
/// </summary>
public sealed record RouteEntry
{
    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;

    /// <summary>RTA_DST (null: the default route, with <see cref="DestinationLength"/> 0).</summary>
    public IPAddress? Destination { get; init; }

    /// <summary><c>rtm_dst_len</c>.</summary>
    public int DestinationLength { get; init; }

    /// <summary>RTA_SRC: the source prefix of a source-specific (IPv6) route.</summary>
    public IPAddress? Source { get; init; }

    /// <summary><c>rtm_src_len</c>.</summary>
    public int SourceLength { get; init; }

    /// <summary><c>rtm_tos</c>.</summary>
    public byte Tos { get; init; }

    /// <summary>The table (RTA_TABLE, or <c>rtm_table</c>).</summary>
    public uint Table { get; init; } = RT_TABLE_MAIN;

    /// <summary><c>rtm_protocol</c> (RTPROT_*).</summary>
    public byte Protocol { get; init; } = RTPROT_BOOT;

    /// <summary><c>rtm_scope</c> (RT_SCOPE_*).</summary>
    public byte Scope { get; init; }

    /// <summary><c>rtm_type</c> (RTN_*).</summary>
    public byte Type { get; init; } = RTN_UNICAST;

    /// <summary><c>rtm_flags</c> (RTNH_F_ONLINK, …).</summary>
    public uint Flags { get; init; }

    /// <summary>RTA_GATEWAY.</summary>
    public IPAddress? Gateway { get; init; }

    /// <summary>RTA_OIF (null: none).</summary>
    public int? OutputInterface { get; init; }

    /// <summary>RTA_PREFSRC.</summary>
    public IPAddress? PreferredSource { get; init; }

    /// <summary>RTA_PRIORITY (the metric).</summary>
    public uint? Priority { get; init; }

    /// <summary>RTA_FLOW (realms).</summary>
    public uint? Flow { get; init; }

    /// <summary>RTA_EXPIRES, in seconds (IPv6).</summary>
    public uint? Expires { get; init; }

    /// <summary>RTA_PREF (IPv6 router preference).</summary>
    public byte? Preference { get; init; }

    /// <summary>RTA_TTL_PROPAGATE.</summary>
    public byte? TtlPropagate { get; init; }

    /// <summary>The 32-bit metrics of RTA_METRICS (RTAX_LOCK included when written).</summary>
    public ValueList<RouteMetric> Metrics { get; init; } = [];

    /// <summary>RTAX_CC_ALGO (a string inside RTA_METRICS).</summary>
    public string? CongestionControl { get; init; }

    /// <summary>RTA_MULTIPATH.</summary>
    public ValueList<RouteNextHopEntry> NextHops { get; init; } = [];

    /// <summary>The destination as <c>ip route</c> writes it.</summary>
    public string DestinationText => Destination is null && DestinationLength == 0 ? "default" : $"{Destination ?? (Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any)}/{DestinationLength}";

    public override string ToString() =>
        $"{DestinationText}" + (Gateway is null ? "" : $" via {Gateway}") + (OutputInterface is { } o ? $" dev #{o}" : "")
        + $" table {Table}" + (Priority is { } p ? $" metric {p}" : "") + $" proto {Protocol} type {Type}";
}

/// <summary>
/// A policy-routing rule (<c>struct fib_rule_hdr</c> and its FRA_* attributes): what <c>ip rule</c> shows. Unset selectors are null.
/// </summary>
public sealed record RuleEntry
{
    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;

    /// <summary>FRA_SRC (<c>from</c>).</summary>
    public IPAddress? Source { get; init; }

    /// <summary><c>src_len</c>.</summary>
    public int SourceLength { get; init; }

    /// <summary>FRA_DST (<c>to</c>).</summary>
    public IPAddress? Destination { get; init; }

    /// <summary><c>dst_len</c>.</summary>
    public int DestinationLength { get; init; }

    /// <summary><c>tos</c>.</summary>
    public byte Tos { get; init; }

    /// <summary><c>action</c> (FR_ACT_*).</summary>
    public byte Action { get; init; } = FR_ACT_TO_TBL;

    /// <summary><c>flags</c> (FIB_RULE_INVERT, …).</summary>
    public uint Flags { get; init; }

    /// <summary>The table (FRA_TABLE, or the header's <c>table</c>); 0 for none.</summary>
    public uint Table { get; init; }

    /// <summary>FRA_PRIORITY.</summary>
    public uint? Priority { get; init; }

    /// <summary>FRA_FWMARK.</summary>
    public uint? FwMark { get; init; }

    /// <summary>FRA_FWMASK.</summary>
    public uint? FwMask { get; init; }

    /// <summary>FRA_IIFNAME.</summary>
    public string? InputInterface { get; init; }

    /// <summary>FRA_OIFNAME.</summary>
    public string? OutputInterface { get; init; }

    /// <summary>FRA_GOTO.</summary>
    public uint? GotoTarget { get; init; }

    /// <summary>FRA_FLOW (realms).</summary>
    public uint? Flow { get; init; }

    /// <summary>FRA_TUN_ID (host order here; big-endian on the wire).</summary>
    public ulong? TunnelId { get; init; }

    /// <summary>FRA_SUPPRESS_IFGROUP.</summary>
    public uint? SuppressIfGroup { get; init; }

    /// <summary>FRA_SUPPRESS_PREFIXLEN.</summary>
    public int? SuppressPrefixLength { get; init; }

    /// <summary>FRA_UID_RANGE (start, end).</summary>
    public (uint Start, uint End)? UidRange { get; init; }

    /// <summary>FRA_L3MDEV.</summary>
    public byte? L3mdev { get; init; }

    /// <summary>FRA_PROTOCOL (RTPROT_*).</summary>
    public byte? Protocol { get; init; }

    /// <summary>FRA_IP_PROTO.</summary>
    public byte? IpProtocol { get; init; }

    /// <summary>FRA_SPORT_RANGE (start, end).</summary>
    public (ushort Start, ushort End)? SourcePorts { get; init; }

    /// <summary>FRA_DPORT_RANGE (start, end).</summary>
    public (ushort Start, ushort End)? DestinationPorts { get; init; }

    public override string ToString() =>
        (Priority is { } p ? $"{p}: " : "") + ((Flags & FIB_RULE_INVERT) != 0 ? "not " : "")
        + (Source is null ? "from all" : $"from {Source}/{SourceLength}") + (Destination is null ? "" : $" to {Destination}/{DestinationLength}")
        + (FwMark is { } m ? $" fwmark {m:x}" + (FwMask is { } k ? $"/{k:x}" : "") : "")
        + (InputInterface is null ? "" : $" iif {InputInterface}") + (OutputInterface is null ? "" : $" oif {OutputInterface}")
        + (Action == FR_ACT_TO_TBL ? $" lookup {Table}" : Action == FR_ACT_GOTO ? $" goto {GotoTarget}" : $" action {Action}");
}

/// <summary>A route was added (<see cref="Removed"/> false) or removed (RTNLGRP_IPV4_ROUTE / RTNLGRP_IPV6_ROUTE).</summary>
public sealed record RouteEvent(RouteEntry Route, bool Removed) : RtnetlinkEvent;

/// <summary>A rule was added (<see cref="Removed"/> false) or removed (RTNLGRP_IPV4_RULE / RTNLGRP_IPV6_RULE).</summary>
public sealed record RuleEvent(RuleEntry Rule, bool Removed) : RtnetlinkEvent;
