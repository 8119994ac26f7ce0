using System.Collections.Immutable;
using Lb.Scripts;

namespace Lb.Config;

/// <summary>
/// Every script of the configuration, checked once at configuration time as keepalived does at start-up: the command is
/// split (<see cref="ScriptCommandLine"/>), its user resolved (<see cref="ScriptIdentity"/>) and the program checked
/// (<see cref="ScriptSecurity"/>). A script keepalived would disable is removed from the tree, so neither subsystem runs it:
/// a <c>vrrp_script</c> together with its <c>track_script</c> references ("Disabling track script X due to insecure" or
/// "… since not found/accessible", configuration errors), a notify script or a MISC_CHECK silently (keepalived only logs them).
/// Scripts found without <c>enable_script_security</c> give keepalived's SECURITY VIOLATION.
/// </summary>
internal static class ScriptChecks
{
    private static readonly string[] InstanceNotifies = ["notify_master", "notify_backup", "notify_fault", "notify_stop", "notify_deleted", "notify", "notify_master_rx_lower_pri"];
    private static readonly string[] GroupNotifies = ["notify_master", "notify_backup", "notify_fault", "notify_stop", "notify"];
    private static readonly string[] VrrpFifoScripts = ["notify_fifo_script", "vrrp_notify_fifo_script"];
    private static readonly string[] CheckerFifoScripts = ["notify_fifo_script", "lvs_notify_fifo_script"];

    public static ImmutableArray<ConfigNode> Run(ImmutableArray<ConfigNode> nodes, DiagnosticBag diagnostics)
    {
        var global = nodes.LastOrDefault(n => n.Keyword == "global_defs");
        var context = new Context(diagnostics, global?.Last("enable_script_security") is not null, global?.Last("script_user"));
        var hasVrrp = nodes.Any(n => n.Keyword == "vrrp_instance");
        var hasChecker = nodes.Any(n => n.Keyword == "virtual_server");

        var disabledScripts = new HashSet<string>(StringComparer.Ordinal);
        var result = ImmutableArray.CreateBuilder<ConfigNode>(nodes.Length);
        foreach (var node in nodes)
        {
            switch (node.Keyword)
            {
                case "vrrp_script" when hasVrrp:
                    {
                        var name = node.Arg0 ?? "?";
                        var script = node.Last("script");
                        var user = node.Last("user");
                        ScriptCheck? check = null;
                        var flags = script?.Arg0 is { } command
                            ? context.Check(script.Location, command, user?.Arg0, user is { Args.Length: > 1 } ? user.Args[1] : null, out check)
                            : ScriptCheckFlags.None;
                        if (script is null || check is null || check.Disabled)
                        {
                            if ((flags & ScriptCheckFlags.Inhibit) != 0)
                                diagnostics.Error(node.Location, $"Disabling track script {name} due to insecure");
                            else if ((flags & ScriptCheckFlags.NotFound) != 0)
                                diagnostics.Error(node.Location, $"Disabling track script {name} since not found/accessible");
                            if (script is not null)
                            {
                                disabledScripts.Add(name);
                                continue;
                            }
                        }
                        result.Add(node);
                        break;
                    }
                case "vrrp_instance" when hasVrrp:
                    result.Add(context.Notifies(node, InstanceNotifies));
                    break;
                case "vrrp_sync_group" when hasVrrp:
                    result.Add(context.Notifies(node, GroupNotifies));
                    break;
                case "global_defs":
                    var g = hasVrrp ? context.Notifies(node, VrrpFifoScripts) : node;
                    result.Add(hasChecker ? context.Notifies(g, CheckerFifoScripts) : g);
                    break;
                case "virtual_server" when hasChecker:
                    result.Add(context.VirtualServer(node));
                    break;
                default:
                    result.Add(node);
                    break;
            }
        }
        var checkedNodes = disabledScripts.Count == 0 ? result.ToImmutable() : result.Select(n => WithoutTrackScripts(n, disabledScripts)).ToImmutableArray();
        if (!context.Secure && (context.Flags & ScriptCheckFlags.IsScript) != 0)
            diagnostics.Add(Severity.Security, SourceLocation.None, "SECURITY VIOLATION - scripts are being executed but script_security not enabled."
                + ((context.Flags & ScriptCheckFlags.Insecure) != 0 ? " There are insecure scripts." : ""));
        return checkedNodes;
    }

