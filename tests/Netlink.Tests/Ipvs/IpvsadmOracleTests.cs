using System.Net;
using Lb.Netlink.Ipvs;
using Xunit;

namespace Lb.Netlink.Tests.Ipvs;

/// <summary>The oracle's parser reads ipvsadm's rule syntax (examples from ipvsadm(8)) into the same lines the dump gives.</summary>
public class IpvsadmOracleTests
{
    [Fact]
    public void Parses_ipvsadm_rules_into_the_canonical_form_of_the_same_table()
    {
        var rules = new[]
        {
            "-A -t 207.175.44.110:80 -s rr -p 300 -M 255.255.255.0",
            "-a -t 207.175.44.110:80 -r 192.168.10.1:80 -i --tun-type gue --tun-port 6080 --tun-csum -w 1",
            "-a -t 207.175.44.110:80 -r 192.168.10.2:80 -m -w 0 -x 10 -y 5",
            "-A -f 1 -s sh -b sh-fallback,sh-port -6",
            "-A -u [2001:db8::1]:53 -s wlc -o",
        }.Select(IpvsadmOracle.ParseRule).Order(StringComparer.Ordinal).ToList();

        var tcp = IpvsServiceKey.Tcp(IPAddress.Parse("207.175.44.110"), 80);
        var table = new IpvsTableSnapshot([
            new(new(new IpvsService(tcp, "rr") { Flags = IpvsServiceFlags.Persistent | IpvsServiceFlags.Hashed, PersistenceTimeout = 300, PersistenceNetmask = 24 }, IpvsStats.Zero),
            [
                new(new IpvsDestination(IPAddress.Parse("192.168.10.1"), 80, IpvsForwardingMethod.Tunnel) { TunnelType = IpvsTunnelType.Gue, TunnelPort = 6080, TunnelFlags = IpvsTunnelFlags.Checksum }, 0, 0, 0, IpvsStats.Zero),
                new(new IpvsDestination(IPAddress.Parse("192.168.10.2"), 80, IpvsForwardingMethod.Masquerade, 0) { UpperThreshold = 10, LowerThreshold = 5 }, 0, 0, 0, IpvsStats.Zero),
            ]),
            new(new(new IpvsService(IpvsServiceKey.Fwmark(1, System.Net.Sockets.AddressFamily.InterNetworkV6), "sh") { Flags = IpvsServiceFlags.ShFallback | IpvsServiceFlags.ShPort }, IpvsStats.Zero), []),
            new(new(new IpvsService(IpvsServiceKey.Udp(IPAddress.Parse("2001:db8::1"), 53), "wlc") { Flags = IpvsServiceFlags.OnePacket }, IpvsStats.Zero), []),
        ]);
        Assert.Equal(rules, IpvsadmOracle.Canonical(table));
    }

    [Fact]
    public void Parses_ipvsadm_threshold_listing()
    {
        var text =
            "IP Virtual Server version 1.2.1 (size=4096)\n" +
            "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn\n" +
            "  -> RemoteAddress:Port\n" +
            "TCP  10.0.0.1:80 wlc\n" +
            "  -> 10.0.1.2:8080                 100        10         0          0         \n" +
            "FWM  3 IPv6 rr\n" +
            "  -> [2001:db8::2]:0               0          0          0          0         \n";
        var map = IpvsadmOracle.Thresholds(text);
        Assert.Equal(("100", "10"), map["TCP 10.0.0.1:80 -> 10.0.1.2:8080"]);
        Assert.Equal(("0", "0"), map["FWM 3 v6 -> [2001:db8::2]:0"]);
        Assert.Equal("TCP [2001:db8::1]:80 s=rr p=60 M=64 pe=- b=- o=False", IpvsadmOracle.ParseRule("-A -t [2001:db8::1]:80 -s rr -p 60 -M 64"));
    }
}
