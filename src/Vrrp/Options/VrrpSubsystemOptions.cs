using Lb.Netlink.Collections;
using System.Net;

namespace Lb.Vrrp.Options;

/// <summary>
/// Everything the VRRP subsystem needs from <c>keepalived.conf</c>: the VRRP-relevant part of
/// <c>global_defs</c>, and every <c>vrrp_instance</c>, <c>vrrp_sync_group</c>, <c>vrrp_script</c>,
/// <c>track_file</c> and <c>vrrp_track_process</c> block. Defaults are keepalived 2.2.7's.
/// Instances, groups and trackers are keyed by name, so a reload can diff them.
/// </summary>
public sealed record VrrpSubsystemOptions
{
    /// <summary><c>router_id</c>: string identifying this machine (default: the host name).</summary>
    public string? RouterId { get; init; }

    /// <summary><c>vrrp_mcast_group4</c> (default 224.0.0.18).</summary>
    public IPAddress MulticastGroup4 { get; init; } = VrrpDefaults.MulticastGroup4;

    /// <summary><c>vrrp_mcast_group6</c> (default ff02::12).</summary>
    public IPAddress MulticastGroup6 { get; init; } = VrrpDefaults.MulticastGroup6;

    /// <summary><c>vrrp_garp_master_delay</c>: delay of the second burst of gratuitous ARPs after becoming MASTER; zero for none (default 5 s).</summary>
    public TimeSpan GarpMasterDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>vrrp_garp_master_repeat</c>: gratuitous ARPs per burst after becoming MASTER (default 5).</summary>
    public int GarpMasterRepeat { get; init; } = 5;

    /// <summary><c>vrrp_garp_lower_prio_delay</c>: delay of the second burst after a lower-priority advert is received as MASTER (default: <see cref="GarpMasterDelay"/>).</summary>
    public TimeSpan? GarpLowerPrioDelay { get; init; }

    /// <summary><c>vrrp_garp_lower_prio_repeat</c>: gratuitous ARPs per burst after a lower-priority advert is received as MASTER (default: <see cref="GarpMasterRepeat"/>).</summary>
    public int? GarpLowerPrioRepeat { get; init; }

    /// <summary><c>vrrp_garp_master_refresh</c>: interval of periodic gratuitous ARPs while MASTER; zero for none (default 0).</summary>
    public TimeSpan GarpMasterRefresh { get; init; } = TimeSpan.Zero;

    /// <summary><c>vrrp_garp_master_refresh_repeat</c>: gratuitous ARPs per refresh (default 1).</summary>
    public int GarpMasterRefreshRepeat { get; init; } = 1;

    /// <summary><c>vrrp_garp_interval</c>: delay between gratuitous ARPs sent on one interface (default 0).</summary>
    public TimeSpan GarpInterval { get; init; } = TimeSpan.Zero;

    /// <summary><c>vrrp_gna_interval</c>: delay between unsolicited neighbour adverts sent on one interface (default 0).</summary>
    public TimeSpan GnaInterval { get; init; } = TimeSpan.Zero;

    /// <summary><c>vrrp_min_garp</c>: one ARP/NA per burst and no second burst (sets repeat 1, delay 0).</summary>
    public bool MinGarp { get; init; }

    /// <summary><c>vrrp_lower_prio_no_advert</c>: as MASTER, do not answer a lower-priority advert with an advert (default false, true under <c>vrrp_strict</c>).</summary>
    public bool? LowerPrioNoAdvert { get; init; }

    /// <summary><c>vrrp_higher_prio_send_advert</c>: as MASTER, send an advert before yielding to a higher priority (default false).</summary>
    public bool HigherPrioSendAdvert { get; init; }

    /// <summary><c>vrrp_version</c>: default VRRP version, 2 or 3 (default 2; IPv6 instances always use 3).</summary>
    public int Version { get; init; } = 2;

    /// <summary><c>vrrp_strict</c>: strict RFC compliance (default false).</summary>
    public bool Strict { get; init; }

    /// <summary>
    /// <c>nftables [NAME]</c>: the nf_tables table (families ip and ip6) holding accept mode's drop rules (default
    /// <c>keepalived</c>; used whether or not the keyword is given, as keepalived's nftables build does).
    /// </summary>
    public string NftablesTable { get; init; } = "keepalived";

    /// <summary><c>nftables_priority</c>: the priority of the table's input/output base chains (default -1).</summary>
    public int NftablesPriority { get; init; } = -1;

    /// <summary><c>nftables_counters</c>: a counter in each drop rule (default false).</summary>
    public bool NftablesCounters { get; init; }

    /// <summary><c>vrrp_check_unicast_src</c>: in unicast mode, accept adverts only from configured peers (default false).</summary>
    public bool CheckUnicastSrc { get; init; }

    /// <summary><c>vrrp_skip_check_adv_addr</c>: skip the VIP-list check for adverts from the same master as the previous one (default false).</summary>
    public bool SkipCheckAdvAddr { get; init; }

    /// <summary><c>vrrp_down_timer_adverts</c>: default number of advert intervals in the master-down timer (default 3).</summary>
    public int DownTimerAdverts { get; init; } = 3;

