using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.Netlink.Interop;
using Lb.Netlink.Protocol;
using static Lb.Netlink.Protocol.NetlinkConstants;
using static Lb.Netlink.Route.RtnetlinkRouteConstants;

namespace Lb.Netlink.Route;

/// <summary>How RTM_NEWROUTE places a route among the routes of the same destination, tos and metric.</summary>
public enum RouteAddMode
{
    /// <summary>NLM_F_CREATE: put before them (EEXIST only for an identical route).</summary>
    Create,

    /// <summary>NLM_F_CREATE|NLM_F_EXCL: EEXIST when any route of that destination, tos and metric exists (<c>ip route add</c>).</summary>
    Exclusive,

    /// <summary>NLM_F_CREATE|NLM_F_APPEND: put after them (<c>ip route append</c>).</summary>
    Append,

    /// <summary>NLM_F_CREATE|NLM_F_REPLACE: replace the first of them (<c>ip route replace</c>).</summary>
    Replace,
}

/// <summary>Encodes RTM_NEWROUTE/RTM_DELROUTE/RTM_GETROUTE and RTM_NEWRULE/RTM_DELRULE/RTM_GETRULE and decodes routes and rules (pure).</summary>
public static class RtnetlinkRouteMessages
{
    private const ushort AckRequest = NLM_F_REQUEST | NLM_F_ACK;

