using System.Net;
using Lb.Checkers;

namespace Lb.Announce;

/// <summary>What the announcer decided for one VIP: announced or withdrawn, and why in words.</summary>
/// <param name="Vip">The VIP and its virtual servers.</param>
/// <param name="Announced">Whether its route should be in the kernel.</param>
/// <param name="Reason"><c>quorum up</c>, <c>quorum down: 10.0.0.100:80</c>, <c>maintenance</c>, <c>stopping</c>.</param>
public sealed record VipDecision(AnnouncedVip Vip, bool Announced, string Reason)
{
    public string State => Announced ? AnnouncePlan.AnnouncedState : AnnouncePlan.WithdrawnState;

    /// <summary>Withdrawn only until its real servers' first checks complete (the checkers raise no event for a first success that changes nothing).</summary>
    public bool AwaitingChecks => !Announced && Reason.StartsWith(AnnouncePlan.AwaitingChecksReason, StringComparison.Ordinal);
}

public enum AnnounceAction
{
    AddRoute,
    DeleteRoute,
}

/// <summary>One kernel operation: add or delete the announce route of <paramref name="Vip"/> in <paramref name="Table"/>.</summary>
public sealed record AnnounceStep(AnnounceAction Action, IPAddress Vip, uint Table);

/// <summary>
/// The announce rule as pure functions. A VIP is ANNOUNCED iff the daemon runs (started, not stopping), the node is not
/// in announce maintenance and every virtual server announcing it has its quorum up (the checker engine's state);
/// otherwise WITHDRAWN, with the first reason in that order. A withdrawn VIP is announced only on evidence: besides the
/// quorum, every checker of its virtual servers' real servers has completed a round — a real server starts alive (as in
/// keepalived) before any check, and a route would attract the routers' traffic to a director whose real servers may be
/// unreachable. An announced VIP stays announced while its quorum holds (a real server added by a reload does not
/// withdraw it before its first check).
/// </summary>
public static class AnnouncePlan
{
    public const string AnnouncedState = "announced";
    public const string WithdrawnState = "withdrawn";

    /// <summary>The reason of a VIP withdrawn until its real servers' first checks complete.</summary>
    public const string AwaitingChecksReason = "first checks pending";

    /// <summary>The decision for every configured VIP.</summary>
    /// <param name="options">The configuration.</param>
    /// <param name="virtualServers">The checker subsystem's virtual servers (null: not running yet; every one counts as down).</param>
    /// <param name="running">Started and not stopping.</param>
    /// <param name="maintenance">The node is in announce maintenance.</param>
    /// <param name="announced">The VIPs announced now (null: none).</param>
    public static IReadOnlyList<VipDecision> Decide(AnnounceOptions options, IReadOnlyList<VirtualServerStatus>? virtualServers, bool running, bool maintenance,
        IReadOnlySet<IPAddress>? announced = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var quorum = new Dictionary<string, bool>(StringComparer.Ordinal);
        var awaitingChecks = new HashSet<string>(StringComparer.Ordinal);
        foreach (var vs in virtualServers ?? [])
        {
            quorum[vs.Name] = (!quorum.TryGetValue(vs.Name, out var q) || q) && vs.QuorumUp;
            if (vs.RealServers.Any(rs => rs.Checkers.Any(c => !c.HasRun)))
                awaitingChecks.Add(vs.Name);
        }
        var result = new List<VipDecision>(options.Vips.Count);
        foreach (var vip in options.Vips)
        {
            if (!running)
            {
                result.Add(new VipDecision(vip, false, "stopping"));
                continue;
            }
            if (maintenance)
            {
                result.Add(new VipDecision(vip, false, "maintenance"));
                continue;
            }
            var down = vip.VirtualServers.Where(s => !quorum.TryGetValue(s.Name, out var up) || !up).Select(s => s.Display).ToList();
            if (down.Count > 0)
            {
                result.Add(new VipDecision(vip, false, "quorum down: " + string.Join(", ", down)));
                continue;
            }
            var pending = vip.VirtualServers.Where(s => awaitingChecks.Contains(s.Name)).Select(s => s.Display).ToList();
            result.Add(pending.Count > 0 && announced?.Contains(vip.Address) != true
                ? new VipDecision(vip, false, AwaitingChecksReason + ": " + string.Join(", ", pending))
                : new VipDecision(vip, true, "quorum up"));
        }
        return result;
    }

    /// <summary>
    /// The kernel operations from <paramref name="installed"/> (the routes this process believes it has in
    /// <paramref name="installedTable"/>) to the decisions' routes in <paramref name="table"/>: deletions first (a route no
    /// longer wanted, or in another table after a reload), then additions.
    /// </summary>
    public static IReadOnlyList<AnnounceStep> Plan(IEnumerable<VipDecision> decisions, IReadOnlySet<IPAddress> installed, uint installedTable, uint table)
    {
        var wanted = decisions.Where(d => d.Announced).Select(d => d.Vip.Address).ToHashSet();
        var steps = new List<AnnounceStep>();
        foreach (var vip in installed.OrderBy(a => a.ToString(), StringComparer.Ordinal))
        {
            if (!wanted.Contains(vip) || installedTable != table)
                steps.Add(new AnnounceStep(AnnounceAction.DeleteRoute, vip, installedTable));
        }
        foreach (var d in decisions.Where(d => d.Announced))
        {
            if (!installed.Contains(d.Vip.Address) || installedTable != table)
                steps.Add(new AnnounceStep(AnnounceAction.AddRoute, d.Vip.Address, table));
        }
        return steps;
    }

    /// <summary>
    /// The leftovers to delete at start: routes of Lb's protocol found in the table that are not (or not yet) announced.
    /// </summary>
    public static IReadOnlyList<IPAddress> Leftovers(IEnumerable<IPAddress> found, IEnumerable<VipDecision> decisions)
    {
        var wanted = decisions.Where(d => d.Announced).Select(d => d.Vip.Address).ToHashSet();
        return [.. found.Distinct().Where(a => !wanted.Contains(a))];
    }
}
