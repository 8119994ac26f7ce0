using System.Net;
using Lb.Config;
using Lb.Config.Mapping;
using Lb.Vrrp.Options;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// keepalived 2.2.7's verdict on a vrrp_instance once read (vrrp_complete_instance, vrrp_sync_set_group): its message, a
/// configuration error (<c>-t</c> exits 5), and the correction keepalived makes — asserted on the options the VRRP
/// subsystem receives, so what Lb runs is what keepalived would run. The messages and exit codes were checked against the
/// real keepalived (Corpus/errors/vrrp-*.conf, compared by <see cref="KeepalivedOracleTests"/>).
/// </summary>
public sealed class VrrpInstanceVerdictTests
{
    private static (LoadedConfig Loaded, VrrpSubsystemOptions Vrrp) Load(string text)
    {
        var loaded = ConfigLoader.LoadText(text, "verdict.conf");
        return (loaded, loaded.Options.Vrrp);
    }

    private static string Instance(string body, string name = "VI_1", string vips = "10.0.0.1", int vrid = 51, string iface = "eth0") => $$"""
        vrrp_instance {{name}} {
          interface {{iface}}
          virtual_router_id {{vrid}}
          {{body.Replace("\n", "\n  ", StringComparison.Ordinal)}}
          virtual_ipaddress {
            {{vips.Replace(" ", "\n    ", StringComparison.Ordinal)}}
          }
        }

        """;

    private static void AssertError(LoadedConfig loaded, string message)
    {
        Assert.Contains(loaded.Diagnostics, d => d.Severity == Severity.Error && d.Message == message);
        Assert.Equal(5, loaded.ExitCode);
    }

    [Fact]
    public void State_master_clears_nopreempt_and_preempt_delay()
    {
        var (loaded, vrrp) = Load(Instance("state MASTER\npriority 150\nnopreempt\npreempt_delay 10"));

        AssertError(loaded, "(VI_1) Warning - nopreempt will not work with initial state MASTER - clearing");
        AssertError(loaded, "(VI_1) Warning - preempt delay will not work with initial state MASTER - clearing");
        var vi = Assert.Single(vrrp.Instances);
        Assert.Equal(VrrpInitialState.Master, vi.InitialState);
        Assert.True(vi.Preempt);
        Assert.Equal(TimeSpan.Zero, vi.PreemptDelay);
    }

    [Fact]
    public void Nopreempt_on_a_backup_is_kept_and_the_last_of_preempt_and_nopreempt_wins()
    {
        var (loaded, vrrp) = Load(Instance("state BACKUP\nnopreempt", "VI_1") + Instance("state BACKUP\nnopreempt\npreempt", "VI_2", "10.0.0.2", 52));

        Assert.Equal(0, loaded.ExitCode);
        Assert.False(vrrp.Instances[0].Preempt);
        Assert.True(vrrp.Instances[1].Preempt);
    }

    [Fact]
    public void An_address_owner_without_state_starts_as_master()
    {
        var (loaded, vrrp) = Load(Instance("priority 255"));

        Assert.Equal(0, loaded.ExitCode);
        Assert.Equal(VrrpInitialState.Master, Assert.Single(vrrp.Instances).InitialState);
    }

    [Fact]
    public void The_own_interface_is_not_tracked()
    {
        var (loaded, vrrp) = Load(Instance("track_interface {\n  eth0\n  eth1\n}"));

        AssertError(loaded, "(VI_1) Ignoring track_interface eth0 since own interface");
        Assert.Equal([new TrackedInterface("eth1")], Assert.Single(vrrp.Instances).TrackInterfaces);
    }

