using Lb.Config;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// keepalived 2.2.7's verdict on values it rejects (each verified with <c>keepalived -t</c> in a namespace): its exact
/// lines, its exit code, and the value it then uses — the effective configuration holds no value keepalived would not use.
/// </summary>
public sealed class KeepalivedVerdictTests
{
    private static LoadedConfig Load(string text) => ConfigLoader.LoadText(text, "t.conf");

    private static string[] Lines(LoadedConfig loaded) => loaded.Diagnostics.Where(d => d.Severity >= Severity.Error).Select(d => d.ToString()).ToArray();

    private static string Vs(string body, string rs = "  real_server 10.0.1.1 80 {\n    weight 1\n  }\n") =>
        "virtual_server 10.0.0.1 80 {\n  protocol TCP\n" + body + rs + "}\n";

    [Fact]
    public void An_unknown_scheduler_or_forwarding_method_is_ignored_and_keepalived_s_default_is_used()
    {
        var loaded = Load(Vs("  lb_algo loadbalance\n  lb_kind FNAT\n"));
        Assert.Equal(new[]
        {
            "(t.conf: Line 3) Invalid lvs_scheduler 'loadbalance' - ignoring",
            "(t.conf: Line 4) PARSER : unknown [FNAT] routing method for virtual server.",
            "(t.conf: Line 1) Virtual server [10.0.0.1]:tcp:80: no scheduler set, setting default 'wlc'",
            "(t.conf: Line 1) Virtual server [10.0.0.1]:tcp:80: no forwarding method set, setting default NAT",
        }.Order(StringComparer.Ordinal), Lines(loaded).Order(StringComparer.Ordinal));
        Assert.Equal(5, loaded.ExitCode);
        var vs = loaded.Nodes.Single();
        Assert.Equal(new[] { "lb_algo wlc" }, vs.All("lb_algo").Select(n => n.ToString()));
        Assert.Equal(new[] { "lb_kind NAT" }, vs.All("lb_kind").Select(n => n.ToString()));
        Assert.Equal("NAT", ForwardingMethodOf(loaded));
        Assert.Equal("wlc", MappedScheduler(loaded));
    }

    [Fact]
    public void A_bad_scheduler_after_a_good_one_leaves_the_good_one_and_case_counts()
    {
        var loaded = Load(Vs("  lvs_sched sh\n  lb_algo conhash\n  lb_kind DR\n  lvs_method nat\n"));
        Assert.Contains("(t.conf: Line 4) Invalid lvs_scheduler 'conhash' - ignoring", Lines(loaded));
        Assert.Contains("(t.conf: Line 6) PARSER : unknown [nat] routing method for virtual server.", Lines(loaded));
        Assert.Equal("sh", MappedScheduler(loaded));
        Assert.Equal("DR", ForwardingMethodOf(loaded));
    }

    [Fact]
    public void A_real_server_forwarding_method_is_checked_too()
    {
        var loaded = Load(Vs("  lb_algo rr\n  lb_kind DR\n", "  real_server 10.0.1.1 80 {\n    lvs_method FNAT\n  }\n"));
        Assert.Equal(new[] { "(t.conf: Line 6) PARSER : unknown [FNAT] routing method for real server." }, Lines(loaded));
        Assert.Null(loaded.Nodes.Single().Last("real_server")!.Last("lvs_method"));
    }

    [Fact]
    public void Priority_out_of_range_says_what_keepalived_says_and_uses_100_even_for_a_master()
    {
        var loaded = Load("vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  virtual_router_id 30\n  priority 300\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n");
        Assert.Equal(new[]
        {
            "(t.conf: Line 5) number '300' outside range [1, 255]",
            "(t.conf: Line 5) (VI_1) Priority not valid! must be between 1 & 255. Using default 100",
        }, Lines(loaded));
        Assert.Equal(new[] { "100" }, loaded.Nodes.Single().All("priority").Select(p => p.Arg0));
    }

    [Theory]
    [InlineData("persistence_timeout 3000000", "number '3000000' outside range [1, 2678400]", "persistence_timeout invalid")]
    [InlineData("persistence_timeout 99999999999", "number '99999999999' outside unsigned integer range", "persistence_timeout invalid")]
    [InlineData("quorum 0", "number '0' outside range [1, 4294967295]", "Quorum 0 must be in [1, 4294967295]. Setting to 1.")]
    [InlineData("hysteresis -1", "negative number '-1'", "Hysteresis -1 must be in [0, 4294967295] - ignoring")]
    [InlineData("weight 0", "number '0' outside range [1, 2147483647]", "Virtual server weight 0 is outside range 1-2147483647")]
    [InlineData("delay_loop 0", "number '0' outside range [0.000001, 18446744073709.551614]", "virtual server delay loop '0' invalid - ignoring")]
    [InlineData("connect_timeout 4295", "number '4295' outside range [0.000001, 4294.967295]", "virtual server connect_timeout 4295 invalid - ignoring")]
    [InlineData("warmup -1", "negative number '-1'", "virtual server warmup '-1' invalid - ignoring")]
    [InlineData("protocol XTP", null, "Unknown protocol XTP - ignoring")]
    public void Virtual_server_values_out_of_range_get_keepalived_s_two_lines(string line, string? reader, string handler)
    {
        var text = "virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  lb_kind NAT\n  " + line + "\n  protocol TCP\n  real_server 10.0.1.1 80 {\n  }\n}\n";
        var expected = reader is null ? new[] { $"(t.conf: Line 4) {handler}" } : [$"(t.conf: Line 4) {reader}", $"(t.conf: Line 4) {handler}"];
        Assert.Equal(expected, Lines(Load(text)));
    }

