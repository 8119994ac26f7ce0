using System.Globalization;
using System.Net;
using Lb.Netlink.Collections;
using Lb.Vrrp.Options;

namespace Lb.Config.Mapping;

/// <summary>Maps the effective configuration tree onto the VRRP subsystem's options records.</summary>
internal static class VrrpOptionsMapper
{
    public static VrrpSubsystemOptions Map(IReadOnlyList<ConfigNode> nodes, NodeValues v)
    {
        var g = KeywordReads.LastOrEmpty(nodes, "global_defs");
        var defaults = new VrrpSubsystemOptions();
        var scriptUser = g.Last("script_user");
        // smtp_alert of an instance/group not set on it: smtp_alert_vrrp, else smtp_alert, else off (the notify FIFOs and
        // the mail itself are the host's: AlertOptionsMapper).
        var alert = AlertOptionsMapper.GlobalSmtpAlert(nodes, v, "smtp_alert_vrrp") ?? false;
        var (statics, addressesRoutesRules) = IpConfig.IpConfigChecks.Records(nodes);
        // The static blocks are read through their records; these lookups tell the keyword-coverage test so.
        foreach (var keyword in (ReadOnlySpan<string>)["static_ipaddress", "static_routes", "static_rules"])
            _ = KeywordReads.Top(nodes, keyword);

        return new VrrpSubsystemOptions
        {
            RouterId = v.Word(g, "router_id") ?? PreprocessorOptions.DefaultConfigId(),
            MulticastGroup4 = v.Address(g, "vrrp_mcast_group4") ?? defaults.MulticastGroup4,
            MulticastGroup6 = v.Address(g, "vrrp_mcast_group6") ?? defaults.MulticastGroup6,
            GarpMasterDelay = v.Timer(g, "vrrp_garp_master_delay") ?? defaults.GarpMasterDelay,
            GarpMasterRepeat = (int?)v.Integer(g, "vrrp_garp_master_repeat") ?? defaults.GarpMasterRepeat,
            GarpLowerPrioDelay = v.Timer(g, "vrrp_garp_lower_prio_delay"),
            GarpLowerPrioRepeat = (int?)v.Integer(g, "vrrp_garp_lower_prio_repeat"),
            GarpMasterRefresh = v.Timer(g, "vrrp_garp_master_refresh") ?? defaults.GarpMasterRefresh,
            GarpMasterRefreshRepeat = (int?)v.Integer(g, "vrrp_garp_master_refresh_repeat") ?? defaults.GarpMasterRefreshRepeat,
            GarpInterval = v.Timer(g, "vrrp_garp_interval") ?? defaults.GarpInterval,
            GnaInterval = v.Timer(g, "vrrp_gna_interval") ?? defaults.GnaInterval,
            MinGarp = v.Flag(g, "vrrp_min_garp") ?? false,
            LowerPrioNoAdvert = v.Flag(g, "vrrp_lower_prio_no_advert"),
            HigherPrioSendAdvert = v.Flag(g, "vrrp_higher_prio_send_advert") ?? false,
            Version = (int?)v.Integer(g, "vrrp_version") ?? defaults.Version,
            Strict = v.Flag(g, "vrrp_strict") ?? false,
            NftablesTable = v.Word(g, "nftables") ?? defaults.NftablesTable,
            NftablesPriority = (int?)v.Integer(g, "nftables_priority") ?? defaults.NftablesPriority,
            NftablesCounters = v.Flag(g, "nftables_counters") ?? false,
            CheckUnicastSrc = v.Flag(g, "vrrp_check_unicast_src") ?? false,
            SkipCheckAdvAddr = v.Flag(g, "vrrp_skip_check_adv_addr") ?? false,
            DownTimerAdverts = (int?)v.Integer(g, "vrrp_down_timer_adverts") ?? defaults.DownTimerAdverts,
            StartupDelay = v.Timer(g, "vrrp_startup_delay") ?? defaults.StartupDelay,
            SplitBrainProbe = SplitBrainProbe(g) ?? defaults.SplitBrainProbe,
            NotifyPriorityChanges = v.Flag(g, "vrrp_notify_priority_changes") ?? false,
            V3ChecksumAsV2 = v.Flag(g, "v3_checksum_as_v2") ?? false,
            OwnerIgnoreAdverts = v.Flag(g, "vrrp_owner_ignore_adverts") ?? false, // keepalived 2.3.3
            ScriptUser = scriptUser?.Arg0,
            ScriptGroup = scriptUser is { Args.Length: > 1 } ? scriptUser.Args[1] : null,
            EnableScriptSecurity = v.Flag(g, "enable_script_security") ?? false,
            MaxAutoPriority = g.Last("max_auto_priority") is { } map ? (map.Args.Length > 0 && int.TryParse(map.Args[0], CultureInfo.InvariantCulture, out var p) ? p : 99) : 0,
            MinAutoPriorityDelay = v.Integer(g, "min_auto_priority_delay") is { } delayUs ? TimeSpan.FromMicroseconds(delayUs) : defaults.MinAutoPriorityDelay,
            RealtimePriority = (int?)v.Integer(g, "vrrp_rt_priority") ?? 0,
            NoSwap = v.Flag(g, "vrrp_no_swap") ?? false,
            Instances = KeywordReads.Top(nodes, "vrrp_instance").Select(n => Instance(n, v, addressesRoutesRules)).OfType<VrrpInstanceOptions>().Select(i => i with { SmtpAlert = i.SmtpAlert ?? alert }).ToList(),
            SyncGroups = KeywordReads.Top(nodes, "vrrp_sync_group").Select(n => SyncGroup(n, v)).Select(s => s with { SmtpAlert = s.SmtpAlert ?? alert }).ToList(),
            Scripts = KeywordReads.Top(nodes, "vrrp_script").Select(n => Script(n, v)).OfType<VrrpScriptOptions>().ToList(),
            TrackFiles = KeywordReads.Top(nodes, "track_file").Select(n => TrackFile(n, v)).OfType<VrrpTrackFileOptions>().ToList(),
            TrackProcesses = KeywordReads.Top(nodes, "vrrp_track_process").Select(n => TrackProcess(n, v)).OfType<VrrpTrackProcessOptions>().ToList(),
            StaticAddresses = statics.Addresses.ToValueList(),
            StaticRoutes = statics.Routes.ToValueList(),
            StaticRules = statics.Rules.ToValueList(),
        };
    }