    /// <summary>
    /// Lb extension <c>#lb: split_brain_probe SECONDS|off</c> in global_defs: how often a MASTER probes each of its VIPs
    /// (ARP probe / neighbour solicitation) for another host answering for it (default 2 s; <see cref="TimeSpan.Zero"/>: off).
    /// </summary>
    public TimeSpan SplitBrainProbe { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary><c>vrrp_startup_delay</c>: delay before instances start (default 0).</summary>
    public TimeSpan StartupDelay { get; init; } = TimeSpan.Zero;

    /// <summary><c>vrrp_notify_priority_changes</c>: send MASTER_PRIORITY/BACKUP_PRIORITY lines on the notify FIFO (default false).</summary>
    public bool NotifyPriorityChanges { get; init; }

    /// <summary><c>v3_checksum_as_v2</c> (global default): compute the VRRPv3 IPv4 checksum without the pseudo-header (default false).</summary>
    public bool V3ChecksumAsV2 { get; init; }

    /// <summary><c>vrrp_owner_ignore_adverts [BOOL]</c> (keepalived 2.3.3; global default of <c>owner_ignore_adverts</c>, default false).</summary>
    public bool OwnerIgnoreAdverts { get; init; }

    /// <summary><c>script_user</c>: user (and optional group) scripts run as when none is given (default: the user Lb runs as).</summary>
    public string? ScriptUser { get; init; }

    /// <summary>Group part of <c>script_user username [groupname]</c>.</summary>
    public string? ScriptGroup { get; init; }

    /// <summary><c>enable_script_security</c>: refuse to run root scripts whose path is writable by non-root users.</summary>
    public bool EnableScriptSecurity { get; init; }

    /// <summary>
    /// <c>max_auto_priority</c>: when a VRRP timer runs later than <see cref="MinAutoPriorityDelay"/>, the VRRP threads
    /// switch to SCHED_RR at the lowest priority, then one higher at each further late expiry, up to this (-1..99;
    /// default 0 = never; the keyword without a value: 99).
    /// </summary>
    public int MaxAutoPriority { get; init; }

    /// <summary><c>min_auto_priority_delay</c> (microseconds in the file): how late a timer must run to raise the priority (default 1 s).</summary>
    public TimeSpan MinAutoPriorityDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>vrrp_rt_priority</c>: SCHED_RR priority (1..99) of the VRRP threads (timer and receive threads) from start; 0 = normal scheduling.</summary>
    public int RealtimePriority { get; init; }

    /// <summary><c>vrrp_no_swap</c>: lock the process in memory (<c>mlockall</c>), as keepalived locks its VRRP process.</summary>
    public bool NoSwap { get; init; }

    /// <summary>Command line <c>-V, --dont-release-vrrp</c>: leave the VIPs in place when stopping.</summary>
    public bool DontReleaseVrrp { get; init; }

    /// <summary>
    /// Command line <c>-X, --release-vips</c>, accepted for compatibility and changing nothing. keepalived 2.2.7
    /// ("Drop VIP on transition from signal") uses it to remove, on leaving MASTER, VIPs it did not set itself;
    /// Lb always removes every configured VIP on leaving MASTER. VIPs left on the interfaces by a crashed run are
    /// removed at every start, with or without it, as keepalived does (vrrp_restore_interfaces_startup).
    /// </summary>
    public bool ReleaseVips { get; init; }

    /// <summary><c>vrrp_instance</c> blocks.</summary>
    public ValueList<VrrpInstanceOptions> Instances { get; init; } = [];

    /// <summary><c>vrrp_sync_group</c> blocks.</summary>
    public ValueList<VrrpSyncGroupOptions> SyncGroups { get; init; } = [];

    /// <summary><c>vrrp_script</c> blocks.</summary>
    public ValueList<VrrpScriptOptions> Scripts { get; init; } = [];

    /// <summary><c>track_file</c> (<c>vrrp_track_file</c>) blocks.</summary>
    public ValueList<VrrpTrackFileOptions> TrackFiles { get; init; } = [];

    /// <summary><c>vrrp_track_process</c> blocks.</summary>
    public ValueList<VrrpTrackProcessOptions> TrackProcesses { get; init; } = [];

    /// <summary><c>static_ipaddress</c>: installed at start, removed at stop, restored when removed by someone else.</summary>
    public ValueList<VirtualAddress> StaticAddresses { get; init; } = [];

    /// <summary><c>static_routes</c>: installed at start, removed at stop, restored when removed by someone else.</summary>
    public ValueList<VirtualRoute> StaticRoutes { get; init; } = [];

    /// <summary><c>static_rules</c>: installed at start, removed at stop, restored when removed by someone else.</summary>
    public ValueList<VirtualRule> StaticRules { get; init; } = [];

    /// <summary>True when there is something for the VRRP process to do: an instance, or static addresses, routes or rules.</summary>
    public bool HasWork => Instances.Count + StaticAddresses.Count + StaticRoutes.Count + StaticRules.Count > 0;
}

/// <summary>Protocol constants and keepalived defaults.</summary>
public static class VrrpDefaults
{
    /// <summary>IANA VRRP multicast group for IPv4.</summary>
    public static readonly IPAddress MulticastGroup4 = IPAddress.Parse("224.0.0.18");

    /// <summary>IANA VRRP multicast group for IPv6.</summary>
    public static readonly IPAddress MulticastGroup6 = IPAddress.Parse("ff02::12");

    /// <summary>IP protocol number of VRRP.</summary>
    public const int IpProtocol = 112;

    /// <summary>Priority of the address owner.</summary>
    public const int OwnerPriority = 255;

    /// <summary>Default priority of an instance.</summary>
    public const int DefaultPriority = 100;
}
