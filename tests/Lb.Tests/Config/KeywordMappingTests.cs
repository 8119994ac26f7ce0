using System.Net;
using Lb.Checkers.Options;
using Lb.Config;
using Lb.Config.Mapping;
using Lb.Vrrp.Options;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// One assertion per implemented keyword that had no mapping test: the keyword in a minimal configuration reaches the option
/// its subsystem uses (KeywordCoverageTests requires every <c>@impl</c> keyword to be mentioned by a test).
/// </summary>
public sealed class KeywordMappingTests
{
    private static SubsystemOptions Map(string text) => ConfigLoader.LoadText(text, "k.conf").Options;

    private static VrrpSubsystemOptions Global(string statement) => Map($"global_defs {{\n  {statement}\n}}\n").Vrrp;

    private static CheckerSubsystemOptions GlobalChecker(string statement) => Map($"global_defs {{\n  {statement}\n}}\nvirtual_server 10.0.0.1 80 {{\n  real_server 10.0.0.2 80 {{\n  }}\n}}\n").Checkers;

    private static VrrpInstanceOptions Instance(string statements) =>
        Assert.Single(Map($"vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  {statements}\n  virtual_ipaddress {{\n    10.0.0.10/32\n  }}\n}}\n").Vrrp.Instances);

    private static VirtualServerOptions VirtualServer(string statements, string realServer = "") =>
        Assert.Single(Map($"virtual_server 10.0.0.1 80 {{\n  lvs_sched rr\n  {statements}\n  real_server 10.0.0.2 80 {{\n    {realServer}\n  }}\n}}\n").Checkers.VirtualServers);

    private static T Checker<T>(string block, string statements)
        where T : CheckerOptions =>
        Assert.IsAssignableFrom<T>(Assert.Single(Assert.Single(VirtualServer(string.Empty, $"{block} {{\n      {statements}\n    }}").RealServers).Checkers));

    [Fact]
    public void A_virtual_server_weight_is_the_weight_of_its_real_servers_that_set_none()
    {
        var vs = Assert.Single(Map("virtual_server 10.0.0.1 80 {\n  weight 7\n  real_server 10.0.0.2 80 {\n  }\n  real_server 10.0.0.3 80 {\n    weight 3\n  }\n}\n").Checkers.VirtualServers);
        Assert.Equal([7, 3], vs.RealServers.Select(r => r.Weight));
        Assert.Equal(1, Assert.Single(VirtualServer(string.Empty).RealServers).Weight);
    }

    [Fact]
    public void Vrrp_global_keywords_reach_the_vrrp_options()
    {
        Assert.Equal(IPAddress.Parse("ff02::99"), Global("vrrp_mcast_group6 ff02::99").MulticastGroup6);
        Assert.Equal(TimeSpan.FromSeconds(7), Global("vrrp_garp_master_refresh 7").GarpMasterRefresh);
        Assert.Equal(4, Global("vrrp_garp_master_refresh_repeat 4").GarpMasterRefreshRepeat);
        Assert.Equal(TimeSpan.FromSeconds(3), Global("vrrp_garp_lower_prio_delay 3").GarpLowerPrioDelay);
        Assert.Equal(6, Global("vrrp_garp_lower_prio_repeat 6").GarpLowerPrioRepeat);
        Assert.Equal(TimeSpan.FromSeconds(0.5), Global("vrrp_gna_interval 0.5").GnaInterval);
        Assert.True(Global("vrrp_min_garp").MinGarp);
        Assert.Equal(5, Global("vrrp_down_timer_adverts 5").DownTimerAdverts);
        Assert.True(Global("vrrp_lower_prio_no_advert").LowerPrioNoAdvert);
        Assert.True(Global("vrrp_higher_prio_send_advert").HigherPrioSendAdvert);
        Assert.True(Global("vrrp_check_unicast_src").CheckUnicastSrc);
        Assert.True(Global("vrrp_skip_check_adv_addr").SkipCheckAdvAddr);
        Assert.True(Global("v3_checksum_as_v2").V3ChecksumAsV2);
        Assert.True(Global("vrrp_strict").Strict);
        Assert.False(Global("router_id x").Strict);
        Assert.True(Global("vrrp_notify_priority_changes").NotifyPriorityChanges);
        Assert.Equal(TimeSpan.FromSeconds(2.5), Global("vrrp_startup_delay 2.5").StartupDelay);
    }

