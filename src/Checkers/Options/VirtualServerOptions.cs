using Lb.Netlink.Collections;
using System.Net;
using System.Net.Sockets;

namespace Lb.Checkers.Options;

/// <summary>
/// One <c>virtual_server &lt;IPADDR&gt; [&lt;PORT&gt;] | fwmark &lt;INT&gt; | group &lt;NAME&gt;</c> block.
/// Exactly one of <see cref="Address"/>, <see cref="FirewallMark"/> and <see cref="Group"/> is set.
/// Settings that real servers and checkers inherit (<see cref="DelayLoop"/>, <see cref="Retry"/>, …) are nullable:
/// null means "not set here", and <see cref="EffectiveSettings"/> applies keepalived's defaults.
/// </summary>
public sealed record VirtualServerOptions
{
    /// <summary>The <c>&lt;IPADDR&gt;</c> of <c>virtual_server &lt;IPADDR&gt; [&lt;PORT&gt;]</c>.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>The <c>[&lt;PORT&gt;]</c> of <c>virtual_server &lt;IPADDR&gt; [&lt;PORT&gt;]</c> (0 or null: persistent service on all ports); also the port of group entries that give none.</summary>
    public ushort? Port { get; init; }

    /// <summary><c>virtual_server fwmark &lt;INT&gt;</c>.</summary>
    public uint? FirewallMark { get; init; }

    /// <summary><c>virtual_server group &lt;NAME&gt;</c>: the group's name; its members are <see cref="GroupEntries"/>.</summary>
    public string? Group { get; init; }

    /// <summary>The members of the <c>virtual_server_group</c> named by <see cref="Group"/> (resolved by the parser).</summary>
    public ValueList<VirtualServerGroupEntry> GroupEntries { get; init; } = [];

    /// <summary><c>protocol TCP|UDP|SCTP</c>. Default TCP.</summary>
    public IpvsProtocol Protocol { get; init; } = IpvsProtocol.Tcp;

    /// <summary><c>ip_family inet|inet6</c> (fwmark services only). Null: derived from the addresses, else IPv4.</summary>
    public AddressFamily? IpFamily { get; init; }

    /// <summary><c>lb_algo</c> / <c>lvs_sched</c>: rr, wrr, lc, wlc, lblc, sh, mh, dh, fo, ovf, lblcr, sed, nq, twos. Default wlc.</summary>
    public string Scheduler { get; init; } = "wlc";

    /// <summary><c>flag-1</c>, <c>flag-2</c>, <c>flag-3</c>, <c>sh-port</c>, <c>sh-fallback</c>, <c>mh-port</c>, <c>mh-fallback</c>.</summary>
    public SchedulerFlags SchedulerFlags { get; init; }

    /// <summary><c>ops</c>: one-packet scheduling (UDP).</summary>
    public bool OnePacketScheduling { get; init; }

    /// <summary><c>lb_kind</c> / <c>lvs_method NAT|DR|TUN</c>: the default forwarding method of real servers. Default NAT.</summary>
    public ForwardingMethod ForwardingMethod { get; init; } = ForwardingMethod.Nat;

    /// <summary><c>lvs_method TUN type …</c> options.</summary>
    public TunnelOptions? Tunnel { get; init; }

    /// <summary><c>persistence_timeout [&lt;INT&gt;]</c> (the keyword alone means 360 s). Null: not persistent.</summary>
    public TimeSpan? PersistenceTimeout { get; init; }

    /// <summary><c>persistence_granularity &lt;NETMASK&gt;</c> (ipvsadm -M).</summary>
    public IPAddress? PersistenceGranularity { get; init; }

    /// <summary><c>persistence_engine &lt;STRING&gt;</c> (sip).</summary>
    public string? PersistenceEngine { get; init; }

    /// <summary><c>ha_suspend</c>: suspend checkers while the virtual address is not configured on this host.</summary>
    public bool HaSuspend { get; init; }

