using Lb.Netlink.Collections;
using System.Net;

namespace Lb.Vrrp.Options;

/// <summary>The <c>state</c> keyword of a <c>vrrp_instance</c>: the state it starts in.</summary>
public enum VrrpInitialState
{
    /// <summary><c>state BACKUP</c> (the default).</summary>
    Backup,

    /// <summary><c>state MASTER</c>.</summary>
    Master,
}

/// <summary><c>auth_type</c>.</summary>
public enum VrrpAuthType
{
    /// <summary>No authentication block.</summary>
    None = 0,

    /// <summary><c>auth_type PASS</c>: simple text password (VRRPv2 only).</summary>
    Pass = 1,

    /// <summary><c>auth_type AH</c>: IPsec AH with HMAC-MD5-96, as keepalived (VRRPv2 over IPv4 only).</summary>
    Ah = 2,
}

/// <summary>An <c>authentication { auth_type …; auth_pass … }</c> block.</summary>
/// <param name="Type"><c>auth_type</c>.</param>
/// <param name="Password"><c>auth_pass</c>; only the first 8 bytes are used.</param>
public sealed record VrrpAuthentication(VrrpAuthType Type, string Password);

/// <summary>One line of <c>track_interface</c>.</summary>
/// <param name="Name">Interface name.</param>
/// <param name="Weight"><c>weight</c> (-253..253); 0 (default) means down = FAULT.</param>
/// <param name="Reverse"><c>reverse</c>.</param>
public sealed record TrackedInterface(string Name, int Weight = 0, bool Reverse = false);

/// <summary>One line of <c>track_script</c> / <c>track_file</c> / <c>track_process</c>: a reference to a named tracker with optional overrides.</summary>
/// <param name="Name">Name of the <c>vrrp_script</c> / <c>track_file</c> / <c>vrrp_track_process</c>.</param>
/// <param name="Weight"><c>weight</c> override (null: the tracker's own weight).</param>
/// <param name="Reverse"><c>reverse</c> / <c>noreverse</c> override (null: the tracker's own).</param>
public sealed record TrackedReference(string Name, int? Weight = null, bool? Reverse = null);

/// <summary>One line of <c>unicast_peer</c>.</summary>
/// <param name="Address">Peer address.</param>
/// <param name="MinTtl"><c>min_ttl</c> (default 0).</param>
/// <param name="MaxTtl"><c>max_ttl</c> (default 255).</param>
public sealed record UnicastPeer(IPAddress Address, int MinTtl = 0, int MaxTtl = 255)
{
    /// <summary>True when min_ttl or max_ttl was given (keepalived then turns on check_unicast_src).</summary>
    public bool HasTtlRange => MinTtl != 0 || MaxTtl != 255;
}

/// <summary>A <c>notify*</c> script: <c>&lt;STRING&gt;|&lt;QUOTED-STRING&gt; [username [groupname]]</c>.</summary>
/// <param name="Command">argv: the program and its arguments, already split (see <see cref="Lb.Scripts.ScriptCommandLine.Split"/>).</param>
/// <param name="User">username (default: <c>script_user</c>).</param>
/// <param name="Group">groupname (default: the user's group).</param>
public sealed record NotifyScript(ValueList<string> Command, string? User = null, string? Group = null)
{
    /// <summary>Builds a script from keepalived's quoted command string.</summary>
    public static NotifyScript Parse(string command, string? user = null, string? group = null) => new(Lb.Scripts.ScriptCommandLine.Split(command).ToValueList(), user, group);

    /// <inheritdoc/>
    public override string ToString() => string.Join(' ', Command);
}

/// <summary>A <c>use_vmac [&lt;VMAC_INTERFACE_NAME&gt;] [MAC_ADDRESS]</c> line.</summary>
/// <param name="InterfaceName">Name of the macvlan (default vrrp.&lt;vrid&gt;).</param>
/// <param name="MacAddress">MAC of the macvlan, aa:bb:cc:dd:ee:ff (default 00:00:5e:00:01:&lt;vrid&gt;, IPv6 00:00:5e:00:02:&lt;vrid&gt;).</param>
public sealed record VmacOptions(string? InterfaceName = null, string? MacAddress = null);

/// <summary>A <c>vrrp_instance</c> block. Defaults are keepalived 2.2.7's; null means "inherit the global setting".</summary>
public sealed record VrrpInstanceOptions
{
    /// <summary>The instance name (<c>vrrp_instance &lt;STRING&gt;</c>).</summary>
    public required string Name { get; init; }

    /// <summary><c>state MASTER|BACKUP</c> (default BACKUP).</summary>
    public VrrpInitialState InitialState { get; init; } = VrrpInitialState.Backup;

