using System.Globalization;
using System.Text;
using Lb.Status;

namespace Lb.Metrics;

/// <summary>
/// Prometheus text exposition format 0.0.4 of a <see cref="StatusReport"/>, the checker statistics, the VRRP statistics
/// and the kernel's IPVS counters (<see cref="RealServerMetrics"/>, <see cref="IpvsKernelMetrics"/>).
/// </summary>
public static class MetricsText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private static readonly string[] States = ["INIT", "BACKUP", "MASTER", "FAULT", "STOP"];
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <param name="ipvs">This scrape's read of the kernel's IPVS table (null: the checkers do not run, no IPVS families).</param>
    /// <param name="vrrp">Transitions into MASTER per instance.</param>
    public static string Render(StatusReport r, CheckStatistics? checks, global::Lb.Checkers.Engine.CheckPacerSnapshot? pacing = null,
        IpvsScrape? ipvs = null, VrrpStatistics? vrrp = null)
    {
        ArgumentNullException.ThrowIfNull(r);
        var sb = new StringBuilder();
        Family(sb, "lb_up", "gauge", "1 while the daemon runs.");
        sb.Append("lb_up 1\n");
        Family(sb, "lb_start_time_seconds", "gauge", "Start time of the daemon, Unix seconds.");
        sb.Append(Inv, $"lb_start_time_seconds {r.Daemon.Started.ToUnixTimeMilliseconds() / 1000.0:0.###}\n");

        Family(sb, "lb_vrrp_instance_state", "gauge", "VRRP instance state: 1 for the current state, 0 for the others.");
        foreach (var i in r.VrrpInstances)
        {
            foreach (var s in States)
                sb.Append(Inv, $"lb_vrrp_instance_state{{instance=\"{Esc(i.Name)}\",state=\"{s}\"}} {(i.State == s ? 1 : 0)}\n");
        }
        Family(sb, "lb_vrrp_instance_priority", "gauge", "Effective priority (after tracking).");
        foreach (var i in r.VrrpInstances)
            sb.Append(Inv, $"lb_vrrp_instance_priority{{instance=\"{Esc(i.Name)}\"}} {i.EffectivePriority}\n");
        Family(sb, "lb_vrrp_instance_base_priority", "gauge", "Configured priority.");
        foreach (var i in r.VrrpInstances)
            sb.Append(Inv, $"lb_vrrp_instance_base_priority{{instance=\"{Esc(i.Name)}\"}} {i.BasePriority}\n");
        Family(sb, "lb_vrrp_instance_vips_set", "gauge", "1 while the instance's VIPs are installed.");
        foreach (var i in r.VrrpInstances)
            sb.Append(Inv, $"lb_vrrp_instance_vips_set{{instance=\"{Esc(i.Name)}\"}} {(i.VipsSet ? 1 : 0)}\n");
        Family(sb, "lb_vrrp_instance_transitions_total", "counter", "State changes since the daemon started.");
        foreach (var i in r.VrrpInstances)
            sb.Append(Inv, $"lb_vrrp_instance_transitions_total{{instance=\"{Esc(i.Name)}\"}} {i.Transitions}\n");
        if (vrrp is not null)
        {
            Family(sb, "lb_vrrp_instance_master_transitions_total", "counter", "Times the instance became MASTER since the daemon started.");
            foreach (var i in r.VrrpInstances)
                sb.Append(Inv, $"lb_vrrp_instance_master_transitions_total{{instance=\"{Esc(i.Name)}\"}} {vrrp.MasterTransitions(i.Name)}\n");
        }
        Family(sb, "lb_vrrp_split_brain_detected_total", "counter", "Split brains detected: another MAC answered a probe for a VIP while this instance was MASTER.");
        foreach (var i in r.VrrpInstances)
            sb.Append(Inv, $"lb_vrrp_split_brain_detected_total{{instance=\"{Esc(i.Name)}\"}} {i.SplitBrainDetected}\n");
        Family(sb, "lb_vrrp_split_brain", "gauge", "1 while a split brain is detected for the instance (answers within the last 3 probes).");
        foreach (var i in r.VrrpInstances)
            sb.Append(Inv, $"lb_vrrp_split_brain{{instance=\"{Esc(i.Name)}\"}} {(i.SplitBrain is null ? 0 : 1)}\n");
        Family(sb, "lb_vrrp_split_brain_probe_drops_total", "counter", "Frames the split-brain probe refused as malformed, by reason.");
        foreach (var (reason, n) in r.SplitBrainProbeDrops.OrderBy(k => k.Key, StringComparer.Ordinal))
            sb.Append(Inv, $"lb_vrrp_split_brain_probe_drops_total{{reason=\"{Esc(reason)}\"}} {n}\n");
        Family(sb, "lb_vrrp_adverts_sent_total", "counter", "Advertisements sent.");
        foreach (var i in r.VrrpInstances)
            sb.Append(Inv, $"lb_vrrp_adverts_sent_total{{instance=\"{Esc(i.Name)}\"}} {i.AdvertsSent}\n");
        Family(sb, "lb_vrrp_adverts_received_total", "counter", "Valid advertisements received.");
        foreach (var i in r.VrrpInstances)
            sb.Append(Inv, $"lb_vrrp_adverts_received_total{{instance=\"{Esc(i.Name)}\"}} {i.AdvertsReceived}\n");
        Family(sb, "lb_vrrp_adverts_dropped_total", "counter", "Advertisements dropped, by reason (instance=\"\" when no instance could be blamed).");
        foreach (var i in r.VrrpInstances)
        {
            foreach (var (reason, n) in i.AdvertsDropped.OrderBy(k => k.Key, StringComparer.Ordinal))
                sb.Append(Inv, $"lb_vrrp_adverts_dropped_total{{instance=\"{Esc(i.Name)}\",reason=\"{Esc(reason)}\"}} {n}\n");
        }
        foreach (var (reason, n) in r.UnattributedDrops.OrderBy(k => k.Key, StringComparer.Ordinal))
            sb.Append(Inv, $"lb_vrrp_adverts_dropped_total{{instance=\"\",reason=\"{Esc(reason)}\"}} {n}\n");

        Family(sb, "lb_virtual_server_quorum_up", "gauge", "1 while the virtual server's live weight meets its quorum.");
        foreach (var vs in r.VirtualServers)
            sb.Append(Inv, $"lb_virtual_server_quorum_up{{virtual_server=\"{Esc(vs.Name)}\"}} {(vs.QuorumUp ? 1 : 0)}\n");
        Family(sb, "lb_virtual_server_live_weight", "gauge", "Sum of the weights of live real servers.");
        foreach (var vs in r.VirtualServers)
            sb.Append(Inv, $"lb_virtual_server_live_weight{{virtual_server=\"{Esc(vs.Name)}\"}} {vs.LiveWeight}\n");
        Family(sb, "lb_real_server_up", "gauge", "1 while the real server is up (in the pool).");
        foreach (var vs in r.VirtualServers)
        {
            foreach (var rs in vs.RealServers)
                sb.Append(Inv, $"lb_real_server_up{{virtual_server=\"{Esc(vs.Name)}\",real_server=\"{Esc(rs.Name)}\"}} {(rs.Up ? 1 : 0)}\n");
        }
        Family(sb, "lb_real_server_weight", "gauge", "Effective weight of the real server.");
        foreach (var vs in r.VirtualServers)
        {
            foreach (var rs in vs.RealServers)
                sb.Append(Inv, $"lb_real_server_weight{{virtual_server=\"{Esc(vs.Name)}\",real_server=\"{Esc(rs.Name)}\"}} {rs.Weight}\n");
        }
        RealServerMetrics.Render(sb, r, checks);
        if (checks is not null)
        {
            Family(sb, "lb_checks_total", "counter", "Checker rounds, by checker kind and result.");
            foreach (var ((kind, success), n) in checks.Rounds)
                sb.Append(Inv, $"lb_checks_total{{kind=\"{Esc(kind)}\",result=\"{(success ? "success" : "failure")}\"}} {n}\n");
            Family(sb, "lb_check_duration_seconds", "histogram",
                "Checker round duration (connect, retries and delay_before_retry included), as measured by the checker loop.");
            foreach (var (kind, h) in checks.Durations)
            {
                var (cumulative, count, sum) = h.Read();
                for (var b = 0; b < CheckStatistics.Buckets.Length; b++)
                    sb.Append(Inv, $"lb_check_duration_seconds_bucket{{kind=\"{Esc(kind)}\",le=\"{CheckStatistics.Buckets[b].ToString(Inv)}\"}} {cumulative[b]}\n");
                sb.Append(Inv, $"lb_check_duration_seconds_bucket{{kind=\"{Esc(kind)}\",le=\"+Inf\"}} {count}\n");
                sb.Append(Inv, $"lb_check_duration_seconds_sum{{kind=\"{Esc(kind)}\"}} {sum.ToString("0.######", Inv)}\n");
                sb.Append(Inv, $"lb_check_duration_seconds_count{{kind=\"{Esc(kind)}\"}} {count}\n");
            }
        }
        if (pacing is not null)
        {
            // A checker that cannot keep up checks less often (and says so) rather than failing servers.
            Family(sb, "lb_checker_delay_stretch", "gauge", "Factor applied to every delay_loop while checks start late (1: on time).");
            sb.Append(Inv, $"lb_checker_delay_stretch {pacing.Stretch.ToString("0.###", Inv)}\n");
            Family(sb, "lb_checker_lag_seconds", "gauge", "How late check rounds started in the last window.");
            sb.Append(Inv, $"lb_checker_lag_seconds {(pacing.LagMilliseconds / 1000).ToString("0.######", Inv)}\n");
            Family(sb, "lb_checker_rounds_in_flight", "gauge", "Check rounds running now.");
            sb.Append(Inv, $"lb_checker_rounds_in_flight {pacing.InFlight}\n");
            Family(sb, "lb_checker_late_rounds_total", "counter", "Check rounds that started later than the lag threshold.");
            sb.Append(Inv, $"lb_checker_late_rounds_total {pacing.LateRounds}\n");
            Family(sb, "lb_checker_timeouts_not_counted_total", "counter", "Timeouts measured while the process was late: not counted against the server.");
            sb.Append(Inv, $"lb_checker_timeouts_not_counted_total {pacing.IgnoredTimeouts}\n");
            Family(sb, "lb_checker_answers_processed_late_total", "counter", "Attempts whose time limit passed with the answer already at the socket: waited for, not timeouts.");
            sb.Append(Inv, $"lb_checker_answers_processed_late_total {pacing.AnswersLate}\n");
        }
        if (r.Announce is { } announce)
        {
            Family(sb, "lb_announce_state", "gauge", "1 while the VIP is announced (its route is wanted in the announce table), 0 while withdrawn.");
            foreach (var v in announce.Vips)
                sb.Append(Inv, $"lb_announce_state{{vip=\"{Esc(v.Vip)}\"}} {(v.State == "announced" ? 1 : 0)}\n");
            Family(sb, "lb_announce_transitions_total", "counter", "Announcements and withdrawals of the VIP since the daemon started, by the state entered.");
            foreach (var v in announce.Vips)
            {
                sb.Append(Inv, $"lb_announce_transitions_total{{vip=\"{Esc(v.Vip)}\",to=\"announced\"}} {v.TransitionsToAnnounced}\n");
                sb.Append(Inv, $"lb_announce_transitions_total{{vip=\"{Esc(v.Vip)}\",to=\"withdrawn\"}} {v.TransitionsToWithdrawn}\n");
            }
        }
        Family(sb, "lb_ipvs_operations_total", "counter", "IPVS netlink operations issued.");
        sb.Append(Inv, $"lb_ipvs_operations_total {r.Ipvs.Operations}\n");
        Family(sb, "lb_ipvs_errors_total", "counter", "IPVS netlink operations that failed.");
        sb.Append(Inv, $"lb_ipvs_errors_total {r.Ipvs.Errors}\n");
        if (ipvs is not null)
            IpvsKernelMetrics.Render(sb, ipvs);
        return sb.ToString();
    }

    internal static void Family(StringBuilder sb, string name, string type, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    /// <summary>Label value escaping of the text format: backslash, double quote, newline.</summary>
    public static string Esc(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
