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

    public static ImmutableArray<ConfigNode> Run(ImmutableArray<ConfigNode> nodes, DiagnosticBag diagnostics, ConfigLoadOptions options)
    {
        var global = nodes.LastOrDefault(n => n.Keyword == "global_defs");
        var context = new Context(diagnostics, global?.Last("enable_script_security") is not null, global?.Last("script_user"), options.ScriptUsers ?? HostUsers);
        var hasVrrp = nodes.Any(n => n.Keyword == "vrrp_instance");
        var hasChecker = nodes.Any(n => n.Keyword == "virtual_server");

        var disabledScripts = new HashSet<string>(StringComparer.Ordinal);
        var missingScripts = new HashSet<string>(StringComparer.Ordinal);
        var result = ImmutableArray.CreateBuilder<ConfigNode>(nodes.Length);
        foreach (var node in nodes)
        {
            context.Checker = node.Keyword == "virtual_server";
            switch (node.Keyword)
            {
                case "vrrp_script" when hasVrrp:
                    {
                        var name = node.Arg0 ?? "?";
                        var script = node.Last("script");
                        var user = node.Last("user");
                        ScriptCheck? check = null;
                        var failure = UserFailure.None;
                        var flags = script?.Arg0 is { } command
                            ? context.Check(script.Location, command, user?.Arg0, user is { Args.Length: > 1 } ? user.Args[1] : null, out check, out failure)
                            : ScriptCheckFlags.None;
                        if (failure != UserFailure.None)
                        {
                            // keepalived's parser drops the script: the instances tracking it then do not find it.
                            diagnostics.Error(failure == UserFailure.Own ? user!.Location : node.Location, failure == UserFailure.Own
                                ? $"Unable to set uid/gid for script {CommandString(script!.Arg0!)}"
                                : $"Unable to set default user for vrrp script {name} - removing");
                            missingScripts.Add(name);
                            continue;
                        }
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
                    context.Checker = true;
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
        disabledScripts.UnionWith(missingScripts);
        var checkedNodes = disabledScripts.Count == 0 ? result.ToImmutable() : result.Select(n => WithoutTrackScripts(n, disabledScripts, missingScripts, diagnostics)).ToImmutableArray();
        if (!context.Secure && (context.Flags & ScriptCheckFlags.IsScript) != 0)
            diagnostics.Add(Severity.Security, SourceLocation.None, "SECURITY VIOLATION - scripts are being executed but script_security not enabled."
                + ((context.Flags & ScriptCheckFlags.Insecure) != 0 ? " There are insecure scripts." : ""));
        if (!context.Secure && (context.CheckerFlags & ScriptCheckFlags.IsScript) != 0)
            diagnostics.Add(Severity.Security, SourceLocation.None, "SECURITY VIOLATION - check scripts are being executed but script_security not enabled."
                + ((context.CheckerFlags & ScriptCheckFlags.Insecure) != 0 ? " There are insecure scripts." : ""));
        return checkedNodes;
    }

    /// <summary>This host's users and groups (getpwnam/getgrnam as keepalived resolves them).</summary>
    private static ScriptIdentity? HostUsers(string user, string? group) => ScriptIdentity.Lookup(user, group, out _);

    /// <summary>keepalived's <c>cmd_str</c>: each word quoted, but a leading <c>&lt;</c>/<c>&gt;</c> file test left bare.</summary>
    internal static string CommandString(string command)
    {
        if (!ScriptCommandLine.TrySplit(command, out var argv, out _))
            return command;
        return string.Join(' ', argv.Select((a, i) => i == 0 && a.Length > 0 && a[0] is '<' or '>' ? a : $"'{a}'"));
    }

    /// <summary>
    /// keepalived removes a disabled vrrp_script from every instance and sync group that tracks it; one its parser dropped
    /// (no user to run it as) is reported as not found by each.
    /// </summary>
    private static ConfigNode WithoutTrackScripts(ConfigNode node, HashSet<string> disabled, HashSet<string> missing, DiagnosticBag diagnostics)
    {
        if (node.Keyword is not ("vrrp_instance" or "vrrp_sync_group"))
            return node;
        var children = node.Children.Select(c => c.Keyword == "track_script"
            ? c.WithChildren(c.Children.RemoveAll(t =>
            {
                if (missing.Contains(t.Keyword))
                    diagnostics.Error(t.Location, $"({node.Arg0}) track script {t.Keyword} not found, ignoring...");
                return disabled.Contains(t.Keyword);
            }))
            : c).ToImmutableArray();
        return node.WithChildren(children);
    }

    /// <summary>Why a script has no user to run as: its own user/group does not exist, or the default user cannot be set.</summary>
    private enum UserFailure
    {
        None,
        Own,
        Default,
    }

    private sealed class Context
    {
        private readonly DiagnosticBag _diagnostics;
        private readonly bool _secure;
        private readonly Func<string, string?, ScriptIdentity?> _users;
        private bool _defaultResolved;
        private bool _defaultFailed;
        private ScriptIdentity? _default;

        /// <summary>
        /// keepalived's default script user: <c>script_user</c> when given ("Error setting global script uid/gid" when it
        /// does not exist, and every script without its own user is then dropped); else <c>keepalived_script</c> when it
        /// exists; else keepalived's own user — except under <c>enable_script_security</c>, where the first script needing
        /// it gives "Unable to set default user keepalived_script for script" and every such script is dropped.
        /// </summary>
        public Context(DiagnosticBag diagnostics, bool secure, ConfigNode? scriptUser, Func<string, string?, ScriptIdentity?> users)
        {
            _diagnostics = diagnostics;
            _secure = secure;
            _users = users;
            if (scriptUser?.Arg0 is { } name)
            {
                _defaultResolved = true;
                _default = users(name, scriptUser.Args.Length > 1 ? scriptUser.Args[1] : null);
                if (_default is null)
                {
                    diagnostics.Error(scriptUser.Location, "Error setting global script uid/gid");
                    _defaultFailed = true;
                }
            }
        }

        public bool Secure => _secure;

        /// <summary>What the VRRP subsystem's scripts were found to be.</summary>
        public ScriptCheckFlags Flags { get; private set; }

        /// <summary>What the checkers' scripts were found to be (keepalived reports them separately).</summary>
        public ScriptCheckFlags CheckerFlags { get; private set; }

        /// <summary>Whether the scripts being checked are the checkers' (a virtual_server's).</summary>
        public bool Checker { get; set; }

        private ScriptIdentity? Identity(SourceLocation location, string? user, string? group, out UserFailure failure)
        {
            failure = UserFailure.None;
            if (user is not null)
            {
                var own = _users(user, group);
                if (own is null)
                    failure = UserFailure.Own;
                return own;
            }
            if (!_defaultResolved)
            {
                _defaultResolved = true;
                _default = _users(ScriptIdentity.DefaultUser, null);
                if (_default is null && _secure)
                {
                    _diagnostics.Error(location, $"Unable to set default user {ScriptIdentity.DefaultUser} for script");
                    _defaultFailed = true;
                }
                _default ??= ScriptIdentity.Current;
            }
            if (_defaultFailed)
            {
                failure = UserFailure.Default;
                return null;
            }
            return _default;
        }

        /// <summary>Splits, resolves and checks one script; null <paramref name="check"/> when it cannot be run at all.</summary>
        public ScriptCheckFlags Check(SourceLocation location, string command, string? user, string? group, out ScriptCheck? check, out UserFailure failure)
        {
            check = null;
            failure = UserFailure.None;
            if (!ScriptCommandLine.TrySplit(command, out var argv, out var error))
            {
                _diagnostics.Error(location, $"{error} - ignoring script");
                return ScriptCheckFlags.None;
            }
            if (Identity(location, user, group, out failure) is not { } identity)
                return ScriptCheckFlags.None;
            check = ScriptSecurity.Check(argv[0], identity, _secure);
            if (Checker)
                CheckerFlags |= check.Flags;
            else
                Flags |= check.Flags;
            if ((check.Flags & ScriptCheckFlags.Inhibit) != 0)
                _diagnostics.Warning(location, $"script {argv[0]} disabled: {string.Join("; ", check.Messages)}");
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
                Check(path.Location, command, user?.Arg0, user is { Args.Length: > 1 } ? user.Args[1] : null, out var check, out var failure);
                if (failure == UserFailure.Own)
                    _diagnostics.Error(user!.Location, $"Failed to set uid/gid for misc checker script {CommandString(command)} - removing");
                else if (failure == UserFailure.Default)
                    _diagnostics.Error(c.Location, $"Unable to set default user for misc script {CommandString(command)} - removing");
                return check is null || check.Disabled;
            });
            return children.Length == rs.Children.Length ? rs : rs.WithChildren(children);
        }

        /// <summary>A notify script keepalived would not run; one without a user to run as is dropped with a log line only.</summary>
        private bool Disabled(SourceLocation location, string command, string? user, string? group)
        {
            Check(location, command, user, group, out var check, out var failure);
            if (failure != UserFailure.None && ScriptCommandLine.TrySplit(command, out var argv, out _))
            {
                _diagnostics.Warning(location, failure == UserFailure.Own
                    ? $"Invalid user/group for notify script {argv[0]} - ignoring"
                    : $"Failed to set default user for notify script {argv[0]} - ignoring");
            }
            return check is null || check.Disabled;
        }

        private static readonly string[] MiscCheck = ["MISC_CHECK"];

        private static string? At(ConfigNode n, int i) => n.Args.Length > i ? n.Args[i] : null;
    }
}
