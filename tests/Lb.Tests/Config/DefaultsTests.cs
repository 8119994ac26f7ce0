using Lb.Checkers.Options;
using Lb.Config;
using Lb.Vrrp.Options;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// Each default has one owner: keywords.schema's <c>@default=</c> (it fills the effective configuration that <c>lb -d</c> shows and
/// the mappers read). The options records' initialisers (used by code that builds options without a file) must agree: this
/// test maps a configuration that leaves every defaulted keyword out and compares each mapped value with the record's own.
/// </summary>
public sealed class DefaultsTests
{
    [Fact]
    public void Schema_defaults_and_options_record_initialisers_agree()
    {
        var options = ConfigLoader.LoadText("""
            global_defs {
            }
            vrrp_script chk {
              script /bin/true
            }
            track_file tf {
              file /tmp/tf
            }
            vrrp_track_process tp {
              process sshd
            }
            vrrp_instance VI_1 {
              interface eth0
              virtual_router_id 51
              virtual_ipaddress {
                10.0.0.10/32
              }
            }
            virtual_server 10.0.0.1 80 {
              real_server 10.0.0.2 80 {
                DNS_CHECK {
                }
                UDP_CHECK {
                }
              }
            }

            """, "d.conf").Options;

        var g = new VrrpSubsystemOptions();
        Assert.Equal(g.MulticastGroup4, options.Vrrp.MulticastGroup4);
        Assert.Equal(g.MulticastGroup6, options.Vrrp.MulticastGroup6);
        Assert.Equal(g.GarpMasterDelay, options.Vrrp.GarpMasterDelay);
        Assert.Equal(g.GarpMasterRepeat, options.Vrrp.GarpMasterRepeat);
        Assert.Equal(g.GarpMasterRefresh, options.Vrrp.GarpMasterRefresh);
        Assert.Equal(g.GarpMasterRefreshRepeat, options.Vrrp.GarpMasterRefreshRepeat);
        Assert.Equal(g.Version, options.Vrrp.Version);

        var instance = Assert.Single(options.Vrrp.Instances);
        Assert.Equal(new VrrpInstanceOptions { Name = "x", VirtualRouterId = 1 }.AdvertInterval, instance.AdvertInterval);
        Assert.Equal(new VrrpInstanceOptions { Name = "x", VirtualRouterId = 1 }.Priority, instance.Priority);

        var script = Assert.Single(options.Vrrp.Scripts);
        var scriptDefaults = new VrrpScriptOptions { Name = "x", Command = ["/bin/true"] };
        Assert.Equal((scriptDefaults.Interval, scriptDefaults.Weight, scriptDefaults.Rise, scriptDefaults.Fall), (script.Interval, script.Weight, script.Rise, script.Fall));
        Assert.Equal(new VrrpTrackFileOptions { Name = "x", Path = "/x" }.Weight, Assert.Single(options.Vrrp.TrackFiles).Weight);
        var process = Assert.Single(options.Vrrp.TrackProcesses);
        var processDefaults = new VrrpTrackProcessOptions { Name = "x", Process = "x" };
        Assert.Equal((processDefaults.Weight, processDefaults.Quorum), (process.Weight, process.Quorum));

        var vs = Assert.Single(options.Checkers.VirtualServers);
        var vsDefaults = new VirtualServerOptions();
        Assert.Equal((vsDefaults.Quorum, vsDefaults.Hysteresis), (vs.Quorum, vs.Hysteresis));
        Assert.Equal(EffectiveSettings.DefaultConnectTimeout, vs.ConnectTimeout);
        Assert.Equal(EffectiveSettings.DefaultDelayLoop, vs.DelayLoop);
        var rs = Assert.Single(vs.RealServers);
        Assert.Equal(new RealServerOptions { Address = System.Net.IPAddress.Loopback }.Weight, rs.Weight);
        var dns = Assert.IsType<DnsCheckOptions>(rs.Checkers[0]);
        Assert.Equal((new DnsCheckOptions().Type, new DnsCheckOptions().Name), (dns.Type, dns.Name));
        var udp = Assert.IsType<UdpCheckOptions>(rs.Checkers[1]);
        Assert.Equal((new UdpCheckOptions().MinReplyLength, new UdpCheckOptions().MaxReplyLength), (udp.MinReplyLength, udp.MaxReplyLength));
    }
}
