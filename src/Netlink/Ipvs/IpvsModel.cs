using System.Globalization;
using System.Net;
using System.Net.Sockets;
using static Lb.Netlink.Ipvs.IpvsConstants;

namespace Lb.Netlink.Ipvs;

/// <summary>The transport protocol of an address-based virtual service (0 for fwmark services).</summary>
public enum IpvsProtocol : ushort
{
    None = 0,
    Tcp = IPPROTO_TCP,
    Udp = IPPROTO_UDP,
    Sctp = IPPROTO_SCTP,
}

/// <summary>Virtual service flags (IP_VS_SVC_F_*). The scheduler flags mean different things per scheduler.</summary>
[Flags]
public enum IpvsServiceFlags : uint
{
    None = 0,
    Persistent = IP_VS_SVC_F_PERSISTENT,
    /// <summary>Set by the kernel on every service in its table; ignored when comparing and never sent.</summary>
    Hashed = IP_VS_SVC_F_HASHED,
    OnePacket = IP_VS_SVC_F_ONEPACKET,
    Scheduler1 = IP_VS_SVC_F_SCHED1,
    Scheduler2 = IP_VS_SVC_F_SCHED2,
    Scheduler3 = IP_VS_SVC_F_SCHED3,
    ShFallback = IP_VS_SVC_F_SCHED_SH_FALLBACK,
    ShPort = IP_VS_SVC_F_SCHED_SH_PORT,
    /// <summary>IP_VS_SVC_F_SCHED_MH_FALLBACK (kernel-internal name for SCHED1 with mh).</summary>
    MhFallback = IP_VS_SVC_F_SCHED1,
    /// <summary>IP_VS_SVC_F_SCHED_MH_PORT (kernel-internal name for SCHED2 with mh).</summary>
    MhPort = IP_VS_SVC_F_SCHED2,
}

/// <summary>Forwarding method of a destination (IP_VS_CONN_F_* &amp; IP_VS_CONN_F_FWD_MASK).</summary>
public enum IpvsForwardingMethod : uint
{
    /// <summary>NAT (ipvsadm -m, "Masq").</summary>
    Masquerade = IP_VS_CONN_F_MASQ,
    Local = IP_VS_CONN_F_LOCALNODE,
    /// <summary>IP-in-IP / GUE / GRE tunnelling (ipvsadm -i, "Tunnel").</summary>
    Tunnel = IP_VS_CONN_F_TUNNEL,
    /// <summary>Direct routing (ipvsadm -g, "Route").</summary>
    Route = IP_VS_CONN_F_DROUTE,
    Bypass = IP_VS_CONN_F_BYPASS,
}

public enum IpvsTunnelType : byte
{
    Ipip = IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
    Gue = IP_VS_CONN_F_TUNNEL_TYPE_GUE,
    Gre = IP_VS_CONN_F_TUNNEL_TYPE_GRE,
}

[Flags]
public enum IpvsTunnelFlags : ushort
{
    NoChecksum = IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
    Checksum = IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
    RemoteChecksum = IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
}

/// <summary>
/// Identifies a virtual service: address family + protocol + address + port, or family + firewall mark.
/// </summary>
public readonly record struct IpvsServiceKey
{
    private IpvsServiceKey(AddressFamily family, IpvsProtocol protocol, IPAddress? address, ushort port, uint firewallMark)
    {
        Family = family;
        Protocol = protocol;
        Address = address;
        Port = port;
        FirewallMark = firewallMark;
    }

    public AddressFamily Family { get; }
    public IpvsProtocol Protocol { get; }
    /// <summary>The virtual address; null for a fwmark service.</summary>
    public IPAddress? Address { get; }
    public ushort Port { get; }
    /// <summary>The firewall mark; 0 for an address service.</summary>
    public uint FirewallMark { get; }

    public bool IsFirewallMark => FirewallMark != 0;

    public static IpvsServiceKey Create(IpvsProtocol protocol, IPAddress address, ushort port)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (protocol is not (IpvsProtocol.Tcp or IpvsProtocol.Udp or IpvsProtocol.Sctp))
            throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "an address service is TCP, UDP or SCTP");
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentException($"{address} is neither IPv4 nor IPv6", nameof(address));
        return new IpvsServiceKey(address.AddressFamily, protocol, address, port, 0);
    }

    public static IpvsServiceKey Tcp(IPAddress address, ushort port) => Create(IpvsProtocol.Tcp, address, port);
    public static IpvsServiceKey Udp(IPAddress address, ushort port) => Create(IpvsProtocol.Udp, address, port);
    public static IpvsServiceKey Sctp(IPAddress address, ushort port) => Create(IpvsProtocol.Sctp, address, port);

    public static IpvsServiceKey Fwmark(uint mark, AddressFamily family = AddressFamily.InterNetwork)
    {
        if (mark == 0)
            throw new ArgumentOutOfRangeException(nameof(mark), "a firewall mark service needs a non-zero mark");
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentOutOfRangeException(nameof(family), family, "IPv4 or IPv6");
        return new IpvsServiceKey(family, IpvsProtocol.None, null, 0, mark);
    }

    /// <summary>ipvsadm's numeric text: <c>TCP 10.0.0.1:80</c>, <c>UDP [2001:db8::1]:53</c>, <c>FWM 7</c>, <c>FWM 7 IPv6</c>.</summary>
    public override string ToString()
    {
        if (Family == AddressFamily.Unspecified)
            return "(empty IPVS service key)";
        if (IsFirewallMark)
            return Family == AddressFamily.InterNetworkV6 ? $"FWM {FirewallMark} IPv6" : $"FWM {FirewallMark}";
        return $"{ProtocolName(Protocol)} {IpvsText.Endpoint(Address!, Port)}";
    }

    internal static string ProtocolName(IpvsProtocol protocol) => protocol switch
    {
        IpvsProtocol.Tcp => "TCP",
        IpvsProtocol.Udp => "UDP",
        IpvsProtocol.Sctp => "SCTP",
        _ => $"proto {(ushort)protocol}",
    };
}