    private static string? At(ConfigNode n, int i) => n.Args.Length > i ? n.Args[i] : null;

    private static NotifyScript? Notify(ConfigNode parent, string keyword)
    {
        var n = parent.Last(keyword);
        return n?.Arg0 is string s && Lb.Scripts.ScriptCommandLine.TrySplit(s, out var argv, out _) ? new NotifyScript(argv.ToValueList(), At(n, 1), At(n, 2)) : null;
    }

    private static VrrpInstanceOptions? Instance(ConfigNode n, NodeValues v, IReadOnlyDictionary<ConfigNode, IpConfig.IpConfigLists> addressesRoutesRules)
    {
        var ip = addressesRoutesRules.TryGetValue(n, out var lists) ? lists : new IpConfig.IpConfigLists([], [], [], []);
        var name = n.Arg0 ?? "?";
        var vrid = v.Integer(n, "virtual_router_id");
        if (vrid is null)
            return null;
        var auth = n.Last("authentication");
        VrrpAuthentication? authentication = null;
        if (auth is not null)
        {
            var type = v.Word(auth, "auth_type")?.ToUpperInvariant();
            var pass = v.Word(auth, "auth_pass") ?? string.Empty;
            authentication = type switch
            {
                "PASS" => new VrrpAuthentication(VrrpAuthType.Pass, pass),
                "AH" => new VrrpAuthentication(VrrpAuthType.Ah, pass),
                _ => null,
            };
        }
        var state = v.Word(n, "state")?.ToUpperInvariant();
        var useVmac = n.Last("use_vmac");
        var advert = v.Timer(n, "advert_int");
        var unicastPeer = n.Last("unicast_peer");
        var (nopreempt, preempt) = (v.Flag(n, "nopreempt"), v.Flag(n, "preempt"));
        var (noAccept, accept) = (v.Flag(n, "no_accept"), v.Flag(n, "accept"));
        return new VrrpInstanceOptions
        {
            Name = name,
            InitialState = state == "MASTER" ? VrrpInitialState.Master : VrrpInitialState.Backup,
            Interface = v.Word(n, "interface"),
            VirtualRouterId = (int)vrid.Value,
            Priority = (int?)v.Integer(n, "priority") ?? VrrpDefaults.DefaultPriority,
            AdvertInterval = advert ?? TimeSpan.FromSeconds(1),
            Version = (int?)v.Integer(n, "version"),
            Preempt = !(nopreempt ?? false) && (preempt ?? true),
            PreemptDelay = v.Timer(n, "preempt_delay") ?? TimeSpan.Zero,
            Authentication = authentication,
            VirtualIpAddresses = ip.Addresses.ToValueList(),
            VirtualIpAddressesExcluded = ip.ExcludedAddresses.ToValueList(),
            VirtualRoutes = ip.Routes.ToValueList(),
            VirtualRules = ip.Rules.ToValueList(),
            TrackInterfaces = (n.Last("track_interface")?.Children ?? System.Collections.Immutable.ImmutableArray<ConfigNode>.Empty).Select(c => new TrackedInterface(c.Keyword, WeightOf(c, v) ?? 0, c.Args.Contains("reverse"))).ToList(),
            TrackScripts = Tracked(n.Last("track_script"), v),
            TrackFiles = Tracked(n.Last("track_file"), v),
            TrackProcesses = Tracked(n.Last("track_process"), v),
            DontTrackPrimary = v.Flag(n, "dont_track_primary") ?? false,
            McastSrcIp = v.Address(n, "mcast_src_ip"),
            McastDstIp = v.Address(n, "mcast_dst_ip"),
            UnicastSrcIp = v.Address(n, "unicast_src_ip"),
            UnicastPeers = unicastPeer is null ? [] : unicastPeer.Children.Select(c => Peer(c, v)).OfType<UnicastPeer>().ToList(),
            UnicastTtl = (int?)v.Integer(n, "unicast_ttl") ?? 255,
            CheckUnicastSrc = v.Flag(n, "check_unicast_src"),
            UnicastFaultNoPeer = v.Flag(n, "unicast_fault_no_peer") ?? false,
            // keywords newer than keepalived 2.2.7 (2.2.8: the first three; 2.3.3: owner_ignore_adverts)
            V3ChecksumAsV2 = v.Flag(n, "v3_checksum_as_v2"),
            NoVirtualIpAddress = v.Flag(n, "no_virtual_ipaddress") ?? false,
            TimerExpiredBackup = n.Last("timer_expired_backup") is null ? null : (int?)v.Integer(n, "timer_expired_backup") ?? VrrpDefaults.OwnerPriority - 1,
            OwnerIgnoreAdverts = v.Flag(n, "owner_ignore_adverts"),
            TrackSrcIp = v.Flag(n, "track_src_ip") ?? false,
            GarpMasterDelay = v.Timer(n, "garp_master_delay"),
            GarpMasterRepeat = (int?)v.Integer(n, "garp_master_repeat"),
            SplitBrainProbe = SplitBrainProbe(n),
            GarpLowerPrioDelay = v.Timer(n, "garp_lower_prio_delay"),
            GarpLowerPrioRepeat = (int?)v.Integer(n, "garp_lower_prio_repeat"),
            GarpMasterRefresh = v.Timer(n, "garp_master_refresh"),
            GarpMasterRefreshRepeat = (int?)v.Integer(n, "garp_master_refresh_repeat"),
            DownTimerAdverts = (int?)v.Integer(n, "down_timer_adverts"),
            LowerPrioNoAdvert = v.Flag(n, "lower_prio_no_advert"),
            HigherPrioSendAdvert = v.Flag(n, "higher_prio_send_advert"),
            UseVmac = VmacMapping.Options(n, useVmac, (int)vrid.Value, v),
            VmacXmitBase = VmacMapping.XmitBase(n, useVmac, unicastPeer is { Children.Length: > 0 }, v),
            Accept = noAccept == true ? false : accept,
            SkipCheckAdvAddr = v.Flag(n, "skip_check_adv_addr"),
            StrictMode = v.Flag(n, "strict_mode"),
            NativeIpv6 = v.Flag(n, "native_ipv6") ?? false,
            PromoteSecondaries = v.Flag(n, "promote_secondaries") ?? false,
            NotifyMaster = Notify(n, "notify_master"),
            NotifyBackup = Notify(n, "notify_backup"),
            NotifyFault = Notify(n, "notify_fault"),
            NotifyStop = Notify(n, "notify_stop"),
            Notify = Notify(n, "notify"),
            NotifyMasterRxLowerPri = Notify(n, "notify_master_rx_lower_pri"),
            NotifyPriorityChanges = v.Flag(n, "notify_priority_changes"),
            SmtpAlert = v.Flag(n, "smtp_alert"),
        };
    }

