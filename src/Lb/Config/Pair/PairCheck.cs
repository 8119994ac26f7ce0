using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Options;

namespace Lb.Config.Pair;

/// <summary>
/// Checks that the directors of a VRRP pair can work together, beyond what keepalived checks in one file: each
/// <c>vrrp_instance</c> is matched across the sides by (virtual_router_id, address family), the interface and then the
/// name choosing among several, and by name alone when the virtual_router_id differs (to report that). Every finding is a
/// <see cref="Severity.Warning"/> naming the lines of both sides; see src/Lb/Config/Pair/README.md for the rules.
/// </summary>
public static class PairCheck
{
    public static IReadOnlyList<Diagnostic> Run(IReadOnlyList<PairSide> sides)
    {
        var findings = new List<Diagnostic>();
        foreach (var group in Match(sides))
        {
            for (var i = 0; i < group.Count; i++)
            {
                for (var j = i + 1; j < group.Count; j++)
                    CheckPair(group[i], group[j], findings);
            }
            CheckPriorities(group, findings);
        }
        return findings;
    }

    /// <summary>Groups of instances, at most one per side, that make one virtual router (side order, then instance order).</summary>
    internal static List<List<PairInstance>> Match(IReadOnlyList<PairSide> sides)
    {
        var groups = new List<List<PairInstance>>();
        foreach (var side in sides)
        {
            foreach (var x in side.Instances)
            {
                var open = groups.Where(g => g.All(m => m.Side != side)).ToList();
                var same = open.Where(g => g[0].Options.VirtualRouterId == x.Options.VirtualRouterId && g[0].Family == x.Family).ToList();
                var chosen = same.Count <= 1 ? same.FirstOrDefault()
                    : same.FirstOrDefault(g => g[0].Options.Interface == x.Options.Interface && g[0].Name == x.Name)
                      ?? same.FirstOrDefault(g => g[0].Options.Interface == x.Options.Interface)
                      ?? same.FirstOrDefault(g => g[0].Name == x.Name)
                      ?? same[0];
                // A typo in virtual_router_id: the instance of the same name on the other side, when nothing else took it.
                chosen ??= open.FirstOrDefault(g => g[0].Name == x.Name && g[0].Family == x.Family
                    && !sides.Where(s => s != side).Any(s => s.Instances.Any(o => o.Options.VirtualRouterId == x.Options.VirtualRouterId && o.Family == x.Family)));
                if (chosen is null)
                    groups.Add([x]);
                else
                    chosen.Add(x);
            }
        }
        return groups;
    }

    private static string Name(PairInstance a, PairInstance b) => a.Name == b.Name ? a.Name : $"{a.Name}/{b.Name}";

    private static void Add(List<Diagnostic> findings, PairInstance a, PairInstance b, string message) =>
        findings.Add(new Diagnostic(Severity.Warning, a.Node.Location, $"({Name(a, b)}) pair: {message}"));

    private static void CheckPair(PairInstance a, PairInstance b, List<Diagnostic> findings)
    {
        if (a.Options.VirtualRouterId != b.Options.VirtualRouterId)
        {
            Add(findings, a, b, $"virtual_router_id differs ({a.Where("virtual_router_id")} virtual_router_id {a.Options.VirtualRouterId}, "
                + $"{b.Where("virtual_router_id")} virtual_router_id {b.Options.VirtualRouterId}): each ignores the other's adverts and both become MASTER");
            return; // two virtual routers: nothing else to compare
        }

        if (a.IsUnicast != b.IsUnicast)
        {
            var (u, m) = a.IsUnicast ? (a, b) : (b, a);
            Add(findings, a, b, $"{u.Where("unicast_peer")} sends adverts by unicast (unicast_peer), {m.Side.Where(m.Node.Location)} by multicast (no unicast_peer): "
                + "each drops the other's adverts (\"Expected unicast packet but received multicast packet\", and the reverse) and both become MASTER");
        }
        else if (a.IsUnicast)
        {
            CheckPeers(a, b, findings);
            CheckPeers(b, a, findings);
        }

        if (a.Version != b.Version)
        {
            Add(findings, a, b, $"VRRP version differs ({VersionWhere(a)} {a.Version}, {VersionWhere(b)} {b.Version}): "
                + "each drops the other's adverts (\"wrong version\") and both become MASTER");
        }
        else if (a.Version == 2)
        {
            if (a.Options.AdvertInterval != b.Options.AdvertInterval)
            {
                Add(findings, a, b, $"advert_int differs ({a.Where("advert_int")} advert_int {Seconds(a.Options.AdvertInterval)}, {b.Where("advert_int")} advert_int {Seconds(b.Options.AdvertInterval)}): "
                    + "VRRPv2 drops adverts with another interval (\"advertisement interval mismatch\") and both become MASTER");
            }
            CheckAuthentication(a, b, findings);
        }

        CheckAddresses(a, b, "virtual_ipaddress", a.Options.VirtualIpAddresses, b.Options.VirtualIpAddresses, findings);
        CheckAddresses(a, b, "virtual_ipaddress_excluded", a.Options.VirtualIpAddressesExcluded, b.Options.VirtualIpAddressesExcluded, findings);
    }