/// <summary>Identifies a destination within a service.</summary>
public readonly record struct IpvsDestinationKey(IPAddress Address, ushort Port)
{
    public override string ToString() => Address is null ? "(empty IPVS destination key)" : IpvsText.Endpoint(Address, Port);
}

/// <summary>A virtual service's settings (what <c>ipvsadm -A/-E</c> sets).</summary>
public sealed record IpvsService
{
    public IpvsService(IpvsServiceKey key, string scheduler = "wlc")
    {
        Key = key;
        Scheduler = scheduler;
    }

    public IpvsServiceKey Key { get; init; }

    /// <summary>Scheduler module name (rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh); at most 15 bytes.</summary>
    public string Scheduler { get; init; }

    /// <summary>Flags; <see cref="IpvsServiceFlags.Persistent"/> together with <see cref="PersistenceTimeout"/>.</summary>
    public IpvsServiceFlags Flags { get; init; }

    /// <summary>Persistence timeout in seconds (meaningful with <see cref="IpvsServiceFlags.Persistent"/>).</summary>
    public uint PersistenceTimeout { get; init; }

    /// <summary>Persistence netmask as a prefix length; null means the whole address (/32, /128).</summary>
    public int? PersistenceNetmask { get; init; }

    /// <summary>Persistence engine (e.g. "sip"); null for none. At most 15 bytes.</summary>
    public string? PersistenceEngine { get; init; }

    /// <summary>The prefix length the kernel stores: <see cref="PersistenceNetmask"/> or the full address length.</summary>
    public int EffectiveNetmask => PersistenceNetmask ?? (Key.Family == AddressFamily.InterNetworkV6 ? 128 : 32);

    /// <summary>Flags as compared and sent: without the kernel-internal HASHED bit.</summary>
    public IpvsServiceFlags EffectiveFlags => Flags & ~IpvsServiceFlags.Hashed;

    /// <summary>True when the settings an edit would change are the same (scheduler, flags, timeout, netmask, PE).</summary>
    public bool SettingsEqual(IpvsService other) =>
        Key == other.Key
        && string.Equals(Scheduler, other.Scheduler, StringComparison.Ordinal)
        && EffectiveFlags == other.EffectiveFlags
        && PersistenceTimeout == other.PersistenceTimeout
        && EffectiveNetmask == other.EffectiveNetmask
        && string.Equals(PersistenceEngine ?? "", other.PersistenceEngine ?? "", StringComparison.Ordinal);

    public override string ToString() => $"{Key} {Scheduler}";
}

/// <summary>A destination's settings (what <c>ipvsadm -a/-e</c> sets).</summary>
public sealed record IpvsDestination
{
    public IpvsDestination(IPAddress address, ushort port, IpvsForwardingMethod forwarding = IpvsForwardingMethod.Route, int weight = 1)
    {
        Address = address;
        Port = port;
        Forwarding = forwarding;
        Weight = weight;
    }

    public IPAddress Address { get; init; }
    public ushort Port { get; init; }
    public IpvsForwardingMethod Forwarding { get; init; }
    /// <summary>Weight; 0 stops new connections (inhibit) while keeping the destination.</summary>
    public int Weight { get; init; }
    /// <summary>Upper connection threshold; 0 is none.</summary>
    public uint UpperThreshold { get; init; }
    /// <summary>Lower connection threshold; 0 is none.</summary>
    public uint LowerThreshold { get; init; }
    /// <summary>Tunnel type, with <see cref="IpvsForwardingMethod.Tunnel"/>.</summary>
    public IpvsTunnelType TunnelType { get; init; }
    /// <summary>Tunnel destination port (GUE), with <see cref="IpvsForwardingMethod.Tunnel"/>.</summary>
    public ushort TunnelPort { get; init; }
    /// <summary>Tunnel checksum flags (GUE, GRE), with <see cref="IpvsForwardingMethod.Tunnel"/>.</summary>
    public IpvsTunnelFlags TunnelFlags { get; init; }