    private static global::Lb.Alerts.AlertOptions Alerts(string statements) => Map($"global_defs {{\n  {statements}\n}}\n").Alerts;

    /// <summary>
    /// The notify FIFOs are the host's (both subsystems write notify_fifo): each keyword is its own FIFO, as keepalived
    /// writes to notify_fifo AND vrrp_notify_fifo (before issue 13 Lb used vrrp_notify_fifo instead of notify_fifo).
    /// </summary>
    [Fact]
    public void Notify_fifo_keywords_reach_the_host_alert_options()
    {
        Assert.Equal("/tmp/vfifo", Alerts("vrrp_notify_fifo /tmp/vfifo").VrrpNotifyFifo!.Path);
        Assert.Equal(("/tmp/any", "/tmp/vfifo"), (Alerts("notify_fifo /tmp/any\n  vrrp_notify_fifo /tmp/vfifo").NotifyFifo!.Path, Alerts("notify_fifo /tmp/any\n  vrrp_notify_fifo /tmp/vfifo").VrrpNotifyFifo!.Path));
        Assert.Equal(["/bin/echo", "v"], Alerts("vrrp_notify_fifo /tmp/v\n  vrrp_notify_fifo_script \"/bin/echo v\"").VrrpNotifyFifo!.Script!);
        Assert.Equal(["/bin/echo", "n"], Alerts("notify_fifo /tmp/n\n  notify_fifo_script \"/bin/echo n\"").NotifyFifo!.Script!);
        Assert.Equal("/tmp/lfifo", Alerts("lvs_notify_fifo /tmp/lfifo").LvsNotifyFifo!.Path);
        Assert.Equal(["/bin/echo", "l"], Alerts("lvs_notify_fifo /tmp/l\n  lvs_notify_fifo_script \"/bin/echo l\" nobody").LvsNotifyFifo!.Script!);
        Assert.Equal("nobody", Alerts("lvs_notify_fifo /tmp/l\n  lvs_notify_fifo_script \"/bin/echo l\" nobody").LvsNotifyFifo!.User);
    }

