using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Lb.Netlink.Route;
using Lb.TestSupport;
using Xunit;

namespace Lb.Netlink.Tests.Route;

/// <summary>
/// Routes and rules against the real kernel in a fresh namespace: what Lb's client adds is what <c>ip -j route</c> /
/// <c>ip -j rule</c> show, Lb's dump reads back what <c>ip</c> added, and a deletion by <c>ip</c> arrives as an event.
/// </summary>
public class RtnetlinkRouteNamespaceTests
{
    private static JsonElement[] Json(string text) => JsonDocument.Parse(text).RootElement.EnumerateArray().ToArray();

    private static NetnsFixture Up()
    {
        var ns = new NetnsFixture();
        ns.Ip("link", "set", "va", "up");
        ns.Ip("link", "set", "vb", "up");
        ns.Ip("addr", "add", "10.0.0.2/24", "dev", "va");
        ns.Ip("addr", "add", "10.0.1.2/24", "dev", "vb");
        return ns;
    }

    [RootFact("ip")]
    public async Task Routes_added_by_lb_are_what_ip_route_shows_and_deleting_them_removes_them()
    {
        using var ns = Up();
        using var client = ns.OpenClient();
        var va = await client.GetIndexAsync("va");
        var vb = await client.GetIndexAsync("vb");
        var via = new RouteEntry { Destination = IPAddress.Parse("192.168.50.0"), DestinationLength = 24, Gateway = IPAddress.Parse("10.0.0.1"), OutputInterface = va, Priority = 7, Protocol = 18, PreferredSource = IPAddress.Parse("10.0.0.2") };
        var table = new RouteEntry { Destination = IPAddress.Parse("192.168.51.0"), DestinationLength = 24, OutputInterface = vb, Table = 1000, Protocol = 18, Metrics = [new RouteMetric(2, 1300)] };
        var blackhole = new RouteEntry { Destination = IPAddress.Parse("192.168.52.0"), DestinationLength = 24, Type = RtnetlinkRouteConstants.RTN_BLACKHOLE, Protocol = 18 };
        var multi = new RouteEntry
        {
            Destination = IPAddress.Parse("192.168.53.0"), DestinationLength = 24, Protocol = 18,
            NextHops = [new RouteNextHopEntry { Gateway = IPAddress.Parse("10.0.0.1"), InterfaceIndex = va, Hops = 1 }, new RouteNextHopEntry { Gateway = IPAddress.Parse("10.0.1.1"), InterfaceIndex = vb, Hops = 2 }],
        };
        foreach (var r in new[] { via, table, blackhole, multi })
            Assert.True(await client.AddRouteAsync(r));
        Assert.False(await client.AddRouteAsync(via)); // identical: EEXIST, reported as "already there"

        var shown = Json(ns.Ip("-j", "route", "show", "table", "all")).Where(e => e.GetProperty("dst").GetString()!.StartsWith("192.168.5", StringComparison.Ordinal)).ToDictionary(e => e.GetProperty("dst").GetString()!);
        Assert.Equal(4, shown.Count);
        var v = shown["192.168.50.0/24"];
        Assert.Equal("10.0.0.1", v.GetProperty("gateway").GetString());
        Assert.Equal("va", v.GetProperty("dev").GetString());
        Assert.Equal(7, v.GetProperty("metric").GetInt32());
        Assert.Equal("keepalived", v.GetProperty("protocol").GetString());
        Assert.Equal("10.0.0.2", v.GetProperty("prefsrc").GetString());
        var t = shown["192.168.51.0/24"];
        Assert.Equal("1000", t.GetProperty("table").ToString());
        Assert.Equal(1300, t.GetProperty("metrics")[0].GetProperty("mtu").GetInt32());
        Assert.Equal("blackhole", shown["192.168.52.0/24"].GetProperty("type").GetString());
        var hops = shown["192.168.53.0/24"].GetProperty("nexthops").EnumerateArray().ToArray();
        Assert.Equal(["10.0.0.1 va 2", "10.0.1.1 vb 3"], hops.Select(h => $"{h.GetProperty("gateway").GetString()} {h.GetProperty("dev").GetString()} {h.GetProperty("weight").GetInt32()}"));

        // Lb's own dump reads them back as they were added
        var dumped = (await client.GetRoutesAsync(AddressFamily.InterNetwork)).Where(r => r.Protocol == 18).ToList();
        Assert.Equal(4, dumped.Count);
        var multiBack = dumped.Single(r => r.DestinationText == "192.168.53.0/24");
        Assert.Equal(multi.NextHops.Select(h => (h.Gateway, h.InterfaceIndex, h.Hops)), multiBack.NextHops.Select(h => (h.Gateway, h.InterfaceIndex, h.Hops)));

        foreach (var r in new[] { via, table, blackhole with { Scope = 255 }, multi })
            Assert.True(await client.DeleteRouteAsync(r));
        Assert.False(await client.DeleteRouteAsync(via)); // gone: ESRCH, reported as "not there"
        Assert.DoesNotContain("192.168.5", ns.Ip("route", "show", "table", "all"));
    }

