using System.Collections.Immutable;

namespace Lb.Config.Checks;

/// <summary>The sync group an instance belongs to, and whether the group keeps its members' tracking weights.</summary>
internal sealed record SyncMembership(string Group, bool TrackingWeight);

/// <summary>The sync groups as keepalived 2.2.7 builds them, each corrected (or removed) and every instance's membership.</summary>
internal sealed record SyncGroups(IReadOnlyDictionary<ConfigNode, ConfigNode?> Groups, IReadOnlyDictionary<string, SyncMembership> Membership);

/// <summary>
/// keepalived's <c>vrrp_sync_set_group</c> (vrrp_sync.c) and the sync-group parts of its parser and of
/// <c>vrrp_complete_init</c>: a group without members is removed, a member that does not exist or already belongs to
/// another group is ignored, a group left with one member is reported. Every message is keepalived's and counts as a
/// configuration error (<c>-t</c> exits 5).
/// </summary>
internal static class VrrpSyncGroupChecks
{
    public static SyncGroups Run(ImmutableArray<ConfigNode> nodes, DiagnosticBag diagnostics)
    {
        var groups = new Dictionary<ConfigNode, ConfigNode?>(ReferenceEqualityComparer.Instance);
        var membership = new Dictionary<string, SyncMembership>(StringComparer.Ordinal);
        var instances = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
        foreach (var n in nodes)
        {
            if (n.Keyword == "vrrp_instance" && n.Arg0 is { } name)
                instances.TryAdd(name, n);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in nodes.Where(n => n.Keyword == "vrrp_sync_group"))
        {
            var name = group.Arg0 ?? string.Empty;
            if (!names.Add(name))
            {
                diagnostics.Error(group.Location, $"vrrp sync group {name} already defined");
                groups[group] = null;
                continue;
            }

            // The first group block is the member list; another is ignored. An empty one leaves the group without members.
            ConfigNode? list = null;
            foreach (var block in group.All("group"))
            {
                if (list is not null)
                {
                    diagnostics.Error(block.Location, $"Group list already specified for sync group {name}");
                    continue;
                }
                list = block;
                if (block.Children.Length == 0)
                    diagnostics.Error(block.Location, $"Warning - sync group {name} has empty group block");
            }
            if (list is null || list.Children.Length == 0)
            {
                diagnostics.Error(group.Location, $"Sync group {name} has no virtual router(s). removing");
                groups[group] = null;
                continue;
            }

            var trackingWeight = group.Last("sync_group_tracking_weight") is not null || group.Last("global_tracking") is not null;
            var members = ImmutableArray.CreateBuilder<ConfigNode>(list.Children.Length);
            // keepalived's group state while members are added: null (init), true (all so far master and address owner), false.
            bool? ownerGroup = null;
            foreach (var member in list.Children)
            {
                if (!instances.TryGetValue(member.Keyword, out var instance))
                {
                    diagnostics.Error(member.Location, $"Virtual router {member.Keyword} specified in sync group {name} doesn't exist - ignoring");
                    continue;
                }
                if (membership.ContainsKey(member.Keyword))
                {
                    diagnostics.Error(member.Location, $"Virtual router {member.Keyword} cannot exist in more than one sync group; ignoring {name}");
                    continue;
                }
                membership[member.Keyword] = new SyncMembership(name, trackingWeight);
                members.Add(member);

                // Before the instance is completed: its configured state and priority only (no defaults yet).
                var state = ConfiguredState(instance);
                if (ownerGroup == true && state == false)
                    diagnostics.Error(member.Location, $"Sync group {name} has some member(s) as address owner and some not as address owner. This won't work.");
                if (ownerGroup != false)
                    ownerGroup = state == true && VrrpInstanceChecks.Int(instance.Last("priority")?.Arg0) == 255;
            }

            if (members.Count == 0)
            {
                diagnostics.Error(group.Location, $"Sync group {name}, no matching virtual router found in group declaration - removing");
                groups[group] = null;
                continue;
            }
            if (members.Count == 1)
                diagnostics.Error(group.Location, $"Sync group {name} has only 1 virtual router(s) - this probably isn't what you want");

            groups[group] = members.Count == list.Children.Length && group.All("group").Count() == 1
                ? group
                : group.WithChildren(group.Children.Where(c => c.Keyword != "group" || ReferenceEquals(c, list)).Select(c => ReferenceEquals(c, list) ? c.WithChildren(members.ToImmutable()) : c).ToImmutableArray());
        }
        return new SyncGroups(groups, membership);
    }

    /// <summary>The instance's state as keepalived's parser leaves it: true MASTER (a later BACKUP is ignored), false BACKUP, null unset.</summary>
    private static bool? ConfiguredState(ConfigNode instance)
    {
        bool? state = null;
        foreach (var c in instance.All("state"))
        {
            if (string.Equals(c.Arg0, "MASTER", StringComparison.OrdinalIgnoreCase))
                state = true;
            else if (string.Equals(c.Arg0, "BACKUP", StringComparison.OrdinalIgnoreCase) && state != true)
                state = false;
        }
        return state;
    }
}