    /// <summary>
    /// <paramref name="from"/>'s unicast_peer list must contain the address <paramref name="to"/> sends from. Only configured
    /// addresses are known: <c>unicast_src_ip</c> (or <c>mcast_src_ip</c>, the same setting in keepalived); when <paramref name="to"/>
    /// sets neither it sends from its interface's primary address, which no configuration says, and nothing is compared.
    /// </summary>
    private static void CheckPeers(PairInstance from, PairInstance to, List<Diagnostic> findings)
    {
        if (to.Source is not { } source || from.Options.UnicastPeers.Any(p => p.Address.Equals(source)))
            return;
        var keyword = to.Node.Last("unicast_src_ip") is not null ? "unicast_src_ip" : "mcast_src_ip";
        var peers = string.Join(' ', from.Options.UnicastPeers.Select(p => p.Address.ToString()));
        Add(findings, from, to, $"unicast_peer of {from.Side.Label} ({from.Where("unicast_peer")}: {peers}) does not contain {to.Side.Label}'s {keyword} {source} "
            + $"({to.Where(keyword)}): {from.Side.Label}'s adverts reach {to.Side.Label} only if {(from.Options.UnicastPeers.Count == 1 ? peers + " is" : "one of " + peers + " is")} "
            + "another address of that host");
    }

