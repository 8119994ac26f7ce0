using Lb.Config;
using Lb.Config.Schema;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>Exact message at the exact file:line for bad inputs, and the shape of the embedded keepalived 2.2.7 schema.</summary>
public sealed class SchemaTests
{
    private static Diagnostic Single(string text, string contains)
    {
        var loaded = ConfigLoader.LoadText(text, "t.conf");
        return Assert.Single(loaded.Diagnostics, d => d.Message.Contains(contains, StringComparison.Ordinal));
    }

    private const string Vi = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 30\n{0}\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n";

    private static string InVi(string line) => Vi.Replace("{0}", line, StringComparison.Ordinal);

    [Fact]
    public void UnknownKeywordIsAnErrorAtItsLine()
    {
        var d = Single("global_defs {\n  router_id X\n  no_such 1\n}\n", "Unknown keyword");
        Assert.Equal("(t.conf: Line 3) Unknown keyword 'no_such'", d.ToString());
        Assert.Equal(Severity.Error, d.Severity);
    }

    [Fact]
    public void OutOfRangeUsesKeepalivedsWording()
    {
        var d = Single("vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 300\n}\n", "outside range");
        Assert.Equal("(t.conf: Line 3) number '300' outside range [1, 255]", d.ToString());
    }

    [Fact]
    public void GlobalRangesComeFromKeepalived()
    {
        var d = Single("global_defs {\n  vrrp_garp_master_delay 4295\n}\n", "outside range");
        Assert.Equal("(t.conf: Line 2) number '4295' outside range [0, 4294]", d.ToString());
        Assert.DoesNotContain(ConfigLoader.LoadText("global_defs {\n  vrrp_garp_master_delay 4294\n}\n").Diagnostics, x => x.Severity >= Severity.Error);
    }

    [Fact]
    public void BadIpAddress()
    {
        var d = Single(InVi("  mcast_src_ip 10.0.0.300"), "invalid IP");
        Assert.Equal("(t.conf: Line 4) invalid IP address '10.0.0.300'", d.ToString());
    }

    [Fact]
    public void BadVipUsesKeepalivedsMessage()
    {
        var loaded = ConfigLoader.LoadText("vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 30\n  virtual_ipaddress {\n    10.0.0.300/24\n  }\n}\n", "t.conf");
        Assert.Contains(loaded.Diagnostics, d => d.ToString() == "(t.conf: Line 5) VRRP parsed invalid IP 10.0.0.300/24. skipping IP...");
    }

    [Fact]
    public void BadOptionalBoolIsAnError()
    {
        var d = Single(InVi("  smtp_alert maybe"), "invalid boolean");
        Assert.Equal("(t.conf: Line 4) invalid boolean 'maybe' - expected on|off|true|false|yes|no", d.ToString());
        Assert.Equal(Severity.Error, d.Severity);
    }