    private static int? WeightOf(ConfigNode entry, NodeValues v)
    {
        var i = entry.Args.IndexOf("weight");
        if (i < 0 || i + 1 >= entry.Args.Length)
            return null;
        if (int.TryParse(entry.Args[i + 1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var w) && w is >= -254 and <= 254)
            return w;
        v.Diagnostics.Error(entry.Location, $"weight {entry.Args[i + 1]} for {entry.Keyword} must be between [-254..254] inclusive - ignoring");
        return null;
    }

    private static List<TrackedReference> Tracked(ConfigNode? block, NodeValues v) =>
        block is null ? [] : block.Children.Select(c => new TrackedReference(c.Keyword, WeightOf(c, v), c.Args.Contains("reverse") ? true : c.Args.Contains("noreverse") ? false : null)).ToList();

    private static UnicastPeer? Peer(ConfigNode c, NodeValues v)
    {
        var address = v.ParseAddress(c, c.Keyword);
        if (address is null)
            return null;
        int min = 0, max = 255;
        for (var i = 0; i + 1 < c.Args.Length; i += 2)
        {
            if (c.Args[i] == "min_ttl" && int.TryParse(c.Args[i + 1], CultureInfo.InvariantCulture, out var a))
                min = a;
            else if (c.Args[i] == "max_ttl" && int.TryParse(c.Args[i + 1], CultureInfo.InvariantCulture, out var b))
                max = b;
        }
        return new UnicastPeer(address, min, max);
    }

    private static VrrpSyncGroupOptions SyncGroup(ConfigNode n, NodeValues v) => new()
    {
        Name = n.Arg0 ?? "?",
        Members = (n.Last("group")?.Children ?? System.Collections.Immutable.ImmutableArray<ConfigNode>.Empty).Select(c => c.Keyword).ToList(),
        TrackInterfaces = (n.Last("track_interface")?.Children ?? System.Collections.Immutable.ImmutableArray<ConfigNode>.Empty).Select(c => new TrackedInterface(c.Keyword, WeightOf(c, v) ?? 0, c.Args.Contains("reverse"))).ToList(),
        TrackScripts = Tracked(n.Last("track_script"), v),
        TrackFiles = Tracked(n.Last("track_file"), v),
        TrackProcesses = Tracked(n.Last("track_process"), v),
        NotifyMaster = Notify(n, "notify_master"),
        NotifyBackup = Notify(n, "notify_backup"),
        NotifyFault = Notify(n, "notify_fault"),
        NotifyStop = Notify(n, "notify_stop"),
        Notify = Notify(n, "notify"),
        NotifyPriorityChanges = v.Flag(n, "notify_priority_changes"),
        SmtpAlert = v.Flag(n, "smtp_alert"),
        SyncGroupTrackingWeight = v.Flag(n, "sync_group_tracking_weight") ?? false,
    };

    private static VrrpScriptOptions? Script(ConfigNode n, NodeValues v)
    {
        // A missing script is reported by the checks ("No script set for vrrp_script X - removing"), as is the reason a
        // command line cannot be split (keepalived's quote and escape messages); here the script is dropped, and said so.
        var script = n.Last("script");
        if (script?.Arg0 is not string command)
            return null;
        if (!Lb.Scripts.ScriptCommandLine.TrySplit(command, out var argv, out _))
        {
            v.Diagnostics.Error(script.Location, $"vrrp_script {n.Arg0}: the script's command line cannot be split into words - removing");
            return null;
        }
        var weight = n.Last("weight");
        var user = n.Last("user");
        return new VrrpScriptOptions
        {
            Name = n.Arg0 ?? "?",
            Command = argv.ToValueList(),
            Interval = v.Timer(n, "interval") ?? TimeSpan.FromSeconds(1),
            Timeout = v.Timer(n, "timeout"),
            Weight = (int?)v.Integer(n, "weight") ?? 0,
            WeightReverse = weight?.Args.Contains("reverse") ?? false,
            Rise = (int?)v.Integer(n, "rise") ?? 1,
            Fall = (int?)v.Integer(n, "fall") ?? 1,
            User = user?.Arg0,
            Group = user is { Args.Length: > 1 } ? user.Args[1] : null,
            InitFail = v.Flag(n, "init_fail") ?? false,
        };
    }

    private static VrrpTrackFileOptions? TrackFile(ConfigNode n, NodeValues v)
    {
        var file = v.Word(n, "file");
        if (file is null)
        {
            v.Diagnostics.Error(n.Location, $"track_file {n.Arg0} has no file - ignoring");
            return null;
        }
        var init = n.Last("init_file");
        return new VrrpTrackFileOptions
        {
            Name = n.Arg0 ?? "?",
            Path = file,
            Weight = (int?)v.Integer(n, "weight") ?? 1,
            WeightReverse = n.Last("weight")?.Args.Contains("reverse") ?? false,
            InitFileValue = init is { Args.Length: > 0 } && long.TryParse(init.Args[0], CultureInfo.InvariantCulture, out var iv) ? iv : init is null ? null : 0,
            InitFileOverwrite = init?.Args.Contains("overwrite") ?? false,
        };
    }

    private static VrrpTrackProcessOptions? TrackProcess(ConfigNode n, NodeValues v)
    {
        var process = n.Last("process");
        if (process?.Arg0 is not string name)
        {
            v.Diagnostics.Error(n.Location, $"vrrp_track_process {n.Arg0} has no process - ignoring");
            return null;
        }
        var delay = v.Timer(n, "delay");
        return new VrrpTrackProcessOptions
        {
            Name = n.Arg0 ?? "?",
            Process = name,
            Parameters = process.Args.Skip(1).ToList(),
            ParamMatch = v.Word(n, "param_match") switch { "exact" => ProcessParamMatch.Exact, "partial" => ProcessParamMatch.Partial, "initial" => ProcessParamMatch.Initial, _ => process.Args.Length > 1 ? ProcessParamMatch.Exact : ProcessParamMatch.None },
            Weight = (int?)v.Integer(n, "weight") ?? 0,
            WeightReverse = n.Last("weight")?.Args.Contains("reverse") ?? false,
            Quorum = (int?)v.Integer(n, "quorum") ?? 1,
            QuorumMax = (int?)v.Integer(n, "quorum_max") ?? int.MaxValue,
            ForkDelay = v.Timer(n, "fork_delay") ?? delay ?? TimeSpan.Zero,
            TerminateDelay = v.Timer(n, "terminate_delay") ?? delay ?? TimeSpan.Zero,
            FullCommand = v.Flag(n, "full_command") ?? false,
        };
    }

    /// <summary>Lb's <c>#lb: split_brain_probe SECONDS|off</c> (checked by the schema): off is zero; null when absent.</summary>
    private static TimeSpan? SplitBrainProbe(ConfigNode parent) => parent.Last("lb:split_brain_probe") is { Args.Length: > 0 } n
        ? n.Args[0] == "off" ? TimeSpan.Zero : TimeSpan.FromSeconds(double.Parse(n.Args[0], CultureInfo.InvariantCulture))
        : null;
}
