using System.Globalization;
using System.Net;
using System.Text;
using Lb.Checkers;
using Lb.Netlink.Ipvs;
using static Lb.Metrics.MetricsText;
using CheckerProtocol = Lb.Checkers.Options.IpvsProtocol;
using NetlinkProtocol = Lb.Netlink.Ipvs.IpvsProtocol;

namespace Lb.Metrics;

/// <summary>
/// The kernel's IPVS counters at scrape time, per service and per destination, labelled in keepalived's text as the
/// real-server families are (<c>virtual_server="[10.0.0.100]:tcp:80"</c>, <c>real_server="[10.0.0.11]:tcp:80"</c>;
/// <c>FWM 1</c> and <c>[10.0.0.11]:none:80</c> for a firewall-mark service, <c>FWM 1 IPv6</c> for an IPv6 one), so a
/// query can join them with <c>lb_real_server_up</c>. A <c>virtual_server_group</c> appears per member service.
/// Every service in the kernel's table is shown, Lb's or not.
/// </summary>
internal static class IpvsKernelMetrics
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Render(StringBuilder sb, IpvsScrape scrape)
    {
        Family(sb, "lb_ipvs_stats_scrape_success", "gauge", "1 when this scrape read the kernel's IPVS table; 0 when the dump failed or timed out (no lb_ipvs_service_*/lb_ipvs_destination_* samples then).");
        sb.Append(Inv, $"lb_ipvs_stats_scrape_success {(scrape.Table is null ? 0 : 1)}\n");
        Family(sb, "lb_ipvs_stats_scrape_errors_total", "counter", "IPVS dumps for metrics that failed or timed out.");
        sb.Append(Inv, $"lb_ipvs_stats_scrape_errors_total {scrape.Errors}\n");
        Family(sb, "lb_ipvs_stats_scrape_duration_seconds", "gauge", "How long this scrape's IPVS dump took.");
        sb.Append(Inv, $"lb_ipvs_stats_scrape_duration_seconds {scrape.Duration.TotalSeconds.ToString("0.######", Inv)}\n");
        if (scrape.Table is not { } table)
            return;

        var services = IpvsTableFormatter.Sorted(table).Select(e => (Entry: e, Labels: $"virtual_server=\"{Esc(ServiceName(e.Service.Key))}\"")).ToList();
        Family(sb, "lb_ipvs_service_connections_total", "counter", "Connections the kernel scheduled for the service.");
        foreach (var (e, l) in services)
            sb.Append(Inv, $"lb_ipvs_service_connections_total{{{l}}} {e.Status.Stats.Connections}\n");
        Family(sb, "lb_ipvs_service_packets_total", "counter", "Packets through the service (in: client to server; out: server to client, 0 with direct routing and tunnels).");
        foreach (var (e, l) in services)
        {
            sb.Append(Inv, $"lb_ipvs_service_packets_total{{{l},direction=\"in\"}} {e.Status.Stats.InPackets}\n");
            sb.Append(Inv, $"lb_ipvs_service_packets_total{{{l},direction=\"out\"}} {e.Status.Stats.OutPackets}\n");
        }
        Family(sb, "lb_ipvs_service_bytes_total", "counter", "Bytes through the service, by direction.");
        foreach (var (e, l) in services)
        {
            sb.Append(Inv, $"lb_ipvs_service_bytes_total{{{l},direction=\"in\"}} {e.Status.Stats.InBytes}\n");
            sb.Append(Inv, $"lb_ipvs_service_bytes_total{{{l},direction=\"out\"}} {e.Status.Stats.OutBytes}\n");
        }

        var destinations = services.SelectMany(s => IpvsTableFormatter.SortedDestinations(s.Entry).Select(d =>
            (Dest: d, Labels: $"{s.Labels},real_server=\"{Esc(DestinationName(s.Entry.Service.Key, d.Destination))}\""))).ToList();
        Family(sb, "lb_ipvs_destination_weight", "gauge", "The destination's weight in the kernel (0: inhibited or draining).");
        foreach (var (d, l) in destinations)
            sb.Append(Inv, $"lb_ipvs_destination_weight{{{l}}} {d.Destination.Weight}\n");
        Family(sb, "lb_ipvs_destination_active_connections", "gauge", "Active connections (ipvsadm ActiveConn).");
        foreach (var (d, l) in destinations)
            sb.Append(Inv, $"lb_ipvs_destination_active_connections{{{l}}} {d.ActiveConnections}\n");
        Family(sb, "lb_ipvs_destination_inactive_connections", "gauge", "Inactive connections (ipvsadm InActConn).");
        foreach (var (d, l) in destinations)
            sb.Append(Inv, $"lb_ipvs_destination_inactive_connections{{{l}}} {d.InactiveConnections}\n");
        Family(sb, "lb_ipvs_destination_persistent_connections", "gauge", "Persistence templates pointing at the destination.");
        foreach (var (d, l) in destinations)
            sb.Append(Inv, $"lb_ipvs_destination_persistent_connections{{{l}}} {d.PersistentConnections}\n");
        Family(sb, "lb_ipvs_destination_connections_total", "counter", "Connections the kernel scheduled to the destination.");
        foreach (var (d, l) in destinations)
            sb.Append(Inv, $"lb_ipvs_destination_connections_total{{{l}}} {d.Stats.Connections}\n");
        Family(sb, "lb_ipvs_destination_packets_total", "counter", "Packets to (in) and from (out) the destination.");
        foreach (var (d, l) in destinations)
        {
            sb.Append(Inv, $"lb_ipvs_destination_packets_total{{{l},direction=\"in\"}} {d.Stats.InPackets}\n");
            sb.Append(Inv, $"lb_ipvs_destination_packets_total{{{l},direction=\"out\"}} {d.Stats.OutPackets}\n");
        }
        Family(sb, "lb_ipvs_destination_bytes_total", "counter", "Bytes to (in) and from (out) the destination.");
        foreach (var (d, l) in destinations)
        {
            sb.Append(Inv, $"lb_ipvs_destination_bytes_total{{{l},direction=\"in\"}} {d.Stats.InBytes}\n");
            sb.Append(Inv, $"lb_ipvs_destination_bytes_total{{{l},direction=\"out\"}} {d.Stats.OutBytes}\n");
        }
    }

    /// <summary>keepalived's text of a kernel service: <c>[10.0.0.100]:tcp:80</c>, <c>FWM 1</c> (<c>FWM 1 IPv6</c> for IPv6).</summary>
    public static string ServiceName(IpvsServiceKey key)
    {
        if (key.IsFirewallMark)
            return key.Family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"FWM {key.FirewallMark} IPv6" : $"FWM {key.FirewallMark}";
        return key.Protocol switch
        {
            NetlinkProtocol.Tcp or NetlinkProtocol.Udp or NetlinkProtocol.Sctp => Format.Trio(key.Address!, Protocol(key.Protocol), key.Port),
            _ => $"[{key.Address}]:proto{(ushort)key.Protocol}:{key.Port}",
        };
    }

    /// <summary>keepalived's <c>FMT_RS</c> of a destination of <paramref name="service"/>: <c>[10.0.0.11]:tcp:80</c>, <c>[10.0.0.11]:none:80</c> under a firewall mark.</summary>
    public static string DestinationName(IpvsServiceKey service, IpvsDestination d)
    {
        if (service.IsFirewallMark || service.Protocol is not (NetlinkProtocol.Tcp or NetlinkProtocol.Udp or NetlinkProtocol.Sctp))
            return $"[{d.Address}]:none:{d.Port}";
        return Format.Trio(d.Address, Protocol(service.Protocol), d.Port);
    }

    private static CheckerProtocol Protocol(NetlinkProtocol p) => p switch
    {
        NetlinkProtocol.Udp => CheckerProtocol.Udp,
        NetlinkProtocol.Sctp => CheckerProtocol.Sctp,
        _ => CheckerProtocol.Tcp,
    };
}
