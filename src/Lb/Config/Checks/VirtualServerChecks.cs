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
        return children == node.Children ? node : node.WithChildren(children);
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