    [Fact]
    public void MissingArgument()
    {
        var d = Single(InVi("  priority"), "missing");
        Assert.StartsWith("(t.conf: Line 4) 'priority' is missing an argument", d.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DeprecatedAliasWarnsAndIsRenamed()
    {
        var text = "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lvs_sched rr\n  lvs_method NAT\n  real_server 10.0.1.1 80 {\n    HTTP_GET {\n      url {\n        path /\n      }\n      nb_get_retry 3\n    }\n  }\n}\n";
        var loaded = ConfigLoader.LoadText(text, "t.conf");
        var d = Assert.Single(loaded.Diagnostics, x => x.Message.Contains("deprecated", StringComparison.Ordinal));
        // keepalived 2.2.7's words, and it counts this one (report_config_error): keepalived -t exits 5.
        Assert.Equal("(t.conf: Line 10) nb_get_retry is deprecated - please use 'retry'", d.ToString());
        Assert.Equal(Severity.Error, d.Severity);
        var check = loaded.Nodes.Single().Last("real_server")!.Last("HTTP_GET")!;
        Assert.Equal("3", check.Last("retry")!.Arg0);
    }

    [Fact]
    public void LbAlgoAndLbKindAreNotDeprecatedInKeepalived()
    {
        var loaded = ConfigLoader.LoadText("virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_algo rr\n  lb_kind DR\n  real_server 10.0.1.1 80 {\n  }\n}\n", "t.conf");
        Assert.DoesNotContain(loaded.Diagnostics, d => d.Severity >= Severity.Error || d.Message.Contains("deprecated", StringComparison.Ordinal));
    }

    [Fact]
    public void AuthPassIsTruncatedToEightCharacters()
    {
        var loaded = ConfigLoader.LoadText(InVi("  authentication {\n    auth_type PASS\n    auth_pass 0123456789\n  }"), "t.conf");
        Assert.Contains(loaded.Diagnostics, d => d.ToString() == "(t.conf: Line 6) Truncating auth_pass to 8 characters");
        var auth = loaded.Nodes.Single().Last("authentication")!;
        Assert.Equal("01234567", auth.Last("auth_pass")!.Arg0);
    }

    [Fact]
    public void UnimplementedKeywordWarnsOnce()
    {
        var loaded = ConfigLoader.LoadText(InVi("  kernel_rx_buf_size 1\n  kernel_rx_buf_size 2"), "t.conf");
        var d = Assert.Single(loaded.Diagnostics, x => x.Message.Contains("has no effect", StringComparison.Ordinal));
        Assert.Equal("(t.conf: Line 4) 'kernel_rx_buf_size' is parsed but has no effect in Lb yet: Lb sizes its netlink and VRRP socket buffers itself (used 2 times)", d.ToString());
        Assert.Equal(Severity.Warning, d.Severity);
    }

    [Fact]
    public void ImplementedKeywordsDoNotWarn()
    {
        var loaded = ConfigLoader.LoadText(InVi("  priority 150\n  advert_int 1\n  nopreempt"), "t.conf");
        Assert.DoesNotContain(loaded.Diagnostics, d => d.Message.Contains("not implemented", StringComparison.Ordinal));
    }

    [Fact]
    public void StaticDefaultsAreFilledIn()
    {
        var loaded = ConfigLoader.LoadText("virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lvs_sched rr\n  lvs_method NAT\n  real_server 10.0.1.1 80 {\n  }\n}\n", "t.conf");
        var vs = loaded.Nodes.Single();
        Assert.Equal("60", vs.Last("delay_loop")!.Arg0);
        Assert.Equal("5", vs.Last("connect_timeout")!.Arg0);
        Assert.Equal("1", vs.Last("weight")!.Arg0);
        Assert.Null(vs.Last("real_server")!.Last("weight")); // inherited from the virtual server's weight: computed by the mapping
        Assert.Null(vs.Last("retry")); // depends on the checker type: computed, not a static default
    }

    [Fact]
    public void SchemaCoversKeepalivedsTopLevelAndBlocks()
    {
        var root = KeywordSchema.Default.Root;
        foreach (var name in new[] { "global_defs", "linkbeat_interfaces", "interface_up_down_delays", "track_group", "static_ipaddress", "static_routes", "static_rules", "track_file", "vrrp_track_file", "vrrp_track_process", "vrrp_script", "bfd_instance", "vrrp_sync_group", "garp_group", "vrrp_instance", "SSL", "virtual_server_group", "virtual_server", "net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "instance", "use_pid_dir", "linkbeat_use_polling", "child_wait_time" })
            Assert.True(root.ContainsKey(name), name);
        // keepalived's keywords only: Lb's own extension keywords (lb:…, written as #lb: comment lines) are not keepalived's
        static int Keepalived(KeywordSpec block) => block.Children.Keys.Count(k => !k.StartsWith("lb:", StringComparison.Ordinal));
        Assert.Equal(127, Keepalived(root["global_defs"])); // keepalived 2.2.7's 125, v3_checksum_as_v2 (2.2.8) and vrrp_owner_ignore_adverts (2.3.3), implemented by Lb
        Assert.Equal(68, Keepalived(root["vrrp_instance"])); // 2.2.7's 64, v3_checksum_as_v2, no_virtual_ipaddress, timer_expired_backup (2.2.8) and owner_ignore_adverts (2.3.3)
        var rs = root["virtual_server"].Children["real_server"];
        foreach (var checker in new[] { "HTTP_GET", "SSL_GET", "TCP_CHECK", "MISC_CHECK", "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "SMTP_CHECK", "FILE_CHECK", "BFD_CHECK" })
            Assert.True(rs.Children.ContainsKey(checker), checker);
        Assert.True(rs.Children["SMTP_CHECK"].Children.ContainsKey("host"));
    }
}
