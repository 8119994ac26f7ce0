using System.Collections.Immutable;

namespace Lb.Config.Checks;

/// <summary>
/// keepalived 2.2.7's checks of one <c>virtual_server</c> after parsing (check_data.c validate_check_config,
/// check_http.c), in its words; what keepalived ignores is taken out of the effective configuration.
/// Returns null when keepalived ignores the whole virtual server.
/// </summary>
public static class VirtualServerChecks
{
    public static ConfigNode? Run(ConfigNode node, DiagnosticBag diagnostics)
    {
        var children = node.Children;
        var args = node.Args;
        var realServers = 0;
        for (var i = 0; i < children.Length; i++)
        {
            var child = children[i];
            if (child.Keyword != "real_server")
                continue;
            realServers++;
            // An HTTP_GET/SSL_GET without a url is ignored ("HTTP/SSL_GET checker has no urls specified - ignoring").
            // keepalived 2.2.7 -t then crashes (exit 139, the checker freed twice); the verdict it means is this error.
            if (child.Children.Any(IsCheckerWithoutUrl))
            {
                foreach (var checker in child.Children.Where(IsCheckerWithoutUrl))
                    diagnostics.Error(checker.Location, "HTTP/SSL_GET checker has no urls specified - ignoring");
                children = children.SetItem(i, child.WithChildren(child.Children.RemoveAll(IsCheckerWithoutUrl)));
            }
        }

        var name = Name(node);
        if (realServers == 0)
        {
            diagnostics.Error(node.Location, $"Virtual server {name} has no real servers - ignoring");
            return null;
        }

        if (args.Length >= 2 && args[0] == "fwmark" && node.Last("protocol") is { } protocol)
        {
            diagnostics.Error(protocol.Location, $"Warning: Virtual server {name}: protocol specified for fwmark - protocol will be ignored");
            children = children.RemoveAll(c => c.Keyword == "protocol");
        }
        children = RealServerPorts(node, children, diagnostics);
        return children == node.Children ? node : node.WithChildren(children);
    }

    /// <summary>
    /// keepalived's port corrections for real servers not using NAT: a fwmark service's real server has no port ("has port
    /// specified - clearing"); an address service's real server uses the service's port ("ports don't match - resetting").
    /// </summary>
    private static ImmutableArray<ConfigNode> RealServerPorts(ConfigNode node, ImmutableArray<ConfigNode> children, DiagnosticBag diagnostics)
    {
        var args = node.Args;
        if (args.Length < 2 || args[0] == "group")
            return children;
        var fwmark = args[0] == "fwmark";
        var serviceMethod = node.Last("lvs_method")?.Arg0 ?? node.Last("lb_kind")?.Arg0 ?? "NAT";
        var protocol = fwmark ? "none" : node.Last("protocol")?.Arg0?.ToLowerInvariant() ?? "none";
        for (var i = 0; i < children.Length; i++)
        {
            var rs = children[i];
            if (rs.Keyword != "real_server" || rs.Args.Length < 2 || (rs.Last("lvs_method")?.Arg0 ?? serviceMethod) == "NAT")
                continue;
            var port = rs.Args[1];
            if (fwmark && port != "0")
            {
                diagnostics.Error(rs.Location, $"WARNING - fwmark virtual server {Name(node)}, real server [{rs.Args[0]}]:{protocol}:{port} has port specified - clearing");
                children = children.SetItem(i, new ConfigNode(rs.Keyword, [rs.Args[0]], rs.Children, rs.Location));
            }
            else if (!fwmark && port != "0" && port != args[1])
            {
                diagnostics.Error(rs.Location, $"WARNING - virtual server {Name(node)} and real server [{rs.Args[0]}]:{protocol}:{port} ports don't match - resetting");
                children = children.SetItem(i, new ConfigNode(rs.Keyword, [rs.Args[0], args[1]], rs.Children, rs.Location));
            }
        }
        return children;
    }

    private static bool IsCheckerWithoutUrl(ConfigNode checker) => checker.Keyword is "HTTP_GET" or "SSL_GET" && checker.Last("url") is null;

    /// <summary>keepalived's format_vs: <c>FWM 5</c>, <c>[group]:0</c>, <c>[10.0.0.1]:tcp:80</c>.</summary>
    public static string Name(ConfigNode node)
    {
        var args = node.Args;
        if (args.Length >= 2 && args[0] == "fwmark")
            return $"FWM {args[1]}";
        if (args.Length >= 2 && args[0] == "group")
            return $"[{args[1]}]:0";
        var protocol = node.Last("protocol")?.Arg0?.ToLowerInvariant() ?? "none";
        return args.Length >= 2 ? $"[{args[0]}]:{protocol}:{args[1]}" : string.Join(' ', args);
    }
}