    [Theory]
    [InlineData("", "fe80::1 2001:db8::1", "PASS", "(VI_1) VRRP version 3 does not support authentication. Ignoring.")]
    [InlineData("version 3", "10.0.0.1", "PASS", "(VI_1) VRRP version 3 does not support authentication. Ignoring.")]
    [InlineData("strict_mode", "10.0.0.1", "PASS", "(VI_1) Strict mode does not support authentication. Ignoring.")]
    [InlineData("version 2", "fe80::1", "AH", "(VI_1) Cannot use AH authentication with IPv6. ignoring")]
    public void Authentication_keepalived_cannot_use_is_ignored(string body, string vips, string type, string message)
    {
        var (loaded, vrrp) = Load(Instance($"{body}\nauthentication {{\n  auth_type {type}\n  auth_pass secret\n}}", vips: vips));

        AssertError(loaded, message);
        Assert.Null(Assert.Single(vrrp.Instances).Authentication);
    }

    [Fact]
    public void Authentication_without_a_password_is_ignored()
    {
        var (loaded, vrrp) = Load(Instance("authentication {\n  auth_type PASS\n}"));

        AssertError(loaded, "(VI_1) Authentication specified but no password given. Ignoring");
        Assert.Null(Assert.Single(vrrp.Instances).Authentication);
    }

    [Theory]
    [InlineData("state MASTER\npriority 150", true)]
    [InlineData("state MASTER", false)]
    [InlineData("state BACKUP\npriority 150", false)]
    public void AH_with_state_master_below_the_owner_starts_as_backup(string body, bool cleared)
    {
        var (loaded, vrrp) = Load(Instance($"{body}\nauthentication {{\n  auth_type AH\n  auth_pass secret\n}}"));

        var vi = Assert.Single(vrrp.Instances);
        Assert.Equal(VrrpAuthType.Ah, vi.Authentication!.Type);
        if (cleared)
        {
            AssertError(loaded, "(VI_1) Initial state master is incompatible with AH authentication - clearing");
            Assert.Equal(VrrpInitialState.Backup, vi.InitialState);
        }
        else
        {
            Assert.Equal(0, loaded.ExitCode);
            Assert.Equal(body.StartsWith("state MASTER", StringComparison.Ordinal) ? VrrpInitialState.Master : VrrpInitialState.Backup, vi.InitialState);
        }
    }

    [Theory]
    [InlineData("state MASTER\npriority 150", VrrpInitialState.Backup)]
    [InlineData("state BACKUP\npriority 255", VrrpInitialState.Master)]
    public void Under_vrrp_strict_only_the_address_owner_starts_as_master(string body, VrrpInitialState expected)
    {
        var (loaded, vrrp) = Load("global_defs {\n  vrrp_strict\n}\n" + Instance(body));

        AssertError(loaded, "(VI_1) State MASTER must match being address owner");
        Assert.Equal(expected, Assert.Single(vrrp.Instances).InitialState);
    }

    [Fact]
    public void Vrrp_strict_resets_what_the_RFC_forbids()
    {
        var (loaded, vrrp) = Load("global_defs {\n  vrrp_strict\n}\n" + Instance(
            "version 2\npreempt_delay 5\ndown_timer_adverts 5\naccept\ngarp_lower_prio_repeat 2\ngarp_lower_prio_delay 3\nlower_prio_no_advert false\nhigher_prio_send_advert"));

        foreach (var message in new[]
        {
            "(VI_1) preempt_delay is incompatible with strict mode - resetting",
            "(VI_1) down_timer_adverts is incompatible with strict mode - resetting",
            "(VI_1) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting",
            "(VI_1) Strict mode requires no repeat garps. resetting",
            "(VI_1) Strict mode requires no repeat garp delay. resetting",
            "(VI_1) Strict mode requires no lower priority advert. resetting",
            "(VI_1) strict mode requires higher_prio_send_advert to be clear. resetting",
        })
        {
            AssertError(loaded, message);
        }
        var vi = Assert.Single(vrrp.Instances);
        Assert.Equal(TimeSpan.Zero, vi.PreemptDelay);
        Assert.Null(vi.DownTimerAdverts);
        Assert.False(vi.Accept);
        Assert.Equal(0, vi.GarpLowerPrioRepeat);
        Assert.Equal(TimeSpan.Zero, vi.GarpLowerPrioDelay);
        Assert.True(vi.LowerPrioNoAdvert);
        Assert.False(vi.HigherPrioSendAdvert);
    }