    private static string VersionWhere(PairInstance x)
    {
        if (x.Family == AddressFamily.InterNetworkV6 && x.Node.Last("version") is null)
            return $"{x.Side.Where(x.Node.Location)} IPv6, version";
        if (x.Node.Last("version") is { Location.IsKnown: true } own)
            return $"{x.Side.Where(own.Location)} version";
        if (x.Side.Global("vrrp_version") is { Location.IsKnown: true } global)
            return $"{x.Side.Where(global.Location)} vrrp_version";
        return $"{x.Side.Label} default version";
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>VRRPv2 compares auth_type, and for PASS the 8 bytes of auth_pass it sends (keepalived truncates longer ones).</summary>
    private static void CheckAuthentication(PairInstance a, PairInstance b, List<Diagnostic> findings)
    {
        var ta = a.Options.Authentication?.Type ?? VrrpAuthType.None;
        var tb = b.Options.Authentication?.Type ?? VrrpAuthType.None;
        if (ta != tb)
        {
            Add(findings, a, b, $"authentication differs ({AuthWhere(a)} {AuthName(ta)}, {AuthWhere(b)} {AuthName(tb)}): "
                + $"each drops the other's adverts (\"received a {(int)tb} auth, expecting {(int)ta}!\") and both become MASTER");
            return;
        }
        if (ta == VrrpAuthType.Pass && Sent(a.Options.Authentication!.Password) != Sent(b.Options.Authentication!.Password))
        {
            // The passwords themselves are not printed: findings go to logs and CI output.
            Add(findings, a, b, $"auth_pass differs ({AuthWhere(a, "auth_pass")}, {AuthWhere(b, "auth_pass")}; the first 8 characters are compared, as sent): "
                + "each drops the other's adverts (\"received an invalid passwd!\") and both become MASTER");
        }
    }

    private static string Sent(string password) => password.Length > 8 ? password[..8] : password;

    private static string AuthName(VrrpAuthType type) => type switch { VrrpAuthType.Pass => "auth_type PASS", VrrpAuthType.Ah => "auth_type AH", _ => "no authentication" };

    private static string AuthWhere(PairInstance x, string keyword = "auth_type")
    {
        var block = x.Node.Last("authentication");
        var at = block?.Last(keyword)?.Location ?? block?.Location ?? x.Node.Location;
        return x.Side.Where(at);
    }

    private static void CheckAddresses(PairInstance a, PairInstance b, string keyword, IReadOnlyList<VirtualAddress> av, IReadOnlyList<VirtualAddress> bv, List<Diagnostic> findings)
    {
        var sa = av.Select(Text).ToHashSet(StringComparer.Ordinal);
        var sb = bv.Select(Text).ToHashSet(StringComparer.Ordinal);
        if (sa.SetEquals(sb))
            return;
        var onlyA = av.Select(Text).Where(t => !sb.Contains(t)).Distinct().ToList();
        var onlyB = bv.Select(Text).Where(t => !sa.Contains(t)).Distinct().ToList();
        var parts = new List<string>();
        if (onlyA.Count > 0)
            parts.Add($"only on {a.Side.Label}: {string.Join(' ', onlyA)}");
        if (onlyB.Count > 0)
            parts.Add($"only on {b.Side.Label}: {string.Join(' ', onlyB)}");
        var consequence = keyword == "virtual_ipaddress" && sa.Count != sb.Count
            ? "a failover moves other addresses, and each rejects the other's adverts (\"received an unexpected ip number count\") unless vrrp_skip_check_adv_addr"
            : "a failover moves other addresses";
        Add(findings, a, b, $"{keyword} differs ({a.Where(keyword)}, {b.Where(keyword)}): {string.Join("; ", parts)}: {consequence}");
    }

    private static string Text(VirtualAddress v)
    {
        var full = v.Address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        return $"{v.Address}/{(v.PrefixLength < 0 ? full : v.PrefixLength)}";
    }

    /// <summary>
    /// The director with the highest priority holds the VIP; a weighted tracker moves it only when its swing (|weight|) takes
    /// that priority below the runner-up's: |gap| &lt; |weight|. Priorities are compared with every weighted tracker in the
    /// state that raises it (a positive weight passing adds it on both sides), as keepalived computes them, in [1, 254].
    /// </summary>
    private static void CheckPriorities(List<PairInstance> group, List<Diagnostic> findings)
    {
        var members = group.Where(x => x.Options.VirtualRouterId == group[0].Options.VirtualRouterId).ToList();
        if (members.Count < 2)
            return;
        var ordered = members.OrderByDescending(x => x.HighPriority).ToList();
        var (master, backup) = (ordered[0], ordered[1]);
        if (master.HighPriority == backup.HighPriority)
        {
            var (a, b) = members.IndexOf(master) < members.IndexOf(backup) ? (master, backup) : (backup, master);
            var owners = a.HighPriority == 255 ? " (both address owners)" : string.Empty;
            Add(findings, a, b, $"equal priorities {a.HighPriority}{owners} ({PriorityText(a)}, {PriorityText(b)}): a tie, "
                + "the VIP goes to whichever director starts first, and to the higher IP address when both are MASTER at once");
            return;
        }
        if (master.Trackers.Count == 0)
            return;
        if (!backup.Options.Preempt && backup.Options.InitialState != VrrpInitialState.Master && backup.Options.Priority < 255)
        {
            var t = master.Trackers[0];
            Add(findings, master, backup, $"{backup.Where("nopreempt")} nopreempt: the backup never takes over from a MASTER that still advertises, "
                + $"so no weight moves the VIP ({t.Kind} {t.Name} weight {t.Weight}, {master.Side.Where(t.Location)}{(master.Trackers.Count > 1 ? ", …" : string.Empty)}); only a fault or the MASTER stopping does");
            return;
        }
        var gap = master.HighPriority - backup.HighPriority;
        foreach (var t in master.Trackers)
        {
            var swing = Math.Abs(t.Weight);
            var lowered = Math.Clamp(master.HighPriorityUnclamped - swing, 1, 254);
            if (lowered < backup.HighPriority)
                continue;
            var how = lowered == backup.HighPriority ? $"{lowered} = {backup.HighPriority}: equal priorities do not move it" : $"{lowered} > {backup.HighPriority}";
            Add(findings, master, backup, $"priority gap {gap} ({PriorityText(master)}, {PriorityText(backup)}) >= weight {t.Weight}{(t.Reverse ? " reverse" : string.Empty)} "
                + $"of {t.Kind} {t.Name} ({master.Side.Where(t.Location)}): {Event(t)} never moves the VIP ({how})");
        }
    }

    private static string PriorityText(PairInstance x)
    {
        var raised = x.HighPriority - x.Options.Priority;
        return $"{x.Where("priority")} priority {x.Options.Priority}{(raised != 0 ? $" + {raised} from passing trackers" : string.Empty)}";
    }

    private static string Event(PairTracker t) => (t.Kind, t.Reverse) switch
    {
        ("track_interface", false) => $"{t.Name} going down",
        ("track_interface", true) => $"{t.Name} coming up",
        (_, false) => $"a failing {t.Name}",
        (_, true) => $"a passing {t.Name}",
    };
}