    /// <summary><c>virtualhost &lt;STRING&gt;</c>: default Host header of HTTP_GET/SSL_GET for every real server.</summary>
    public string? Virtualhost { get; init; }

    /// <summary><c>alpha</c>: real servers start down and are added after their first successful check. Default false.</summary>
    public bool Alpha { get; init; }

    /// <summary><c>omega</c>: at shutdown run real servers' notify_down and quorum_down. Default false.</summary>
    public bool Omega { get; init; }

    /// <summary><c>smtp_alert</c>, resolved by the mapper as keepalived (virtual server, else <c>smtp_alert_checker</c>, else <c>smtp_alert</c>, else off): mail on quorum changes.</summary>
    public bool SmtpAlert { get; init; }

    /// <summary><c>quorum &lt;INT&gt;</c>: minimum total weight of live real servers. Default 1.</summary>
    public long Quorum { get; init; } = 1;

    /// <summary><c>hysteresis &lt;INT&gt;</c>: flap damper around the quorum. Default 0.</summary>
    public long Hysteresis { get; init; }

    /// <summary><c>quorum_up &lt;STRING&gt; [user [group]]</c>: script run when quorum is gained.</summary>
    public ScriptOptions? QuorumUp { get; init; }

    /// <summary><c>quorum_down &lt;STRING&gt; [user [group]]</c>: script run when quorum is lost.</summary>
    public ScriptOptions? QuorumDown { get; init; }

    /// <summary><c>sorry_server &lt;IPADDR&gt; [&lt;PORT&gt;]</c> (+ <c>sorry_server_lvs_method</c>).</summary>
    public SorryServerOptions? SorryServer { get; init; }

    /// <summary><c>sorry_server_inhibit</c>: the sorry server is kept in IPVS with weight 0 while not needed.</summary>
    public bool SorryServerInhibit { get; init; }

    /// <summary><c>delay_loop &lt;TIMER&gt;</c>. Default 60 s.</summary>
    public TimeSpan? DelayLoop { get; init; }

    /// <summary><c>connect_timeout &lt;TIMER&gt;</c>. Default 5 s.</summary>
    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary><c>retry &lt;INT&gt;</c> (alias <c>nb_get_retry</c>). Default per checker kind (1; DNS 3; MISC 0).</summary>
    public int? Retry { get; init; }

    /// <summary><c>delay_before_retry &lt;TIMER&gt;</c>. Default per checker kind (HTTP/SSL 3 s, DNS delay_loop, else 1 s).</summary>
    public TimeSpan? DelayBeforeRetry { get; init; }

    /// <summary><c>warmup &lt;TIMER&gt;</c>: the first check starts at a random time in [0, warmup]. Default delay_loop; 0 disables.</summary>
    public TimeSpan? Warmup { get; init; }

    /// <summary><c>inhibit_on_failure</c>: a failed real server stays in IPVS with weight 0 instead of being removed.</summary>
    public bool InhibitOnFailure { get; init; }

    /// <summary>Lb extension <c>#lb: slow_start SECONDS [at_start]</c>: the default slow start of its real servers.</summary>
    public SlowStartOptions? SlowStart { get; init; }

    /// <summary>The <c>real_server</c> blocks, in file order.</summary>
    public ValueList<RealServerOptions> RealServers { get; init; } = [];

    /// <summary>Where the block starts (<c>file:line</c>), for diagnostics and the journal. Optional.</summary>
    public string? SourceLocation { get; init; }
}

/// <summary>One line of a <c>virtual_server_group</c>: an address, an address range or a firewall mark.</summary>
public sealed record VirtualServerGroupEntry
{
    /// <summary>First address (<c>192.168.200.1</c> of <c>192.168.200.1-10</c> or of <c>192.168.202.8/29</c>'s first host).</summary>
    public IPAddress? Address { get; init; }

