using System.Net;
using Lb.Checkers.Options;
using Lb.Config;
using Lb.Config.Mapping;
using Lb.Vrrp.Options;
using Xunit;

namespace Lb.Lb.Tests.Config;

public sealed class MappingTests
{
    private static SubsystemOptions Map(string text, string configId = "x")
    {
        var config = ConfigLoader.LoadText(text, "map.conf", new ConfigLoadOptions { Preprocessor = new PreprocessorOptions { ConfigId = configId } });
        Assert.DoesNotContain(config.Diagnostics, d => d.Severity == Severity.Fatal);
        var mapped = config.Options;
        Assert.Empty(mapped.Diagnostics);
        return mapped;
    }

    [Theory]
    [InlineData("director1", 150, "lb_director_1")]
    [InlineData("director2", 100, "lb_director_2")]
    public void The_example_maps_onto_both_subsystems(string configId, int priority, string routerId)
    {
        var mapped = Map(File.ReadAllText(DumpTests.RepoFile("keepalived.conf.example")), configId);

        Assert.Equal(routerId, mapped.Vrrp.RouterId);
        Assert.True(mapped.Vrrp.EnableScriptSecurity);
        Assert.Equal("root", mapped.Vrrp.ScriptUser);
        Assert.Equal(TimeSpan.FromSeconds(1), mapped.Vrrp.GarpMasterDelay);
        Assert.Equal(3, mapped.Vrrp.GarpMasterRepeat);

        var script = Assert.Single(mapped.Vrrp.Scripts);
        Assert.Equal("chk_maintenance", script.Name);
        Assert.Equal(new[] { "/usr/bin/test", "!", "-e", "/run/lb-maintenance" }, script.Command);
        Assert.Equal(TimeSpan.FromSeconds(2), script.Interval);
        Assert.Equal(-60, script.Weight);
        Assert.Equal(2, script.Rise);
        Assert.Equal(2, script.Fall);

        var vi = Assert.Single(mapped.Vrrp.Instances);
        Assert.Equal("VI_WEB", vi.Name);
        Assert.Equal(VrrpInitialState.Backup, vi.InitialState);
        Assert.Equal("eth0", vi.Interface);
        Assert.Equal(51, vi.VirtualRouterId);
        Assert.Equal(priority, vi.Priority);
        Assert.Equal(TimeSpan.FromSeconds(1), vi.AdvertInterval);
        Assert.Equal(new VrrpAuthentication(VrrpAuthType.Pass, "lbsecret"), vi.Authentication);
        var vip = Assert.Single(vi.VirtualIpAddresses);
        Assert.Equal(IPAddress.Parse("10.0.0.100"), vip.Address);
        Assert.Equal(24, vip.PrefixLength);
        Assert.Equal("eth0", vip.Device);
        Assert.Equal("eth0:vip", vip.Label);
        Assert.Equal("chk_maintenance", Assert.Single(vi.TrackScripts).Name);

        var vs = Assert.Single(mapped.Checkers.VirtualServers);
        Assert.Equal(IPAddress.Parse("10.0.0.100"), vs.Address);
        Assert.Equal((ushort)80, vs.Port);
        Assert.Equal(Checkers.Options.IpvsProtocol.Tcp, vs.Protocol);
        Assert.Equal("wrr", vs.Scheduler);
        Assert.Equal(ForwardingMethod.DirectRouting, vs.ForwardingMethod);
        Assert.Equal(TimeSpan.FromSeconds(3), vs.DelayLoop);
        Assert.Equal(1, vs.Quorum);
        Assert.Equal(new[] { "10.0.0.11", "10.0.0.12", "10.0.0.13" }, vs.RealServers.Select(r => r.Address.ToString()));
        Assert.Equal(new[] { 3, 3, 1 }, vs.RealServers.Select(r => r.Weight));
        Assert.Equal(new bool?[] { null, true, null }, vs.RealServers.Select(r => r.InhibitOnFailure));

        var http = Assert.IsType<HttpCheckOptions>(Assert.Single(vs.RealServers[0].Checkers));
        Assert.False(http.Ssl);
        var url = Assert.Single(http.Urls);
        Assert.Equal("/health", url.Path);
        Assert.Equal(new[] { new StatusCodeRange(200, 200) }, url.StatusCodes);
        Assert.Equal(TimeSpan.FromSeconds(2), http.ConnectTimeout);
        Assert.Equal(1, http.Retry);
        Assert.Equal(TimeSpan.FromSeconds(1), http.DelayBeforeRetry);
        var http2 = Assert.IsType<HttpCheckOptions>(Assert.Single(vs.RealServers[1].Checkers));
        Assert.Equal(new[] { new StatusCodeRange(200, 299) }, Assert.Single(http2.Urls).StatusCodes);
        var tcp = Assert.IsType<TcpCheckOptions>(Assert.Single(vs.RealServers[2].Checkers));
        Assert.Equal(TimeSpan.FromSeconds(2), tcp.ConnectTimeout);
    }

