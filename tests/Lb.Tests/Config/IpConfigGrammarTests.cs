using System.Net;
using System.Net.Sockets;
using Lb.Config;
using Lb.Config.IpConfig;
using Lb.Config.Mapping;
using Lb.Vrrp.Options;
using Xunit;

namespace Lb.Lb.Tests.Config;

/// <summary>
/// keepalived 2.2.7's grammar of addresses, routes and rules. Every expected message below is what <c>keepalived -t -l</c>
/// printed for the same line, run in a network namespace holding lo and eth0–eth3 (the interfaces given to Lb here).
/// </summary>
public sealed class IpConfigGrammarTests
{
    private static readonly IReadOnlySet<string> Eth = new HashSet<string>(StringComparer.Ordinal) { "lo", "eth0", "eth1", "eth2", "eth3" };

    // The line under test is line 9.
    private static string Instance(string block, string line) =>
        $"vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {{\n    192.168.200.16\n  }}\n  {block} {{\n    {line}\n  }}\n}}\n";

    private static LoadedConfig Load(string text) =>
        ConfigLoader.LoadText(text, "ip.conf", new ConfigLoadOptions { CheckInterfaces = true, Interfaces = Eth });

    private static string Messages(LoadedConfig config, int line) =>
        string.Join(" | ", config.Diagnostics.Where(d => d.Location.Line == line && !d.Message.Contains(" is parsed but ", StringComparison.Ordinal)).Select(d => d.Message));

    private static VrrpInstanceOptions Mapped(LoadedConfig config) => Assert.Single(config.Options.Vrrp.Instances);

