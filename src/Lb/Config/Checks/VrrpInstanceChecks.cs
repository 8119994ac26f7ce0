using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Lb.Config.Schema;

namespace Lb.Config.Checks;

/// <summary>
/// keepalived 2.2.7's verdict on each <c>vrrp_instance</c> once it is read: the order-dependent checks of its parser
/// (vrrp_parser.c: <c>state</c>, address families, <c>native_ipv6</c>, <c>version</c>, <c>unicast_ttl</c>) and
/// <c>vrrp_complete_instance</c> (vrrp.c: defaults, <c>vrrp_strict</c>, authentication, preemption, tracking weights).
/// Every message is keepalived's, a configuration error as keepalived counts it (<c>-t</c> exits 5), and the instance
/// is corrected the way keepalived corrects it, so what runs is what keepalived would run.
/// </summary>
internal static class VrrpInstanceChecks
{
    /// <summary>keepalived's <c>VRRP_PRIO_OWNER</c>.</summary>
    private const int Owner = 255;

    /// <summary>keepalived's <c>VRRP_MAX_ADDR</c>: the address count of an advert is 8 bits wide.</summary>
    private const int MaxAddresses = 255;

    /// <summary>keepalived's <c>VRRP_DOWN_TIMER_ADVERTS</c>.</summary>
    private const int DownTimerAdverts = 3;

    private static readonly string[] UnicastKeywords = ["unicast_peer", "unicast_src_ip", "unicast_fault_no_peer", "check_unicast_src", "old_unicast_checksum"];

    /// <summary>Checks and corrects every instance and sync group of <paramref name="nodes"/>.</summary>
    public static ImmutableArray<ConfigNode> Run(ImmutableArray<ConfigNode> nodes, DiagnosticBag diagnostics)
    {
        if (!nodes.Any(n => n.Keyword is "vrrp_instance" or "vrrp_sync_group"))
            return nodes;
        var global = nodes.LastOrDefault(n => n.Keyword == "global_defs");
        var globals = new Globals(
            global?.Last("vrrp_strict") is not null,
            Int(global?.Last("vrrp_version")?.Arg0) ?? 2,
            Weights(nodes, "vrrp_script", null, 0),
            Weights(nodes, "vrrp_track_file", "track_file", 1),
            Weights(nodes, "vrrp_track_process", null, 0));
        var syncDaemon = global?.Last("lvs_sync_daemon")?.Arg0;
        var groups = VrrpSyncGroupChecks.Run(nodes, diagnostics);

        var result = ImmutableArray.CreateBuilder<ConfigNode>(nodes.Length);
        foreach (var node in nodes)
        {
            switch (node.Keyword)
            {
                case "vrrp_instance":
                    var name = node.Arg0 ?? string.Empty;
                    result.Add(Complete(node, name, globals, groups.Membership.GetValueOrDefault(name), ref syncDaemon, diagnostics));
                    break;
                case "vrrp_sync_group":
                    if (groups.Groups.TryGetValue(node, out var group) && group is not null)
                        result.Add(group);
                    break;
                default:
                    result.Add(node);
                    break;
            }
        }
        return SyncGroupWeights(result.ToImmutable(), groups, globals, diagnostics);
    }

    private static bool Same(ImmutableArray<ConfigNode> a, ImmutableArray<ConfigNode> b)
    {
        if (a.Length != b.Length)
            return false;
        for (var k = 0; k < a.Length; k++)
        {
            if (!ReferenceEquals(a[k], b[k]))
                return false;
        }
        return true;
    }

    /// <summary>The weight of each tracker defined by <paramref name="keyword"/> (or its alias), keepalived's default when it has none.</summary>
    private static Dictionary<string, int> Weights(ImmutableArray<ConfigNode> nodes, string keyword, string? alias, int fallback) =>
        nodes.Where(n => (n.Keyword == keyword || n.Keyword == alias) && n.Arg0 is not null).GroupBy(n => n.Arg0!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => WeightOf(g.Last()) ?? fallback, StringComparer.Ordinal);

    private sealed record Globals(bool Strict, int Version, Dictionary<string, int> ScriptWeights, Dictionary<string, int> FileWeights, Dictionary<string, int> ProcessWeights);

