using System.Collections.Immutable;

namespace Lb.Config.Checks;

/// <summary>
/// keepalived 2.2.7's checks of a <c>vrrp_script</c> block itself (vrrp_parser.c): one without a <c>script</c> is removed
/// with an error, and every <c>track_script</c> entry naming it is then "not found, ignoring..." — the message comes from
/// the instance checks; <see cref="DropUnknownTracked"/> takes the ignored entries out of the effective configuration.
/// </summary>
public static class VrrpScriptChecks
{
    /// <summary>The top-level statements without the <c>vrrp_script</c> blocks keepalived removes.</summary>
    public static ImmutableArray<ConfigNode> RemoveWithoutScript(ImmutableArray<ConfigNode> nodes, DiagnosticBag diagnostics)
    {
        ImmutableArray<ConfigNode>.Builder? kept = null;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (node.Keyword == "vrrp_script" && node.Last("script") is null)
            {
                diagnostics.Error(node.Location, $"No script set for vrrp_script {node.Arg0} - removing");
                if (kept is null)
                {
                    kept = ImmutableArray.CreateBuilder<ConfigNode>(nodes.Length);
                    kept.AddRange(nodes, i);
                }
                continue;
            }
            kept?.Add(node);
        }
        return kept is null ? nodes : kept.ToImmutable();
    }

    /// <summary>Instances and sync groups without the <c>track_script</c> entries that name no <c>vrrp_script</c> (keepalived ignores them).</summary>
    public static ImmutableArray<ConfigNode> DropUnknownTracked(ImmutableArray<ConfigNode> nodes)
    {
        HashSet<string>? scripts = null;
        ImmutableArray<ConfigNode>.Builder? result = null;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (node.Keyword is "vrrp_instance" or "vrrp_sync_group" && node.Last("track_script") is not null)
            {
                var known = scripts ??= nodes.Where(n => n.Keyword == "vrrp_script").Select(n => n.Arg0).OfType<string>().ToHashSet(StringComparer.Ordinal);
                bool Unknown(ConfigNode c) => c.Keyword == "track_script" && c.Children.Any(t => !known.Contains(t.Keyword));
                if (node.Children.Any(Unknown))
                {
                    var children = node.Children.Select(c => Unknown(c) ? c.WithChildren(c.Children.RemoveAll(t => !known.Contains(t.Keyword))) : c).ToImmutableArray();
                    if (result is null)
                    {
                        result = ImmutableArray.CreateBuilder<ConfigNode>(nodes.Length);
                        result.AddRange(nodes, i);
                    }
                    result.Add(node.WithChildren(children));
                    continue;
                }
            }
            result?.Add(node);
        }
        return result is null ? nodes : result.ToImmutable();
    }
}