    [Theory]
    // The classes: a gateway with a prefix length (the route is dropped), a route with no dev (kept, not tracked).
    [InlineData("10.1.0.0/24 via 10.0.0.1/24 dev eth1", "VRRP parsed invalid IP 10.0.0.1/24. skipping IP... | invalid route via address 10.0.0.1/24", false)]
    [InlineData("192.168.112.0/24 via 192.168.100.254", "Warning - cannot track route 192.168.112.0/24 with no interface specified, not tracking", true)]
    [InlineData("10.10.0.0/24 nexthop via 10.0.0.1 dev eth1 weight 2 nexthop via 10.0.0.2 dev eth2", "Warning - cannot track route 10.10.0.0/24 with no interface specified, not tracking", true)]
    [InlineData("blackhole 192.168.113.1/32", "Warning - cannot track route 192.168.113.1/32 with no interface specified, not tracking", true)]
    [InlineData("10.2.0.0/24 dev eth9", "WARNING - interface eth9 for VROUTE nexthop doesn't exist", false)]
    [InlineData("10.3.0.0/24 dev eth1 foo", "VRRP parsed invalid IP foo. skipping IP... | unknown route keyword foo", false)]
    [InlineData("10.4.0.0/24 via 10.0.0.1 dev eth1 table 300 metric 5 proto static", "VRRP parsed invalid IP proto. skipping IP... | unknown route keyword proto", false)]
    [InlineData("10.5.0.0/24 dev eth1 table nosuch", "Routing table nosuch not found for route", false)]
    [InlineData("via 10.0.0.1 dev eth1", "Route must have a destination", false)]
    [InlineData("inet6 default dev eth1", "Route must have a destination", false)]
    [InlineData("unreachable 10.6.0.0/24 dev eth1", "", true)]
    [InlineData("10.7.0.0/33 dev eth1", "number '33' outside range [0, 32] | Invalid address prefix len 33 for address 10.7.0.0/33 - using 32", true)]
    [InlineData("10.8.0.0/24 src fe80::1 dev eth1", "Cannot mix IPv4 and IPv6 addresses for route", false)]
    [InlineData("10.4.0.0/24 via inet6 fe80::1 dev eth1", "Cannot mix IPv4 and IPv6 addresses for route", false)]
    [InlineData("default via 10.0.0.1 dev eth1 no_track", "", true)]
    [InlineData("10.9.0.0/24 dev eth1 protocol boot", "Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol", true)]
    [InlineData("10.10.0.0/24 dev eth1 scope bogus", "Scope bogus not found or invalid for route", false)]
    [InlineData("10.11.0.0/24 dev eth1 metric x", "invalid number 'x' | Invalid metric x specified for route", false)]
    [InlineData("10.3.0.0/24 dev eth1 gw 10.0.0.1", "\"gw\" for routes is deprecated. Please use \"via\"", true)]
    [InlineData("192.168.113.0/24 via 192.168.100.252 or 192.168.100.253", "\"or\" for routes is deprecated. Please use \"nexthop\" | Warning - cannot track route 192.168.113.0/24 with no interface specified, not tracking", true)]
    [InlineData("fe80::/64 dev eth1 expires 10", "", true)]
    [InlineData("10.9.0.0/24 dev eth1 expires 10", "expires is only valid for IPv6", false)]
    [InlineData("10.11.0.0/24 dev eth1 mtu lock 1400 advmss 1300 rtt 2s hoplimit 300", "number '300' outside range [0, 255] | Invalid hoplimit 300 specified for route", false)]
    [InlineData("10.1.0.0/24 dev eth1 rtt 1000s", "number '1000' outside range [0.000, 960.000] | Invalid rtt 1000s for route", false)]
    [InlineData("10.2.0.0/24 dev eth1 rtt 5ms rttvar 1.23456s", "number '1.23456' has too many decimal places", true)]
    [InlineData("10.17.0.0/24 dev eth1 features foo", "feature foo not supported", true)]
    [InlineData("10.15.0.0/24 dev eth1 src 10.0.0.1/24", "VRRP parsed invalid IP 10.0.0.1/24. skipping IP... | invalid route src address 10.0.0.1/24", false)]
    [InlineData("10.4.0.0/24 encap ip id x dev eth1", "invalid number 'x' | encap id x value is invalid | VRRP parsed invalid IP id. skipping IP... | unknown route keyword id", false)]
    [InlineData("10.12.0.0/24 dev eth1 table 0", "", true)]
    public void Virtual_routes_get_keepalived_verdicts(string line, string expected, bool kept)
    {
        var config = Load(Instance("virtual_routes", line));
        Assert.Equal(expected, Messages(config, 9));
        Assert.Equal(expected.Length == 0 ? 0 : 5, config.ExitCode);
        Assert.Equal(kept ? 1 : 0, Mapped(config).VirtualRoutes.Count);
    }

