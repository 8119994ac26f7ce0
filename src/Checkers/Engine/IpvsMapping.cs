using System.Net;
using System.Net.Sockets;
using Lb.Checkers.Options;
using Lb.Netlink.Ipvs;
using CheckerProtocol = Lb.Checkers.Options.IpvsProtocol;
using NetlinkProtocol = Lb.Netlink.Ipvs.IpvsProtocol;

namespace Lb.Checkers.Engine;

/// <summary>
/// The one mapping from the checker configuration (keepalived's keywords) to the kernel's IPVS model
/// (<see cref="Lb.Netlink.Ipvs"/>): protocol, forwarding method, tunnel, persistence netmask as a prefix, scheduler flags;
/// and keepalived's text for services and destinations in log lines (<c>[10.0.0.100]:tcp:80</c>, <c>FWM 1</c>).
/// </summary>
internal static class IpvsMapping
{
    /// <summary>The IPVS services of a virtual server: one per address, fwmark, or member of its group.</summary>
    public static IReadOnlyList<IpvsService> Services(VirtualServerOptions vs)
    {
        var flags = IpvsServiceFlags.None;
        if (vs.PersistenceTimeout is not null)
            flags |= IpvsServiceFlags.Persistent;
        if (vs.OnePacketScheduling)
            flags |= IpvsServiceFlags.OnePacket;
        if (vs.SchedulerFlags.HasFlag(SchedulerFlags.Flag1))
            flags |= IpvsServiceFlags.Scheduler1;
        if (vs.SchedulerFlags.HasFlag(SchedulerFlags.Flag2))
            flags |= IpvsServiceFlags.Scheduler2;
        if (vs.SchedulerFlags.HasFlag(SchedulerFlags.Flag3))
            flags |= IpvsServiceFlags.Scheduler3;
        var protocol = Protocol(vs.Protocol);

        IpvsService Make(IpvsServiceKey key) => new(key, vs.Scheduler)
        {
            Flags = flags,
            PersistenceTimeout = vs.PersistenceTimeout is TimeSpan t ? (uint)Math.Max(1, t.TotalSeconds) : 0,
            PersistenceNetmask = vs.PersistenceGranularity is IPAddress mask ? PrefixOf(mask) : null,
            PersistenceEngine = vs.PersistenceEngine,
        };
        AddressFamily DefaultFamily()
        {
            if (vs.IpFamily is { } f)
                return f;
            var families = vs.RealServers.Select(r => r.Address.AddressFamily).Distinct().ToList();
            return families.Count == 1 ? families[0] : AddressFamily.InterNetwork;
        }

        var list = new List<IpvsService>();
        if (vs.Address is { } a)
            list.Add(Make(IpvsServiceKey.Create(protocol, a, vs.Port ?? 0)));
        else if (vs.FirewallMark is uint m)
            list.Add(Make(IpvsServiceKey.Fwmark(m, DefaultFamily())));
        else
        {
            foreach (var e in vs.GroupEntries)
            {
                if (e.FirewallMark is uint gm)
                {
                    list.Add(Make(IpvsServiceKey.Fwmark(gm, e.Family ?? DefaultFamily())));
                    continue;
                }
                if (e.Address is null)
                    continue;
                var port = e.Port ?? vs.Port ?? 0;
                foreach (var addr in AddressRange.Expand(e.Address, e.AddressEnd ?? e.Address, 65536))
                    list.Add(Make(IpvsServiceKey.Create(protocol, addr, port)));
            }
        }
        return list;
    }

    /// <summary>A destination (real or sorry server) with its forwarding method, tunnel and thresholds.</summary>
    public static IpvsDestination Destination(IPAddress address, ushort port, int weight, ForwardingMethod method, TunnelOptions? tunnel, uint upper = 0, uint lower = 0)
    {
        var forwarding = method switch
        {
            ForwardingMethod.DirectRouting => IpvsForwardingMethod.Route,
            ForwardingMethod.Tunnel => IpvsForwardingMethod.Tunnel,
            _ => IpvsForwardingMethod.Masquerade,
        };
        var result = new IpvsDestination(address, port, forwarding, weight)
        {
            UpperThreshold = upper,
            LowerThreshold = lower,
        };
        if (tunnel is { } tun)
        {
            result = result with
            {
                TunnelType = tun.Type switch { TunnelType.Gue => IpvsTunnelType.Gue, TunnelType.Gre => IpvsTunnelType.Gre, _ => IpvsTunnelType.Ipip },
                TunnelPort = tun.Port ?? 0,
                TunnelFlags = tun.Checksum switch { TunnelChecksum.Checksum => IpvsTunnelFlags.Checksum, TunnelChecksum.RemoteChecksum => IpvsTunnelFlags.RemoteChecksum, _ => IpvsTunnelFlags.NoChecksum },
            };
        }
        return result;
    }

    public static NetlinkProtocol Protocol(CheckerProtocol protocol) => protocol switch
    {
        CheckerProtocol.Udp => NetlinkProtocol.Udp,
        CheckerProtocol.Sctp => NetlinkProtocol.Sctp,
        _ => NetlinkProtocol.Tcp,
    };

    /// <summary>The prefix length of a netmask (255.255.255.0 → 24).</summary>
    public static int PrefixOf(IPAddress mask)
    {
        var bits = 0;
        foreach (var b in mask.GetAddressBytes())
            bits += System.Numerics.BitOperations.PopCount(b);
        return bits;
    }

    /// <summary>keepalived's text of a service: <c>[10.0.0.100]:tcp:80</c>, <c>FWM 1</c>.</summary>
    public static string Text(IpvsServiceKey key)
    {
        if (key.IsFirewallMark)
            return $"FWM {key.FirewallMark}";
        var protocol = key.Protocol switch { NetlinkProtocol.Udp => CheckerProtocol.Udp, NetlinkProtocol.Sctp => CheckerProtocol.Sctp, _ => CheckerProtocol.Tcp };
        return Format.Trio(key.Address!, protocol, key.Port);
    }

    /// <summary>keepalived's text of a destination: <c>10.0.0.2:80 weight 1</c>.</summary>
    public static string Text(IpvsDestination d) => $"{Format.Endpoint(d.Address, d.Port)} weight {d.Weight}";

    /// <summary>An operation as the checker's log lines name it (<c>add destination 10.0.0.2:80 weight 1 to [10.0.0.100]:tcp:80</c>).</summary>
    public static string Describe(IpvsOperation op) => op.Kind switch
    {
        IpvsOperationKind.AddService => $"add service {Text(op.ServiceKey)}",
        IpvsOperationKind.EditService => $"edit service {Text(op.ServiceKey)}",
        IpvsOperationKind.DeleteService => $"remove service {Text(op.ServiceKey)}",
        IpvsOperationKind.AddDestination => $"add destination {Text(op.Destination!)} to {Text(op.ServiceKey)}",
        IpvsOperationKind.EditDestination => $"edit destination {Text(op.Destination!)} of {Text(op.ServiceKey)}",
        IpvsOperationKind.DeleteDestination => $"remove destination {Format.Endpoint(op.DestinationKey!.Value.Address, op.DestinationKey.Value.Port)} from {Text(op.ServiceKey)}",
        _ => op.ToString(),
    };
}