    public IpvsDestinationKey Key => new(Address, Port);

    /// <summary>True when the settings an edit would change are the same.</summary>
    public bool SettingsEqual(IpvsDestination other) =>
        Address.Equals(other.Address) && Port == other.Port
        && Forwarding == other.Forwarding && Weight == other.Weight
        && UpperThreshold == other.UpperThreshold && LowerThreshold == other.LowerThreshold
        && (Forwarding != IpvsForwardingMethod.Tunnel
            || (TunnelType == other.TunnelType && TunnelPort == other.TunnelPort && TunnelFlags == other.TunnelFlags));

    public override string ToString() => $"{IpvsText.Endpoint(Address, Port)} {IpvsText.ForwardName(Forwarding)} weight {Weight}";
}

/// <summary>Traffic counters and rates of a service or destination (STATS64 when the kernel has it).</summary>
public sealed record IpvsStats(
    ulong Connections, ulong InPackets, ulong OutPackets, ulong InBytes, ulong OutBytes,
    ulong ConnectionRate, ulong InPacketRate, ulong OutPacketRate, ulong InByteRate, ulong OutByteRate)
{
    public static IpvsStats Zero { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

/// <summary>A service as dumped from the kernel.</summary>
public sealed record IpvsServiceStatus(IpvsService Service, IpvsStats Stats);

/// <summary>A destination as dumped from the kernel, with its connection counts.</summary>
public sealed record IpvsDestinationStatus(IpvsDestination Destination, uint ActiveConnections, uint InactiveConnections, uint PersistentConnections, IpvsStats Stats);

/// <summary>One service of a kernel dump and its destinations.</summary>
public sealed record IpvsTableEntry(IpvsServiceStatus Status, IReadOnlyList<IpvsDestinationStatus> Destinations)
{
    public IpvsService Service => Status.Service;
}

/// <summary>The kernel's whole table.</summary>
public sealed record IpvsTableSnapshot(IReadOnlyList<IpvsTableEntry> Services)
{
    public IpvsTableEntry? Find(IpvsServiceKey key) => Services.FirstOrDefault(s => s.Service.Key == key);
}

/// <summary>A desired virtual service and all its destinations (the unit of reconciliation).</summary>
public sealed record IpvsVirtualServer(IpvsService Service, IReadOnlyList<IpvsDestination> Destinations);

/// <summary>IPVS version and connection-table size (GET_INFO).</summary>
public sealed record IpvsInfo(uint Version, uint ConnectionTableSize)
{
    /// <summary>"1.2.1".</summary>
    public string VersionText => $"{(Version >> 16) & 0xff}.{(Version >> 8) & 0xff}.{Version & 0xff}";
}

/// <summary>Connection timeouts in seconds (GET/SET_CONFIG); 0 in a set request leaves a value unchanged.</summary>
public sealed record IpvsTimeouts(uint Tcp, uint TcpFin, uint Udp);

public enum IpvsSyncDaemonState
{
    Master = IP_VS_STATE_MASTER,
    Backup = IP_VS_STATE_BACKUP,
}

/// <summary>A connection-synchronisation daemon (ipvsadm --start-daemon).</summary>
public sealed record IpvsSyncDaemon(IpvsSyncDaemonState State, string Interface, byte SyncId = 0)
{
    /// <summary>UDP payload size of sync messages; 0 for the kernel default.</summary>
    public ushort SyncMaxLength { get; init; }
    /// <summary>Multicast group (IPv4 or IPv6); null for the default 224.0.0.81.</summary>
    public IPAddress? MulticastGroup { get; init; }
    /// <summary>Multicast port; 0 for the default 8848.</summary>
    public ushort MulticastPort { get; init; }
    /// <summary>Multicast TTL; 0 for the default 1.</summary>
    public byte MulticastTtl { get; init; }

    public override string ToString() => $"{State.ToString().ToLowerInvariant()} sync daemon on {Interface} syncid {SyncId}";
}

internal static class IpvsText
{
    public static string Endpoint(IPAddress address, ushort port) =>
        address.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{address}]:{port.ToString(CultureInfo.InvariantCulture)}"
            : $"{address}:{port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>ipvsadm's forward column: Masq, Local, Tunnel, Route, Bypass.</summary>
    public static string ForwardName(IpvsForwardingMethod method) => method switch
    {
        IpvsForwardingMethod.Masquerade => "Masq",
        IpvsForwardingMethod.Local => "Local",
        IpvsForwardingMethod.Tunnel => "Tunnel",
        IpvsForwardingMethod.Route => "Route",
        IpvsForwardingMethod.Bypass => "Bypass",
        _ => ((uint)method).ToString(CultureInfo.InvariantCulture),
    };
}