    /// <summary>A sync group with an address owner among its members cannot have weighted trackers: keepalived clears the weights.</summary>
    private static ImmutableArray<ConfigNode> SyncGroupWeights(ImmutableArray<ConfigNode> nodes, SyncGroups groups, Globals globals, DiagnosticBag diagnostics)
    {
        if (groups.Membership.Count == 0)
            return nodes;
        var owners = nodes.Where(n => n.Keyword == "vrrp_instance" && n.Arg0 is not null && Int(n.Last("priority")?.Arg0) == Owner)
            .Select(n => n.Arg0!).Where(groups.Membership.ContainsKey).Select(n => groups.Membership[n].Group).ToHashSet(StringComparer.Ordinal);
        if (owners.Count == 0)
            return nodes;
        return nodes.Select(n =>
        {
            if (n.Keyword != "vrrp_sync_group" || n.Arg0 is not { } name || !owners.Contains(name))
                return n;
            var children = n.Children.Select(c =>
            {
                (string What, string Action, Func<ConfigNode, int> Weight)? kind = c.Keyword switch
                {
                    "track_script" => ("script", "clearing weight", e => WeightOf(e) ?? globals.ScriptWeights.GetValueOrDefault(e.Keyword)),
                    "track_file" => ("file", "setting weight 0", e => WeightOf(e) ?? globals.FileWeights.GetValueOrDefault(e.Keyword, 1)),
                    "track_process" => ("process", "setting weight 0", e => WeightOf(e) ?? globals.ProcessWeights.GetValueOrDefault(e.Keyword)),
                    "track_interface" => ("interface", "clearing weight", e => WeightOf(e) ?? 0),
                    _ => null,
                };
                if (kind is not { } k)
                    return c;
                var entries = c.Children.Select(e =>
                {
                    if (k.Weight(e) == 0)
                        return e;
                    diagnostics.Error(e.Location, $"({name}) Cannot have weighted track {k.What} '{e.Keyword}' with member having priority {Owner} - {k.Action}");
                    return WithWeight(e, 0);
                }).ToImmutableArray();
                return Same(entries, c.Children) ? c : c.WithChildren(entries);
            }).ToImmutableArray();
            return Same(children, n.Children) ? n : n.WithChildren(children);
        }).ToImmutableArray();
    }