    [Fact]
    public void Virtual_server_forms_and_checker_keywords()
    {
        var mapped = Map("""
            global_defs {
                enable_script_security
                script_user root
            }
            virtual_server_group WEB {
                10.1.0.1-5 80
                fwmark 7
            }
            virtual_server fwmark 42 {
                lb_algo sh
                lb_kind TUN
                protocol TCP
                persistence_timeout
                sh-port
                real_server 10.2.0.1 {
                    lvs_method TUN type gue port 6080 remcsum
                    MISC_CHECK {
                        misc_path "/bin/echo 'a b'"
                        misc_timeout 7
                        misc_dynamic
                    }
                }
            }
            virtual_server group WEB {
                lb_algo rr
                lb_kind NAT
                protocol UDP
                sorry_server 10.9.9.9 53
                sorry_server_inhibit
                quorum 3
                hysteresis 1
                real_server 10.2.0.2 53 {
                    weight 4
                    uthreshold 100
                    lthreshold 10
                    SSL_GET {
                        url {
                            path /
                            digest 9B3A0C85A887A256D6939DA88AABD8CD
                            status_code 200-299 302
                        }
                        nb_get_retry 4
                        http_protocol 1.1
                        enable_sni
                    }
                }
            }
            virtual_server 2001:db8::1 443 {
                lb_algo wlc
                lb_kind DR
                protocol SCTP
                persistence_timeout 600
                persistence_granularity 255.255.255.0
                real_server 2001:db8::2 443 {
                    weight 1
                }
            }
            """);

        var vss = mapped.Checkers.VirtualServers;
        Assert.Equal(3, vss.Count);

        Assert.Equal(42u, vss[0].FirewallMark);
        Assert.Equal("sh", vss[0].Scheduler);
        Assert.Equal(TimeSpan.FromSeconds(360), vss[0].PersistenceTimeout);
        Assert.Equal(SchedulerFlags.Flag2, vss[0].SchedulerFlags); // sh-port: IP_VS_SVC_F_SCHED_SH_PORT = SCHED2
        var rs = Assert.Single(vss[0].RealServers);
        Assert.Null(rs.Port);
        Assert.Equal(ForwardingMethod.Tunnel, rs.ForwardingMethod);
        Assert.Equal(new TunnelOptions { Type = TunnelType.Gue, Port = 6080, Checksum = TunnelChecksum.RemoteChecksum }, rs.Tunnel);
        var misc = Assert.IsType<MiscCheckOptions>(Assert.Single(rs.Checkers));
        Assert.Equal("/bin/echo 'a b'", misc.Path);
        Assert.Equal(new[] { "/bin/echo", "a b" }, misc.Argv);
        Assert.Equal(TimeSpan.FromSeconds(7), misc.Timeout);
        Assert.True(misc.Dynamic);

        Assert.Equal("WEB", vss[1].Group);
        Assert.Equal(2, vss[1].GroupEntries.Count);
        Assert.Equal(IPAddress.Parse("10.1.0.1"), vss[1].GroupEntries[0].Address);
        Assert.Equal(IPAddress.Parse("10.1.0.5"), vss[1].GroupEntries[0].AddressEnd);
        Assert.Equal((ushort)80, vss[1].GroupEntries[0].Port);
        Assert.Equal(7u, vss[1].GroupEntries[1].FirewallMark);
        Assert.Equal(Checkers.Options.IpvsProtocol.Udp, vss[1].Protocol);
        Assert.Equal(new SorryServerOptions { Address = IPAddress.Parse("10.9.9.9"), Port = 53 }, vss[1].SorryServer);
        Assert.True(vss[1].SorryServerInhibit);
        Assert.Equal(3, vss[1].Quorum);
        Assert.Equal(1, vss[1].Hysteresis);
        var rs2 = Assert.Single(vss[1].RealServers);
        Assert.Equal((4, 100u, 10u), (rs2.Weight, rs2.UpperThreshold, rs2.LowerThreshold));
        var ssl = Assert.IsType<HttpCheckOptions>(Assert.Single(rs2.Checkers));
        Assert.True(ssl.Ssl);
        Assert.True(ssl.EnableSni);
        Assert.Equal(HttpProtocol.Http11, ssl.Protocol);
        Assert.Equal(4, ssl.Retry);
        var url = Assert.Single(ssl.Urls);
        Assert.Equal("9b3a0c85a887a256d6939da88aabd8cd", url.Digest);
        Assert.Equal(new[] { new StatusCodeRange(200, 299), new StatusCodeRange(302, 302) }, url.StatusCodes);

        Assert.Equal(IPAddress.Parse("2001:db8::1"), vss[2].Address);
        Assert.Equal(Checkers.Options.IpvsProtocol.Sctp, vss[2].Protocol);
        Assert.Equal(TimeSpan.FromSeconds(600), vss[2].PersistenceTimeout);
        Assert.Equal(IPAddress.Parse("255.255.255.0"), vss[2].PersistenceGranularity);
    }

