using System.Globalization;
using System.Text;

namespace Lb.Status;

/// <summary>Human-readable renderings of a <see cref="StatusReport"/>: the <c>lb status</c> tables, the SIGUSR1 data dump
/// and the SIGUSR2 statistics.</summary>
public static class StatusText
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The tables of <c>lb status</c>.</summary>
    public static string Tables(StatusReport r)
    {
        var sb = new StringBuilder();
        var d = r.Daemon;
        sb.Append(Inv, $"lb v{d.Version} pid {d.Pid}, up {Age(d.Now - d.Started)}, config {d.ConfigFile}{(d.Namespace is null ? "" : ", namespace " + d.Namespace)}\n");
        if (d.VrrpRunning)
        {
            sb.Append('\n');
            Table(sb, ["INSTANCE", "STATE", "PRIO", "BASE", "VRID", "IFACE", "MASTER", "VIPS", "LAST TRANSITION"],
                r.VrrpInstances.Select(i => new[]
                {
                    i.Name, i.Operator is null ? i.State : $"{i.State} ({i.Operator})", i.EffectivePriority.ToString(Inv), i.BasePriority.ToString(Inv), i.VirtualRouterId.ToString(Inv), i.Interface ?? "-",
                    i.MasterAddress ?? "-", i.VirtualAddresses.Count == 0 ? "-" : string.Join(',', i.VirtualAddresses),
                    i.LastTransition is { } t ? $"{Age(d.Now - t)} ago ({i.LastReason})" : "-",
                }));
            foreach (var i in r.VrrpInstances.Where(i => i.SplitBrain is not null))
                sb.Append(Inv, $"WARNING: split brain: {i.Name} is MASTER and {i.SplitBrain} (another MASTER; detected {i.SplitBrainDetected} time(s))\n");
        }
        else
        {
            sb.Append("\nVRRP: not running\n");
        }
        if (d.CheckersRunning)
        {
            sb.Append('\n');
            Table(sb, ["VIRTUAL SERVER", "QUORUM", "LIVE WEIGHT", "REAL SERVER", "STATE", "WEIGHT", "CHECKERS", "LAST REASON"],
                r.VirtualServers.SelectMany(vs => vs.RealServers.Count == 0
                    ? [[vs.Name, vs.QuorumUp ? "up" : "DOWN", vs.LiveWeight.ToString(Inv), "-", "-", "-", "-", "-"]]
                    : vs.RealServers.Select((rs, i) => new[]
                    {
                        i == 0 ? vs.Name : "", i == 0 ? (vs.QuorumUp ? "up" : "DOWN") + (vs.SorryServerActive ? " (sorry server)" : "") : "",
                        i == 0 ? vs.LiveWeight.ToString(Inv) : "", rs.Name, (rs.Up ? "up" : "DOWN") + (rs.Operator is { } o ? $", {o}" : ""),
                        rs.Weight.ToString(Inv) + (rs.SlowStart is { } ramp ? $" (slow start: {ramp})" : ""),
                        rs.Checkers.Count == 0 ? "-" : string.Join(',', rs.Checkers.Select(c => $"{c.Kind}:{(c.HasRun ? (c.Up ? "ok" : "fail") : "pending")}")),
                        rs.LastReason,
                    })));
            if (r.CheckerPacing is { } pacing)
                sb.Append('\n').Append(Pacing(pacing)).Append('\n');
        }
        else
        {
            sb.Append("\nCheckers: not running\n");
        }
        if (r.Announce is { Vips.Count: > 0 } announce)
            sb.Append('\n').Append(Announce(announce));
        return sb.ToString();
    }

    /// <summary>
    /// The announced VIPs: <c>Announced VIPs:</c>, then <c>  10.0.0.100  announced  (table 200)</c> or
    /// <c>  10.0.0.101  withdrawn  quorum down: 10.0.0.101:80</c>.
    /// </summary>
    public static string Announce(AnnounceReport a)
    {
        ArgumentNullException.ThrowIfNull(a);
        var sb = new StringBuilder();
        sb.Append(a.Maintenance ? "Announced VIPs: (announce maintenance: every VIP withdrawn)\n" : "Announced VIPs:\n");
        var width = a.Vips.Count == 0 ? 0 : a.Vips.Max(v => v.Vip.Length);
        foreach (var v in a.Vips)
        {
            var detail = v.State == "announced" ? $"(table {a.Table.ToString(Inv)})" : v.Reason;
            if (v.LastError is { } error)
                detail += $"; kernel: {error}";
            sb.Append("  ").Append(v.Vip.PadRight(width)).Append("  ").Append(v.State.PadRight(9)).Append("  ").Append(detail).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// One line on how often the checkers check: as configured, or degraded (delay_loop stretched because the process
    /// cannot keep up: checking less often, never failing servers for it) and by how much.
    /// </summary>
    public static string Pacing(CheckerPacingReport p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var counts = string.Create(Inv, $"{p.LateRounds} rounds started late, {p.TimeoutsNotCounted} timeouts not counted");
        return p.Degraded
            ? string.Create(Inv, $"Checks: DEGRADED, every {p.Stretch:0.0#}x delay_loop (the process cannot keep up: every round started at least {p.MinLagMilliseconds:0} ms late, up to {p.LagMilliseconds:0} ms; {counts})")
            : $"Checks: on schedule, every delay_loop as configured ({counts})";
    }

    /// <summary>The SIGUSR1 data dump: everything the status shows, one block per object.</summary>
    public static string Data(StatusReport r)
    {
        var sb = new StringBuilder();
        var d = r.Daemon;
        sb.Append(Inv, $"------< Lb data dump, {d.Now:yyyy-MM-dd HH:mm:ss.fff zzz} >------\n");
        sb.Append(Inv, $" pid = {d.Pid}\n version = {d.Version}\n config = {d.ConfigFile}\n started = {d.Started:O}\n");
        if (d.Namespace is not null)
            sb.Append(Inv, $" network namespace = {d.Namespace}\n");
        sb.Append("------< VRRP instances >------\n");
        foreach (var i in r.VrrpInstances)
        {
            sb.Append(Inv, $" VRRP instance = {i.Name}\n");
            sb.Append(Inv, $"   State = {i.State}\n   Interface = {i.Interface ?? "-"}\n   Virtual router id = {i.VirtualRouterId}\n   Version = {i.Version}\n");
            sb.Append(Inv, $"   Base priority = {i.BasePriority}\n   Effective priority = {i.EffectivePriority}\n");
            sb.Append(Inv, $"   Master address = {i.MasterAddress ?? "-"}\n   Source address = {i.SourceAddress ?? "-"}\n");
            sb.Append(Inv, $"   Last transition = {(i.LastTransition is { } t ? t.ToString("O", Inv) : "-")} ({i.LastReason})\n");
            if (i.Operator is not null)
                sb.Append(Inv, $"   Operator = {i.Operator}\n");
            sb.Append(Inv, $"   Sync group = {i.SyncGroup ?? "-"}\n   VIPs set = {(i.VipsSet ? "yes" : "no")}\n   Virtual IP = {i.VirtualAddresses.Count}\n");
            foreach (var v in i.VirtualAddresses)
                sb.Append(Inv, $"     {v}\n");
        }
        foreach (var g in r.SyncGroups)
            sb.Append(Inv, $" VRRP sync group = {g.Name}, state = {g.State}, members = {string.Join(' ', g.Members)}\n");
        sb.Append("------< Virtual servers >------\n");
        foreach (var vs in r.VirtualServers)
        {
            sb.Append(Inv, $" Virtual server = {vs.Name}\n   Quorum = {(vs.QuorumUp ? "up" : "down")}, live weight = {vs.LiveWeight}\n");
            if (vs.SorryServer is not null)
                sb.Append(Inv, $"   Sorry server = {vs.SorryServer}{(vs.SorryServerActive ? " (active)" : "")}\n");
            foreach (var rs in vs.RealServers)
            {
                sb.Append(Inv, $"   Real server = {rs.Name}\n     Status = {(rs.Up ? "UP" : "DOWN")}, in IPVS = {(rs.InIpvs ? "yes" : "no")}, weight = {rs.Weight}\n     Last reason = {rs.LastReason}\n");
                if (rs.Operator is not null || rs.SlowStart is not null)
                    sb.Append(Inv, $"     Operator = {rs.Operator ?? "enabled"}{(rs.SlowStart is { } ramp ? $", slow start: {ramp}" : "")}\n");
                foreach (var c in rs.Checkers)
                    sb.Append(Inv, $"     Checker = {c.Kind}: {(c.HasRun ? (c.Up ? "up" : "down") : "not run yet")}, last = {(c.LastCheck is { } lc ? lc.ToString("O", Inv) : "-")} ({c.LastResult})\n");
            }
        }
        return sb.ToString();
    }

    /// <summary>The SIGUSR2 statistics: counters only.</summary>
    public static string Stats(StatusReport r)
    {
        var sb = new StringBuilder();
        sb.Append(Inv, $"------< Lb statistics, {r.Daemon.Now:yyyy-MM-dd HH:mm:ss.fff zzz} >------\n");
        foreach (var i in r.VrrpInstances)
        {
            sb.Append(Inv, $"VRRP Instance: {i.Name}\n");
            sb.Append(Inv, $"  State: {i.State}\n  Transitions: {i.Transitions}\n  Advertisements:\n    Received: {i.AdvertsReceived}\n    Sent: {i.AdvertsSent}\n");
            sb.Append(Inv, $"  Dropped: {i.AdvertsDropped.Values.Sum()}\n");
            foreach (var (reason, n) in i.AdvertsDropped.OrderBy(k => k.Key, StringComparer.Ordinal))
                sb.Append(Inv, $"    {reason}: {n}\n");
        }
        if (r.UnattributedDrops.Count > 0)
        {
            sb.Append("Dropped (no instance):\n");
            foreach (var (reason, n) in r.UnattributedDrops.OrderBy(k => k.Key, StringComparer.Ordinal))
                sb.Append(Inv, $"    {reason}: {n}\n");
        }
        foreach (var vs in r.VirtualServers)
        {
            sb.Append(Inv, $"Virtual server: {vs.Name}\n  Real servers up: {vs.RealServers.Count(rs => rs.Up)}/{vs.RealServers.Count}\n");
            foreach (var rs in vs.RealServers)
            {
                foreach (var c in rs.Checkers)
                    sb.Append(Inv, $"  {rs.Name} {c.Kind}: rounds {c.Rounds}, failures {c.Failures}\n");
            }
        }
        sb.Append(Inv, $"IPVS: operations {r.Ipvs.Operations}, errors {r.Ipvs.Errors}\n");
        if (r.CheckerPacing is { } pacing)
            sb.Append(Pacing(pacing)).Append('\n');
        return sb.ToString();
    }

    private static void Table(StringBuilder sb, string[] header, IEnumerable<string[]> rows)
    {
        var all = new List<string[]> { header };
        all.AddRange(rows);
        var widths = header.Select((_, c) => all.Max(r => r[c].Length)).ToArray();
        foreach (var row in all)
        {
            for (var c = 0; c < row.Length; c++)
            {
                sb.Append(c == row.Length - 1 ? row[c] : row[c].PadRight(widths[c] + 2));
            }
            sb.Append('\n');
        }
        if (all.Count == 1)
            sb.Append("(none)\n");
    }

    private static string Age(TimeSpan t) => t.TotalSeconds < 0 ? "0s" : t.TotalHours >= 24 ? $"{(int)t.TotalDays}d{t.Hours}h" : t.TotalMinutes >= 60 ? $"{(int)t.TotalHours}h{t.Minutes}m" : t.TotalSeconds >= 60 ? $"{(int)t.TotalMinutes}m{t.Seconds}s" : $"{(int)t.TotalSeconds}s";
}