    [Fact]
    public void Vrrp_strict_with_ipv6_needs_a_link_local_first_vip_and_vrrpv3()
    {
        var (loaded, vrrp) = Load("global_defs {\n  vrrp_strict\n}\n" + Instance("", vips: "2001:db8::1") + Instance("version 2", "VI_2", "fe80::1", 52, "eth1"));

        AssertError(loaded, "(VI_1) the first IPv6 VIP address must be link local");
        AssertError(loaded, "(VI_2) cannot use IPv6 with VRRP version 2; setting version 3");
        Assert.Equal(3, vrrp.Instances[1].Version);
    }

    [Theory]
    [InlineData("global_defs {\n  vrrp_strict\n}\n", "", "required")]
    [InlineData("", "version 3", "required")]
    [InlineData("", "", "sensible")]
    public void An_instance_without_a_vip(string global, string body, string word)
    {
        var loaded = ConfigLoader.LoadText(global + $"vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  {body}\n}}\n", "verdict.conf");

        AssertError(loaded, $"(VI_1) No VIP specified; at least one is {word}");
    }

    [Fact]
    public void Native_ipv6_after_ipv4_vips_is_refused_and_before_them_drops_them()
    {
        var (loaded, vrrp) = Load(Instance("", vips: "10.0.0.1") + """
            vrrp_instance VI_2 {
              interface eth1
              native_ipv6
              virtual_router_id 52
              virtual_ipaddress {
                10.0.0.2
              }
            }
            vrrp_instance VI_3 {
              interface eth2
              virtual_router_id 53
              virtual_ipaddress {
                10.0.0.3
              }
              native_ipv6
            }
            """);

        AssertError(loaded, "(VI_3) Cannot specify native_ipv6 with IPv4 addresses");
        AssertError(loaded, "(VI_2): address family must match VRRP instance [10.0.0.2] - ignoring");
        AssertError(loaded, "(VI_2) No VIP specified; at least one is required");
        Assert.True(vrrp.Instances[1].NativeIpv6);
        Assert.Empty(vrrp.Instances[1].VirtualIpAddresses);
        Assert.False(vrrp.Instances[2].NativeIpv6);
        Assert.Single(vrrp.Instances[2].VirtualIpAddresses);
    }

    [Fact]
    public void Addresses_of_the_other_family_are_dropped()
    {
        var (loaded, vrrp) = Load(Instance("unicast_src_ip 10.0.0.5\nunicast_peer {\n  10.0.0.6\n  2001:db8::6\n}", vips: "10.0.0.1 2001:db8::1"));

        AssertError(loaded, "Configuration error: VRRP instance[VI_1] and unicast peer address[2001:db8::6] MUST be of the same family !!! Skipping...");
        AssertError(loaded, "(VI_1): address family must match VRRP instance [2001:db8::1] - ignoring");
        var vi = Assert.Single(vrrp.Instances);
        Assert.Equal([IPAddress.Parse("10.0.0.6")], vi.UnicastPeers.Select(p => p.Address));
        Assert.Equal([IPAddress.Parse("10.0.0.1")], vi.VirtualIpAddresses.Select(v => v.Address));
    }

    [Fact]
    public void A_backup_state_or_version_after_the_first_is_ignored()
    {
        var (loaded, vrrp) = Load(Instance("state MASTER\npriority 150\nversion 3\nstate BACKUP\nversion 2"));

        AssertError(loaded, "(VI_1) state previously set as MASTER - ignoring BACKUP");
        AssertError(loaded, "(VI_1) vrrp_version 2 conflicts with configured or deduced version 3; ignoring.");
        var vi = Assert.Single(vrrp.Instances);
        Assert.Equal(VrrpInitialState.Master, vi.InitialState);
        Assert.Equal(3, vi.Version);
    }

