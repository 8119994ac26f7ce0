using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Lb.Announce;
using Lb.Checkers;
using Lb.Checkers.Options;

namespace Lb.Config.Mapping;

/// <summary>
/// Maps Lb's announce extension lines onto <see cref="AnnounceOptions"/>: <c>#lb: announce [ADDRESS...]</c> in a
/// virtual_server (no address: the virtual server's own; an fwmark or group virtual server must name them) and
/// <c>#lb: announce_table N</c> in global_defs. Errors and <c>lb -t</c> warnings carry the announce line's file:line.
/// </summary>
internal static class AnnounceOptionsMapper
{
    public const string Keyword = "lb:announce";
    public const string TableKeyword = "lb:announce_table";

    public static AnnounceOptions Map(IReadOnlyList<ConfigNode> nodes, NodeValues v, CheckerSubsystemOptions checkers)
    {
        var d = v.Diagnostics;
        var table = v.Integer(KeywordReads.LastOrEmpty(nodes, "global_defs"), TableKeyword) is { } t and >= 1 and <= 252 ? (uint)t : AnnounceOptions.DefaultTable;
        var byLocation = new Dictionary<string, VirtualServerOptions>(StringComparer.Ordinal);
        foreach (var vs in checkers.VirtualServers)
        {
            if (vs.SourceLocation is { } where)
                byLocation.TryAdd(where, vs);
        }
        var order = new List<IPAddress>();
        var announcers = new Dictionary<IPAddress, List<AnnouncingVirtualServer>>();
        foreach (var n in KeywordReads.Top(nodes, "virtual_server"))
        {
            var lines = n.All(Keyword).ToList();
            if (lines.Count == 0 || !byLocation.TryGetValue(NodeValues.Where(n), out var vs))
                continue;
            var vips = new List<IPAddress>();
            foreach (var line in lines)
            {
                if (line.Args.Length == 0)
                {
                    if (vs.Address is { } own)
                        vips.Add(own);
                    else
                        d.Error(line.Location, $"'#lb: announce' in virtual_server {string.Join(' ', n.Args)} needs the address(es) to announce: a {(vs.FirewallMark is not null ? "fwmark" : "group")} virtual server has no address of its own (#lb: announce ADDRESS...)");
                    continue;
                }
                foreach (var text in line.Args)
                {
                    if (!IPAddress.TryParse(text, out var a) || text.Contains('/', StringComparison.Ordinal))
                        d.Error(line.Location, $"'#lb: announce': invalid IP address '{text}' (a VIP is announced as a host route: write the address without a prefix)");
                    else if (a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(a) || IsMulticast(a))
                        d.Error(line.Location, $"'#lb: announce': {a} cannot be announced (not a unicast address)");
                    else
                        vips.Add(a);
                }
            }
            if (vips.Count == 0)
                continue;
            var where = lines[0].Location;
            if (!string.Equals(vs.Scheduler, "mh", StringComparison.Ordinal))
                d.Warning(where, $"virtual_server {Format.VirtualServer(vs)} is announced with lb_algo {vs.Scheduler}: flows do not survive a director change: every director must pick the same real server; use lb_algo mh");
            if (vs.ForwardingMethod == ForwardingMethod.Nat)
                d.Warning(where, $"virtual_server {Format.VirtualServer(vs)} is announced with lb_kind NAT: replies do not return through the same director when the routers spread flows over several; use DR or TUN");
            if (vs.HaSuspend)
                d.Warning(where, $"virtual_server {Format.VirtualServer(vs)} is announced with ha_suspend: its checks pause until the VIP is an address on this host, and Lb makes an announced VIP local by a route: its checks never run, so it is never announced; remove ha_suspend");
            var announcer = new AnnouncingVirtualServer(Format.VirtualServer(vs), Display(vs), vs.Protocol == IpvsProtocol.Sctp);
            foreach (var vip in vips.Distinct())
            {
                if (!announcers.TryGetValue(vip, out var list))
                {
                    announcers[vip] = list = [];
                    order.Add(vip);
                }
                if (!list.Contains(announcer))
                    list.Add(announcer);
            }
        }
        return new AnnounceOptions
        {
            Table = table,
            Vips = order.Select(a => new AnnouncedVip(a, announcers[a])).ToList(),
        };
    }

    private static bool IsMulticast(IPAddress a) =>
        a.AddressFamily == AddressFamily.InterNetworkV6 ? a.IsIPv6Multicast : (a.GetAddressBytes()[0] & 0xF0) == 0xE0;

    /// <summary>How a withdrawal reason names a virtual server: <c>10.0.0.100:80</c>, <c>[2001:db8::1]:80</c>, <c>10.0.0.100:53/udp</c>, <c>fwmark 1</c>, <c>group G:80</c>.</summary>
    internal static string Display(VirtualServerOptions vs)
    {
        var proto = vs.Protocol switch { IpvsProtocol.Udp => "/udp", IpvsProtocol.Sctp => "/sctp", _ => "" };
        if (vs.Group is not null)
            return $"group {vs.Group}:{(vs.Port ?? 0).ToString(CultureInfo.InvariantCulture)}{proto}";
        if (vs.FirewallMark is uint mark)
            return $"fwmark {mark.ToString(CultureInfo.InvariantCulture)}";
        return Format.Endpoint(vs.Address ?? IPAddress.Any, vs.Port ?? 0) + proto;
    }
}