    [RootFact("ip")]
    public async Task Rules_added_by_lb_are_what_ip_rule_shows_and_a_route_read_from_ip_deletes_it()
    {
        using var ns = Up();
        using var client = ns.OpenClient();
        var rule = new RuleEntry { Source = IPAddress.Parse("10.0.0.0"), SourceLength = 24, Destination = IPAddress.Parse("172.16.0.0"), DestinationLength = 12, Table = 100, Priority = 200, Protocol = 18 };
        var mark = new RuleEntry { FwMark = 0x20, FwMask = 0xff, InputInterface = "va", Table = 1000, Priority = 201, Protocol = 18 };
        Assert.True(await client.AddRuleAsync(rule));
        Assert.True(await client.AddRuleAsync(mark));
        Assert.False(await client.AddRuleAsync(rule));
        var rules = Json(ns.Ip("-j", "rule", "show")).ToDictionary(e => e.GetProperty("priority").GetInt32());
        Assert.Equal("10.0.0.0", rules[200].GetProperty("src").GetString());
        Assert.Equal(24, rules[200].GetProperty("srclen").GetInt32());
        Assert.Equal("172.16.0.0", rules[200].GetProperty("dst").GetString());
        Assert.Equal("100", rules[200].GetProperty("table").GetString());
        Assert.Equal("0x20", rules[201].GetProperty("fwmark").GetString());
        Assert.Equal("0xff", rules[201].GetProperty("fwmask").GetString());
        Assert.Equal("va", rules[201].GetProperty("iif").GetString());
        Assert.Equal("1000", rules[201].GetProperty("table").GetString());
        var back = (await client.GetRulesAsync(AddressFamily.InterNetwork)).Single(r => r.Priority == 201);
        // the kernel's dump adds what it defaults (FRA_SUPPRESS_PREFIXLEN -1, …): compare what was written
        Assert.Equal((mark.FwMark, mark.FwMask, mark.InputInterface, mark.Table, mark.Protocol, mark.Action, mark.Source), (back.FwMark, back.FwMask, back.InputInterface, back.Table, back.Protocol, back.Action, back.Source));
        Assert.True(await client.DeleteRuleAsync(rule));
        Assert.True(await client.DeleteRuleAsync(mark));
        Assert.False(await client.DeleteRuleAsync(mark));
        Assert.DoesNotContain("lookup 100", ns.Ip("rule", "show"));

        // a route added by ip, read by Lb's dump and deleted with what was read
        ns.Ip("route", "add", "192.168.60.0/24", "via", "10.0.1.1", "dev", "vb", "table", "7", "metric", "9", "proto", "static");
        var fromIp = (await client.GetRoutesAsync(AddressFamily.InterNetwork)).Single(r => r.DestinationText == "192.168.60.0/24");
        Assert.Equal((7u, 9u, (byte)4, IPAddress.Parse("10.0.1.1")), (fromIp.Table, fromIp.Priority!.Value, fromIp.Protocol, fromIp.Gateway!));
        Assert.True(await client.DeleteRouteAsync(fromIp));
        Assert.DoesNotContain("192.168.60.0", ns.Ip("route", "show", "table", "7"));
    }

    [RootFact("ip")]
    public async Task A_route_or_rule_deleted_by_ip_arrives_as_an_event()
    {
        using var ns = Up();
        using var monitor = ns.OpenMonitor(RtnetlinkSubscriptions.Routes | RtnetlinkSubscriptions.Rules);
        ns.Ip("route", "add", "192.168.70.0/24", "dev", "va", "proto", "keepalived", "table", "5");
        ns.Ip("rule", "add", "from", "10.7.0.0/16", "table", "5", "priority", "77");
        ns.Ip("route", "del", "192.168.70.0/24", "dev", "va", "table", "5");
        ns.Ip("rule", "del", "priority", "77");
        var seen = new List<RtnetlinkEvent>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!seen.OfType<RuleEvent>().Any(e => e.Removed))
            seen.AddRange(await monitor.ReceiveAsync(cts.Token));
        var routes = seen.OfType<RouteEvent>().Where(e => e.Route.DestinationText == "192.168.70.0/24").ToList();
        Assert.Equal([false, true], routes.Select(e => e.Removed));
        Assert.All(routes, e => Assert.Equal((5u, (byte)18), (e.Route.Table, e.Route.Protocol)));
        var rules = seen.OfType<RuleEvent>().Where(e => e.Rule.Priority == 77).ToList();
        Assert.Equal([false, true], rules.Select(e => e.Removed));
        Assert.Equal(IPAddress.Parse("10.7.0.0"), rules[0].Rule.Source);
    }
}