    [Theory]
    [InlineData("connect_port 0", "Invalid checker connect_port '0'")]
    [InlineData("retry -1", "Invalid retry connection value '-1'")]
    [InlineData("delay_loop abc", "delay_loop 'abc' is invalid - ignoring")]
    public void Checker_values_out_of_range_get_keepalived_s_handler_line(string line, string handler)
    {
        var loaded = Load(Vs("  lb_algo rr\n  lb_kind NAT\n", "  real_server 10.0.1.1 80 {\n    TCP_CHECK {\n      " + line + "\n    }\n  }\n"));
        Assert.Equal($"(t.conf: Line 7) {handler}", Lines(loaded)[^1]);
        Assert.Equal(2, Lines(loaded).Length);
        Assert.Empty(loaded.Nodes.Single().Last("real_server")!.Last("TCP_CHECK")!.Children.Where(c => c.Keyword == line.Split(' ')[0]));
    }

    [Fact]
    public void A_timer_that_is_not_a_number_is_the_number_it_starts_with_when_that_is_in_range()
    {
        // keepalived's decimal reader reports the value but uses strtoull's reading of it when in range (its integer readers
        // ignore the statement under -t): 'abc' is 0 for delay_before_retry (from 0), but not for delay_loop (from 0.000001).
        var loaded = Load(Vs("  lb_algo rr\n  lb_kind NAT\n  delay_before_retry abc\n  delay_loop abc\n"));
        Assert.Equal(new[]
        {
            "(t.conf: Line 5) invalid number 'abc'",
            "(t.conf: Line 6) invalid number 'abc'",
            "(t.conf: Line 6) virtual server delay loop 'abc' invalid - ignoring",
        }, Lines(loaded));
        var vs = loaded.Nodes.Single();
        Assert.Equal("0", vs.Last("delay_before_retry")!.Arg0);
        Assert.Equal(SourceLocation.None, vs.Last("delay_loop")!.Location); // the default, not 'abc'
    }

    [Fact]
    public void An_http_or_ssl_checker_without_url_is_removed_with_keepalived_s_error()
    {
        // keepalived 2.2.7 -t reports this and then crashes (exit 139: the checker is freed twice); Lb gives the verdict it means.
        var loaded = Load(Vs("  lb_algo rr\n  lb_kind NAT\n", "  real_server 10.0.1.1 80 {\n    SSL_GET {\n      connect_timeout 3\n    }\n    TCP_CHECK {\n    }\n  }\n"));
        Assert.Equal(new[] { "(t.conf: Line 6) HTTP/SSL_GET checker has no urls specified - ignoring" }, Lines(loaded));
        Assert.Equal(5, loaded.ExitCode);
        Assert.Equal(new[] { "TCP_CHECK" }, loaded.Nodes.Single().Last("real_server")!.Children.Where(c => c.IsBlock).Select(c => c.Keyword));
    }

    [Fact]
    public void Protocol_on_a_fwmark_service_is_ignored_with_keepalived_s_error()
    {
        var loaded = Load("virtual_server fwmark 5 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server 10.0.1.1 {\n  }\n}\n");
        Assert.Equal(new[] { "(t.conf: Line 4) Warning: Virtual server FWM 5: protocol specified for fwmark - protocol will be ignored" }, Lines(loaded));
        Assert.Equal(5, loaded.ExitCode);
        Assert.Null(loaded.Nodes.Single().Last("protocol"));
    }

    [Fact]
    public void A_virtual_server_without_real_servers_is_ignored()
    {
        var loaded = Load("virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n}\n");
        Assert.Equal(new[] { "(t.conf: Line 1) Virtual server [10.0.0.1]:tcp:80 has no real servers - ignoring" }, Lines(loaded));
        Assert.Empty(loaded.Nodes);
    }