    /// <summary>Last address of a range, inclusive (null: a single address).</summary>
    public IPAddress? AddressEnd { get; init; }

    /// <summary><c>[&lt;PORT&gt;]</c> of the entry; null: the virtual server's port.</summary>
    public ushort? Port { get; init; }

    /// <summary><c>fwmark &lt;INT&gt; [inet|inet6]</c>.</summary>
    public uint? FirewallMark { get; init; }

    /// <summary>The <c>inet|inet6</c> of a fwmark entry.</summary>
    public AddressFamily? Family { get; init; }
}

/// <summary><c>sorry_server &lt;IPADDR&gt; [&lt;PORT&gt;]</c> and <c>sorry_server_lvs_method</c>.</summary>
public sealed record SorryServerOptions
{
    /// <summary>Address of the sorry server.</summary>
    public required IPAddress Address { get; init; }

    /// <summary>Port; null: the virtual server's port.</summary>
    public ushort? Port { get; init; }

    /// <summary><c>sorry_server_lvs_method</c>; null: the virtual server's method.</summary>
    public ForwardingMethod? ForwardingMethod { get; init; }

    /// <summary>Tunnel options of <c>sorry_server_lvs_method TUN …</c>.</summary>
    public TunnelOptions? Tunnel { get; init; }

    /// <summary>Weight given to the sorry server (keepalived uses 1).</summary>
    public int Weight { get; init; } = 1;
}

/// <summary>L4 protocol of a virtual service (<c>protocol</c>).</summary>
public enum IpvsProtocol
{
    /// <summary>TCP (default).</summary>
    Tcp,

    /// <summary>UDP.</summary>
    Udp,

    /// <summary>SCTP.</summary>
    Sctp,
}

/// <summary>LVS forwarding method (<c>lb_kind</c> / <c>lvs_method</c>).</summary>
public enum ForwardingMethod
{
    /// <summary>Masquerading (default).</summary>
    Nat,

    /// <summary>Direct routing (gatewaying).</summary>
    DirectRouting,

    /// <summary>IP-in-IP (or GUE/GRE) tunnelling.</summary>
    Tunnel,
}

/// <summary>Scheduler flags of a virtual server (ipvsadm -b).</summary>
[Flags]
public enum SchedulerFlags
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary><c>flag-1</c> (also <c>sh-fallback</c>, <c>mh-fallback</c>).</summary>
    Flag1 = 1,

    /// <summary><c>flag-2</c> (also <c>sh-port</c>, <c>mh-port</c>).</summary>
    Flag2 = 2,

    /// <summary><c>flag-3</c>.</summary>
    Flag3 = 4,
}

/// <summary>Tunnel type of <c>lvs_method TUN [type {ipip|gue port NUM|gre} [nocsum|csum|remcsum]]</c>.</summary>
public enum TunnelType
{
    /// <summary>IP-in-IP (default).</summary>
    IpIp,

    /// <summary>Generic UDP encapsulation.</summary>
    Gue,

    /// <summary>GRE.</summary>
    Gre,
}

/// <summary>Checksum option of a GUE/GRE tunnel.</summary>
public enum TunnelChecksum
{
    /// <summary><c>nocsum</c> (default).</summary>
    NoChecksum,

    /// <summary><c>csum</c>.</summary>
    Checksum,

    /// <summary><c>remcsum</c>.</summary>
    RemoteChecksum,
}

/// <summary>Options of <c>lvs_method TUN type …</c>.</summary>
public sealed record TunnelOptions
{
    /// <summary><c>type ipip|gue|gre</c>.</summary>
    public TunnelType Type { get; init; } = TunnelType.IpIp;

    /// <summary><c>port NUM</c> of a GUE tunnel.</summary>
    public ushort? Port { get; init; }

    /// <summary><c>nocsum|csum|remcsum</c>.</summary>
    public TunnelChecksum Checksum { get; init; } = TunnelChecksum.NoChecksum;
}
