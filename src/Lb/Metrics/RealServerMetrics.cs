using System.Globalization;
using System.Text;
using Lb.Status;
using static Lb.Metrics.MetricsText;

namespace Lb.Metrics;

/// <summary>
/// The per-real-server families: each checker's verdict (from the status report) and, from the checker statistics, its
/// last round's result and time, the round-duration histogram per checker kind, and the server's up/down transitions.
/// Only servers in the report are rendered: one removed by a reload disappears from the scrape.
/// </summary>
internal static class RealServerMetrics
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Render(StringBuilder sb, StatusReport r, CheckStatistics? checks)
    {
        var servers = r.VirtualServers.SelectMany(vs => vs.RealServers.Select(rs => (Vs: vs.Name, Rs: rs,
            Labels: $"virtual_server=\"{Esc(vs.Name)}\",real_server=\"{Esc(rs.Name)}\""))).ToList();

        Family(sb, "lb_real_server_check_up", "gauge", "1 while the checker's verdict is up, by checker kind and index in its real server.");
        foreach (var (_, rs, labels) in servers)
        {
            for (var i = 0; i < rs.Checkers.Count; i++)
                sb.Append(Inv, $"lb_real_server_check_up{{{labels},kind=\"{Esc(rs.Checkers[i].Kind)}\",checker=\"{i}\"}} {(rs.Checkers[i].Up ? 1 : 0)}\n");
        }
        Family(sb, "lb_real_server_check_failures_total", "counter", "Checker rounds that failed.");
        foreach (var (_, rs, labels) in servers)
        {
            for (var i = 0; i < rs.Checkers.Count; i++)
                sb.Append(Inv, $"lb_real_server_check_failures_total{{{labels},kind=\"{Esc(rs.Checkers[i].Kind)}\",checker=\"{i}\"}} {rs.Checkers[i].Failures}\n");
        }
        if (checks is null)
            return;

        Family(sb, "lb_real_server_last_check_success", "gauge", "1 when the checker's last round succeeded (absent before its first round).");
        foreach (var (vs, rs, labels) in servers)
        {
            for (var i = 0; i < rs.Checkers.Count; i++)
            {
                if (checks.Last(vs, rs.Name, i) is { } last)
                    sb.Append(Inv, $"lb_real_server_last_check_success{{{labels},kind=\"{Esc(last.Kind)}\",checker=\"{i}\"}} {(last.Success ? 1 : 0)}\n");
            }
        }
        Family(sb, "lb_real_server_last_check_timestamp_seconds", "gauge", "When the checker's last round ended, Unix seconds.");
        foreach (var (vs, rs, labels) in servers)
        {
            for (var i = 0; i < rs.Checkers.Count; i++)
            {
                if (checks.Last(vs, rs.Name, i) is { } last)
                    sb.Append(Inv, $"lb_real_server_last_check_timestamp_seconds{{{labels},kind=\"{Esc(last.Kind)}\",checker=\"{i}\"}} {(last.At.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", Inv)}\n");
            }
        }
        Family(sb, "lb_real_server_check_duration_seconds", "histogram",
            "Checker round duration per real server and checker kind (connect, retries and delay_before_retry included).");
        foreach (var (vs, rs, labels) in servers)
        {
            foreach (var kind in rs.Checkers.Select(c => c.Kind).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                if (checks.ServerDuration(vs, rs.Name, kind) is not { } h)
                    continue;
                var (cumulative, count, sum) = h.Read();
                var l = $"{labels},kind=\"{Esc(kind)}\"";
                for (var b = 0; b < CheckStatistics.Buckets.Length; b++)
                    sb.Append(Inv, $"lb_real_server_check_duration_seconds_bucket{{{l},le=\"{CheckStatistics.Buckets[b].ToString(Inv)}\"}} {cumulative[b]}\n");
                sb.Append(Inv, $"lb_real_server_check_duration_seconds_bucket{{{l},le=\"+Inf\"}} {count}\n");
                sb.Append(Inv, $"lb_real_server_check_duration_seconds_sum{{{l}}} {sum.ToString("0.######", Inv)}\n");
                sb.Append(Inv, $"lb_real_server_check_duration_seconds_count{{{l}}} {count}\n");
            }
        }
        Family(sb, "lb_real_server_transitions_total", "counter", "Times the real server went up or down since the daemon started.");
        foreach (var (vs, rs, labels) in servers)
        {
            sb.Append(Inv, $"lb_real_server_transitions_total{{{labels},to=\"up\"}} {checks.Transitions(vs, rs.Name, up: true)}\n");
            sb.Append(Inv, $"lb_real_server_transitions_total{{{labels},to=\"down\"}} {checks.Transitions(vs, rs.Name, up: false)}\n");
        }
    }
}