    [Theory]
    [InlineData("from 10.0.0.0/24 table 2", "Rule has no preference specified - setting to 16384. This is probably not what you want.", true)]
    [InlineData("from 10.0.0.0/24 table 2 priority 100", "", true)]
    [InlineData("to 10.1.0.0/24 lookup main pref 5", "Unknown rule option pref", false)]
    [InlineData("from 10.2.0.0/24", "No action specified for rule - ignoring", false)]
    [InlineData("from 10.3.0.0/24 table 2 blackhole priority 7", "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule", false)]
    [InlineData("iif eth9 table 2 priority 8", "WARNING - interface eth9 for rule doesn't exist", false)]
    [InlineData("from all fwmark 0x10/0xff table 3 priority 9", "", true)]
    [InlineData("from 10.4.0.0/24 table nosuch priority 10", "Routing table nosuch not found for rule", false)]
    [InlineData("from 192.168.100./24 table 1", "VRRP parsed invalid IP 192.168.100./24. skipping IP... | Invalid rule from address 192.168.100./24", false)]
    [InlineData("from fe80::/64 table 2", "Rule has no preference specified - setting to 16384. This is probably not what you want.", true)]
    [InlineData("from 10.5.0.0/24 goto 5 priority 10", "Invalid rule - preference 10 >= goto target 5", false)]
    [InlineData("foo 10.6.0.0 table 2 priority 12", "Unknown rule option foo", false)]
    [InlineData("from 10.7.0.0/24 table 0 priority 13", "Table 0 is not valid", false)]
    [InlineData("from 10.8.0.0/24 to fe80::1 table 2 priority 14", "rule specification has mixed IPv4 and IPv6", false)]
    [InlineData("not from 10.9.0.0/24 table 2 priority 15 protocol 3", "Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol", true)]
    [InlineData("from 10.10.0.0/24 table 2 priority x", "invalid number 'x' | Invalid rule preference priority specified", false)]
    [InlineData("from 10.11.0.0/24 type unreachable priority 16 realms 3", "suppressor/realm specified for non table action - skipping", false)]
    [InlineData("from 10.12.0.0/24 table 2 priority 17 sport 80 dport 1-2 ipproto tcp uidrange 1-5", "invalid sport range 80", true)]
    [InlineData("inet from all table 2 priority 18", "Unknown rule option all", false)]
    [InlineData("from 10.13.0.0/24 table 2 priority 0x20 fwmark 5/-1", "Invalid rule fwmark 5/-1 specified", false)]
    [InlineData("from 10.14.0.0/24 table 2 priority 19 ipproto 200 tunnel-id 7 oif eth1 l3mdev", "Invalid ipproto 200 | Cannot specify l3mdev with other action", false)]
    public void Virtual_rules_get_keepalived_verdicts(string line, string expected, bool kept)
    {
        var config = Load(Instance("virtual_rules", line));
        Assert.Equal(expected, Messages(config, 9));
        Assert.Equal(expected.Length == 0 ? 0 : 5, config.ExitCode);
        Assert.Equal(kept ? 1 : 0, Mapped(config).VirtualRules.Count);
    }

    [Theory]
    [InlineData("10.0.0.1 dev eth9", "WARNING - interface eth9 for ip address 10.0.0.1 doesn't exist", false)]
    [InlineData("10.0.0.2/24 dev eth1 brd +", "", true)]
    [InlineData("10.0.0.3 foo", "Unknown configuration entry 'foo' for ip address - ignoring", true)]
    [InlineData("10.0.0.4 dev", "No dev parameter specified for 10.0.0.4", false)]
    [InlineData("10.0.0.5 label eth0:1 nodad", "Unknown configuration entry 'nodad' for ip address - ignoring", true)]
    [InlineData("10.0.0.6/40", "number '40' outside range [0, 32] | Invalid address prefix len 40 for address 10.0.0.6/40 - using 32", true)]
    [InlineData("10.0.0.7/x", "invalid number 'x' | Invalid address prefix len x for address 10.0.0.7/x - using 32", true)]
    [InlineData("010.0.0.8", "VRRP parsed invalid IP 010.0.0.8. skipping IP...", false)]
    [InlineData("10.0.0.9 scope 253 home mngtmpaddr autojoin noprefixroute preferred_lft forever no_track use_vmac", "", true)]
    [InlineData("10.0.0.10 peer 10.0.0.11 peer 10.0.0.12", "Peer 10.0.0.12 - another peer has already been specified | Unknown configuration entry '10.0.0.12' for ip address - ignoring", true)]
    [InlineData("10.0.0.13/24 peer 10.0.0.14 brd +", "Cannot specify address prefix when specifying peer address - ignoring | Cannot specify broadcast and peer addresses - ignoring broadcast address", true)]
    [InlineData("10.9.9.9/24 brd + dev eth1 label eth1:vip scope host peer 10.9.9.10/30", "VRRP parsed invalid IP 10.9.9.10/30. skipping IP... | Invalid peer address 10.9.9.10/30", true)]
    [InlineData("10.9.9.8/24 dev eth1 dev eth2", "Cannot specify ipaddress device more than once for 10.9.9.8/24", false)]
    [InlineData("10.9.9.7 brd 1.2.3", "VRRP is trying to assign invalid broadcast 1.2.3. skipping VIP...", false)]
    [InlineData("10.9.9.6 label abcdefghijklmnopqrstu", "Address label abcdefghijklmnopqrstu is longer than maximum length 15 - removing address", false)]
    [InlineData("10.9.9.5 preferred_lft x", "invalid number 'x' | preferred_lft x is invalid", true)]
    [InlineData("10.9.9.4 track_group x", "Unknown configuration entry 'track_group' for ip address - ignoring | Unknown configuration entry 'x' for ip address - ignoring", true)]
    [InlineData("10.9.9.2/31 brd -", "Address prefix length 31 too long for broadcast", true)]
    public void Virtual_ipaddress_excluded_gets_keepalived_verdicts(string line, string expected, bool kept)
    {
        var config = Load(Instance("virtual_ipaddress_excluded", line));
        Assert.Equal(expected, Messages(config, 9));
        Assert.Equal(expected.Length == 0 ? 0 : 5, config.ExitCode);
        Assert.Equal(kept ? 1 : 0, Mapped(config).VirtualIpAddressesExcluded.Count);
    }

