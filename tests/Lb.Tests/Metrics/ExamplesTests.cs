using System.Text.Json;
using System.Text.RegularExpressions;
using Lb.Lb.Tests.Hosting;
using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Metrics;

/// <summary>
/// examples/grafana-dashboard.json and examples/prometheus-alerts.yml use only metrics Lb produces: every <c>lb_*</c>
/// name in the dashboard's PromQL (panel targets and template-variable queries) and in the rules' <c>expr</c> is a sample
/// name of <see cref="global::Lb.Metrics.MetricsText.Render"/> on a report with VRRP instances, virtual and real servers,
/// checker statistics and an IPVS dump. The rules also pass <c>promtool check rules</c> and a <c>promtool test rules</c>
/// unit test of the alerts that matter most (the oracle: Prometheus' own rule engine).
/// </summary>
public sealed partial class ExamplesTests
{
    /// <summary>
    /// Names the examples may use before the code renders them (each must be used, and must not be rendered yet). Empty:
    /// the split-brain counter this held while it was being built is rendered per instance now.
    /// </summary>
    private static readonly HashSet<string> ProvidedElsewhere = new(StringComparer.Ordinal);

    private static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string self = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(self)!, "..", "..", ".."));

    private static string Example(string name) => Path.Combine(RepoRoot(), "examples", name);

    /// <summary>Every sample name (histograms with _bucket/_sum/_count) the fixture renders.</summary>
    private static HashSet<string> Rendered() =>
        DaemonTests.ParseExposition(new MetricsFixture().Render()).Keys.Select(k => k.Split('{')[0]).ToHashSet(StringComparer.Ordinal);

    /// <summary>The PromQL of the dashboard: every panel target's expr and every template variable's query.</summary>
    internal static List<string> DashboardQueries(JsonElement dashboard)
    {
        var queries = new List<string>();
        void Panels(JsonElement panels)
        {
            foreach (var p in panels.EnumerateArray())
            {
                if (p.GetProperty("type").GetString() == "row")
                {
                    Panels(p.GetProperty("panels"));
                    continue;
                }
                var targets = p.GetProperty("targets").EnumerateArray().ToList();
                Assert.True(targets.Count > 0, $"panel '{p.GetProperty("title")}' has no query");
                foreach (var t in targets)
                    queries.Add(t.GetProperty("expr").GetString()!);
            }
        }
        Panels(dashboard.GetProperty("panels"));
        foreach (var v in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (v.GetProperty("type").GetString() == "query")
                queries.Add(v.GetProperty("query").GetProperty("query").GetString()!);
        }
        return queries;
    }

    /// <summary>The rules' expressions (one line each: the file keeps them so).</summary>
    internal static List<string> RuleExpressions(string yaml)
    {
        var exprs = new List<string>();
        foreach (var line in yaml.Split('\n'))
        {
            var m = ExprLine().Match(line);
            if (!m.Success)
                continue;
            Assert.False(m.Groups[1].Value.StartsWith('|') || m.Groups[1].Value.StartsWith('>'), $"multi-line expr not supported by this test: {line}");
            exprs.Add(m.Groups[1].Value);
        }
        return exprs;
    }

    private static IEnumerable<string> MetricNames(string promql) =>
        MetricName().Matches(promql).Select(m => m.Value);

    [Fact]
    public void Every_metric_the_dashboard_and_the_alert_rules_use_is_rendered()
    {
        var rendered = Rendered();
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Example("grafana-dashboard.json")));
        var queries = DashboardQueries(dashboard.RootElement);
        var rules = File.ReadAllText(Example("prometheus-alerts.yml"));
        var exprs = RuleExpressions(rules);
        Assert.True(queries.Count >= 30, $"only {queries.Count} dashboard queries found");
        Assert.Equal(Regex.Count(rules, @"^\s*- alert: ", RegexOptions.Multiline), exprs.Count);

        var used = new SortedSet<string>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var (source, q) in queries.Select(q => ("dashboard", q)).Concat(exprs.Select(e => ("alerts", e))))
        {
            foreach (var name in MetricNames(q))
            {
                used.Add(name);
                if (!rendered.Contains(name) && !ProvidedElsewhere.Contains(name))
                    unknown.Add($"{source}: {name} in {q}");
            }
        }
        Assert.True(unknown.Count == 0, "metrics Lb does not produce:\n" + string.Join('\n', unknown));
        foreach (var name in ProvidedElsewhere)
        {
            Assert.Contains(name, used);
            Assert.False(rendered.Contains(name), $"{name} is rendered now: add it to the fixture's report and remove it from ProvidedElsewhere");
        }
        // The panels the issue asks for are there.
        foreach (var needed in new[]
        {
            "lb_real_server_up", "lb_real_server_check_duration_seconds_bucket", "lb_ipvs_destination_active_connections", "lb_ipvs_destination_bytes_total",
            "lb_ipvs_destination_connections_total", "lb_vrrp_instance_state", "lb_vrrp_instance_priority", "lb_vrrp_adverts_sent_total",
            "lb_vrrp_adverts_received_total", "lb_vrrp_adverts_dropped_total",
        })
            Assert.Contains(needed, queries.SelectMany(MetricNames));
        foreach (var alert in new[] { "LbRealServerDown", "LbVirtualServerQuorumLost", "LbVrrpNoMaster", "LbVrrpMultipleMasters", "LbVrrpSplitBrainDetected", "LbCheckLatencyHigh", "LbIpvsOperationErrors", "LbIpvsStatisticsUnavailable" })
            Assert.Contains($"- alert: {alert}\n", rules, StringComparison.Ordinal);
    }

    [Fact]
    public void The_dashboard_is_a_grafana_dashboard_with_a_datasource_variable_and_no_overlapping_panels()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Example("grafana-dashboard.json")));
        var d = doc.RootElement;
        Assert.Equal("lb-overview", d.GetProperty("uid").GetString());
        Assert.True(d.GetProperty("schemaVersion").GetInt32() >= 36);
        Assert.Contains(d.GetProperty("templating").GetProperty("list").EnumerateArray(), v => v.GetProperty("type").GetString() == "datasource" && v.GetProperty("name").GetString() == "datasource");
        var cells = new HashSet<(int X, int Y)>();
        var ids = new HashSet<int>();
        foreach (var p in d.GetProperty("panels").EnumerateArray())
        {
            Assert.True(ids.Add(p.GetProperty("id").GetInt32()), "panel id used twice");
            var g = p.GetProperty("gridPos");
            var (x, y, w, h) = (g.GetProperty("x").GetInt32(), g.GetProperty("y").GetInt32(), g.GetProperty("w").GetInt32(), g.GetProperty("h").GetInt32());
            Assert.True(x >= 0 && w > 0 && x + w <= 24, $"panel '{p.GetProperty("title")}' outside the 24-column grid");
            for (var i = x; i < x + w; i++)
            {
                for (var j = y; j < y + h; j++)
                    Assert.True(cells.Add((i, j)), $"panel '{p.GetProperty("title")}' overlaps another at ({i},{j})");
            }
            if (p.GetProperty("type").GetString() != "row")
                Assert.Equal("${datasource}", p.GetProperty("datasource").GetProperty("uid").GetString());
        }
    }

    [PromtoolFact]
    public void The_alert_rules_pass_promtool_and_fire_on_what_they_name()
    {
        Prerequisites.Require(Prerequisites.HasCommand("promtool"), "promtool (Debian package prometheus; scripts/setup.sh installs it)");
        var rules = Example("prometheus-alerts.yml");
        var check = ProcessRunner.Run("promtool", "check", "rules", rules);
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.Contains("SUCCESS: 12 rules found", check.Stdout + check.Stderr, StringComparison.Ordinal);

        var dir = Directory.CreateTempSubdirectory("lb-alerts-");
        try
        {
            var test = Path.Combine(dir.FullName, "alerts.test.yml");
            File.WriteAllText(test, AlertUnitTests.Replace("RULES", rules, StringComparison.Ordinal));
            var run = ProcessRunner.Run("promtool", "test", "rules", test);
            Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
            Assert.Contains("SUCCESS", run.Stdout + run.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    /// <summary>
    /// promtool's unit test of the rules, with series as Lb exposes them (after Prometheus renamed the VRRP metrics'
    /// <c>instance</c> to <c>exported_instance</c>): a real server down 5 minutes fires, 4 does not; two MASTERs fire, one
    /// does not; no MASTER fires; a p99 check latency of about 5 s fires; a quorum lost fires; with their annotations.
    /// </summary>
    private const string AlertUnitTests = """
        rule_files: ["RULES"]
        evaluation_interval: 1m
        tests:
          - interval: 1m
            input_series:
              - series: 'lb_real_server_up{instance="dir1:9650",virtual_server="[10.0.0.100]:tcp:80",real_server="[10.0.0.11]:tcp:80"}'
                values: '1 0 0 0 0 0 0 0'
              - series: 'lb_real_server_up{instance="dir1:9650",virtual_server="[10.0.0.100]:tcp:80",real_server="[10.0.0.12]:tcp:80"}'
                values: '1 1 1 1 1 1 1 1'
              - series: 'lb_virtual_server_quorum_up{instance="dir1:9650",virtual_server="[10.0.0.100]:tcp:80"}'
                values: '1 1 0 0 0 0 0 0'
              - series: 'lb_vrrp_instance_state{instance="dir1:9650",exported_instance="VI_1",state="MASTER"}'
                values: '1 1 1 1 1 1 1 1'
              - series: 'lb_vrrp_instance_state{instance="dir2:9650",exported_instance="VI_1",state="MASTER"}'
                values: '0 0 0 1 1 1 1 1'
              - series: 'lb_vrrp_instance_state{instance="dir1:9650",exported_instance="VI_2",state="MASTER"}'
                values: '0 0 0 0 0 0 0 0'
              - series: 'lb_vrrp_instance_state{instance="dir2:9650",exported_instance="VI_2",state="MASTER"}'
                values: '0 0 0 0 0 0 0 0'
            alert_rule_test:
              - eval_time: 5m
                alertname: LbRealServerDown
                exp_alerts: []
              - eval_time: 6m
                alertname: LbRealServerDown
                exp_alerts:
                  - exp_labels: {severity: warning, instance: "dir1:9650", virtual_server: "[10.0.0.100]:tcp:80", real_server: "[10.0.0.11]:tcp:80"}
                    exp_annotations:
                      summary: "Real server [10.0.0.11]:tcp:80 of [10.0.0.100]:tcp:80 down on dir1:9650"
                      description: "Its checkers have kept it out of the pool for 5 minutes."
              - eval_time: 2m
                alertname: LbVrrpMultipleMasters
                exp_alerts: []
              - eval_time: 5m
                alertname: LbVrrpMultipleMasters
                exp_alerts:
                  - exp_labels: {severity: critical, exported_instance: VI_1}
                    exp_annotations:
                      summary: "2 directors are MASTER of VRRP instance VI_1 (split brain)"
              - eval_time: 3m
                alertname: LbVrrpNoMaster
                exp_alerts:
                  - exp_labels: {severity: critical, exported_instance: VI_2}
                    exp_annotations:
                      summary: "No director is MASTER of VRRP instance VI_2"
                      description: "Every scraped Lb reports the instance in another state: the VIPs are not served."
              - eval_time: 4m
                alertname: LbVirtualServerQuorumLost
                exp_alerts:
                  - exp_labels: {severity: critical, instance: "dir1:9650", virtual_server: "[10.0.0.100]:tcp:80"}
                    exp_annotations:
                      summary: "Virtual server [10.0.0.100]:tcp:80 lost its quorum on dir1:9650"
                      description: "The live weight of its real servers is below the quorum: the sorry server (if any) serves, or nothing does."
          - interval: 1m
            input_series:
              # 10 rounds a minute, all between 2.5 s and 5 s: p99 about 5 s.
              - series: 'lb_real_server_check_duration_seconds_bucket{instance="dir1:9650",virtual_server="[10.0.0.100]:tcp:80",real_server="[10.0.0.11]:tcp:80",kind="HTTP_GET",le="2.5"}'
                values: '0+0x20'
              - series: 'lb_real_server_check_duration_seconds_bucket{instance="dir1:9650",virtual_server="[10.0.0.100]:tcp:80",real_server="[10.0.0.11]:tcp:80",kind="HTTP_GET",le="5"}'
                values: '0+10x20'
              - series: 'lb_real_server_check_duration_seconds_bucket{instance="dir1:9650",virtual_server="[10.0.0.100]:tcp:80",real_server="[10.0.0.11]:tcp:80",kind="HTTP_GET",le="+Inf"}'
                values: '0+10x20'
            alert_rule_test:
              - eval_time: 16m
                alertname: LbCheckLatencyHigh
                exp_alerts:
                  - exp_labels: {severity: warning, instance: "dir1:9650", virtual_server: "[10.0.0.100]:tcp:80", real_server: "[10.0.0.11]:tcp:80", kind: HTTP_GET}
                    exp_annotations:
                      summary: "HTTP_GET of [10.0.0.11]:tcp:80 takes 4.975s (p99)"
                      description: "Check rounds (connect, retries and delay_before_retry) of [10.0.0.100]:tcp:80 are slow: the server or the path to it is struggling."
        """;

    [GeneratedRegex(@"^\s*expr:\s*(.+?)\s*$")]
    private static partial Regex ExprLine();

    // A metric name in PromQL: lb_ followed by name characters, not inside a longer identifier.
    [GeneratedRegex(@"(?<![A-Za-z0-9_:])lb_[A-Za-z0-9_:]+")]
    private static partial Regex MetricName();
}

/// <summary>
/// Runs where <c>promtool</c> is (Debian's <c>prometheus</c> package, installed by scripts/setup.sh); skipped with the
/// reason elsewhere; under <c>CI=true</c> never skipped, so a missing promtool fails.
/// </summary>
internal sealed class PromtoolFactAttribute : FactAttribute
{
    public PromtoolFactAttribute()
    {
        if (!Prerequisites.IsCi && !Prerequisites.HasCommand("promtool"))
            Skip = "needs promtool (apt-get install prometheus, or scripts/setup.sh); runs under CI=true";
    }
}
