using System.Collections.Immutable;
using Lb.Vrrp.Options;

namespace Lb.Config.IpConfig;

/// <summary>The addresses, routes and rules of one instance, or the static ones.</summary>
public sealed record IpConfigLists(
    IReadOnlyList<VirtualAddress> Addresses,
    IReadOnlyList<VirtualAddress> ExcludedAddresses,
    IReadOnlyList<VirtualRoute> Routes,
    IReadOnlyList<VirtualRule> Rules);

/// <summary>
/// Reads every address, route and rule line of a configuration in file order, as keepalived 2.2.7 does while parsing
/// (<c>static_ipaddress</c>, <c>static_routes</c>, <c>static_rules</c>, and each instance's <c>virtual_ipaddress</c>,
/// <c>virtual_ipaddress_excluded</c>, <c>virtual_routes</c>, <c>virtual_rules</c>): keepalived's messages, lines it drops removed
/// from the tree, and the typed records for the mapper.
/// </summary>
public static class IpConfigChecks
{
    /// <summary>
    /// The semantic check: reports and drops what keepalived drops. <paramref name="interfaces"/> gives the interfaces that exist
    /// (null: not checked); <paramref name="nonExistentInterface"/> is set when a line named one that does not.
    /// </summary>
    public static ImmutableArray<ConfigNode> Run(ImmutableArray<ConfigNode> nodes, DiagnosticBag diagnostics, Func<IReadOnlySet<string>?> interfaces, ref bool nonExistentInterface)
    {
        var cx = Context(nodes, diagnostics, interfaces);
        var changed = false;
        var result = ImmutableArray.CreateBuilder<ConfigNode>(nodes.Length);
        foreach (var node in nodes)
        {
            var kept = Walk(node, cx, null);
            changed |= !ReferenceEquals(kept, node);
            result.Add(kept);
        }
        nonExistentInterface |= cx.NonExistentInterface;
        return changed ? result.MoveToImmutable() : nodes;
    }

    /// <summary>
    /// The typed records of a checked tree (the lines <see cref="Run"/> kept): per <c>vrrp_instance</c> node, and the static ones.
    /// Interfaces are not looked up again and no message is repeated.
    /// </summary>
    public static (IpConfigLists Static, IReadOnlyDictionary<ConfigNode, IpConfigLists> Instances) Records(IReadOnlyList<ConfigNode> nodes)
    {
        var cx = Context(nodes, new DiagnosticBag(), () => null);
        var instances = new Dictionary<ConfigNode, IpConfigLists>(ReferenceEqualityComparer.Instance);
        var statics = new Collector();
        foreach (var node in nodes)
        {
            if (node.Keyword == "vrrp_instance")
            {
                var lists = new Collector();
                Walk(node, cx, lists);
                instances[node] = lists.ToLists();
            }
            else
                Walk(node, cx, statics);
        }
        return (statics.ToLists(), instances);
    }

    private static IpGrammarContext Context(IReadOnlyList<ConfigNode> nodes, DiagnosticBag diagnostics, Func<IReadOnlySet<string>?> interfaces)
    {
        var globals = nodes.Where(n => n.Keyword == "global_defs").ToList();
        return new IpGrammarContext(diagnostics)
        {
            InterfacesProvider = interfaces,
            DynamicInterfaces = globals.Any(g => g.Last("dynamic_interfaces") is not null),
            DefaultInterface = globals.Select(g => g.Last("default_interface")?.Arg0).LastOrDefault(n => n is not null) ?? "eth0",
            Names = new RtNames(),
        };
    }

    private static ConfigNode Walk(ConfigNode node, IpGrammarContext cx, Collector? collector)
    {
        switch (node.Keyword)
        {
            case "track_group" when node.Arg0 is { } name:
                cx.TrackGroups.Add(name);
                return node;
            case "static_ipaddress":
                return Block(node, cx, l => AddressGrammar.Parse(l, true, cx), collector?.Addresses);
            case "static_routes":
                return Block(node, cx, l => RouteGrammar.Parse(l, true, cx), collector?.Routes);
            case "static_rules":
                return Block(node, cx, l => RuleGrammar.Parse(l, true, cx), collector?.Rules);
            case "vrrp_instance":
                {
                    ImmutableArray<ConfigNode>.Builder? children = null;
                    for (var i = 0; i < node.Children.Length; i++)
                    {
                        var child = node.Children[i];
                        // Reading the records is how the mappers read these blocks (the marks test counts it as a read).
                        if (collector is not null && child.Keyword is "virtual_ipaddress" or "virtual_ipaddress_excluded" or "virtual_routes" or "virtual_rules")
                            Mapping.KeywordReads.Read(node, child.Keyword);
                        var kept = child.Keyword switch
                        {
                            "virtual_ipaddress" => Block(child, cx, l => AddressGrammar.Parse(l, false, cx), collector?.Addresses),
                            "virtual_ipaddress_excluded" => Block(child, cx, l => AddressGrammar.Parse(l, false, cx), collector?.ExcludedAddresses),
                            "virtual_routes" => Block(child, cx, l => RouteGrammar.Parse(l, false, cx), collector?.Routes),
                            "virtual_rules" => Block(child, cx, l => RuleGrammar.Parse(l, false, cx), collector?.Rules),
                            _ => child,
                        };
                        if (!ReferenceEquals(kept, child))
                        {
                            children ??= node.Children.ToBuilder();
                            children[i] = kept;
                        }
                    }
                    return children is null ? node : node.WithChildren(children.ToImmutable());
                }
            default:
                return node;
        }
    }

    /// <summary>Parses each line of a block; the block without the lines keepalived drops.</summary>
    private static ConfigNode Block<T>(ConfigNode block, IpGrammarContext cx, Func<IReadOnlyList<string>, T?> parse, List<T>? records)
        where T : class
    {
        ImmutableArray<ConfigNode>.Builder? kept = null;
        for (var i = 0; i < block.Children.Length; i++)
        {
            var line = block.Children[i];
            cx.Location = line.Location;
            var record = parse(Words(line));
            if (record is not null)
            {
                records?.Add(record);
                kept?.Add(line);
            }
            else if (kept is null)
            {
                kept = ImmutableArray.CreateBuilder<ConfigNode>(block.Children.Length);
                kept.AddRange(block.Children, i);
            }
        }
        return kept is null ? block : block.WithChildren(kept.ToImmutable());
    }

    private static string[] Words(ConfigNode line)
    {
        var words = new string[line.Args.Length + 1];
        words[0] = line.Keyword;
        line.Args.CopyTo(words, 1);
        return words;
    }

    private sealed class Collector
    {
        public List<VirtualAddress> Addresses { get; } = [];

        public List<VirtualAddress> ExcludedAddresses { get; } = [];

        public List<VirtualRoute> Routes { get; } = [];

        public List<VirtualRule> Rules { get; } = [];

        public IpConfigLists ToLists() => new(Addresses, ExcludedAddresses, Routes, Rules);
    }
}
