using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Lb.Netlink.Ipvs;
using Xunit;

namespace Lb.Netlink.Tests.Ipvs;

/// <summary>Expected text is what ipvsadm 1.31 prints (its printf formats: "%-28s %-7s %-6d %-10u %-10u", "%-33s", "%9llu").</summary>
public class IpvsTableFormatterTests
{
    private static readonly IpvsInfo Info = new(0x010201, 4096);

    private static IpvsStats S(ulong conns, ulong inPkts, ulong outPkts, ulong inBytes, ulong outBytes) => new(conns, inPkts, outPkts, inBytes, outBytes, 0, 0, 0, 0, 0);

    private static IpvsTableSnapshot Sample()
    {
        var web = new IpvsService(IpvsServiceKey.Tcp(IPAddress.Parse("10.0.0.1"), 80), "wrr") { Flags = IpvsServiceFlags.Hashed };
        var sh = new IpvsService(IpvsServiceKey.Udp(IPAddress.Parse("10.0.0.1"), 53), "sh")
        {
            Flags = IpvsServiceFlags.ShFallback | IpvsServiceFlags.ShPort | IpvsServiceFlags.Persistent | IpvsServiceFlags.OnePacket,
            PersistenceTimeout = 300,
            PersistenceNetmask = 24,
        };
        var fwm = new IpvsService(IpvsServiceKey.Fwmark(3), "rr");
        var v6 = new IpvsService(IpvsServiceKey.Tcp(IPAddress.Parse("2001:db8::1"), 443), "mh")
        {
            Flags = IpvsServiceFlags.MhPort | IpvsServiceFlags.Persistent,
            PersistenceTimeout = 60,
            PersistenceNetmask = 64,
            PersistenceEngine = "sip",
        };
        var fwm6 = new IpvsService(IpvsServiceKey.Fwmark(3, AddressFamily.InterNetworkV6), "lc");
        IpvsDestinationStatus Dest(string ip, ushort port, IpvsForwardingMethod fwd, int w, uint act = 0, uint inact = 0, IpvsStats? st = null) =>
            new(new IpvsDestination(IPAddress.Parse(ip), port, fwd, w), act, inact, 0, st ?? IpvsStats.Zero);
        // Deliberately out of ipvsadm's order: the formatter sorts.
        return new IpvsTableSnapshot([
            new(new(fwm6, IpvsStats.Zero), []),
            new(new(v6, IpvsStats.Zero), [Dest("2001:db8::10", 443, IpvsForwardingMethod.Tunnel, 2)]),
            new(new(fwm, IpvsStats.Zero), [Dest("10.0.3.1", 0, IpvsForwardingMethod.Masquerade, 0)]),
            new(new(sh, S(1, 2, 3, 4, 5)), [Dest("10.0.2.1", 53, IpvsForwardingMethod.Local, 1)]),
            new(new(web, S(123_456_789, 1_500_000_000, 99_999_999, 250_000_000_000_000, 7)),
                [Dest("10.0.1.3", 8080, IpvsForwardingMethod.Masquerade, 100, 12345, 67890, S(5, 6, 7, 8, 9)), Dest("10.0.1.2", 80, IpvsForwardingMethod.Route, 1)]),
        ]);
    }

    [Fact]
    public void List_matches_ipvsadm_Ln()
    {
        var expected =
            "IP Virtual Server version 1.2.1 (size=4096)\n" +
            "Prot LocalAddress:Port Scheduler Flags\n" +
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
            "TCP  10.0.0.1:80 wrr\n" +
            "  -> 10.0.1.2:80                  Route   1      0          0         \n" +
            "  -> 10.0.1.3:8080                Masq    100    12345      67890     \n" +
            "UDP  10.0.0.1:53 sh (sh-fallback,sh-port) persistent 300 mask 255.255.255.0 ops\n" +
            "  -> 10.0.2.1:53                  Local   1      0          0         \n" +
            "TCP  [2001:db8::1]:443 mh (mh-port) persistent 60 mask 64 pe sip\n" +
            "  -> [2001:db8::10]:443           Tunnel  2      0          0         \n" +
            "FWM  3 rr\n" +
            "  -> 10.0.3.1:0                   Masq    0      0          0         \n" +
            "FWM  3 IPv6 lc\n";
        Assert.Equal(expected, IpvsTableFormatter.FormatList(Info, Sample()));
    }

