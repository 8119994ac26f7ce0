using System.Collections.Immutable;
using System.Net.NetworkInformation;

namespace Lb.Config;

/// <summary>
/// Checks that span statements — references between blocks, duplicates, keepalived's "setting default" errors — and fills in
/// the defaults keepalived computes rather than declares (protocol, scheduler, forwarding method of a virtual server).
/// </summary>
public static class SemanticChecks
{
    public static ImmutableArray<ConfigNode> Run(ImmutableArray<ConfigNode> nodes, DiagnosticBag diagnostics, ConfigLoadOptions options)
    {
        nodes = Checks.VrrpScriptChecks.RemoveWithoutScript(nodes, diagnostics);
        var scripts = nodes.Where(n => n.Keyword == "vrrp_script").Select(n => n.Arg0).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var instances = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
        var vrids = new Dictionary<(string Interface, string Vrid, bool V6), string>();
        var groups = nodes.Where(n => n.Keyword == "virtual_server_group").Select(n => n.Arg0).OfType<string>().ToHashSet(StringComparer.Ordinal);
        // This host's interfaces are read only when an instance names one (reading them costs more than checking a big file).
        IReadOnlySet<string>? hostInterfaces = null;
        IReadOnlySet<string>? Interfaces() => options.CheckInterfaces ? options.Interfaces ?? (hostInterfaces ??= HostInterfaces()) : null;
        var badInterface = false;
        nodes = IpConfig.IpConfigChecks.Run(nodes, diagnostics, Interfaces, ref badInterface);

        var result = ImmutableArray.CreateBuilder<ConfigNode>(nodes.Length);
        foreach (var node in nodes)
        {
            switch (node.Keyword)
            {
                case "vrrp_instance":
                    {
                        var name = node.Arg0 ?? string.Empty;
                        if (name.Length == 0)
                            diagnostics.Error(node.Location, "vrrp_instance needs a name");
                        else if (!instances.TryAdd(name, node))
                            diagnostics.Error(node.Location, $"vrrp_instance {name} defined more than once");
                        var vrid = node.Last("virtual_router_id");
                        if (vrid is null)
                            diagnostics.Error(node.Location, $"({name}) the virtual router id must be set");
                        var iface = node.Last("interface")?.Arg0;
                        if (iface == "lo")
                        {
                            diagnostics.Error(node.Last("interface")!.Location, $"({name}) cannot use a loopback interface (lo) for vrrp - ignoring");
                            iface = null;
                        }
                        if (iface is null && node.Last("unicast_peer") is null)
                            diagnostics.Error(node.Location, $"({name}) Unknown interface!");
                        else if (iface is not null && Interfaces() is { } interfaces && !interfaces.Contains(iface))
                        {
                            diagnostics.Warning(node.Last("interface")!.Location, $"WARNING - interface {iface} for vrrp_instance {name} doesn't exist");
                            badInterface = true;
                        }
                        var vips = node.Last("virtual_ipaddress");
                        if (vips is { Children.Length: > 0 } && vrid?.Arg0 is string v && iface is not null)
                        {
                            var v6 = vips.Children[0].Keyword.Contains(':', StringComparison.Ordinal);
                            if (vrids.TryGetValue((iface, v, v6), out var other))
                                diagnostics.Error(vrid.Location, $"({name}) VRID {v} is already used by {other} on interface {iface}");
                            else
                                vrids[(iface, v, v6)] = name;
                        }
                        foreach (var tracked in node.All("track_interface").SelectMany(t => t.Children))
                        {
                            if (Interfaces() is { } known && !known.Contains(tracked.Keyword))
                            {
                                diagnostics.Warning(tracked.Location, $"({name}) tracked interface {tracked.Keyword} doesn't exist");
                                badInterface = true;
                            }
                        }
                        foreach (var track in node.All("track_script"))
                        {
                            foreach (var entry in track.Children)
                            {
                                if (!scripts.Contains(entry.Keyword))
                                    diagnostics.Error(entry.Location, $"({name}) track script {entry.Keyword} not found, ignoring...");
                            }
                        }
                        result.Add(node);
                        break;
                    }
                case "virtual_server":
                    if (Checks.VirtualServerChecks.Run(node, diagnostics) is { } vs)
                        result.Add(VirtualServer(vs, groups, diagnostics));
                    break;
                default:
                    result.Add(node);
                    break;
            }
        }

        if (badInterface)
            diagnostics.Error(SourceLocation.None, "Non-existent interface specified in configuration");

        // Scripts first: keepalived drops the scripts it cannot run before it completes the instances that track them.
        return Checks.VrrpInstanceChecks.Run(ScriptChecks.Run(Checks.VrrpScriptChecks.DropUnknownTracked(result.ToImmutable()), diagnostics, options), diagnostics);
    }

    private static ConfigNode VirtualServer(ConfigNode node, HashSet<string> groups, DiagnosticBag diagnostics)
    {
        var args = node.Args;
        var children = node.Children;
        if (args.Length >= 2 && args[0] == "group" && !groups.Contains(args[1]))
            diagnostics.Error(node.Location, $"Virtual server group {args[1]} not found - ignoring");

        var protocol = node.Last("protocol")?.Arg0?.ToUpperInvariant();
        var isAddress = args.Length >= 2 && args[0] != "fwmark" && args[0] != "group";
        var label = Checks.VirtualServerChecks.Name(node);
        if (protocol is null && isAddress)
        {
            diagnostics.Error(node.Location, $"Virtual server {label}: no protocol set - defaulting to UDP");
            children = children.Add(new ConfigNode("protocol", ImmutableArray.Create("UDP"), null, SourceLocation.None));
            label = $"[{args[0]}]:udp:{args[1]}";
        }
        if (node.Last("lb_algo") is null && node.Last("lvs_sched") is null)
        {
            diagnostics.Error(node.Location, $"Virtual server {label}: no scheduler set, setting default 'wlc'");
            children = children.Add(new ConfigNode("lb_algo", ImmutableArray.Create("wlc"), null, SourceLocation.None));
        }
        // keepalived sets the default only for a real server (or sorry server) that has no method of its own.
        if (node.Last("lb_kind") is null && node.Last("lvs_method") is null
            && (node.All("real_server").Any(rs => rs.Last("lvs_method") is null) || (node.Last("sorry_server") is not null && node.Last("sorry_server_lvs_method") is null)))
        {
            diagnostics.Error(node.Location, $"Virtual server {label}: no forwarding method set, setting default NAT");
            children = children.Add(new ConfigNode("lb_kind", ImmutableArray.Create("NAT"), null, SourceLocation.None));
        }
        return children == node.Children ? node : node.WithChildren(children);
    }

    private static IReadOnlySet<string> HostInterfaces()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces().Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        }
        catch (NetworkInformationException)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }
    }
}