    [Fact]
    public void Real_server_ports_are_corrected_as_keepalived_corrects_them_unless_nat()
    {
        var loaded = Load("virtual_server fwmark 5 {\n  lb_algo rr\n  lb_kind DR\n  real_server 10.0.1.4 80 {\n  }\n  real_server 10.0.1.5 80 {\n    lvs_method NAT\n  }\n}\n"
            + "virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  protocol TCP\n  real_server 10.0.1.4 8080 {\n    lvs_method TUN\n  }\n}\n");
        Assert.Equal(new[]
        {
            "(t.conf: Line 4) WARNING - fwmark virtual server FWM 5, real server [10.0.1.4]:none:80 has port specified - clearing",
            "(t.conf: Line 13) WARNING - virtual server [10.0.0.1]:tcp:80 and real server [10.0.1.4]:tcp:8080 ports don't match - resetting",
        }, Lines(loaded)); // no "no forwarding method set": the only real server has its own
        Assert.Equal(new[] { "10.0.1.4", "10.0.1.5 80" }, loaded.Nodes[0].All("real_server").Select(r => string.Join(' ', r.Args)));
        Assert.Equal(new[] { "10.0.1.4 80" }, loaded.Nodes[1].All("real_server").Select(r => string.Join(' ', r.Args)));
    }

    [Fact]
    public void A_vrrp_script_without_script_is_removed_and_so_are_the_entries_tracking_it()
    {
        var loaded = Load("vrrp_script chk {\n  interval 2\n}\nvrrp_script ok {\n  script /bin/true\n}\n"
            + "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 30\n  virtual_ipaddress {\n    10.0.0.1\n  }\n  track_script {\n    chk\n    ok\n  }\n}\n");
        Assert.Equal(new[]
        {
            "(t.conf: Line 1) No script set for vrrp_script chk - removing",
            "(t.conf: Line 14) (VI_1) track script chk not found, ignoring...",
        }, Lines(loaded).Where(l => !l.Contains("SECURITY", StringComparison.Ordinal)));
        Assert.Equal(new[] { "ok" }, loaded.All("vrrp_script").Select(s => s.Arg0));
        Assert.Equal(new[] { "ok" }, loaded.All("vrrp_instance").Single().Last("track_script")!.Children.Select(c => c.Keyword));
    }

    [Fact]
    public void A_vrrp_script_whose_command_line_cannot_be_split_is_reported_once_and_not_run()
    {
        var loaded = Load("vrrp_script q {\n  script \"/bin/true \\\"x\n}\n");
        var lines = Lines(loaded).Where(l => !l.Contains("SECURITY", StringComparison.Ordinal)).ToArray();
        Assert.Contains(lines, l => l.StartsWith("(t.conf: Line 2) Unmatched quote", StringComparison.Ordinal));
        Assert.Contains("(t.conf: Line 2) vrrp_script q: the script's command line cannot be split into words - removing", lines);
        Assert.DoesNotContain(lines, l => l.Contains("No script set", StringComparison.Ordinal));
        Assert.Empty(loaded.Options.Vrrp.Scripts);
    }

    [Fact]
    public void An_empty_notification_email_block_is_counted_as_keepalived_counts_it()
    {
        var loaded = Load("global_defs {\n  notification_email {\n  }\n}\n");
        Assert.Equal(new[] { "(t.conf: Line 2) Warning - empty notification_email block" }, Lines(loaded));
        Assert.Equal(5, loaded.ExitCode);
        Assert.Equal(0, Load("global_defs {\n  notification_email {\n    a@b.c\n  }\n}\n").ExitCode);
    }

    [Theory]
    [InlineData("nb_get_retry 3", Severity.Error, "nb_get_retry is deprecated - please use 'retry'")]
    public void Deprecated_spellings_keepalived_counts_are_errors(string line, Severity severity, string message)
    {
        var loaded = Load(Vs("  lb_algo rr\n  lb_kind NAT\n", "  real_server 10.0.1.1 80 {\n    HTTP_GET {\n      " + line + "\n      url {\n        path /\n      }\n    }\n  }\n"));
        var d = Assert.Single(loaded.Diagnostics, x => x.Message.Contains("deprecated", StringComparison.Ordinal));
        Assert.Equal((severity, $"(t.conf: Line 7) {message}"), (d.Severity, d.ToString()));
    }

    [Fact]
    public void Deprecated_spellings_keepalived_only_logs_stay_warnings()
    {
        var global = Load("global_defs {\n  lvs_process_name x\n  vrrp_rlimit_rtime 10000\n}\n");
        Assert.Equal(0, global.ExitCode);
        Assert.Contains(global.Diagnostics, d => d.ToString() == "(t.conf: Line 3) Keyword 'vrrp_rlimit_rtime' is deprecated - please use 'vrrp_rlimit_rttime'");
        var counted = Load("global_defs {\n  vrrp_vmac_garp_intvl 10\n}\n");
        Assert.Contains(counted.Diagnostics, d => d.Severity == Severity.Error && d.ToString() == "(t.conf: Line 2) Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\"");
    }

    private static string? MappedScheduler(LoadedConfig loaded)
    {
        var vs = loaded.Nodes.Single();
        return vs.Last("lvs_sched")?.Arg0 ?? vs.Last("lb_algo")?.Arg0;
    }

    private static string? ForwardingMethodOf(LoadedConfig loaded)
    {
        var vs = loaded.Nodes.Single();
        return vs.Last("lvs_method")?.Arg0 ?? vs.Last("lb_kind")?.Arg0;
    }
}