    [Fact]
    public void Mail_keywords_reach_the_host_alert_options()
    {
        Assert.Equal(["a@example.org", "b@example.org"], Alerts("notification_email {\n    a@example.org\n    b@example.org\n  }").Emails);
        Assert.Equal("lb@example.org", Alerts("notification_email_from lb@example.org").EmailFrom);
        Assert.Equal(("192.0.2.25", 2525), (Alerts("smtp_server 192.0.2.25 2525").SmtpServer, Alerts("smtp_server 192.0.2.25 2525").SmtpPort));
        Assert.Equal(25, Alerts("smtp_server mail.example.org").SmtpPort);
        Assert.Equal("director1", Alerts("smtp_helo_name director1").SmtpHeloName);
        Assert.Equal(TimeSpan.FromSeconds(7), Alerts("smtp_connect_timeout 7").SmtpConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), Alerts("router_id x").SmtpConnectTimeout);
        Assert.True(Alerts("no_email_faults").NoEmailFaults);
        Assert.True(GlobalChecker("no_checker_emails").NoCheckerEmails);
    }

    /// <summary>keepalived's smtp_alert resolution (vrrp.c, check_data.c): the object's own, else smtp_alert_vrrp/_checker, else smtp_alert, else off — ON for a real server.</summary>
    [Fact]
    public void Smtp_alert_resolves_as_keepalived()
    {
        const string Vs = "virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n  }\n}\n";
        const string Vi = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.10/32\n  }\n}\n";
        var none = Map(Vs + Vi);
        Assert.Equal((false, true, false), (none.Checkers.VirtualServers[0].SmtpAlert, none.Checkers.VirtualServers[0].RealServers[0].SmtpAlert, none.Vrrp.Instances[0].SmtpAlert!.Value));
        var all = Map("global_defs {\n  smtp_alert\n}\n" + Vs + Vi);
        Assert.Equal((true, true, true), (all.Checkers.VirtualServers[0].SmtpAlert, all.Checkers.VirtualServers[0].RealServers[0].SmtpAlert, all.Vrrp.Instances[0].SmtpAlert!.Value));
        var split = Map("global_defs {\n  smtp_alert\n  smtp_alert_checker off\n  smtp_alert_vrrp on\n}\n" + Vs + Vi);
        Assert.Equal((false, false, true), (split.Checkers.VirtualServers[0].SmtpAlert, split.Checkers.VirtualServers[0].RealServers[0].SmtpAlert, split.Vrrp.Instances[0].SmtpAlert!.Value));
        Assert.False(Assert.Single(VirtualServer(string.Empty, "smtp_alert off").RealServers).SmtpAlert);
        Assert.True(VirtualServer("smtp_alert").SmtpAlert);
        Assert.True(Instance("smtp_alert").SmtpAlert);
        var group = Map("global_defs {\n  smtp_alert_vrrp\n}\n" + Vi + "vrrp_sync_group G {\n  group {\n    VI_1\n  }\n}\n");
        Assert.True(Assert.Single(group.Vrrp.SyncGroups).SmtpAlert);
        var groupOff = Map(Vi + "vrrp_sync_group G {\n  group {\n    VI_1\n  }\n  smtp_alert off\n}\n");
        Assert.False(Assert.Single(groupOff.Vrrp.SyncGroups).SmtpAlert);
    }

    [Fact]
    public void Checker_global_keywords_reach_the_checker_options()
    {
        Assert.True(GlobalChecker("checker_log_all_failures").CheckerLogAllFailures);
        Assert.True(GlobalChecker("rs_init_notifies").RsInitNotifies);
        Assert.True(GlobalChecker("lvs_flush").LvsFlush);
        Assert.Equal(LvsFlushOnStop.VirtualServers, GlobalChecker("lvs_flush_on_stop VS").LvsFlushOnStop);
        Assert.Equal(LvsFlushOnStop.Full, GlobalChecker("lvs_flush_on_stop").LvsFlushOnStop);
    }

    [Fact]
    public void Vrrp_instance_keywords_reach_the_instance_options()
    {
        Assert.True(Instance("dont_track_primary").DontTrackPrimary);
        Assert.True(Instance("check_unicast_src").CheckUnicastSrc);
        Assert.True(Instance("native_ipv6").NativeIpv6);
        Assert.Equal(IPAddress.Parse("224.0.0.99"), Instance("mcast_dst_ip 224.0.0.99").McastDstIp);
        // keepalived resets unicast_ttl without unicast peers.
        Assert.Equal(12, Instance("unicast_ttl 12\n  unicast_peer {\n    10.0.0.2\n  }").UnicastTtl);
        Assert.Equal(9, Instance("garp_master_repeat 9").GarpMasterRepeat);
        Assert.Equal(TimeSpan.FromSeconds(2), Instance("garp_lower_prio_delay 2").GarpLowerPrioDelay);
        Assert.Equal(3, Instance("garp_lower_prio_repeat 3").GarpLowerPrioRepeat);
        Assert.Equal(TimeSpan.FromSeconds(30), Instance("garp_master_refresh 30").GarpMasterRefresh);
        Assert.Equal(2, Instance("garp_master_refresh_repeat 2").GarpMasterRefreshRepeat);
        Assert.Equal(4, Instance("down_timer_adverts 4").DownTimerAdverts);
        Assert.True(Instance("lower_prio_no_advert").LowerPrioNoAdvert);
        Assert.False(Instance("lower_prio_no_advert off").LowerPrioNoAdvert);
        Assert.True(Instance("higher_prio_send_advert").HigherPrioSendAdvert);
        Assert.Equal(TimeSpan.FromSeconds(15), Instance("preempt_delay 15").PreemptDelay);
        Assert.True(Instance("skip_check_adv_addr").SkipCheckAdvAddr);
        Assert.True(Instance("strict_mode").StrictMode);
        Assert.Null(Instance(string.Empty).StrictMode);
        Assert.Equal(["/bin/echo", "b"], Instance("notify_backup \"/bin/echo b\"").NotifyBackup!.Command);
        Assert.Equal(["/bin/echo", "f"], Instance("notify_fault \"/bin/echo f\"").NotifyFault!.Command);
        Assert.Equal(["/bin/echo", "s"], Instance("notify_stop \"/bin/echo s\"").NotifyStop!.Command);
        Assert.Equal(["/bin/echo", "l"], Instance("notify_master_rx_lower_pri \"/bin/echo l\"").NotifyMasterRxLowerPri!.Command);
        Assert.True(Instance("notify_priority_changes").NotifyPriorityChanges);
        Assert.Equal("tp", Assert.Single(Instance("track_process {\n    tp weight 5\n  }").TrackProcesses).Name);
        Assert.False(Instance("nopreempt").Preempt);
        Assert.True(Instance("preempt").Preempt);
    }

    [Fact]
    public void Sync_group_keywords_reach_the_sync_group_options()
    {
        // keepalived drops a group whose members are not defined: VI_1 is.
        var g = Assert.Single(Map("""
            vrrp_instance VI_1 {
              interface eth0
              virtual_router_id 51
              virtual_ipaddress {
                10.0.0.10/32
              }
            }
            vrrp_sync_group G {
              group {
                VI_1
              }
              track_process {
                tp
              }
              notify_backup "/bin/echo b"
              notify_fault "/bin/echo f"
              notify_stop "/bin/echo s"
              notify_priority_changes
              sync_group_tracking_weight
            }

            """).Vrrp.SyncGroups);
        Assert.Equal("tp", Assert.Single(g.TrackProcesses).Name);
        Assert.Equal(["/bin/echo", "b"], g.NotifyBackup!.Command);
        Assert.Equal(["/bin/echo", "f"], g.NotifyFault!.Command);
        Assert.Equal(["/bin/echo", "s"], g.NotifyStop!.Command);
        Assert.True(g.NotifyPriorityChanges);
        Assert.True(g.SyncGroupTrackingWeight);
    }

    [Fact]
    public void Tracker_keywords_reach_their_options()
    {
        var script = Assert.Single(Map("vrrp_script chk {\n  script /bin/true\n  init_fail\n}\n").Vrrp.Scripts);
        Assert.True(script.InitFail);
        var file = Assert.Single(Map("track_file tf {\n  file /tmp/tf\n  init_file 7 overwrite\n}\n").Vrrp.TrackFiles);
        Assert.Equal((7L, true), (file.InitFileValue, file.InitFileOverwrite));
        var process = Assert.Single(Map("vrrp_track_process tp {\n  process sshd -D\n  param_match partial\n  quorum_max 3\n  fork_delay 2\n  terminate_delay 4\n  full_command\n}\n").Vrrp.TrackProcesses);
        Assert.Equal((ProcessParamMatch.Partial, 3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), true),
            (process.ParamMatch, process.QuorumMax, process.ForkDelay, process.TerminateDelay, process.FullCommand));
        var delayed = Assert.Single(Map("vrrp_track_process tp {\n  process sshd\n  delay 5\n}\n").Vrrp.TrackProcesses);
        Assert.Equal((TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5)), (delayed.ForkDelay, delayed.TerminateDelay));
    }

    [Fact]
    public void Virtual_server_keywords_reach_the_virtual_server_options()
    {
        Assert.Equal(SchedulerFlags.Flag1, VirtualServer("flag-1").SchedulerFlags);
        Assert.Equal(SchedulerFlags.Flag2, VirtualServer("flag-2").SchedulerFlags);
        Assert.Equal(SchedulerFlags.Flag3, VirtualServer("flag-3").SchedulerFlags);
        // keepalived 2.2.7 check_parser.c: sh-port/mh-port = IP_VS_SVC_F_SCHED2, sh-fallback/mh-fallback = SCHED1
        Assert.Equal(SchedulerFlags.Flag2, VirtualServer("sh-port").SchedulerFlags);
        Assert.Equal(SchedulerFlags.Flag1, VirtualServer("sh-fallback").SchedulerFlags);
        Assert.Equal(SchedulerFlags.Flag2, VirtualServer("mh-port").SchedulerFlags);
        Assert.Equal(SchedulerFlags.Flag1, VirtualServer("mh-fallback").SchedulerFlags);
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, VirtualServer("ip_family inet6").IpFamily);
        Assert.Equal("sip", VirtualServer("persistence_engine sip").PersistenceEngine);
        var sorry = VirtualServer("sorry_server 10.0.0.3 80\n  sorry_server_lvs_method DR").SorryServer;
        Assert.Equal(ForwardingMethod.DirectRouting, sorry!.ForwardingMethod);
        // Of lvs_sched and lb_algo, and of lvs_method and lb_kind, the one written last wins (as in keepalived; a virtual
        // server needs a real server to be kept).
        Assert.Equal("sh", Assert.Single(Map("virtual_server 10.0.0.1 80 {\n  lvs_sched rr\n  lb_algo sh\n  real_server 10.0.0.2 80 {\n  }\n}\n").Checkers.VirtualServers).Scheduler);
        Assert.Equal(ForwardingMethod.Tunnel, Assert.Single(Map("virtual_server 10.0.0.1 80 {\n  lvs_method DR\n  lb_kind TUN\n  real_server 10.0.0.2 80 {\n  }\n}\n").Checkers.VirtualServers).ForwardingMethod);
    }

    [Fact]
    public void Checker_keywords_reach_the_checker_options()
    {
        foreach (var block in new[] { "HTTP_GET", "SSL_GET", "TCP_CHECK", "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "SMTP_CHECK" })
        {
            // keepalived ignores an HTTP_GET/SSL_GET without a url.
            var url0 = block is "HTTP_GET" or "SSL_GET" ? "url {\n        path /\n      }\n      " : string.Empty;
            var c = Checker<CheckerOptions>(block, url0 + "bindto 10.0.0.1\n      bind_if eth0\n      bind_port 1234\n      fwmark 7\n      log_all_failures");
            Assert.Equal((IPAddress.Parse("10.0.0.1"), "eth0", (ushort?)1234, (uint?)7, (bool?)true), (c.BindTo, c.BindInterface, c.BindPort, c.FirewallMark, c.LogAllFailures));
        }
        Assert.True(Checker<MiscCheckOptions>("MISC_CHECK", "misc_path /bin/true\n      log_all_failures").LogAllFailures);
        var url = Assert.Single(Checker<HttpCheckOptions>("HTTP_GET", "url {\n        path /\n        regex ok\n        regex_no_match\n        regex_options caseless multiline\n        regex_min_offset 2\n        regex_max_offset 9\n      }").Urls);
        Assert.Equal((true, (int?)2, (int?)9), (url.RegexNoMatch, url.RegexMinOffset, url.RegexMaxOffset));
        Assert.Equal(["caseless", "multiline"], url.RegexOptions);
        var udp = Checker<UdpCheckOptions>("UDP_CHECK", "min_reply_length 4\n      max_reply_length 40");
        Assert.Equal((4, 40), (udp.MinReplyLength, udp.MaxReplyLength));
        Assert.Equal("lb.example.com", Checker<SmtpCheckOptions>("SMTP_CHECK", "helo_name lb.example.com").HeloName);
    }

    [Fact]
    public void Include_check_is_read_by_the_preprocessor()
    {
        var config = ConfigLoader.LoadText("global_defs {\n  include_check bogus\n}\n", "k.conf");
        Assert.Contains(config.Diagnostics, d => d.ToString() == "(k.conf: Line 2) Unknown include_check option 'bogus'");
    }
}