    /// <summary><c>interface</c>: the interface adverts are sent and received on.</summary>
    public string? Interface { get; init; }

    /// <summary><c>virtual_router_id</c> (1..255).</summary>
    public required int VirtualRouterId { get; init; }

    /// <summary><c>priority</c> (1..255, default 100; 255 = address owner).</summary>
    public int Priority { get; init; } = VrrpDefaults.DefaultPriority;

    /// <summary><c>advert_int</c> (default 1 s; VRRPv3 has centisecond resolution, VRRPv2 whole seconds).</summary>
    public TimeSpan AdvertInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>version 2|3</c> (null: global <c>vrrp_version</c>; IPv6 instances always 3).</summary>
    public int? Version { get; init; }

    /// <summary><c>nopreempt</c> sets this false (default true: <c>preempt</c>).</summary>
    public bool Preempt { get; init; } = true;

    /// <summary><c>preempt_delay</c> (0..1000 s, default 0).</summary>
    public TimeSpan PreemptDelay { get; init; } = TimeSpan.Zero;

    /// <summary><c>authentication</c> block (VRRPv2 only).</summary>
    public VrrpAuthentication? Authentication { get; init; }

    /// <summary><c>virtual_ipaddress</c>: the addresses carried in adverts and added on MASTER.</summary>
    public ValueList<VirtualAddress> VirtualIpAddresses { get; init; } = [];

    /// <summary><c>virtual_ipaddress_excluded</c>: added on MASTER but not carried in adverts.</summary>
    public ValueList<VirtualAddress> VirtualIpAddressesExcluded { get; init; } = [];

    /// <summary><c>virtual_routes</c>.</summary>
    public ValueList<VirtualRoute> VirtualRoutes { get; init; } = [];

    /// <summary><c>virtual_rules</c>.</summary>
    public ValueList<VirtualRule> VirtualRules { get; init; } = [];

    /// <summary><c>track_interface</c>.</summary>
    public ValueList<TrackedInterface> TrackInterfaces { get; init; } = [];

    /// <summary><c>track_script</c>.</summary>
    public ValueList<TrackedReference> TrackScripts { get; init; } = [];

    /// <summary><c>track_file</c>.</summary>
    public ValueList<TrackedReference> TrackFiles { get; init; } = [];

    /// <summary><c>track_process</c>.</summary>
    public ValueList<TrackedReference> TrackProcesses { get; init; } = [];

    /// <summary><c>dont_track_primary</c>: ignore faults of <see cref="Interface"/> itself.</summary>
    public bool DontTrackPrimary { get; init; }

    /// <summary><c>mcast_src_ip</c>: source of multicast adverts (default: the interface's primary address).</summary>
    public IPAddress? McastSrcIp { get; init; }

    /// <summary><c>mcast_dst_ip</c>: multicast group of this instance (default: <c>vrrp_mcast_group4/6</c>).</summary>
    public IPAddress? McastDstIp { get; init; }

    /// <summary><c>unicast_src_ip</c>: source of unicast adverts (default: the interface's primary address).</summary>
    public IPAddress? UnicastSrcIp { get; init; }

    /// <summary><c>unicast_peer</c>: when non-empty the instance sends adverts by unicast to each peer.</summary>
    public ValueList<UnicastPeer> UnicastPeers { get; init; } = [];

    /// <summary><c>unicast_ttl</c>: TTL/hop limit of unicast adverts (default 255).</summary>
    public int UnicastTtl { get; init; } = 255;

    /// <summary><c>check_unicast_src</c> (null: global <c>vrrp_check_unicast_src</c>; forced on when a peer has a TTL range).</summary>
    public bool? CheckUnicastSrc { get; init; }

    /// <summary><c>unicast_fault_no_peer</c>: FAULT instead of multicast when unicast is configured without peers.</summary>
    public bool UnicastFaultNoPeer { get; init; }

    /// <summary><c>track_src_ip</c>: FAULT when the configured source address is missing.</summary>
    public bool TrackSrcIp { get; init; }

    /// <summary><c>garp_master_delay</c> (null: global).</summary>
    public TimeSpan? GarpMasterDelay { get; init; }

    /// <summary><c>garp_master_repeat</c> (null: global).</summary>
    public int? GarpMasterRepeat { get; init; }

    /// <summary>Lb extension <c>#lb: split_brain_probe SECONDS|off</c> in the instance (null: global_defs'; <see cref="TimeSpan.Zero"/>: off).</summary>
    public TimeSpan? SplitBrainProbe { get; init; }

    /// <summary><c>garp_lower_prio_delay</c> (null: global).</summary>
    public TimeSpan? GarpLowerPrioDelay { get; init; }

