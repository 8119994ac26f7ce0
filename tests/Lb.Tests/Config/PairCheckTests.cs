using Lb.Config;
using Lb.Config.Pair;
using Xunit;

namespace Lb.Lb.Tests.Config;

/// <summary>
/// Issue 12 item 6: the pair check of two directors' configurations (<c>lb -t -f a.conf --peer b.conf</c>, and the
/// directors one file names with <c>@ID</c> lines). Each finding is asserted with its text and both files' lines; a
/// correct pair gives none.
/// </summary>
public sealed class PairCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-pair-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Line numbers of the template (1-based), used in the expected messages.
    private const int InstanceLine = 9, VridLine = 12, PriorityLine = 13, AdvertLine = 14, AuthTypeLine = 16, AuthPassLine = 17, VipLine = 19;

    /// <summary>A director: chk_nginx lowers a failing node by 50; VI_1 on eth0, VRID 51, VRRPv2 with PASS auth.</summary>
    private static string Director(int priority, string state = "BACKUP") => $$"""
        global_defs {
            router_id test
        }
        vrrp_script chk_nginx {
            script "/bin/true"
            weight -50
        }

        vrrp_instance VI_1 {
            state {{state}}
            interface eth0
            virtual_router_id 51
            priority {{priority}}
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass secret12
            }
            virtual_ipaddress {
                10.0.0.100/24
            }
            track_script {
                chk_nginx
            }
        }

        """;

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private List<string> Pair(string a, string b)
    {
        var options = new ConfigLoadOptions { Preprocessor = new PreprocessorOptions { ConfigId = "main" } };
        var sa = new PairSide("a.conf", ConfigLoader.Load(Write("a.conf", a), options), false);
        var sb = new PairSide("b.conf", ConfigLoader.Load(Write("b.conf", b), options), false);
        // Positions carry the path as given (keepalived's form): expectations name the file alone.
        return PairCheck.Run([sa, sb]).Select(d => d.ToString().Replace(_dir + "/", string.Empty, StringComparison.Ordinal)).ToList();
    }

    private static string Swap(string text, string from, string to)
    {
        Assert.Contains(from, text, StringComparison.Ordinal);
        return text.Replace(from, to, StringComparison.Ordinal);
    }

    [Fact]
    public void A_correct_pair_has_no_finding()
    {
        // Gap 40 < |weight| 50: a failing chk_nginx takes the MASTER to 100 < 110, the VIP moves.
        Assert.Empty(Pair(Director(150, "MASTER"), Director(110)));
    }

    [Fact]
    public void Priority_gap_at_least_the_weight_never_moves_the_VIP()
    {
        var findings = Pair(Director(150, "MASTER"), Director(90));
        Assert.Equal(
            $"(a.conf: Line {InstanceLine}) (VI_1) pair: priority gap 60 (a.conf: Line {PriorityLine} priority 150, b.conf: Line {PriorityLine} priority 90) >= weight -50 "
            + "of track_script chk_nginx (a.conf: Line 6): a failing chk_nginx never moves the VIP (100 > 90)",
            Assert.Single(findings));
    }

    [Fact]
    public void Priority_gap_equal_to_the_weight_only_ties_which_does_not_move_the_VIP()
    {
        var finding = Assert.Single(Pair(Director(150, "MASTER"), Director(100)));
        Assert.EndsWith("a failing chk_nginx never moves the VIP (100 = 100: equal priorities do not move it)", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void The_MASTER_side_is_the_higher_priority_whichever_file_it_is_in()
    {
        // b.conf holds the higher priority: its tracker and its lines come first.
        var finding = Assert.Single(Pair(Director(90), Director(150, "MASTER")));
        Assert.StartsWith($"(b.conf: Line {InstanceLine}) (VI_1) pair: priority gap 60 (b.conf: Line {PriorityLine} priority 150, a.conf: Line {PriorityLine} priority 90)", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void A_weight_set_on_the_tracking_entry_overrides_the_scripts_and_is_located_there()
    {
        var a = Swap(Director(150, "MASTER"), "        chk_nginx\n", "        chk_nginx weight -10\n");
        var finding = Assert.Single(Pair(a, Director(110)));
        Assert.Contains("priority gap 40 (a.conf: Line 13 priority 150, b.conf: Line 13 priority 110) >= weight -10 of track_script chk_nginx (a.conf: Line 23)", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void A_positive_weight_counts_when_only_the_MASTER_tracks_it_and_cancels_when_both_do()
    {
        var up = (string d) => Swap(d, "weight -50", "weight 30");
        // Both track chk_nginx +30: 180 vs 140, a failing check takes the MASTER to 150 > 140... gap 40 >= 30.
        var both = Assert.Single(Pair(up(Director(150, "MASTER")), up(Director(110))));
        Assert.Contains("priority gap 40 (a.conf: Line 13 priority 150 + 30 from passing trackers, b.conf: Line 13 priority 110 + 30 from passing trackers) >= weight 30", both, StringComparison.Ordinal);
        // Both track it and the gap is 20 < 30: it moves.
        Assert.Empty(Pair(up(Director(150, "MASTER")), up(Director(130))));
        // Only the MASTER tracks it: healthy it is at 180, failing at 150 > 130: never moves although 20 < 30.
        var onlyMaster = Assert.Single(Pair(up(Director(150, "MASTER")), Swap(up(Director(130)), "    track_script {\n        chk_nginx\n    }\n", "")));
        Assert.Contains("priority gap 50 (a.conf: Line 13 priority 150 + 30 from passing trackers, b.conf: Line 13 priority 130) >= weight 30 of track_script chk_nginx", onlyMaster, StringComparison.Ordinal);
        Assert.EndsWith("a failing chk_nginx never moves the VIP (150 > 130)", onlyMaster, StringComparison.Ordinal);
    }

    [Fact]
    public void Weight_zero_faults_the_instance_which_always_moves_it()
    {
        var zero = (string d) => Swap(d, "weight -50", "weight 0");
        Assert.Empty(Pair(zero(Director(150, "MASTER")), zero(Director(90))));
    }

    [Fact]
    public void A_weighted_track_interface_is_checked_too()
    {
        var a = Swap(Director(200, "MASTER"), "    track_script {", "    track_interface {\n        eth1 weight -20\n    }\n    track_script {");
        var findings = Pair(a, Director(160));
        Assert.Contains(findings, f => f.Contains("priority gap 40 (a.conf: Line 13 priority 200, b.conf: Line 13 priority 160) >= weight -20 of track_interface eth1 (a.conf: Line 23): eth1 going down never moves the VIP (180 > 160)", StringComparison.Ordinal));
    }

    [Fact]
    public void Trackers_of_a_sync_group_member_without_tracking_weight_are_not_weights()
    {
        // keepalived drops weighted trackers of a sync group member ("ignoring tracked script ... due to SYNC group").
        const string Group = "vrrp_sync_group G {\n    group {\n        VI_1\n    }\n}\n";
        Assert.Empty(Pair(Director(150, "MASTER") + Group, Director(90) + Group));
        var weighted = Group.Replace("    }\n}", "    }\n    sync_group_tracking_weight\n}", StringComparison.Ordinal);
        Assert.Single(Pair(Director(150, "MASTER") + weighted, Director(90) + weighted));
    }

    [Fact]
    public void Equal_priorities_are_reported_as_a_tie()
    {
        var finding = Assert.Single(Pair(Director(100), Director(100)));
        Assert.Equal($"(a.conf: Line {InstanceLine}) (VI_1) pair: equal priorities 100 (a.conf: Line {PriorityLine} priority 100, b.conf: Line {PriorityLine} priority 100): a tie, "
            + "the VIP goes to whichever director starts first, and to the higher IP address when both are MASTER at once", finding);
    }

    [Fact]
    public void Two_MASTERs_without_priority_are_both_address_owners()
    {
        var noPriority = (string d) => Swap(d, "    priority 100\n", "");
        var finding = Assert.Single(Pair(noPriority(Director(100, "MASTER")), noPriority(Director(100, "MASTER"))));
        Assert.Contains("equal priorities 255 (both address owners) (a.conf: Line 9 priority 255, b.conf: Line 9 priority 255)", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void Nopreempt_on_the_backup_means_no_weight_moves_the_VIP()
    {
        var b = Swap(Director(90), "    advert_int 1\n", "    advert_int 1\n    nopreempt\n");
        var finding = Assert.Single(Pair(Director(150, "MASTER"), b));
        Assert.Equal($"(a.conf: Line {InstanceLine}) (VI_1) pair: b.conf: Line 15 nopreempt: the backup never takes over from a MASTER that still advertises, "
            + "so no weight moves the VIP (track_script chk_nginx weight -50, a.conf: Line 6); only a fault or the MASTER stopping does", finding);
        // Without weighted trackers there is nothing nopreempt defeats.
        Assert.Empty(Pair(Swap(Director(150, "MASTER"), "weight -50", "weight 0"), Swap(b, "weight -50", "weight 0")));
    }

    [Fact]
    public void Different_advert_int_is_reported_for_VRRPv2_only()
    {
        var slow = Swap(Director(110), "advert_int 1", "advert_int 3");
        Assert.Equal($"(a.conf: Line {InstanceLine}) (VI_1) pair: advert_int differs (a.conf: Line {AdvertLine} advert_int 1, b.conf: Line {AdvertLine} advert_int 3): "
            + "VRRPv2 drops adverts with another interval (\"advertisement interval mismatch\") and both become MASTER", Assert.Single(Pair(Director(150, "MASTER"), slow)));
        // VRRPv3: the backup takes the master's interval (RFC 5798); authentication is not used either.
        var v3 = (string d) => Swap(d, "    router_id test\n", "    router_id test\n    vrrp_version 3\n");
        Assert.Empty(Pair(v3(Director(150, "MASTER")), v3(Swap(slow, "auth_pass secret12", "auth_pass other"))));
    }

    [Fact]
    public void Different_version_is_reported_with_where_each_comes_from()
    {
        var v3 = Swap(Director(110), "    router_id test\n", "    router_id test\n    vrrp_version 3\n");
        var findings = Pair(Director(150, "MASTER"), v3);
        Assert.Equal($"(a.conf: Line {InstanceLine}) (VI_1) pair: VRRP version differs (a.conf default version 2, b.conf: Line 3 vrrp_version 3): "
            + "each drops the other's adverts (\"wrong version\") and both become MASTER", Assert.Single(findings));
        var own = Swap(Director(110), "    advert_int 1\n", "    advert_int 1\n    version 3\n");
        Assert.Contains("b.conf: Line 15 version 3", Assert.Single(Pair(Director(150, "MASTER"), own)), StringComparison.Ordinal);
    }

    [Fact]
    public void Different_authentication_is_reported_without_printing_passwords()
    {
        var other = Swap(Director(110), "auth_pass secret12", "auth_pass secret99");
        var finding = Assert.Single(Pair(Director(150, "MASTER"), other));
        Assert.Equal($"(a.conf: Line {InstanceLine}) (VI_1) pair: auth_pass differs (a.conf: Line {AuthPassLine}, b.conf: Line {AuthPassLine}; the first 8 characters are compared, as sent): "
            + "each drops the other's adverts (\"received an invalid passwd!\") and both become MASTER", finding);
        Assert.DoesNotContain("secret", finding, StringComparison.Ordinal);
        // keepalived sends 8 characters: passwords equal on those are the same on the wire.
        Assert.Empty(Pair(Director(150, "MASTER"), Swap(Director(110), "auth_pass secret12", "auth_pass secret12-longer")));
        var none = Swap(Director(110), "    authentication {\n        auth_type PASS\n        auth_pass secret12\n    }\n", "");
        Assert.Equal($"(a.conf: Line {InstanceLine}) (VI_1) pair: authentication differs (a.conf: Line {AuthTypeLine} auth_type PASS, b.conf: Line {InstanceLine} no authentication): "
            + "each drops the other's adverts (\"received a 0 auth, expecting 1!\") and both become MASTER", Assert.Single(Pair(Director(150, "MASTER"), none)));
    }

    [Fact]
    public void Different_virtual_addresses_are_listed_per_side()
    {
        var b = Swap(Director(110), "        10.0.0.100/24\n", "        10.0.0.100/24\n        10.0.0.101/24\n");
        Assert.Equal($"(a.conf: Line {InstanceLine}) (VI_1) pair: virtual_ipaddress differs (a.conf: Line {VipLine}, b.conf: Line {VipLine}): only on b.conf: 10.0.0.101/24: "
            + "a failover moves other addresses, and each rejects the other's adverts (\"received an unexpected ip number count\") unless vrrp_skip_check_adv_addr",
            Assert.Single(Pair(Director(150, "MASTER"), b)));
        var excluded = Swap(Director(110), "    track_script {", "    virtual_ipaddress_excluded {\n        192.168.5.1/24\n    }\n    track_script {");
        Assert.Equal($"(a.conf: Line {InstanceLine}) (VI_1) pair: virtual_ipaddress_excluded differs (a.conf: Line {InstanceLine}, b.conf: Line 22): only on b.conf: 192.168.5.1/24: a failover moves other addresses",
            Assert.Single(Pair(Director(150, "MASTER"), excluded)));
        // The same addresses in another order, and /32 written or implied, are the same list.
        var reordered = (string d) => Swap(d, "        10.0.0.100/24\n", "        10.0.0.101\n        10.0.0.100/24\n");
        Assert.Empty(Pair(reordered(Director(150, "MASTER")), Swap(Director(110), "        10.0.0.100/24\n", "        10.0.0.100/24\n        10.0.0.101/32\n")));
    }

    private static string Unicast(string d, string source, params string[] peers) =>
        Swap(d, "    advert_int 1\n", $"    advert_int 1\n    unicast_src_ip {source}\n    unicast_peer {{\n{string.Concat(peers.Select(p => $"        {p}\n"))}    }}\n");

    [Fact]
    public void Unicast_peers_must_point_at_each_other()
    {
        Assert.Empty(Pair(Unicast(Director(150, "MASTER"), "192.168.1.1", "192.168.1.2"), Unicast(Director(110), "192.168.1.2", "192.168.1.1")));
        var findings = Pair(Unicast(Director(150, "MASTER"), "192.168.1.1", "192.168.1.3"), Unicast(Director(110), "192.168.1.2", "192.168.1.1"));
        Assert.Equal($"(a.conf: Line {InstanceLine}) (VI_1) pair: unicast_peer of a.conf (a.conf: Line 16: 192.168.1.3) does not contain b.conf's unicast_src_ip 192.168.1.2 (b.conf: Line 15): "
            + "a.conf's adverts reach b.conf only if 192.168.1.3 is another address of that host", Assert.Single(findings));
        // Without unicast_src_ip a side sends from its interface's primary address, which no configuration says: not compared.
        Assert.Empty(Pair(Unicast(Director(150, "MASTER"), "192.168.1.1", "192.168.1.3"), Swap(Unicast(Director(110), "192.168.1.2", "192.168.1.1"), "    unicast_src_ip 192.168.1.2\n", "")));
    }

    [Fact]
    public void Unicast_on_one_side_and_multicast_on_the_other_is_reported()
    {
        var finding = Assert.Single(Pair(Director(150, "MASTER"), Unicast(Director(110), "192.168.1.2", "192.168.1.1")));
        Assert.Equal($"(a.conf: Line {InstanceLine}) (VI_1) pair: b.conf: Line 16 sends adverts by unicast (unicast_peer), a.conf: Line {InstanceLine} by multicast (no unicast_peer): "
            + "each drops the other's adverts (\"Expected unicast packet but received multicast packet\", and the reverse) and both become MASTER", finding);
    }

    [Fact]
    public void Instances_of_the_same_name_with_another_virtual_router_id_are_reported()
    {
        var finding = Assert.Single(Pair(Director(150, "MASTER"), Swap(Director(110), "virtual_router_id 51", "virtual_router_id 52")));
        Assert.Equal($"(a.conf: Line {InstanceLine}) (VI_1) pair: virtual_router_id differs (a.conf: Line {VridLine} virtual_router_id 51, b.conf: Line {VridLine} virtual_router_id 52): "
            + "each ignores the other's adverts and both become MASTER", finding);
    }

    [Fact]
    public void Instances_are_matched_by_virtual_router_id_whatever_their_names()
    {
        // VI_1 on one director is "web" on the other: same VRID and family, one virtual router; the gap is checked.
        var finding = Assert.Single(Pair(Director(150, "MASTER"), Swap(Director(90), "vrrp_instance VI_1", "vrrp_instance web")));
        Assert.StartsWith($"(a.conf: Line {InstanceLine}) (VI_1/web) pair: priority gap 60", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void The_preprocessor_reports_every_config_id_it_meets()
    {
        Write("inc.conf", "@deep x 1\n");
        var path = Write("k.conf", "@lb1 a 1\n@^lb2 b 2\nc 3\n@lb1 include inc.conf\n");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        ConfigLoader.Load(path, new ConfigLoadOptions { Preprocessor = new PreprocessorOptions { ConfigId = "other", SeenConfigIds = seen } });
        Assert.Equal(["lb1", "lb2"], seen.Order(StringComparer.Ordinal));
        // "deep" is behind "@lb1 include": only the lb1 load reaches it.
        ConfigLoader.Load(path, new ConfigLoadOptions { Preprocessor = new PreprocessorOptions { ConfigId = "lb1", SeenConfigIds = seen } });
        Assert.Equal(["deep", "lb1", "lb2"], seen.Order(StringComparer.Ordinal));
    }
}