    [Fact]
    public void An_interface_that_does_not_exist_ends_with_keepalived_summary_and_is_not_checked_for_another_machine()
    {
        var text = Instance("virtual_routes", "10.2.0.0/24 dev eth9");
        var config = Load(text);
        Assert.Contains(config.Diagnostics, d => d.Message == "Non-existent interface specified in configuration" && d.Severity == Severity.Error);

        var elsewhere = ConfigLoader.LoadText(text, "ip.conf", new ConfigLoadOptions { CheckInterfaces = false });
        Assert.Equal(0, elsewhere.ExitCode);
        Assert.Equal("eth9", Assert.Single(Mapped(elsewhere).VirtualRoutes).Device);

        var dynamic = Load("global_defs {\n  dynamic_interfaces\n}\n" + text);
        Assert.DoesNotContain(dynamic.Diagnostics, d => d.Message.Contains("eth9", StringComparison.Ordinal) || d.Message.StartsWith("Non-existent", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_parameter_stops_keepalived()
    {
        // keepalived -t prints this and exits at once (status 2, which Lb has not: Lb's "cannot run" is 4).
        var config = Load(Instance("virtual_routes", "10.1.0.0/24 dev eth1 metric"));
        var d = Assert.Single(config.Diagnostics, d => d.Location.Line == 9);
        Assert.Equal((Severity.Fatal, "*** Configuration line starting `10.1.0.0/24` is missing a parameter after keyword `metric` at word position 5"), (d.Severity, d.Message));
    }

    [Fact]
    public void The_vip_that_keepalived_drops_does_not_count_as_a_vip()
    {
        var config = Load("vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.1 brd 1.2.3\n  }\n}\n");
        Assert.Contains(config.Diagnostics, d => d.Message == "VRRP is trying to assign invalid broadcast 1.2.3. skipping VIP...");
        Assert.Contains(config.Diagnostics, d => d.Message == "(VI_1) No VIP specified; at least one is sensible");
    }

    [Fact]
    public void Static_blocks_check_track_groups_the_default_interface_and_number_rules_with_the_virtual_ones()
    {
        var config = Load("""
            track_group g1 {
              group {
                VI_1
              }
            }
            static_ipaddress {
              10.0.0.2/24
              10.0.0.3/24 dev eth1 track_group foo
              10.0.0.4/24 dev eth1 use_vmac
            }
            static_routes {
              10.1.0.0/24 dev eth1 track_group g1
              10.2.0.0/24 via 10.0.0.9 track_group g1
            }
            static_rules {
              from 10.3.0.0/24 table 5
              from 10.3.0.0/24 table 5 track_group g2
            }
            vrrp_instance VI_1 {
              interface eth0
              virtual_router_id 51
              virtual_ipaddress {
                10.9.9.9
              }
              virtual_rules {
                from 10.4.0.0/24 table 6
                from fe80::/64 table 6
              }
            }
            """);
        Assert.Equal(
            [
                "(ip.conf: Line 8) track_group foo not found",
                "(ip.conf: Line 9) Unknown configuration entry 'use_vmac' for ip address - ignoring",
                "(ip.conf: Line 13) Warning - cannot track route 10.2.0.0/24 with no interface specified, not tracking",
                "(ip.conf: Line 13) Static route cannot have track group if no oif specified",
                "(ip.conf: Line 16) Rule has no preference specified - setting to 16384. This is probably not what you want.",
                "(ip.conf: Line 17) track_group g2 not found",
                "(ip.conf: Line 17) Rule has no preference specified - setting to 16383. This is probably not what you want.",
                "(ip.conf: Line 26) Rule has no preference specified - setting to 16382. This is probably not what you want.",
                "(ip.conf: Line 27) Rule has no preference specified - setting to 16384. This is probably not what you want.",
            ],
            config.Diagnostics.Where(d => !d.Message.Contains(" is parsed but ", StringComparison.Ordinal)).Select(d => d.ToString()));
        var (statics, _) = IpConfigChecks.Records(config.Nodes);
        Assert.Equal(["eth0", "eth1", "eth1"], statics.Addresses.Select(a => a.Device));
        Assert.Equal(["g1", null], statics.Routes.Select(r => r.TrackGroup));
        Assert.Equal([16384u, 16382u], new[] { statics.Rules[0].Priority, Mapped(config).VirtualRules[0].Priority });
        Assert.Equal((16384u, AddressFamily.InterNetworkV6, true), (Mapped(config).VirtualRules[1].Priority, Mapped(config).VirtualRules[1].Family, Mapped(config).VirtualRules[1].PriorityAssigned));
    }

    [Fact]
    public void A_static_address_without_dev_needs_the_default_interface()
    {
        // keepalived -t: this message, "Non-existent interface specified in configuration", exit 4.
        var config = Load("global_defs {\n default_interface eth7\n}\nstatic_ipaddress {\n 10.0.0.2/24\n}\n");
        var d = Assert.Single(config.Diagnostics, d => d.Location.Line == 5);
        Assert.Equal((Severity.Fatal, "Static address 10.0.0.2/24 requires either an interface or default interface must exist"), (d.Severity, d.Message));
        Assert.Equal(4, config.ExitCode);
    }

    private static IpGrammarContext Context(DiagnosticBag? bag = null) => new(bag ?? new DiagnosticBag()) { InterfacesProvider = () => Eth };

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void A_route_becomes_a_typed_record()
    {
        var bag = new DiagnosticBag();
        var r = RouteGrammar.Parse(Words("192.168.109.0/24 src 192.168.100.1 via 192.168.200.254 dev eth1 table 100 metric 5 scope link onlink tos 0x10 mtu lock 1400 advmss 1300 rtt 2s window 8 hoplimit 64 initcwnd 10 congctl lock cubic features ecn append"), false, Context(bag))!;
        Assert.Empty(bag.ToImmutable());
        Assert.Equal(
            (AddressFamily.InterNetwork, new IpPrefix(IPAddress.Parse("192.168.109.0"), 24), IPAddress.Parse("192.168.100.1"), IPAddress.Parse("192.168.200.254"), "eth1", 100u, (byte?)253, 5u, true, (byte?)0x10, RouteInsertMode.Append, false, (byte?)18),
            (r.Family, r.Destination, r.PreferredSource, r.Via, r.Device, r.Table, r.Scope, r.Metric, r.OnLink, r.Tos, r.InsertMode, r.NoTrack, r.Protocol));
        Assert.Equal(new RouteMetrics { Mtu = 1400, AdvMss = 1300, Rtt = 16000, Window = 8, HopLimit = 64, InitCwnd = 10, CongestionControl = "cubic", Features = 1, Locked = (1u << 2) | (1u << 16) }, r.Metrics);
        Assert.Equal(RouteType.Unicast, r.Type);
    }

    [Fact]
    public void Route_forms_default_types_nexthops_and_or()
    {
        var cx = Context();
        Assert.Equal(new IpPrefix(IPAddress.Any, 0), RouteGrammar.Parse(Words("default via 10.0.0.1 dev eth1"), false, cx)!.Destination);
        Assert.Equal(new IpPrefix(IPAddress.IPv6Any, 0), RouteGrammar.Parse(Words("default6 dev eth1"), false, cx)!.Destination);
        var blackhole = RouteGrammar.Parse(Words("blackhole 10.9.0.0/16"), false, cx)!;
        Assert.Equal((RouteType.Blackhole, true, (byte?)18), (blackhole.Type, blackhole.NoTrack, blackhole.Protocol));
        var untracked = RouteGrammar.Parse(Words("10.8.0.0/16 dev eth1 protocol boot no_track"), false, cx)!;
        Assert.Equal((true, (byte?)3), (untracked.NoTrack, untracked.Protocol));
        var multipath = RouteGrammar.Parse(Words("10.10.0.0/24 dev eth3 nexthop via 10.0.0.1 dev eth1 weight 2 nexthop via 10.0.0.2 dev eth2 onlink"), false, cx)!;
        Assert.Equal(
            [new RouteNextHop { Via = IPAddress.Parse("10.0.0.1"), Device = "eth1", Weight = 2 }, new RouteNextHop { Via = IPAddress.Parse("10.0.0.2"), Device = "eth2", OnLink = true }],
            multipath.NextHops);
        var or = RouteGrammar.Parse(Words("10.11.0.0/24 via 10.0.0.1 or 10.0.0.2"), false, cx)!;
        Assert.Equal([IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2")], or.NextHops.Select(h => h.Via));
        Assert.Null(or.Via);
        var v6 = RouteGrammar.Parse(Words("2001:db8::/32 from 2001:db8:1::/48 via fe80::1 dev eth1 expires 30 pref high"), false, cx)!;
        Assert.Equal((AddressFamily.InterNetworkV6, new IpPrefix(IPAddress.Parse("2001:db8:1::"), 48), 30u, (byte?)1), (v6.Family, v6.From, v6.Expires, v6.Preference));
    }

    [Fact]
    public void Routes_parsed_twice_are_equal_so_a_reload_sees_no_change()
    {
        var line = Words("10.10.0.0/24 dev eth3 nexthop via 10.0.0.1 dev eth1 weight 2 nexthop via 10.0.0.2 dev eth2");
        Assert.Equal(RouteGrammar.Parse(line, false, Context()), RouteGrammar.Parse(line, false, Context()));
        Assert.NotEqual(RouteGrammar.Parse(line, false, Context()), RouteGrammar.Parse(Words("10.10.0.0/24 dev eth3 nexthop via 10.0.0.1 dev eth1 weight 3"), false, Context()));
    }

    [Fact]
    public void A_rule_becomes_a_typed_record()
    {
        var bag = new DiagnosticBag();
        var r = RuleGrammar.Parse(Words("not from 10.0.0.0/24 to 10.1.0.0/16 iif eth1 oif eth2 fwmark 0x10/0xff tos 0x10 sport 1000-2000 dport 80-80 uidrange 0-99 ipproto tcp priority 50 lookup 100"), false, Context(bag))!;
        Assert.Empty(bag.ToImmutable());
        Assert.Equal(
            (RuleAction.ToTable, (uint?)100, 50u, false, true, "eth1", "eth2", (uint?)0x10, (uint?)0xff, (byte?)0x10, (byte?)6, (byte?)18),
            (r.Action, r.Table, r.Priority, r.PriorityAssigned, r.Invert, r.InputInterface, r.OutputInterface, r.FwMark, r.FwMask, r.Tos, r.IpProtocol, r.Protocol));
        Assert.Equal((new IpPrefix(IPAddress.Parse("10.0.0.0"), 24), new IpPrefix(IPAddress.Parse("10.1.0.0"), 16)), (r.From!.Value, r.To!.Value));
        Assert.Equal((new ValueRange(1000, 2000), new ValueRange(80, 80), new ValueRange(0, 99)), (r.SourcePorts!.Value, r.DestinationPorts!.Value, r.UidRange!.Value));

        var go = RuleGrammar.Parse(Words("from all priority 10 goto 20"), false, Context())!;
        Assert.Equal((RuleAction.Goto, (uint?)20, new IpPrefix(IPAddress.Any, 0)), (go.Action, go.GotoTarget, go.From!.Value));
        Assert.Equal(RuleAction.Prohibit, RuleGrammar.Parse(Words("to 10.0.0.0/8 prohibit priority 3"), false, Context())!.Action);
    }

    [Theory]
    [InlineData("10.0.0.2/24 brd +", "10.0.0.255")]
    [InlineData("10.0.0.2/24 brd -", "10.0.0.0")]
    [InlineData("10.0.0.2/24 brd 10.0.0.127", "10.0.0.127")]
    [InlineData("10.0.0.2/24 peer 10.0.0.9", null)]
    public void Vip_broadcast_is_computed_as_keepalived(string line, string? broadcast)
    {
        var vip = AddressGrammar.Parse(Words(line), false, Context())!;
        Assert.Equal(broadcast, vip.Broadcast?.ToString());
    }

    [Fact]
    public void A_vip_becomes_a_typed_record()
    {
        var bag = new DiagnosticBag();
        var v = AddressGrammar.Parse(Words("10.0.0.9/24 dev eth1 scope link label eth1:v home -nodad mngtmpaddr autojoin noprefixroute preferred_lft 0 no_track use_vmac"), false, Context(bag))!;
        Assert.Empty(bag.ToImmutable());
        Assert.Equal(
            (24, "eth1", (AddressScope?)AddressScope.Link, "eth1:v", true, true, true, true, true, (uint?)0, true, true),
            (v.PrefixLength, v.Device, v.Scope, v.Label, v.Home, v.NoDad, v.ManageTempAddress, v.AutoJoin, v.NoPrefixRoute, v.PreferredLifetime, v.NoTrack, v.UseVmac));
        var peer = AddressGrammar.Parse(Words("10.0.0.1 peer 10.0.0.2"), false, Context())!;
        Assert.Equal((IPAddress.Parse("10.0.0.2"), 32), (peer.Peer, peer.EffectivePrefixLength));
        Assert.Equal(0u, AddressGrammar.Parse(Words("2001:db8::1"), false, Context())!.EffectivePreferredLifetime);
        Assert.Equal(uint.MaxValue, AddressGrammar.Parse(Words("2001:db8::1/64"), false, Context())!.EffectivePreferredLifetime);
    }

    [Theory]
    [InlineData("main", 254u)]
    [InlineData("local", 255u)]
    [InlineData("default", 253u)]
    [InlineData("0x10", 16u)]
    [InlineData("010", 8u)]
    [InlineData("4294967295", 4294967295u)]
    public void Table_names_and_numbers_are_read_as_keepalived(string text, uint expected)
    {
        Assert.True(RtNames.BuiltIn.TryTable(text, out var id));
        Assert.Equal(expected, id);
        Assert.False(RtNames.BuiltIn.TryTable("nosuch", out _));
    }

    [Fact]
    public void Iproute2_files_add_names()
    {
        var dir = Directory.CreateTempSubdirectory("lb-rt-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "rt_tables"), "# comment\n100 vip\n254 main\nbad line here\n0x20\tthirtytwo\n");
            var names = new RtNames(dir.FullName);
            Assert.True(names.TryTable("vip", out var vip));
            Assert.True(names.TryTable("thirtytwo", out var hex));
            Assert.True(names.TryTable("local", out var local));
            Assert.Equal((100u, 32u, 255u), (vip, hex, local));
            Assert.False(names.TryTable("here", out _));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