    /// <summary><c>garp_lower_prio_repeat</c> (null: global).</summary>
    public int? GarpLowerPrioRepeat { get; init; }

    /// <summary><c>garp_master_refresh</c> (null: global).</summary>
    public TimeSpan? GarpMasterRefresh { get; init; }

    /// <summary><c>garp_master_refresh_repeat</c> (null: global).</summary>
    public int? GarpMasterRefreshRepeat { get; init; }

    /// <summary><c>down_timer_adverts</c> (null: global, default 3).</summary>
    public int? DownTimerAdverts { get; init; }

    /// <summary><c>lower_prio_no_advert</c> (null: global).</summary>
    public bool? LowerPrioNoAdvert { get; init; }

    /// <summary><c>higher_prio_send_advert</c> (null: global).</summary>
    public bool? HigherPrioSendAdvert { get; init; }

    /// <summary><c>use_vmac</c>: VIPs (and adverts unless <see cref="VmacXmitBase"/>) on a macvlan with the VRRP MAC over <see cref="Interface"/>.</summary>
    public VmacOptions? UseVmac { get; init; }

    /// <summary><c>vmac_xmit_base</c>: adverts sent on <see cref="Interface"/> (the base), VIPs still on the VMAC.</summary>
    public bool VmacXmitBase { get; init; }

    /// <summary><c>accept</c> / <c>no_accept</c> (null: accept unless strict mode, where accept only at priority 255). Recorded; no firewall rules are installed.</summary>
    public bool? Accept { get; init; }

    /// <summary><c>skip_check_adv_addr</c> (null: global <c>vrrp_skip_check_adv_addr</c>).</summary>
    public bool? SkipCheckAdvAddr { get; init; }

    /// <summary><c>strict_mode</c> (null: global <c>vrrp_strict</c>).</summary>
    public bool? StrictMode { get; init; }

    /// <summary><c>v3_checksum_as_v2</c> (null: global): VRRPv3 over IPv4 checksum without the pseudo-header.</summary>
    public bool? V3ChecksumAsV2 { get; init; }

    /// <summary><c>no_virtual_ipaddress</c> (keepalived 2.2.8; 2.2.7 rejects it): an instance without VIPs is intended (no warning; VRRPv3 allowed).</summary>
    public bool NoVirtualIpAddress { get; init; }

    /// <summary>
    /// <c>timer_expired_backup [PRIORITY]</c> (keepalived 2.2.8; requires nopreempt): the highest priority of the other
    /// routers (default 254). A MASTER whose advert timer fires so late that such a router may have taken over
    /// (3 × advert_int + its skew time since our last advert) goes BACKUP instead of advertising. Null: off.
    /// </summary>
    public int? TimerExpiredBackup { get; init; }

    /// <summary>
    /// <c>owner_ignore_adverts [BOOL]</c> (keepalived 2.3.3; null: <c>vrrp_owner_ignore_adverts</c>, on in strict mode):
    /// an address owner (priority 255) drops every advert it receives, as RFC 9568 says.
    /// </summary>
    public bool? OwnerIgnoreAdverts { get; init; }

    /// <summary><c>native_ipv6</c>: force IPv6 (deprecated in keepalived; the VIPs decide).</summary>
    public bool NativeIpv6 { get; init; }

    /// <summary><c>promote_secondaries</c> (recorded).</summary>
    public bool PromoteSecondaries { get; init; }

    /// <summary><c>notify_master</c>.</summary>
    public NotifyScript? NotifyMaster { get; init; }

    /// <summary><c>notify_backup</c>.</summary>
    public NotifyScript? NotifyBackup { get; init; }

    /// <summary><c>notify_fault</c>.</summary>
    public NotifyScript? NotifyFault { get; init; }

    /// <summary><c>notify_stop</c>.</summary>
    public NotifyScript? NotifyStop { get; init; }

    /// <summary><c>notify</c>: run on every transition with 4 more arguments: INSTANCE, name, state, priority.</summary>
    public NotifyScript? Notify { get; init; }

    /// <summary><c>notify_master_rx_lower_pri</c>.</summary>
    public NotifyScript? NotifyMasterRxLowerPri { get; init; }

    /// <summary><c>notify_priority_changes</c> (null: global).</summary>
    public bool? NotifyPriorityChanges { get; init; }

    /// <summary><c>smtp_alert</c>, resolved by the mapper as keepalived (instance, else <c>smtp_alert_vrrp</c>, else <c>smtp_alert</c>, else off): mail on state changes (sent by the host).</summary>
    public bool? SmtpAlert { get; init; }
}