    [Fact]
    public void Vrrp_instance_forms()
    {
        var mapped = Map("""
            global_defs {
                vrrp_version 3
                vrrp_mcast_group4 224.0.0.19
                vrrp_garp_interval 0.001
            }
            vrrp_script s1 {
                script "/bin/true"
                weight 10 reverse
            }
            vrrp_instance V6 {
                interface eth1
                virtual_router_id 9
                priority 254
                advert_int 0.05
                nopreempt
                unicast_src_ip 10.0.0.2
                unicast_peer {
                    10.0.0.3 min_ttl 250 max_ttl 255
                    10.0.0.4
                }
                virtual_ipaddress {
                    10.0.0.100/24 brd 10.0.0.255 dev eth1 scope link label eth1:1 -nodad no_track
                    10.0.0.101 peer 10.0.0.200
                }
                virtual_ipaddress_excluded {
                    2001:db8::100/64
                }
                track_interface {
                    eth2 weight -30
                }
                track_script {
                    s1 weight 5
                }
                notify "/bin/echo arg"
            }
            vrrp_sync_group G {
                group {
                    V6
                }
                sync_group_tracking_weight
            }
            """);
        Assert.Equal(3, mapped.Vrrp.Version);
        Assert.Equal(IPAddress.Parse("224.0.0.19"), mapped.Vrrp.MulticastGroup4);
        Assert.Equal(TimeSpan.FromMilliseconds(1), mapped.Vrrp.GarpInterval);
        var s1 = Assert.Single(mapped.Vrrp.Scripts);
        Assert.True(s1.WeightReverse);
        Assert.Equal(10, s1.Weight);
        var vi = Assert.Single(mapped.Vrrp.Instances);
        Assert.Equal(254, vi.Priority);
        Assert.Equal(TimeSpan.FromMilliseconds(50), vi.AdvertInterval);
        Assert.False(vi.Preempt);
        Assert.Equal(IPAddress.Parse("10.0.0.2"), vi.UnicastSrcIp);
        Assert.Equal(new[] { new UnicastPeer(IPAddress.Parse("10.0.0.3"), 250, 255), new UnicastPeer(IPAddress.Parse("10.0.0.4")) }, vi.UnicastPeers);
        var v0 = vi.VirtualIpAddresses[0];
        Assert.Equal((24, "10.0.0.255", "eth1", Vrrp.Options.AddressScope.Link, "eth1:1", true, true),
            (v0.PrefixLength, v0.Broadcast?.ToString(), v0.Device, v0.Scope, v0.Label, v0.NoDad, v0.NoTrack));
        Assert.Equal(IPAddress.Parse("10.0.0.200"), vi.VirtualIpAddresses[1].Peer);
        Assert.Equal(64, Assert.Single(vi.VirtualIpAddressesExcluded).PrefixLength);
        Assert.Equal(new TrackedInterface("eth2", -30), Assert.Single(vi.TrackInterfaces));
        Assert.Equal(new TrackedReference("s1", 5), Assert.Single(vi.TrackScripts));
        Assert.Equal(new[] { "/bin/echo", "arg" }, vi.Notify!.Command);
        Assert.Equal(new[] { "V6" }, Assert.Single(mapped.Vrrp.SyncGroups).Members);
    }

    [Theory]
    [InlineData("state MASTER", 255)]
    [InlineData("state BACKUP", 100)]
    [InlineData("", 100)]
    [InlineData("state MASTER\n priority 120", 120)]
    public void Priority_default_follows_the_state_as_keepalived(string lines, int expected)
    {
        // keepalived 2.2.7 advertises priority 255 for "state MASTER" without a priority (seen with tcpdump).
        var mapped = Map($"vrrp_instance V {{\n interface eth0\n virtual_router_id 1\n {lines}\n virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n");
        Assert.Equal(expected, Assert.Single(mapped.Vrrp.Instances).Priority);
    }
}