    [Fact]
    public void Stats_match_ipvsadm_Ln_stats_with_abbreviated_large_numbers()
    {
        var expected =
            "IP Virtual Server version 1.2.1 (size=4096)\n" +
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n" +
            "  -> RemoteAddress:Port\n" +
            "TCP  10.0.0.1:80                   123456K    1500M 99999999     250T        7\n" +
            "  -> 10.0.1.2:80                         0        0        0        0        0\n" +
            "  -> 10.0.1.3:8080                       5        6        7        8        9\n" +
            "UDP  10.0.0.1:53                         1        2        3        4        5\n" +
            "  -> 10.0.2.1:53                         0        0        0        0        0\n" +
            "TCP  [2001:db8::1]:443                   0        0        0        0        0\n" +
            "  -> [2001:db8::10]:443                  0        0        0        0        0\n" +
            "FWM  3                                   0        0        0        0        0\n" +
            "  -> 10.0.3.1:0                          0        0        0        0        0\n" +
            "FWM  3 IPv6                              0        0        0        0        0\n";
        Assert.Equal(expected, IpvsTableFormatter.FormatStats(Info, Sample()));
    }

    [Theory]
    [InlineData(99_999_999UL, " 99999999")]
    [InlineData(100_000_000UL, "  100000K")]
    [InlineData(1_000_000_000UL, "     1000M")]
    [InlineData(100_000_000_000UL, "      100G")]
    [InlineData(100_000_000_000_000UL, "      100T")]
    public void Large_numbers_are_abbreviated_like_ipvsadm(ulong n, string text) =>
        Assert.Equal(text.TrimStart().PadLeft(9), IpvsTableFormatter.LargeNumber(n));

    [Fact]
    public void Json_lists_services_in_order_with_destinations_and_optional_stats()
    {
        var json = IpvsTableFormatter.FormatJson(Info, Sample(), includeStats: true);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal("1.2.1", root.GetProperty("version").GetString());
        Assert.Equal(4096, root.GetProperty("connectionTableSize").GetInt32());
        var services = root.GetProperty("services").EnumerateArray().ToList();
        Assert.Equal(5, services.Count);
        Assert.Equal("TCP", services[0].GetProperty("protocol").GetString());
        Assert.Equal(123_456_789UL, services[0].GetProperty("stats").GetProperty("connections").GetUInt64());
        var dests = services[0].GetProperty("destinations").EnumerateArray().ToList();
        Assert.Equal(["10.0.1.2", "10.0.1.3"], dests.Select(d => d.GetProperty("address").GetString()));
        Assert.Equal("Masq", dests[1].GetProperty("forward").GetString());
        Assert.Equal(12345, dests[1].GetProperty("activeConnections").GetInt32());
        Assert.Equal(["persistent", "one-packet", "sh-fallback", "sh-port"], services[1].GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(24, services[1].GetProperty("persistenceNetmask").GetInt32());
        Assert.Equal(3, services[3].GetProperty("fwmark").GetInt32());
        Assert.Equal("inet6", services[4].GetProperty("family").GetString());

        using var noStats = JsonDocument.Parse(IpvsTableFormatter.FormatJson(Info, Sample(), includeStats: false));
        Assert.False(noStats.RootElement.GetProperty("services")[0].TryGetProperty("stats", out _));
    }

    [Fact]
    public async Task Listing_rejects_unknown_arguments_with_usage()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(2, await IpvsListing.RunAsync(["--bogus"], stdout, stderr));
        Assert.Contains("unknown argument '--bogus'", stderr.ToString());
        Assert.Contains(IpvsListing.Usage, stderr.ToString());
    }
}