    /// <summary>keepalived removes a disabled vrrp_script from every instance and sync group that tracks it.</summary>
    private static ConfigNode WithoutTrackScripts(ConfigNode node, HashSet<string> disabled)
    {
        if (node.Keyword is not ("vrrp_instance" or "vrrp_sync_group"))
            return node;
        var children = node.Children.Select(c => c.Keyword == "track_script"
            ? c.WithChildren(c.Children.RemoveAll(t => disabled.Contains(t.Keyword)))
            : c).ToImmutableArray();
        return node.WithChildren(children);
    }

    private sealed class Context(DiagnosticBag diagnostics, bool secure, ConfigNode? scriptUser)
    {
        public bool Secure => secure;

        public ScriptCheckFlags Flags { get; private set; }

        /// <summary>Splits, resolves and checks one script; null <paramref name="check"/> when it cannot be run at all.</summary>
        public ScriptCheckFlags Check(SourceLocation location, string command, string? user, string? group, out ScriptCheck? check)
        {
            check = null;
            if (!ScriptCommandLine.TrySplit(command, out var argv, out var error))
            {
                diagnostics.Error(location, $"{error} - ignoring script");
                return ScriptCheckFlags.None;
            }
            var invocation = ScriptInvocation.Create(argv, user, group, scriptUser?.Arg0, scriptUser is { Args.Length: > 1 } ? scriptUser.Args[1] : null, TimeSpan.Zero);
            if (ScriptRunner.Identity(invocation, out var idError) is not { } identity)
            {
                diagnostics.Error(location, $"{idError} - ignoring script {argv[0]}");
                return ScriptCheckFlags.None;
            }
            check = ScriptSecurity.Check(argv[0], identity, secure);
            Flags |= check.Flags;
            if ((check.Flags & ScriptCheckFlags.Inhibit) != 0)
                diagnostics.Warning(location, $"script {argv[0]} disabled: {string.Join("; ", check.Messages)}");
            return check.Flags;
        }

        /// <summary>Removes the notify scripts keepalived would disable.</summary>
        public ConfigNode Notifies(ConfigNode node, string[] keywords)
        {
            // Most blocks have none of these keywords: nothing to check, nothing to copy (a big file has thousands of blocks).
            if (!HasAny(node.Children, keywords))
                return node;
            var children = node.Children.RemoveAll(c => keywords.Contains(c.Keyword) && c.Arg0 is { } command && Disabled(c.Location, command, At(c, 1), At(c, 2)));
            return children.Length == node.Children.Length ? node : node.WithChildren(children);
        }

        private static bool HasAny(ImmutableArray<ConfigNode> children, string[] keywords)
        {
            foreach (var c in children)
            {
                if (Array.IndexOf(keywords, c.Keyword) >= 0)
                    return true;
            }
            return false;
        }

        /// <summary>quorum_up/down, and per real server notify_up/down and MISC_CHECK (removed when disabled).</summary>
        public ConfigNode VirtualServer(ConfigNode vs)
        {
            // Copied only from the first real server that changes: an unchanged block stays the parsed node.
            ImmutableArray<ConfigNode>.Builder? changed = null;
            for (var i = 0; i < vs.Children.Length; i++)
            {
                var c = vs.Children[i];
                var checkedChild = c.Keyword == "real_server" ? RealServer(Notifies(c, RealServerNotifies)) : c;
                if (changed is null && !ReferenceEquals(checkedChild, c))
                {
                    changed = ImmutableArray.CreateBuilder<ConfigNode>(vs.Children.Length);
                    changed.AddRange(vs.Children, i);
                }
                changed?.Add(checkedChild);
            }
            return Notifies(changed is null ? vs : vs.WithChildren(changed.MoveToImmutable()), QuorumScripts);
        }

        private static readonly string[] RealServerNotifies = ["notify_up", "notify_down"];
        private static readonly string[] QuorumScripts = ["quorum_up", "quorum_down"];

        private ConfigNode RealServer(ConfigNode rs)
        {
            if (!HasAny(rs.Children, MiscCheck))
                return rs;
            var children = rs.Children.RemoveAll(c =>
            {
                if (c.Keyword != "MISC_CHECK" || c.Last("misc_path") is not { Arg0: { } command } path)
                    return false;
                var user = c.Last("user");
                return Disabled(path.Location, command, user?.Arg0, user is { Args.Length: > 1 } ? user.Args[1] : null);
            });
            return children.Length == rs.Children.Length ? rs : rs.WithChildren(children);
        }

        private bool Disabled(SourceLocation location, string command, string? user, string? group)
        {
            Check(location, command, user, group, out var check);
            return check is null || check.Disabled;
        }

        private static readonly string[] MiscCheck = ["MISC_CHECK"];

        private static string? At(ConfigNode n, int i) => n.Args.Length > i ? n.Args[i] : null;
    }
}
