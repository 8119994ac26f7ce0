using System.Net;
using System.Net.Sockets;
using Lb.Checkers.Options;

namespace Lb.Checkers;

/// <summary>keepalived's text forms of addresses (<c>inet_sockaddrtotrio</c>, <c>FMT_VS</c>, <c>FMT_RS</c>).</summary>
public static class Format
{
    /// <summary><c>[10.0.0.2]:tcp:80</c> as keepalived's <c>inet_sockaddrtotrio</c>.</summary>
    public static string Trio(IPAddress address, IpvsProtocol protocol, ushort port) => $"[{address}]:{Proto(protocol)}:{port}";

    /// <summary><c>tcp</c>, <c>udp</c>, <c>sctp</c>.</summary>
    public static string Proto(IpvsProtocol protocol) => protocol switch
    {
        IpvsProtocol.Udp => "udp",
        IpvsProtocol.Sctp => "sctp",
        _ => "tcp",
    };

    /// <summary><c>10.0.0.2:80</c> or <c>[fe80::1]:80</c>.</summary>
    public static string Endpoint(IPAddress address, ushort port) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";

    /// <summary>keepalived's <c>FMT_VS</c>: <c>[10.0.0.100]:tcp:80</c>, <c>FWM 1</c>, <c>[group]:80</c>.</summary>
    public static string VirtualServer(VirtualServerOptions vs)
    {
        if (vs.Group is not null)
            return $"[{vs.Group}]:{vs.Port ?? 0}";
        if (vs.FirewallMark is uint mark)
            return $"FWM {mark}";
        return Trio(vs.Address ?? IPAddress.Any, vs.Protocol, vs.Port ?? 0);
    }

    /// <summary>
    /// keepalived's <c>FMT_RS</c>: <c>[10.0.0.2]:tcp:80</c>; a firewall-mark virtual server has no protocol in keepalived
    /// (its service_type is 0, any <c>protocol</c> ignored), so its servers read <c>[10.0.0.2]:none:80</c>.
    /// </summary>
    public static string RealServer(VirtualServerOptions vs, RealServerOptions rs) =>
        RsTrio(vs, rs.Address, rs.Port ?? vs.Port ?? 0);

    /// <summary>keepalived's <c>FMT_RS</c> of a sorry server.</summary>
    public static string SorryServer(VirtualServerOptions vs, SorryServerOptions ss) =>
        RsTrio(vs, ss.Address, ss.Port ?? vs.Port ?? 0);

    private static string RsTrio(VirtualServerOptions vs, IPAddress address, ushort port) =>
        vs.Group is null && vs.FirewallMark is not null ? $"[{address}]:none:{port}" : Trio(address, vs.Protocol, port);
}
