using System.Collections.Immutable;
using System.Globalization;

namespace Lb.Config;

/// <summary>
/// keepalived's check of an instance's advertisement interval against its VRRP version (vrrp_complete_instance): a VRRPv2
/// advert carries whole seconds, so a fractional <c>advert_int</c> is a configuration error and is rounded to the nearest
/// second (at least 1). The version is the instance's <c>version</c>, else 3 for an IPv6 instance, else global_defs'
/// <c>vrrp_version</c> (default 2). The rounded value replaces the statement, so the engine runs what keepalived would.
/// </summary>
public static class AdvertIntervalChecks
{
    public static ImmutableArray<ConfigNode> Run(ImmutableArray<ConfigNode> nodes, DiagnosticBag diagnostics)
    {
        var globalVersion = nodes.Where(n => n.Keyword == "global_defs").Select(g => g.Last("vrrp_version")?.Arg0).LastOrDefault(v => v is not null) ?? "2";
        var builder = ImmutableArray.CreateBuilder<ConfigNode>(nodes.Length);
        var changed = false;
        foreach (var node in nodes)
        {
            var checkedNode = node.Keyword == "vrrp_instance" ? Instance(node, globalVersion, diagnostics) : node;
            changed |= !ReferenceEquals(checkedNode, node);
            builder.Add(checkedNode);
        }
        return changed ? builder.MoveToImmutable() : nodes;
    }

    private static ConfigNode Instance(ConfigNode node, string globalVersion, DiagnosticBag diagnostics)
    {
        if (node.Last("advert_int") is not { Arg0: { } text } advert
            || !decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            || seconds == decimal.Truncate(seconds)
            || Version(node, globalVersion) != "2")
            return node;
        var rounded = Math.Max(1m, decimal.Floor(seconds + 0.5m));
        diagnostics.Error(advert.Location, string.Create(CultureInfo.InvariantCulture, $"({node.Arg0}) VRRPv2 advertisement interval {seconds:F6}s must be an integer. rounding"));
        var replacement = new ConfigNode("advert_int", ImmutableArray.Create(rounded.ToString(CultureInfo.InvariantCulture)), null, advert.Location);
        return node.WithChildren(node.Children.Replace(advert, replacement));
    }

    private static string Version(ConfigNode node, string globalVersion)
    {
        if (node.Last("version")?.Arg0 is { } own)
            return own;
        var first = node.Last("virtual_ipaddress")?.Children.FirstOrDefault()?.Keyword;
        var ipv6 = first is not null ? first.Contains(':', StringComparison.Ordinal) : node.Last("native_ipv6") is not null;
        return ipv6 ? "3" : globalVersion;
    }
}