    [Fact]
    public void Unicast_settings_without_peers_and_multicast_with_peers_are_reset()
    {
        var (loaded, vrrp) = Load(Instance("unicast_src_ip 10.0.0.5\nunicast_peer {\n}\nunicast_ttl 5") + Instance("unicast_peer {\n  10.0.0.9\n}\nmcast_dst_ip 224.0.0.19", "VI_2", "10.0.0.2", 52, "eth1"));

        AssertError(loaded, "(VI_1): Cannot use unicast_ttl without unicast peers - resetting");
        AssertError(loaded, "(VI_1) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.");
        AssertError(loaded, "(VI_2) multicast destination specified with unicast - ignoring");
        Assert.Equal(255, vrrp.Instances[0].UnicastTtl);
        Assert.Null(vrrp.Instances[1].McastDstIp);
    }

    [Theory]
    [InlineData("advert_int 1.5", "(VI_1) VRRPv2 advertisement interval 1.500000s must be an integer. rounding", 2000)]
    [InlineData("advert_int 0.4", "(VI_1) VRRPv2 advertisement interval 0.400000s must be an integer. rounding", 1000)]
    [InlineData("version 3\nadvert_int 0.015", "(VI_1) VRRPv3 advertisement interval 0.015000s must be in units of 10ms - rounding", 20)]
    public void An_advert_interval_the_version_cannot_carry_is_rounded(string body, string message, int milliseconds)
    {
        var (loaded, vrrp) = Load(Instance(body));

        AssertError(loaded, message);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), Assert.Single(vrrp.Instances).AdvertInterval);
    }

    [Fact]
    public void Vips_beyond_what_an_advert_carries_become_excluded_vips()
    {
        var vips = string.Join(' ', Enumerable.Range(0, 300).Select(k => $"10.1.{k / 256}.{k % 256}"));
        var (loaded, vrrp) = Load(Instance("", vips: vips));

        AssertError(loaded, "(VI_1) Number of VIPs (300) exceeds maximum/space available in packet (max 255 addresses) - excess moved to eVIPs");
        var vi = Assert.Single(vrrp.Instances);
        Assert.Equal(255, vi.VirtualIpAddresses.Count);
        Assert.Equal(45, vi.VirtualIpAddressesExcluded.Count);
        Assert.Equal(IPAddress.Parse("10.1.0.255"), vi.VirtualIpAddressesExcluded[0].Address);
    }

    [Fact]
    public void Sync_groups_keep_existing_members_once_and_lose_weights()
    {
        var (loaded, vrrp) = Load("""
            global_defs {
              enable_script_security
              script_user root
            }
            vrrp_script chk {
              script "/bin/true"
              weight 10
            }
            vrrp_sync_group VG_1 {
              group {
                VI_1
                VI_2
              }
            }
            vrrp_sync_group VG_2 {
              group {
                VI_2
                VI_9
              }
            }
            vrrp_sync_group VG_3 {
            }
            """ + "\n" + Instance("track_interface {\n  eth2 weight 10\n  eth3\n}\ntrack_script {\n  chk\n}") + Instance("", "VI_2", "10.0.0.2", 52, "eth1"));

        AssertError(loaded, "Virtual router VI_2 cannot exist in more than one sync group; ignoring VG_2");
        AssertError(loaded, "Virtual router VI_9 specified in sync group VG_2 doesn't exist - ignoring");
        AssertError(loaded, "Sync group VG_2, no matching virtual router found in group declaration - removing");
        AssertError(loaded, "Sync group VG_3 has no virtual router(s). removing");
        AssertError(loaded, "(VI_1) ignoring eth2 tracked interface weight due to SYNC group");
        AssertError(loaded, "(VI_1) ignoring tracked script chk with weights due to SYNC group");
        var group = Assert.Single(vrrp.SyncGroups);
        Assert.Equal(["VI_1", "VI_2"], group.Members);
        Assert.Equal([new TrackedInterface("eth2", 0), new TrackedInterface("eth3")], vrrp.Instances[0].TrackInterfaces);
        Assert.Empty(vrrp.Instances[0].TrackScripts);
    }

    [Fact]
    public void A_sync_group_of_one_is_reported_and_kept()
    {
        var (loaded, vrrp) = Load("vrrp_sync_group VG_1 {\n  group {\n    VI_1\n  }\n}\n" + Instance(""));

        AssertError(loaded, "Sync group VG_1 has only 1 virtual router(s) - this probably isn't what you want");
        Assert.Equal(["VI_1"], Assert.Single(vrrp.SyncGroups).Members);
    }

    [Fact]
    public void An_address_owner_drops_weighted_trackers_and_its_sync_group_clears_theirs()
    {
        var (loaded, vrrp) = Load("""
            vrrp_sync_group VG_1 {
              group {
                VI_1
                VI_2
              }
              track_interface {
                eth3 weight 5
              }
              sync_group_tracking_weight
            }
            """ + "\n" + Instance("priority 255\ntrack_interface {\n  eth2 weight -20\n}") + Instance("", "VI_2", "10.0.0.2", 52, "eth1"));

        AssertError(loaded, "(VI_1) ignoring eth2 tracked interface due to address owner");
        AssertError(loaded, "(VG_1) Cannot have weighted track interface 'eth3' with member having priority 255 - clearing weight");
        Assert.Empty(vrrp.Instances[0].TrackInterfaces);
        Assert.Equal([new TrackedInterface("eth3", 0)], Assert.Single(vrrp.SyncGroups).TrackInterfaces);
    }

    [Fact]
    public void Lvs_sync_daemon_interface_in_an_instance_is_deprecated()
    {
        var (loaded, _) = Load(Instance("lvs_sync_daemon_interface eth1") + Instance("lvs_sync_daemon_interface eth2", "VI_22", "10.0.0.2", 52, "eth1"));

        AssertError(loaded, "(VI_1) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.");
        // keepalived aligns the second line under the first one's text: six spaces and the name's length less two.
        AssertError(loaded, new string(' ', 8) + "Please use global lvs_sync_daemon");
        AssertError(loaded, new string(' ', 9) + "Please use global lvs_sync_daemon");
        AssertError(loaded, "(VI_22) lvs_sync_daemon_interface has already been specified as eth1 - ignoring");
    }

    [Fact]
    public void Valid_forms_give_no_verdict()
    {
        var (loaded, vrrp) = Load("""
            global_defs {
              vrrp_strict
            }
            vrrp_sync_group VG_1 {
              group {
                VI_1
                VI_2
              }
              sync_group_tracking_weight
            }
            """ + "\n" + Instance("strict_mode off\nstate BACKUP\nauthentication {\n  auth_type AH\n  auth_pass secret\n}\ntrack_interface {\n  eth2 weight 10\n}")
                + Instance("state MASTER\npriority 255", "VI_2", "10.0.0.2", 52, "eth1")
                + Instance("native_ipv6", "VI_6", "fe80::1 2001:db8::1", 53, "eth3"));

        Assert.DoesNotContain(loaded.Diagnostics, d => d.Severity >= Severity.Error);
        Assert.Equal([new TrackedInterface("eth2", 10)], vrrp.Instances[0].TrackInterfaces);
        Assert.Equal(VrrpAuthType.Ah, vrrp.Instances[0].Authentication!.Type);
        Assert.Equal(VrrpInitialState.Master, vrrp.Instances[1].InitialState);
        Assert.Equal(2, vrrp.Instances[2].VirtualIpAddresses.Count);
    }
}
