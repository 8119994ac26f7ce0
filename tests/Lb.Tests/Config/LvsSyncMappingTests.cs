using System.Net;
using Lb.Config;
using Lb.Hosting;
using Lb.Netlink.Ipvs;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// <c>lvs_sync_daemon</c>, <c>lvs_sync_daemon_interface</c> and <c>lvs_timeouts</c> reach <see cref="LvsSyncOptions"/>; what
/// keepalived 2.2.7 ignores is reported with its words (each message verified with <c>keepalived -t</c> in a namespace).
/// </summary>
public sealed class LvsSyncMappingTests
{
    private const string Instance = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.10/32\n  }\n}\n";

    private static LoadedConfig Load(string globals, string rest = Instance) => ConfigLoader.LoadText($"global_defs {{\n{globals}\n}}\n{rest}", "s.conf");

    private static string[] Errors(LoadedConfig loaded) => loaded.Diagnostics.Where(d => d.Severity >= Severity.Error).Select(d => d.ToString()).ToArray();

    [Fact]
    public void Every_lvs_sync_daemon_option_reaches_the_options()
    {
        var loaded = Load("  lvs_sync_daemon eth1 inst VI_1 id 7 maxlen 1400 port 8849 ttl 3 group 239.1.2.3");
        Assert.Empty(Errors(loaded));
        Assert.Equal(new LvsSyncDaemonOptions
        {
            Interface = "eth1", Instance = "VI_1", SyncId = 7, MaxLength = 1400, Port = 8849, Ttl = 3, Group = IPAddress.Parse("239.1.2.3"),
        }, loaded.Options.LvsSync.SyncDaemon);
    }

    [Fact]
    public void A_bound_daemon_without_id_uses_the_instance_s_virtual_router_id_and_an_unbound_one_0()
    {
        Assert.Equal(51, Load("  lvs_sync_daemon eth1 VI_1").Options.LvsSync.SyncDaemon!.SyncId);
        var unbound = Load("  lvs_sync_daemon eth1").Options.LvsSync.SyncDaemon!;
        Assert.Null(unbound.Instance);
        Assert.Equal(0, unbound.SyncId);
        Assert.Equal(new IpvsSyncDaemon(IpvsSyncDaemonState.Backup, "eth1", 0), unbound.Daemon(IpvsSyncDaemonState.Backup));
    }

    [Fact]
    public void The_old_positional_sync_id_is_taken_with_keepalived_s_complaint()
    {
        var loaded = Load("  lvs_sync_daemon eth1 VI_1 12");
        Assert.Equal(new[] { "(s.conf: Line 2) Please use keyword \"id\" before lvs_sync_daemon SYNCID" }, Errors(loaded));
        Assert.Equal(12, loaded.Options.LvsSync.SyncDaemon!.SyncId);
    }

    [Fact]
    public void Bad_values_are_ignored_with_keepalived_s_messages()
    {
        var loaded = Load("  lvs_sync_daemon eth0 VI_1 id 300 maxlen 65508 port 70000 ttl 0 group 10.0.0.1 bogus\n  lvs_sync_daemon eth1");
        Assert.Equal(new[]
        {
            "(s.conf: Line 2) number '300' outside range [0, 255]",
            "(s.conf: Line 2) Invalid syncid (300) - defaulting to vrid",
            "(s.conf: Line 2) number '65508' outside range [1, 65507]",
            "(s.conf: Line 2) Invalid lvs_sync_daemon maxlen (65508) - ignoring",
            "(s.conf: Line 2) number '70000' outside range [1, 65535]",
            "(s.conf: Line 2) Invalid lvs_sync_daemon port (70000) - ignoring",
            "(s.conf: Line 2) number '0' outside range [1, 255]",
            "(s.conf: Line 2) Invalid lvs_sync_daemon ttl (0) - ignoring",
            "(s.conf: Line 2) lvs_sync_daemon group address 10.0.0.1 is not multicast - ignoring",
            "(s.conf: Line 2) Unknown option bogus specified for lvs_sync_daemon",
            "(s.conf: Line 3) lvs_sync_daemon has already been specified as eth0 VI_1 - ignoring",
        }, Errors(loaded));
        Assert.Equal(5, loaded.ExitCode);
        Assert.Equal(new LvsSyncDaemonOptions { Interface = "eth0", Instance = "VI_1", SyncId = 51 }, loaded.Options.LvsSync.SyncDaemon);
    }

    [Fact]
    public void An_unknown_instance_drops_the_sync_daemon_with_a_warning_as_keepalived_s_vrrp_process()
    {
        var loaded = Load("  lvs_sync_daemon eth0 inst VI_9");
        Assert.Empty(Errors(loaded));
        Assert.Equal(0, loaded.ExitCode);
        Assert.Contains(loaded.Diagnostics, d => d.Message == "Unable to find vrrp instance VI_9 for lvs_syncd - clearing lvs_syncd config");
        Assert.Null(loaded.Options.LvsSync.SyncDaemon);
    }

    [Fact]
    public void The_deprecated_instance_keyword_binds_that_instance()
    {
        var loaded = Load(string.Empty, Instance.Replace("  interface eth0\n", "  interface eth0\n  lvs_sync_daemon_interface eth2\n", StringComparison.Ordinal));
        Assert.Equal(new LvsSyncDaemonOptions { Interface = "eth2", Instance = "VI_1", SyncId = 51 }, loaded.Options.LvsSync.SyncDaemon);
    }

    [Fact]
    public void Lvs_timeouts_lines_add_up_and_bad_values_are_ignored()
    {
        var loaded = Load("  lvs_timeouts tcp 900 foo udp\n  lvs_timeouts udp 300 tcpfin 2678401\n  lvs_timeouts tcp");
        Assert.Equal(new[]
        {
            "(s.conf: Line 2) Unknown option foo specified for lvs_timeouts",
            "(s.conf: Line 2) No value specified for lvs_timeout udp - ignoring",
            "(s.conf: Line 3) number '2678401' outside range [0, 2678400]",
            "(s.conf: Line 3) Invalid lvs_timeout tcpfin (2678401) - ignoring",
            "(s.conf: Line 4) lvs_timeouts requires at least one option",
        }, Errors(loaded));
        Assert.Equal(new IpvsTimeouts(900, 0, 300), loaded.Options.LvsSync.Timeouts);
        Assert.Null(Load("  lvs_flush").Options.LvsSync.Timeouts);
    }
}
