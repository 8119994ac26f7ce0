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
}

public enum AnnounceAction
{
    AddRoute,
    DeleteRoute,
}

/// <summary>One kernel operation: add or delete the announce route of <paramref name="Vip"/> in <paramref name="Table"/>.</summary>
public sealed record AnnounceStep(AnnounceAction Action, IPAddress Vip, uint Table);

/// <summary>
/// The announce rule as pure functions. A VIP is ANNOUNCED iff the daemon runs (started, not stopping), every virtual
/// server announcing it has its quorum up (the checker engine's state) and the node is not in announce maintenance;
/// otherwise WITHDRAWN, with the first reason in that order.
/// </summary>
public static class AnnouncePlan
{
    public const string AnnouncedState = "announced";
    public const string WithdrawnState = "withdrawn";

    /// <summary>The decision for every configured VIP.</summary>
    /// <param name="options">The configuration.</param>
    /// <param name="virtualServers">The checker subsystem's virtual servers (null: not running yet; every one counts as down).</param>
    /// <param name="running">Started and not stopping.</param>
    /// <param name="maintenance">The node is in announce maintenance.</param>
    public static IReadOnlyList<VipDecision> Decide(AnnounceOptions options, IReadOnlyList<VirtualServerStatus>? virtualServers, bool running, bool maintenance)
    {
        ArgumentNullException.ThrowIfNull(options);
        var quorum = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var vs in virtualServers ?? [])
            quorum[vs.Name] = (!quorum.TryGetValue(vs.Name, out var q) || q) && vs.QuorumUp;
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
            result.Add(down.Count == 0
                ? new VipDecision(vip, true, "quorum up")
                : new VipDecision(vip, false, "quorum down: " + string.Join(", ", down)));
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
