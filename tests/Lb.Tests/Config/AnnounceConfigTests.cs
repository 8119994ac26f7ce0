using System.Net;
using Lb.Config;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// Lb's announce extension (<c>#lb: announce [ADDRESS...]</c> in a virtual_server, <c>#lb: announce_table N</c> in
/// global_defs) as the loader reads it: what is announced, the errors (file:line, nothing announced from a bad line) and
/// the <c>lb -t</c> warnings about settings under which announcing does not do what an operator wants. That keepalived
/// still accepts such a file is shown by EcmpExamplesTests (keepalived -t on the example).
/// </summary>
public sealed class AnnounceConfigTests
{
    private static LoadedConfig Load(string virtualServers, string global = "") =>
        ConfigLoader.LoadText("global_defs {\n  router_id d1\n" + global + "}\n" + virtualServers, "aa.conf");

    /// <summary>A virtual server whose 8th line of the file (after global_defs) is <paramref name="announce"/>; its real server has its port (an fwmark one: no protocol, no port).</summary>
    private static string Vs(string head, string body = "", string announce = "#lb: announce")
    {
        var fwmark = head.StartsWith("fwmark", StringComparison.Ordinal);
        return $$"""
        virtual_server {{head}} {
            lb_algo mh
            lb_kind DR
            {{(fwmark ? "" : "protocol TCP")}}
            {{announce}}
        {{body}}
            real_server 192.0.2.21 {{(fwmark ? "" : head.Split(' ')[^1])}} {
                TCP_CHECK {
                    connect_timeout 2
                }
            }
        }

        """;
    }

    private static string[] Warnings(LoadedConfig r) => [.. r.Diagnostics.Where(d => d.Severity == Severity.Warning).Select(d => $"{d.Location.Line}: {d.Message}")];

    private static string[] Errors(LoadedConfig r) => [.. r.Diagnostics.Where(d => d.Severity == Severity.Error).Select(d => $"{d.Location.Line}: {d.Message}")];

    [Fact]
    public void Without_an_address_the_virtual_servers_own_is_announced_in_table_200()
    {
        var r = Load(Vs("198.51.100.10 80") + Vs("198.51.100.10 443"));
        Assert.Empty(r.Diagnostics);
        Assert.Equal(200u, r.Options.Announce.Table);
        var vip = Assert.Single(r.Options.Announce.Vips);
        Assert.Equal(IPAddress.Parse("198.51.100.10"), vip.Address);
        Assert.Equal(["198.51.100.10:80", "198.51.100.10:443"], vip.VirtualServers.Select(v => v.Display));
    }

    [Fact]
    public void Named_addresses_and_the_table_are_taken()
    {
        var r = Load(Vs("fwmark 7", announce: "#lb: announce 198.51.100.10 2001:db8::10"), "  #lb: announce_table 201\n");
        Assert.Empty(Errors(r));
        Assert.Equal(201u, r.Options.Announce.Table);
        Assert.Equal(["198.51.100.10", "2001:db8::10"], r.Options.Announce.Vips.Select(v => v.Address.ToString()));
        Assert.All(r.Options.Announce.Vips, v => Assert.Equal("fwmark 7", Assert.Single(v.VirtualServers).Display));
    }

    [Fact]
    public void Without_the_line_nothing_is_announced()
    {
        var r = Load(Vs("198.51.100.10 80", announce: ""));
        Assert.Empty(r.Diagnostics);
        Assert.Empty(r.Options.Announce.Vips);
    }

    [Theory]
    [InlineData("fwmark 7", "#lb: announce", "needs the address(es) to announce")]
    [InlineData("198.51.100.10 80", "#lb: announce 198.51.100.0/24", "invalid IP address '198.51.100.0/24'")]
    [InlineData("198.51.100.10 80", "#lb: announce vip.example", "invalid IP address 'vip.example'")]
    [InlineData("198.51.100.10 80", "#lb: announce 224.0.0.18", "224.0.0.18 cannot be announced")]
    [InlineData("198.51.100.10 80", "#lb: announce 127.0.0.1", "127.0.0.1 cannot be announced")]
    public void A_bad_announce_line_is_an_error_at_its_line_and_announces_nothing_of_it(string head, string line, string message)
    {
        var r = Load(Vs(head, announce: line));
        var e = Assert.Single(Errors(r));
        Assert.StartsWith("8: ", e, StringComparison.Ordinal); // global_defs is lines 1-3, the announce line the 8th
        Assert.Contains(message, e, StringComparison.Ordinal);
        Assert.Empty(r.Options.Announce.Vips);
        Assert.NotEqual(0, r.ExitCode);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("253")]
    [InlineData("main")]
    public void A_table_outside_1_to_252_is_an_error(string table)
    {
        var r = Load(Vs("198.51.100.10 80"), $"  #lb: announce_table {table}\n");
        var e = Assert.Single(Errors(r));
        Assert.StartsWith("3: ", e, StringComparison.Ordinal);
        Assert.NotEqual(0, r.ExitCode);
    }

    [Theory]
    [InlineData("lb_algo rr", "", "announced with lb_algo rr: flows do not survive a director change")]
    [InlineData("lb_kind NAT", "", "announced with lb_kind NAT")]
    [InlineData("", "    ha_suspend", "announced with ha_suspend: its checks pause until the VIP is an address")]
    public void Settings_under_which_announcing_misleads_are_warned_about_at_the_announce_line(string replace, string extra, string message)
    {
        var text = Vs("198.51.100.10 80", extra);
        if (replace.Length > 0)
            text = text.Replace(replace.StartsWith("lb_algo", StringComparison.Ordinal) ? "lb_algo mh" : "lb_kind DR", replace, StringComparison.Ordinal);
        var r = Load(text);
        var w = Assert.Single(Warnings(r));
        Assert.StartsWith("8: ", w, StringComparison.Ordinal);
        Assert.Contains(message, w, StringComparison.Ordinal);
        Assert.Single(r.Options.Announce.Vips); // a warning: still announced as configured
    }
}