    private static ConfigNode Complete(ConfigNode node, string name, Globals globals, SyncMembership? sync, ref string? syncDaemon, DiagnosticBag diagnostics)
    {
        var i = new Instance(node, name, diagnostics);
        i.Parse(ref syncDaemon);

        var strict = Flag(node.Last("strict_mode")) ?? globals.Strict;
        var family = i.Family;
        var version = i.Version;
        if (family == AddressFamily.InterNetworkV6)
        {
            if (version == 2 && strict)
            {
                i.Error(i.At("version"), $"({name}) cannot use IPv6 with VRRP version 2; setting version 3");
                version = 3;
                i.Set("version", "3");
            }
            else
                version ??= 3;
        }
        family ??= AddressFamily.InterNetwork;
        version ??= globals.Version;

        var peers = i.Children.Where(c => c.Keyword == "unicast_peer").Sum(c => c.Children.Length);
        if (peers == 0 && i.Children.Any(c => c.Keyword == "unicast_ttl"))
        {
            i.Error(i.At("unicast_ttl"), $"({name}): Cannot use unicast_ttl without unicast peers - resetting");
            i.Remove("unicast_ttl");
        }

        var vips = i.Children.Where(c => c.Keyword == "virtual_ipaddress").SelectMany(c => c.Children).ToList();
        if (vips.Count == 0 && !NoVirtualIpAddress(i, strict, diagnostics))
        {
            // keepalived stops at "required": the rest of the instance is not examined.
            if (version == 3 || strict)
            {
                i.Error(node.Location, $"({name}) No VIP specified; at least one is required");
                return i.Result();
            }
            i.Error(node.Location, $"({name}) No VIP specified; at least one is sensible");
        }

        var priority = Int(i.Last("priority")?.Arg0);
        var master = i.WantMaster;
        var basePriority = priority ?? (master == true ? Owner : 100);
        if (priority is null)
            i.Add(new ConfigNode("priority", ImmutableArray.Create(basePriority.ToString(CultureInfo.InvariantCulture)), null, SourceLocation.None));
        if (master is null)
        {
            master = basePriority == Owner;
            if (master == true)
                i.Set("state", "MASTER");
        }
        else if (strict && master != (basePriority == Owner))
        {
            i.Error(i.At("state"), $"({name}) State MASTER must match being address owner");
            master = basePriority == Owner;
            i.Set("state", master == true ? "MASTER" : "BACKUP");
        }

        Authentication(i, strict, version.Value, family.Value);

        if (master == true && i.Last("authentication")?.Last("auth_type")?.Arg0?.ToUpperInvariant() == "AH" && basePriority != Owner)
        {
            i.Error(i.At("authentication"), $"({name}) Initial state master is incompatible with AH authentication - clearing");
            master = false;
            i.Set("state", "BACKUP");
        }

        if (family == AddressFamily.InterNetworkV6 && peers == 0 && vips.Count > 0 && strict
            && ParseAddress(vips[0].Keyword) is { IsIPv6LinkLocal: false })
            i.Error(vips[0].Location, $"({name}) the first IPv6 VIP address must be link local");

        if (vips.Count > MaxAddresses)
        {
            i.Error(vips[MaxAddresses].Location, $"({name}) Number of VIPs ({vips.Count}) exceeds maximum/space available in packet (max {MaxAddresses} addresses) - excess moved to eVIPs");
            i.MoveExcessVips(MaxAddresses);
        }

        if (basePriority == Owner && i.Nopreempt)
        {
            i.Error(i.At("nopreempt"), $"({name}) nopreempt is incompatible with priority 255. resetting nopreempt");
            i.Remove("nopreempt");
        }
        var preemptDelay = Decimal(i.Last("preempt_delay")?.Arg0) is > 0m;
        if (master == true)
        {
            if (i.Nopreempt)
            {
                i.Error(i.At("nopreempt"), $"({name}) Warning - nopreempt will not work with initial state MASTER - clearing");
                i.Remove("nopreempt");
            }
            if (preemptDelay)
            {
                i.Error(i.At("preempt_delay"), $"({name}) Warning - preempt delay will not work with initial state MASTER - clearing");
                i.Remove("preempt_delay");
                preemptDelay = false;
            }
        }
        if (preemptDelay)
        {
            var at = i.At("preempt_delay");
            if (strict)
                i.Error(at, $"({name}) preempt_delay is incompatible with strict mode - resetting");
            if (i.Nopreempt)
                i.Error(at, $"({name}) preempt_delay is incompatible with nopreempt mode - resetting");
            if (strict || i.Nopreempt)
                i.Remove("preempt_delay");
        }

        if (strict && Int(i.Last("down_timer_adverts")?.Arg0) is { } adverts && adverts != DownTimerAdverts)
        {
            i.Error(i.At("down_timer_adverts"), $"({name}) down_timer_adverts is incompatible with strict mode - resetting");
            i.Remove("down_timer_adverts");
        }

        if (i.Accept == true && basePriority != Owner && strict && version == 2)
        {
            i.Error(i.At("accept"), $"({name}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting");
            i.Remove("accept");
            i.Set("no_accept", null);
        }

        if (peers > 0 && i.Last("mcast_dst_ip") is not null)
        {
            i.Error(i.At("mcast_dst_ip"), $"({name}) multicast destination specified with unicast - ignoring");
            i.Remove("mcast_dst_ip");
        }
        else if (peers == 0 && i.UnicastConfigured && i.Last("unicast_fault_no_peer") is null)
            i.Error(node.Location, $"({name}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.");

        NewerThan227(i, basePriority);

        if (strict)
            StrictGarps(i);

        AdvertInterval(i, version.Value);
        Tracking(i, sync, basePriority, globals);
        return i.Result();
    }

    /// <summary>
    /// <c>no_virtual_ipaddress</c> (keepalived 2.2.8 vrrp.c): an instance without VIPs is intended, no "No VIP" message;
    /// strict mode clears it with a warning. True when it stands.
    /// </summary>
    private static bool NoVirtualIpAddress(Instance i, bool strict, DiagnosticBag diagnostics)
    {
        if (i.Last("no_virtual_ipaddress") is not { } n || Flag(n) == false)
            return false;
        if (!strict)
            return true;
        diagnostics.Warning(n.Location, $"({i.Name}) no_virtual_ipaddress and strict mode incompatible, clearing no_virtual_ipaddress");
        i.Remove("no_virtual_ipaddress");
        return false;
    }