    public static NetlinkRequest GetRoutes(AddressFamily? family = null) =>
        NetlinkRequest.Create("dump routes", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP))
                w.WriteZeroes(SizeOfRtmsg)[0] = Family(family);
        });

    public static NetlinkRequest GetRules(AddressFamily? family = null) =>
        NetlinkRequest.Create("dump rules", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_GETRULE, NLM_F_REQUEST | NLM_F_DUMP))
                w.WriteZeroes(SizeOfFibRuleHdr)[0] = Family(family);
        });

    /// <summary>RTM_NEWROUTE with the flags of <paramref name="mode"/>.</summary>
    public static NetlinkRequest NewRoute(RouteEntry route, RouteAddMode mode = RouteAddMode.Create, string? description = null)
    {
        Validate(route);
        var flags = (ushort)(AckRequest | NLM_F_CREATE | mode switch
        {
            RouteAddMode.Exclusive => NLM_F_EXCL,
            RouteAddMode.Append => NLM_F_APPEND,
            RouteAddMode.Replace => NLM_F_REPLACE,
            _ => 0,
        });
        return NetlinkRequest.Create($"add route {description ?? route.ToString()}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_NEWROUTE, flags))
                WriteRoute(ref w, route);
        }, MaxLength);
    }

    /// <summary>RTM_DELROUTE of <paramref name="route"/> (every attribute given narrows what the kernel deletes).</summary>
    public static NetlinkRequest DelRoute(RouteEntry route, string? description = null)
    {
        Validate(route);
        return NetlinkRequest.Create($"delete route {description ?? route.ToString()}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_DELROUTE, AckRequest))
                WriteRoute(ref w, route);
        }, MaxLength);
    }

    /// <summary>RTM_NEWRULE with NLM_F_CREATE|NLM_F_EXCL (EEXIST when an identical rule exists).</summary>
    public static NetlinkRequest NewRule(RuleEntry rule, string? description = null)
    {
        Validate(rule);
        return NetlinkRequest.Create($"add rule {description ?? rule.ToString()}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_NEWRULE, AckRequest | NLM_F_CREATE | NLM_F_EXCL))
                WriteRule(ref w, rule);
        });
    }

    public static NetlinkRequest DelRule(RuleEntry rule, string? description = null)
    {
        Validate(rule);
        return NetlinkRequest.Create($"delete rule {description ?? rule.ToString()}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_DELRULE, AckRequest))
                WriteRule(ref w, rule);
        });
    }

    private const int MaxLength = 4096;

    private static void WriteRoute(ref NetlinkWriter w, RouteEntry r)
    {
        var h = w.WriteZeroes(SizeOfRtmsg);
        h[0] = (byte)RtnetlinkMessages.LinuxFamily(r.Family);
        h[1] = (byte)r.DestinationLength;
        h[2] = (byte)r.SourceLength;
        h[3] = r.Tos;
        h[4] = r.Table < 256 ? (byte)r.Table : RT_TABLE_UNSPEC;
        h[5] = r.Protocol;
        h[6] = r.Scope;
        h[7] = r.Type;
        NetlinkWriter.WriteHost32(h[8..], r.Flags);
        // keepalived's order (netlink_route): table, dst, src, prefsrc, gateway, oif, priority, flow, expires, pref, ttl-propagate, metrics, multipath
        if (r.Table >= 256)
            w.WriteUInt32(RTA_TABLE, r.Table);
        if (r.Destination is not null)
            w.WriteAddress(RTA_DST, r.Destination);
        if (r.Source is not null)
            w.WriteAddress(RTA_SRC, r.Source);
        if (r.PreferredSource is not null)
            w.WriteAddress(RTA_PREFSRC, r.PreferredSource);
        if (r.Gateway is not null)
            w.WriteAddress(RTA_GATEWAY, r.Gateway);
        if (r.OutputInterface is { } oif)
            w.WriteUInt32(RTA_OIF, unchecked((uint)oif));
        if (r.Priority is { } priority)
            w.WriteUInt32(RTA_PRIORITY, priority);
        if (r.Flow is { } flow)
            w.WriteUInt32(RTA_FLOW, flow);
        if (r.Expires is { } expires)
            w.WriteUInt32(RTA_EXPIRES, expires);
        if (r.Preference is { } pref)
            w.WriteUInt8(RTA_PREF, pref);
        if (r.TtlPropagate is { } ttl)
            w.WriteUInt8(RTA_TTL_PROPAGATE, ttl);
        if (r.Metrics.Count > 0 || r.CongestionControl is not null)
        {
            using (w.BeginNested(RTA_METRICS, setNestedFlag: false))
            {
                if (r.CongestionControl is { } cc)
                    w.WriteAttribute(RTAX_CC_ALGO, Encoding.ASCII.GetBytes(cc));
                foreach (var m in r.Metrics)
                    w.WriteUInt32(m.Type, m.Value);
            }
        }
        if (r.NextHops.Count > 0)
        {
            using (w.BeginNested(RTA_MULTIPATH, setNestedFlag: false))
            {
                foreach (var nh in r.NextHops)
                {
                    var start = w.Length;
                    var rtnh = w.WriteZeroes(SizeOfRtnexthop);
                    rtnh[2] = nh.Flags;
                    rtnh[3] = nh.Hops;
                    NetlinkWriter.WriteHost32(rtnh[4..], unchecked((uint)nh.InterfaceIndex));
                    if (nh.Gateway is not null)
                        w.WriteAddress(RTA_GATEWAY, nh.Gateway);
                    if (nh.Flow is { } f)
                        w.WriteUInt32(RTA_FLOW, f);
                    NetlinkWriter.WriteHost16(rtnh, (ushort)(w.Length - start));
                }
            }
        }
    }

    private static void WriteRule(ref NetlinkWriter w, RuleEntry r)
    {
        var h = w.WriteZeroes(SizeOfFibRuleHdr);
        h[0] = (byte)RtnetlinkMessages.LinuxFamily(r.Family);
        h[1] = (byte)r.DestinationLength;
        h[2] = (byte)r.SourceLength;
        h[3] = r.Tos;
        h[4] = r.Table is > 0 and < 256 ? (byte)r.Table : RT_TABLE_UNSPEC;
        h[7] = r.Action;
        NetlinkWriter.WriteHost32(h[8..], r.Flags);
        // keepalived's order (netlink_rule)
        if (r.Table >= 256)
            w.WriteUInt32(FRA_TABLE, r.Table);
        if (r.Source is not null)
            w.WriteAddress(FRA_SRC, r.Source);
        if (r.Destination is not null)
            w.WriteAddress(FRA_DST, r.Destination);
        if (r.Priority is { } priority)
            w.WriteUInt32(FRA_PRIORITY, priority);
        if (r.FwMark is { } mark)
            w.WriteUInt32(FRA_FWMARK, mark);
        if (r.FwMask is { } mask)
            w.WriteUInt32(FRA_FWMASK, mask);
        if (r.Flow is { } flow)
            w.WriteUInt32(FRA_FLOW, flow);
        if (r.SuppressPrefixLength is { } spl)
            w.WriteUInt32(FRA_SUPPRESS_PREFIXLEN, unchecked((uint)spl));
        if (r.SuppressIfGroup is { } group)
            w.WriteUInt32(FRA_SUPPRESS_IFGROUP, group);
        if (r.InputInterface is { } iif)
            w.WriteString(FRA_IIFNAME, iif);
        if (r.OutputInterface is { } oif)
            w.WriteString(FRA_OIFNAME, oif);
        if (r.TunnelId is { } tun)
        {
            Span<byte> be = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(be, tun);
            w.WriteAttribute(FRA_TUN_ID, be);
        }
        if (r.UidRange is { } uid)
        {
            Span<byte> b = stackalloc byte[8];
            NetlinkWriter.WriteHost32(b, uid.Start);
            NetlinkWriter.WriteHost32(b[4..], uid.End);
            w.WriteAttribute(FRA_UID_RANGE, b);
        }
        if (r.L3mdev is { } l3)
            w.WriteUInt8(FRA_L3MDEV, l3);
        if (r.Protocol is { } proto)
            w.WriteUInt8(FRA_PROTOCOL, proto);
        if (r.IpProtocol is { } ipproto)
            w.WriteUInt8(FRA_IP_PROTO, ipproto);
        if (r.SourcePorts is { } sp)
            WritePortRange(ref w, FRA_SPORT_RANGE, sp);
        if (r.DestinationPorts is { } dp)
            WritePortRange(ref w, FRA_DPORT_RANGE, dp);
        if (r.GotoTarget is { } target)
            w.WriteUInt32(FRA_GOTO, target);
    }

    private static void WritePortRange(ref NetlinkWriter w, ushort type, (ushort Start, ushort End) range)
    {
        Span<byte> b = stackalloc byte[4];
        NetlinkWriter.WriteHost16(b, range.Start);
        NetlinkWriter.WriteHost16(b[2..], range.End);
        w.WriteAttribute(type, b);
    }

    /// <summary>Decodes RTM_NEWROUTE / RTM_DELROUTE (IPv4 and IPv6 only; false for other families and other messages).</summary>
    public static bool TryParseRoute(NetlinkMessage message, out RouteEntry route)
    {
        route = null!;
        if (message.Type is not (RTM_NEWROUTE or RTM_DELROUTE))
            return false;
        var p = message.Payload;
        if (p.Length < SizeOfRtmsg)
            throw new NetlinkFormatException($"RTM_NEWROUTE payload is {p.Length} bytes, struct rtmsg needs {SizeOfRtmsg}");
        if (FromLinux(p[0]) is not { } family)
            return false;
        IPAddress? dst = null, src = null, gateway = null, prefsrc = null;
        int? oif = null;
        uint? priority = null, flow = null, expires = null;
        byte? pref = null, ttl = null;
        uint table = p[4];
        string? cc = null;
        var metrics = new List<RouteMetric>();
        var hops = new List<RouteNextHopEntry>();
        var attrs = message.Attributes(SizeOfRtmsg);
        while (attrs.TryRead(out var a))
        {
            switch (a.Type)
            {
                case RTA_DST: dst = a.GetAddress(family); break;
                case RTA_SRC: src = a.GetAddress(family); break;
                case RTA_GATEWAY: gateway = a.GetAddress(family); break;
                case RTA_PREFSRC: prefsrc = a.GetAddress(family); break;
                case RTA_OIF: oif = a.GetInt32(); break;
                case RTA_PRIORITY: priority = a.GetUInt32(); break;
                case RTA_FLOW: flow = a.GetUInt32(); break;
                case RTA_TABLE: table = a.GetUInt32(); break;
                case RTA_EXPIRES: expires = a.GetUInt32(); break;
                case RTA_PREF: pref = a.GetUInt8(); break;
                case RTA_TTL_PROPAGATE: ttl = a.GetUInt8(); break;
                case RTA_METRICS:
                    var m = a.Nested;
                    while (m.TryRead(out var x))
                    {
                        if (x.Type == RTAX_CC_ALGO)
                            cc = x.GetString();
                        else if (x.Payload.Length >= 4)
                            metrics.Add(new RouteMetric(x.Type, x.GetUInt32()));
                    }
                    break;
                case RTA_MULTIPATH:
                    ParseNextHops(a.Payload, family, hops);
                    break;
            }
        }
        route = new RouteEntry
        {
            Family = family,
            Destination = dst,
            DestinationLength = p[1],
            Source = src,
            SourceLength = p[2],
            Tos = p[3],
            Table = table,
            Protocol = p[5],
            Scope = p[6],
            Type = p[7],
            Flags = NetlinkMessageReader.ReadHost32(p[8..]),
            Gateway = gateway,
            OutputInterface = oif,
            PreferredSource = prefsrc,
            Priority = priority,
            Flow = flow,
            Expires = expires,
            Preference = pref,
            TtlPropagate = ttl,
            Metrics = [.. metrics],
            CongestionControl = cc,
            NextHops = [.. hops],
        };
        return true;
    }

    private static void ParseNextHops(ReadOnlySpan<byte> data, AddressFamily family, List<RouteNextHopEntry> hops)
    {
        while (data.Length >= SizeOfRtnexthop)
        {
            var len = NetlinkMessageReader.ReadHost16(data);
            if (len < SizeOfRtnexthop || len > data.Length)
                throw new NetlinkFormatException($"RTA_MULTIPATH holds a nexthop of {len} bytes in {data.Length}");
            IPAddress? gw = null;
            uint? flow = null;
            var inner = new NetlinkAttributeReader(data[SizeOfRtnexthop..len]);
            while (inner.TryRead(out var a))
            {
                if (a.Type == RTA_GATEWAY)
                    gw = a.GetAddress(family);
                else if (a.Type == RTA_FLOW)
                    flow = a.GetUInt32();
            }
            hops.Add(new RouteNextHopEntry
            {
                Flags = data[2],
                Hops = data[3],
                InterfaceIndex = (int)NetlinkMessageReader.ReadHost32(data[4..]),
                Gateway = gw,
                Flow = flow,
            });
            var aligned = (len + 3) & ~3;
            data = aligned >= data.Length ? [] : data[aligned..];
        }
    }

    /// <summary>Decodes RTM_NEWRULE / RTM_DELRULE (IPv4 and IPv6 only).</summary>
    public static bool TryParseRule(NetlinkMessage message, out RuleEntry rule)
    {
        rule = null!;
        if (message.Type is not (RTM_NEWRULE or RTM_DELRULE))
            return false;
        var p = message.Payload;
        if (p.Length < SizeOfFibRuleHdr)
            throw new NetlinkFormatException($"RTM_NEWRULE payload is {p.Length} bytes, struct fib_rule_hdr needs {SizeOfFibRuleHdr}");
        if (FromLinux(p[0]) is not { } family)
            return false;
        var r = new RuleEntry
        {
            Family = family,
            DestinationLength = p[1],
            SourceLength = p[2],
            Tos = p[3],
            Table = p[4],
            Action = p[7],
            Flags = NetlinkMessageReader.ReadHost32(p[8..]),
        };
        var attrs = message.Attributes(SizeOfFibRuleHdr);
        while (attrs.TryRead(out var a))
        {
            r = a.Type switch
            {
                FRA_SRC => r with { Source = a.GetAddress(family) },
                FRA_DST => r with { Destination = a.GetAddress(family) },
                FRA_TABLE => r with { Table = a.GetUInt32() },
                FRA_PRIORITY => r with { Priority = a.GetUInt32() },
                FRA_FWMARK => r with { FwMark = a.GetUInt32() },
                FRA_FWMASK => r with { FwMask = a.GetUInt32() },
                FRA_IIFNAME => r with { InputInterface = a.GetString() },
                FRA_OIFNAME => r with { OutputInterface = a.GetString() },
                FRA_GOTO => r with { GotoTarget = a.GetUInt32() },
                FRA_FLOW => r with { Flow = a.GetUInt32() },
                FRA_TUN_ID => r with { TunnelId = a.Payload.Length >= 8 ? BinaryPrimitives.ReadUInt64BigEndian(a.Payload) : null },
                FRA_SUPPRESS_IFGROUP => r with { SuppressIfGroup = a.GetUInt32() },
                FRA_SUPPRESS_PREFIXLEN => r with { SuppressPrefixLength = a.GetInt32() },
                FRA_UID_RANGE when a.Payload.Length >= 8 => r with { UidRange = (NetlinkMessageReader.ReadHost32(a.Payload), NetlinkMessageReader.ReadHost32(a.Payload[4..])) },
                FRA_L3MDEV => r with { L3mdev = a.GetUInt8() },
                FRA_PROTOCOL => r with { Protocol = a.GetUInt8() },
                FRA_IP_PROTO => r with { IpProtocol = a.GetUInt8() },
                FRA_SPORT_RANGE when a.Payload.Length >= 4 => r with { SourcePorts = (NetlinkMessageReader.ReadHost16(a.Payload), NetlinkMessageReader.ReadHost16(a.Payload[2..])) },
                FRA_DPORT_RANGE when a.Payload.Length >= 4 => r with { DestinationPorts = (NetlinkMessageReader.ReadHost16(a.Payload), NetlinkMessageReader.ReadHost16(a.Payload[2..])) },
                _ => r,
            };
        }
        rule = r;
        return true;
    }

    public static void Validate(RouteEntry r)
    {
        var max = MaxPrefix(r.Family);
        if (r.DestinationLength < 0 || r.DestinationLength > max || r.SourceLength < 0 || r.SourceLength > max)
            throw new ArgumentException($"route {r}: prefix length outside [0, {max}]");
        foreach (var a in new[] { r.Destination, r.Source, r.Gateway, r.PreferredSource })
        {
            if (a is not null && a.AddressFamily != r.Family)
                throw new ArgumentException($"route {r}: address {a} is not of the route's family");
        }
        foreach (var nh in r.NextHops)
        {
            if (nh.Gateway is not null && nh.Gateway.AddressFamily != r.Family)
                throw new ArgumentException($"route {r}: nexthop {nh.Gateway} is not of the route's family");
        }
    }

    public static void Validate(RuleEntry r)
    {
        var max = MaxPrefix(r.Family);
        if (r.DestinationLength < 0 || r.DestinationLength > max || r.SourceLength < 0 || r.SourceLength > max)
            throw new ArgumentException($"rule {r}: prefix length outside [0, {max}]");
        if ((r.Source is not null && r.Source.AddressFamily != r.Family) || (r.Destination is not null && r.Destination.AddressFamily != r.Family))
            throw new ArgumentException($"rule {r}: an address is not of the rule's family");
        foreach (var name in new[] { r.InputInterface, r.OutputInterface })
        {
            if (name is not null && (name.Length == 0 || Encoding.UTF8.GetByteCount(name) >= 16))
                throw new ArgumentException($"rule {r}: interface name '{name}' must be 1 to 15 bytes");
        }
    }

    private static int MaxPrefix(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => 32,
        AddressFamily.InterNetworkV6 => 128,
        _ => throw new ArgumentException($"address family {family} is not IPv4 or IPv6"),
    };

    private static byte Family(AddressFamily? family) => family is null ? (byte)Libc.AF_UNSPEC : (byte)RtnetlinkMessages.LinuxFamily(family.Value);

    private static AddressFamily? FromLinux(byte family) => family switch
    {
        Libc.AF_INET => AddressFamily.InterNetwork,
        Libc.AF_INET6 => AddressFamily.InterNetworkV6,
        _ => null,
    };
}
