using System.Text.Json;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// Accept mode end to end: `lb -P` in a namespace becomes MASTER of an instance that is not the address owner; the
/// namespace's nf_tables ruleset (`nft -j list ruleset`, `nft --debug=netlink list ruleset`: the kernel's own view) and a
/// client in another namespace pinging the VIP and the director's own address are the oracles.
/// </summary>
public sealed class AcceptModeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(Prerequisites.InKernelVm ? 240 : 90);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(Prerequisites.InKernelVm ? 120 : 60);
    private const string Vip = "10.0.0.100";

    private static string Config(int priority, string accept, string globalExtra = "") => $$"""
        global_defs {
            router_id a
            {{globalExtra}}
        }
        vrrp_instance VI_1 {
            state MASTER
            interface eth0
            virtual_router_id 51
            priority {{priority}}
            advert_int 1
            {{accept}}
            virtual_ipaddress {
                {{Vip}}/24 dev eth0
            }
        }
        """;

    /// <summary>The tables of <paramref name="ns"/>'s ruleset as (family, name).</summary>
    private static List<(string Family, string Name)> Tables(NetnsLab lab, string ns) => Ruleset(lab, ns)
        .Where(e => e.TryGetProperty("table", out _))
        .Select(e => (e.GetProperty("table").GetProperty("family").GetString()!, e.GetProperty("table").GetProperty("name").GetString()!))
        .ToList();

    private static List<JsonElement> Ruleset(NetnsLab lab, string ns)
    {
        using var doc = JsonDocument.Parse(lab.Exec(ns, "nft", "-j", "list", "ruleset"));
        return doc.RootElement.GetProperty("nftables").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static bool Pings(NetnsLab lab, string ns, string address) =>
        ProcessRunner.Run("ip", "netns", "exec", ns, "ping", "-n", "-c", "1", "-W", "2", address).ExitCode == 0;

    [RootFact("ip", "nft", "ping")]
    public void A_non_owner_master_with_no_accept_drops_traffic_to_its_VIP_and_removes_the_table_at_stop()
    {
        using var lab = new NetnsLab();
        var a = lab.AddHost("a", "10.0.0.2/24");
        var client = lab.AddHost("c", "10.0.0.9/24");
        var lb = lab.StartLb(a, "lb-a", "-n", "-l", "-P", "-f", lab.WriteFile("a.conf", Config(100, "no_accept", "nftables_counters")));
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, Vip + "/24"), StartBound), "the VIP never appeared");

            // the oracle's view of the ruleset: table ip keepalived, chain in (hook input, priority -1, policy accept),
            // set vips holding the VIP, rule "ip daddr @vips counter drop"; chain out with "ip saddr @vips counter drop"
            var rules = Ruleset(lab, a);
            Assert.Contains(("ip", "keepalived"), Tables(lab, a));
            var chains = rules.Where(e => e.TryGetProperty("chain", out _)).Select(e => e.GetProperty("chain")).Where(c => c.GetProperty("family").GetString() == "ip").ToList();
            var input = Assert.Single(chains, c => c.GetProperty("name").GetString() == "in");
            Assert.Equal(("input", -1, "accept", "filter"), (input.GetProperty("hook").GetString(), input.GetProperty("prio").GetInt32(), input.GetProperty("policy").GetString(), input.GetProperty("type").GetString()));
            var outputChain = Assert.Single(chains, c => c.GetProperty("name").GetString() == "out");
            Assert.Equal("output", outputChain.GetProperty("hook").GetString());
            var set = Assert.Single(rules.Where(e => e.TryGetProperty("set", out _)).Select(e => e.GetProperty("set")), s => s.GetProperty("family").GetString() == "ip");
            Assert.Equal(("vips", "ipv4_addr"), (set.GetProperty("name").GetString(), set.GetProperty("type").GetString()));
            Assert.Equal([Vip], set.GetProperty("elem").EnumerateArray().Select(e => e.GetString() ?? "").ToArray());
            var listing = lab.Exec(a, "nft", "list", "table", "ip", "keepalived");
            Assert.Contains("ip daddr @vips counter packets", listing, StringComparison.Ordinal);
            Assert.Contains("ip saddr @vips counter packets", listing, StringComparison.Ordinal);
            // the kernel's expressions, as nft decodes them
            var debug = lab.Exec(a, "nft", "--debug=netlink", "list", "table", "ip", "keepalived");
            Assert.Contains("[ payload load 4b @ network header + 16 => reg 1 ]\n  [ lookup reg 1 set vips 0x0 ]\n  [ counter pkts", debug, StringComparison.Ordinal);

            // traffic to the director's own address passes; to the VIP it is dropped (and counted)
            Assert.True(Pings(lab, client, "10.0.0.2"), "the director's own address does not answer");
            Assert.False(Pings(lab, client, Vip), "the VIP answered a ping although the MASTER does not accept");
            Assert.Matches(@"ip daddr @vips counter packets [1-9]", lab.Exec(a, "nft", "list", "chain", "ip", "keepalived", "in"));

            lb.Signal("TERM");
            Assert.True(lb.WaitForExit(Bound), "lb did not stop on SIGTERM");
            Assert.DoesNotContain(Tables(lab, a), t => t.Name == "keepalived");
            Assert.False(lab.HasAddress(a, Vip + "/24"));
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }

    [RootTheory("ip", "nft", "ping")]
    [InlineData(100, "accept")]
    [InlineData(255, "no_accept")]
    [InlineData(100, "")]
    public void An_accepting_master_or_the_address_owner_adds_no_drop_rule(int priority, string accept)
    {
        using var lab = new NetnsLab();
        var a = lab.AddHost("a", "10.0.0.2/24");
        var client = lab.AddHost("c", "10.0.0.9/24");
        var lb = lab.StartLb(a, "lb-a", "-n", "-l", "-P", "-f", lab.WriteFile("a.conf", Config(priority, accept)));
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, Vip + "/24"), StartBound), "the VIP never appeared");
            Assert.True(Pings(lab, client, Vip), "the VIP does not answer although the MASTER accepts");
            Assert.DoesNotContain(Tables(lab, a), t => t.Name == "keepalived");
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }

    [RootFact("ip", "nft", "ping")]
    public void Vrrp_strict_defaults_to_no_accept_and_a_named_table_with_its_priority_is_used()
    {
        using var lab = new NetnsLab();
        var a = lab.AddHost("a", "10.0.0.2/24");
        var client = lab.AddHost("c", "10.0.0.9/24");
        var lb = lab.StartLb(a, "lb-a", "-n", "-l", "-P", "-f", lab.WriteFile("a.conf",
            Config(100, "", "vrrp_strict\n nftables lbtest\n nftables_priority -7").Replace("state MASTER", "state BACKUP", StringComparison.Ordinal)));
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, Vip + "/24"), StartBound), "the VIP never appeared");
            Assert.Contains(("ip", "lbtest"), Tables(lab, a));
            Assert.Contains("priority filter - 7;", lab.Exec(a, "nft", "list", "chain", "ip", "lbtest", "in"), StringComparison.Ordinal);
            Assert.False(Pings(lab, client, Vip), "the VIP answered a ping although vrrp_strict implies no_accept");
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }
}