    /// <summary>The rules of keywords newer than keepalived 2.2.7: timer_expired_backup (2.2.8), owner_ignore_adverts (2.3.3).</summary>
    private static void NewerThan227(Instance i, int basePriority)
    {
        if (i.Last("timer_expired_backup") is { } t && !i.Nopreempt)
        {
            i.Error(t.Location, $"({i.Name}) expired_timer_backup requires nopreempt - resetting");
            i.Remove("timer_expired_backup");
        }
        if (i.Last("owner_ignore_adverts") is { } o && Flag(o) != false && basePriority != Owner)
        {
            i.Error(o.Location, $"({i.Name}) ignoring owner_ignore_adverts since priority is not {Owner}");
            i.Remove("owner_ignore_adverts");
        }
    }

    /// <summary>keepalived's authentication rules, first match wins; every one drops the authentication.</summary>
    private static void Authentication(Instance i, bool strict, int version, AddressFamily family)
    {
        var auth = i.Last("authentication");
        var type = auth?.Last("auth_type")?.Arg0?.ToUpperInvariant();
        if (auth is null || type is null)
            return;
        string? message = null;
        if (strict)
            message = $"({i.Name}) Strict mode does not support authentication. Ignoring.";
        else if (version == 3)
            message = $"({i.Name}) VRRP version 3 does not support authentication. Ignoring.";
        else if (auth.Last("auth_pass")?.Arg0 is not { Length: > 0 })
            message = $"({i.Name}) Authentication specified but no password given. Ignoring";
        else if (family == AddressFamily.InterNetworkV6 && type == "AH")
            message = $"({i.Name}) Cannot use AH authentication with IPv6. ignoring";
        if (message is null)
            return;
        i.Error(auth.Location, message);
        i.Remove("authentication");
    }

    /// <summary>vrrp_strict's RFC rules for gratuitous ARPs and adverts at a lower priority.</summary>
    private static void StrictGarps(Instance i)
    {
        if (Int(i.Last("garp_lower_prio_repeat")?.Arg0) is > 0)
        {
            i.Error(i.At("garp_lower_prio_repeat"), $"({i.Name}) Strict mode requires no repeat garps. resetting");
            i.Set("garp_lower_prio_repeat", "0");
        }
        if (Decimal(i.Last("garp_lower_prio_delay")?.Arg0) is > 0m)
        {
            i.Error(i.At("garp_lower_prio_delay"), $"({i.Name}) Strict mode requires no repeat garp delay. resetting");
            i.Set("garp_lower_prio_delay", "0");
        }
        if (i.Last("lower_prio_no_advert") is { } lower && Flag(lower) == false)
        {
            i.Error(lower.Location, $"({i.Name}) Strict mode requires no lower priority advert. resetting");
            i.Set("lower_prio_no_advert", "true");
        }
        if (i.Last("higher_prio_send_advert") is { } higher && Flag(higher) == true)
        {
            i.Error(higher.Location, $"({i.Name}) strict mode requires higher_prio_send_advert to be clear. resetting");
            i.Set("higher_prio_send_advert", "false");
        }
    }

    /// <summary>VRRPv2 adverts carry whole seconds, VRRPv3 centiseconds: keepalived rounds to the nearest, at least one unit.</summary>
    private static void AdvertInterval(Instance i, int version)
    {
        if (i.Last("advert_int") is not { } advert || Decimal(advert.Arg0) is not { } seconds)
            return;
        var micro = decimal.Round(seconds * 1_000_000m, MidpointRounding.AwayFromZero);
        var unit = version == 2 ? 1_000_000m : 10_000m;
        if (micro % unit == 0)
            return;
        i.Error(advert.Location, version == 2
            ? $"({i.Name}) VRRPv2 advertisement interval {(micro / 1_000_000m).ToString("F6", CultureInfo.InvariantCulture)}s must be an integer. rounding"
            : $"({i.Name}) VRRPv3 advertisement interval {(micro / 1_000_000m).ToString("F6", CultureInfo.InvariantCulture)}s must be in units of 10ms - rounding");
        var rounded = micro + (unit / 2);
        rounded -= rounded % unit;
        if (rounded == 0)
            rounded = unit;
        i.Set("advert_int", (rounded / 1_000_000m).ToString("0.##", CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The instance's own interface is not tracked; in a sync group (without <c>sync_group_tracking_weight</c>) tracked
    /// interfaces lose their weight and weighted scripts are dropped; an address owner drops both.
    /// </summary>
    private static void Tracking(Instance i, SyncMembership? sync, int basePriority, Globals globals)
    {
        var own = i.Last("interface")?.Arg0;
        if (own is not null and not "lo")
        {
            i.RemoveEntries("track_interface", e =>
            {
                if (e.Keyword != own)
                    return false;
                i.Error(e.Location, $"({i.Name}) Ignoring track_interface {own} since own interface");
                return true;
            });
        }

        var inSync = sync is { TrackingWeight: false };
        if (!inSync && basePriority != Owner)
            return;
        var why = inSync ? "SYNC group" : "address owner";
        i.RewriteEntries("track_interface", e =>
        {
            if (WeightOf(e) is not { } weight || weight == 0)
                return e;
            i.Error(e.Location, $"({i.Name}) ignoring {e.Keyword} tracked interface {(inSync ? "weight " : "")}due to {why}");
            return inSync ? WithWeight(e, 0) : null;
        });
        i.RewriteEntries("track_script", e =>
        {
            var weight = WeightOf(e) ?? globals.ScriptWeights.GetValueOrDefault(e.Keyword);
            if (weight == 0)
                return e;
            i.Error(e.Location, $"({i.Name}) ignoring tracked script {e.Keyword} with weights due to {(inSync ? "SYNC group" : "address_owner")}");
            return null;
        });
        i.RewriteEntries("track_file", e =>
        {
            if (!globals.FileWeights.TryGetValue(e.Keyword, out var defined))
                return e;
            var weight = WeightOf(e) ?? defined;
            if (weight == 1)
            {
                i.Error(e.Location, $"({i.Name}) ignoring weight from tracked file {e.Keyword} due to {(inSync ? "SYNC group" : "address_owner")}. specify weight 0");
                return WithWeight(e, 0);
            }
            if (weight == 0)
                return e;
            i.Error(e.Location, $"({i.Name}) ignoring tracked file {e.Keyword} with weight {weight} due to {(inSync ? "SYNC group" : "address_owner")}");
            return null;
        });
    }

    /// <summary>The <c>weight N</c> of a tracking entry or a vrrp_script, null when absent or not a number.</summary>
    internal static int? WeightOf(ConfigNode entry)
    {
        var k = entry.Args.IndexOf("weight");
        if (k >= 0)
            return k + 1 < entry.Args.Length ? Int(entry.Args[k + 1]) : null;
        return entry.Last("weight") is { } w ? Int(w.Arg0) : null;
    }

    /// <summary>The tracking entry with <c>weight N</c> set (added when it has none).</summary>
    private static ConfigNode WithWeight(ConfigNode entry, int weight)
    {
        var value = weight.ToString(CultureInfo.InvariantCulture);
        var k = entry.Args.IndexOf("weight");
        var args = k >= 0 && k + 1 < entry.Args.Length ? entry.Args.SetItem(k + 1, value) : ImmutableArray.Create("weight", value);
        return new ConfigNode(entry.Keyword, args, entry.IsBlock ? entry.Children : null, entry.Location);
    }

    internal static int? Int(string? s) =>
        s is not null && int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static decimal? Decimal(string? s) =>
        s is not null && decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>keepalived's flag keywords: bare means on, else on|off|true|false|yes|no.</summary>
    private static bool? Flag(ConfigNode? n) => n is null ? null : n.Args.Length == 0 || (SchemaValidator.ParseBool(n.Args[0]) ?? true);

    /// <summary>The address of a VIP, peer or source entry (<c>ADDR[/LEN]</c>), null when it is not one.</summary>
    internal static IPAddress? ParseAddress(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return IPAddress.TryParse(slash >= 0 ? text[..slash] : text, out var a) ? a : null;
    }

    /// <summary>One instance being completed: its children as a list that the checks correct, and what its parser decided.</summary>
    private sealed class Instance(ConfigNode node, string name, DiagnosticBag diagnostics)
    {
        private readonly List<ConfigNode> _children = [.. node.Children];
        private bool _changed;

        public string Name => name;

        public IReadOnlyList<ConfigNode> Children => _children;

        public AddressFamily? Family { get; private set; }

        public int? Version { get; private set; }

        /// <summary>keepalived's wantstate after parsing: null when no <c>state</c> (derived from the priority later).</summary>
        public bool? WantMaster { get; private set; }

        public bool Nopreempt { get; private set; }

        public bool? Accept { get; private set; }

        public bool UnicastConfigured { get; private set; }

        public void Error(SourceLocation location, string message) => diagnostics.Error(location, message);

        public ConfigNode? Last(string keyword)
        {
            for (var k = _children.Count - 1; k >= 0; k--)
            {
                if (_children[k].Keyword == keyword)
                    return _children[k];
            }
            return null;
        }

        public SourceLocation At(string keyword) => Last(keyword) is { Location.IsKnown: true } n ? n.Location : node.Location;

        public void Add(ConfigNode child)
        {
            _children.Add(child);
            _changed = true;
        }

        public void Remove(string keyword)
        {
            if (_children.RemoveAll(c => c.Keyword == keyword) > 0)
                _changed = true;
            if (keyword == "nopreempt")
                Nopreempt = false;
        }

        /// <summary>Sets <paramref name="keyword"/> to <paramref name="value"/> (a flag when null) in place of its last occurrence.</summary>
        public void Set(string keyword, string? value)
        {
            var args = value is null ? ImmutableArray<string>.Empty : ImmutableArray.Create(value);
            var last = _children.FindLastIndex(c => c.Keyword == keyword);
            var replacement = new ConfigNode(keyword, args, null, last >= 0 ? _children[last].Location : SourceLocation.None);
            if (last >= 0)
            {
                _children[last] = replacement;
                for (var k = last - 1; k >= 0; k--)
                {
                    if (_children[k].Keyword == keyword)
                        _children.RemoveAt(k);
                }
            }
            else
                _children.Add(replacement);
            _changed = true;
        }

        public void RemoveEntries(string block, Func<ConfigNode, bool> remove) => RewriteEntries(block, e => remove(e) ? null : e);

        /// <summary>Rewrites (or drops, on null) the entries of every <paramref name="block"/> block.</summary>
        public void RewriteEntries(string block, Func<ConfigNode, ConfigNode?> rewrite)
        {
            for (var k = 0; k < _children.Count; k++)
            {
                var c = _children[k];
                if (c.Keyword != block)
                    continue;
                var entries = ImmutableArray.CreateBuilder<ConfigNode>(c.Children.Length);
                var changed = false;
                foreach (var e in c.Children)
                {
                    var r = rewrite(e);
                    changed |= !ReferenceEquals(r, e);
                    if (r is not null)
                        entries.Add(r);
                }
                if (changed)
                {
                    _children[k] = c.WithChildren(entries.ToImmutable());
                    _changed = true;
                }
            }
        }

        /// <summary>Moves the VIPs after the first <paramref name="keep"/> to <c>virtual_ipaddress_excluded</c>, as keepalived does.</summary>
        public void MoveExcessVips(int keep)
        {
            var moved = new List<ConfigNode>();
            var seen = 0;
            RewriteEntries("virtual_ipaddress", e =>
            {
                if (++seen <= keep)
                    return e;
                moved.Add(e);
                return null;
            });
            var excluded = _children.FindLastIndex(c => c.Keyword == "virtual_ipaddress_excluded");
            if (excluded >= 0)
                _children[excluded] = _children[excluded].WithChildren(_children[excluded].Children.AddRange(moved));
            else
                _children.Add(new ConfigNode("virtual_ipaddress_excluded", ImmutableArray<string>.Empty, moved.ToImmutableArray(), SourceLocation.None));
        }

        /// <summary>
        /// What keepalived's parser decides in file order: the family is set by the first source address, unicast peer
        /// or VIP (or native_ipv6) and a later one of the other family is dropped; a second <c>version</c> or
        /// <c>state BACKUP</c> after <c>state MASTER</c> is ignored; the last of preempt/nopreempt and accept/no_accept wins.
        /// </summary>
        public void Parse(ref string? syncDaemon)
        {
            for (var k = 0; k < _children.Count; k++)
            {
                var c = _children[k];
                if (Array.IndexOf(UnicastKeywords, c.Keyword) >= 0)
                    UnicastConfigured = true;
                switch (c.Keyword)
                {
                    case "state" when string.Equals(c.Arg0, "MASTER", StringComparison.OrdinalIgnoreCase):
                        WantMaster = true;
                        break;
                    case "state" when string.Equals(c.Arg0, "BACKUP", StringComparison.OrdinalIgnoreCase):
                        if (WantMaster == true)
                        {
                            Error(c.Location, $"({name}) state previously set as MASTER - ignoring BACKUP");
                            Drop(ref k);
                        }
                        else
                            WantMaster = false;
                        break;
                    case "mcast_src_ip" or "unicast_src_ip" when c.Arg0 is { } text && ParseAddress(text) is { } address:
                        if (!Same(address))
                        {
                            Error(c.Location, $"Configuration error: VRRP instance[{name}] and src address[{text}] MUST be of the same family !!! Skipping...");
                            Drop(ref k);
                        }
                        break;
                    case "unicast_peer":
                        Entries(k, (e, a) => $"Configuration error: VRRP instance[{name}] and unicast peer address[{e.Keyword}] MUST be of the same family !!! Skipping...");
                        break;
                    case "virtual_ipaddress":
                        Entries(k, (e, a) => $"({name}): address family must match VRRP instance [{e.Keyword}] - ignoring");
                        break;
                    case "native_ipv6":
                        if (Family == AddressFamily.InterNetwork)
                        {
                            Error(c.Location, $"({name}) Cannot specify native_ipv6 with IPv4 addresses");
                            Drop(ref k);
                        }
                        else
                        {
                            Family = AddressFamily.InterNetworkV6;
                            Version = 3;
                        }
                        break;
                    case "version" when Int(c.Arg0) is { } v:
                        if ((Version is { } had && had != v) || (v == 2 && Family == AddressFamily.InterNetworkV6))
                        {
                            Error(c.Location, $"({name}) vrrp_version {v} conflicts with configured or deduced version {Version ?? 0}; ignoring.");
                            Drop(ref k);
                        }
                        else
                            Version = v;
                        break;
                    case "nopreempt":
                        Nopreempt = true;
                        break;
                    case "preempt":
                        Nopreempt = false;
                        break;
                    case "accept":
                        Accept = true;
                        break;
                    case "no_accept":
                        Accept = false;
                        break;
                    case "lvs_sync_daemon_interface":
                        Error(c.Location, $"({name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.");
                        Error(c.Location, $"      {new string(' ', Math.Max(0, name.Length - 2))}Please use global lvs_sync_daemon");
                        if (syncDaemon is not null)
                            Error(c.Location, $"({name}) lvs_sync_daemon_interface has already been specified as {syncDaemon} - ignoring");
                        else
                            syncDaemon = c.Arg0;
                        break;
                }
            }
            // The last of nopreempt/preempt and of accept/no_accept wins, as in keepalived: drop the losers.
            if (!Nopreempt)
                Remove("nopreempt");
            if (Accept == true)
                Remove("no_accept");
            else if (Accept == false)
                Remove("accept");
        }

        private void Drop(ref int k)
        {
            _children.RemoveAt(k--);
            _changed = true;
        }

        /// <summary>Whether <paramref name="address"/> fits the instance's family, setting the family from the first one.</summary>
        private bool Same(IPAddress address)
        {
            Family ??= address.AddressFamily;
            return Family == address.AddressFamily;
        }

        private void Entries(int k, Func<ConfigNode, IPAddress, string> mismatch)
        {
            var block = _children[k];
            var kept = ImmutableArray.CreateBuilder<ConfigNode>(block.Children.Length);
            foreach (var e in block.Children)
            {
                if (ParseAddress(e.Keyword) is { } a && !Same(a))
                {
                    Error(e.Location, mismatch(e, a));
                    continue;
                }
                kept.Add(e);
            }
            if (kept.Count != block.Children.Length)
            {
                _children[k] = block.WithChildren(kept.ToImmutable());
                _changed = true;
            }
        }

        public ConfigNode Result() => _changed ? node.WithChildren(_children.ToImmutableArray()) : node;
    }
}
