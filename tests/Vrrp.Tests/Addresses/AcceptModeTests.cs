using System.Net;
using Lb.Netlink;
using Lb.Netlink.Namespaces;
using Lb.Netlink.Nftables;
using Lb.TestSupport;
using Lb.Vrrp.Addresses;
using Lb.Vrrp.Options;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Lb.Vrrp.Tests.Addresses;

public class AcceptModeTests
{
    private static readonly VrrpSubsystemOptions Globals = new();

    private static VrrpInstanceOptions Instance(int priority, bool? accept, bool? strict = null) =>
        new() { Name = "VI_1", VirtualRouterId = 1, Priority = priority, Accept = accept, StrictMode = strict };

    [Theory]
    [InlineData(100, false, null, true)]   // no_accept
    [InlineData(100, true, null, false)]   // accept
    [InlineData(100, null, null, false)]   // keepalived's default: accept
    [InlineData(100, null, true, true)]    // strict mode: no_accept unless said otherwise
    [InlineData(100, true, true, false)]   // strict mode with accept (VRRPv3; the v2 case is reset by the config checks)
    [InlineData(255, false, null, false)]  // the address owner always accepts
    [InlineData(255, null, true, false)]
    public void Drop_rules_are_for_non_owners_that_do_not_accept(int priority, bool? accept, bool? strict, bool drops) =>
        Assert.Equal(drops, AcceptModeFirewall.Drops(Instance(priority, accept, strict), Globals));

    [Fact]
    public void Global_vrrp_strict_turns_the_default_to_no_accept() =>
        Assert.True(AcceptModeFirewall.Drops(Instance(100, null), Globals with { Strict = true }));

    private sealed class Recorder
    {
        public List<List<NetlinkRequest>> Commits { get; } = new();
        public int FailNext { get; set; }

        public Task Commit(IReadOnlyList<NetlinkRequest> requests, CancellationToken ct)
        {
            if (FailNext > 0)
            {
                FailNext--;
                throw new NetlinkException(requests[0].Description, Errno.EPERM);
            }
            Commits.Add(requests.ToList());
            return Task.CompletedTask;
        }

        public List<string> Last => Commits[^1].Select(r => r.Description).ToList();
    }

    private static (IPAddress, int) A(string address, int index = 0) => (IPAddress.Parse(address), index);

    [Fact]
    public async Task The_table_is_made_with_the_first_address_elements_are_shared_and_the_table_goes_at_stop()
    {
        var rec = new Recorder();
        using var fw = new AcceptModeFirewall(() => Globals, rec.Commit, NullLogger.Instance);

        await fw.AddAsync("VI_1", [A("10.0.0.1"), A("10.0.0.2")], default);
        Assert.Equal(
            ["add nftables table ip keepalived", "delete nftables table ip keepalived", "add nftables table ip keepalived",
             "add nftables chain ip keepalived in", "add nftables chain ip keepalived out", "add nftables set ip keepalived vips",
             "add nftables rule ip keepalived in ip daddr @vips drop", "add nftables rule ip keepalived out ip saddr @vips drop",
             "add elements 10.0.0.1, 10.0.0.2 to nftables set ip keepalived vips"],
            rec.Last);

        // the same addresses again: nothing; another instance holding one of them: nothing (one element)
        await fw.AddAsync("VI_1", [A("10.0.0.1")], default);
        await fw.AddAsync("VI_2", [A("10.0.0.2"), A("10.0.0.3")], default);
        Assert.Equal(["add element 10.0.0.3 to nftables set ip keepalived vips"], rec.Last);

        // VI_1 leaves: 10.0.0.2 stays for VI_2
        await fw.RemoveAsync("VI_1", [IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2")], default);
        Assert.Equal(["delete element 10.0.0.1 from nftables set ip keepalived vips"], rec.Last);
        await fw.RemoveAsync("VI_2", [IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.3")], default);
        Assert.Equal(["delete elements 10.0.0.2, 10.0.0.3 from nftables set ip keepalived vips"], rec.Last);

        // an IPv6 address makes the ip6 table; stop deletes both
        await fw.AddAsync("VI_1", [A("2001:db8::1"), A("fe80::1", 7)], default);
        Assert.Equal("add nftables table ip6 keepalived", rec.Last[0]);
        Assert.Contains("add element 2001:db8::1 to nftables set ip6 keepalived vips", rec.Last);
        Assert.Contains("add element fe80::1 . ifindex 7 to nftables set ip6 keepalived vips_link_local", rec.Last);
        await fw.StopAsync(default);
        Assert.Equal(["delete nftables table ip keepalived", "delete nftables table ip6 keepalived"], rec.Last.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task A_refused_first_commit_is_retried_with_the_table_at_the_next_add_and_options_name_the_table()
    {
        var rec = new Recorder { FailNext = 1 };
        var options = Globals with { NftablesTable = "lbt", NftablesPriority = -7, NftablesCounters = true };
        using var fw = new AcceptModeFirewall(() => options, rec.Commit, NullLogger.Instance);
        await fw.AddAsync("VI_1", [A("10.0.0.1")], default);
        Assert.Empty(rec.Commits);
        await fw.AddAsync("VI_1", [A("10.0.0.1")], default);
        Assert.Contains("add nftables table ip lbt", rec.Last);
        Assert.Contains("add nftables rule ip lbt in ip daddr @vips counter drop", rec.Last);
        Assert.Contains("add element 10.0.0.1 to nftables set ip lbt vips", rec.Last);
        await fw.StopAsync(default);
        Assert.Equal(["delete nftables table ip lbt"], rec.Last);
        await fw.StopAsync(default);
        Assert.Equal(2, rec.Commits.Count); // the creation and the deletion (the refused one is not recorded): nothing to delete the second time
    }

    /// <summary>The whole IPv6 ruleset committed by Lb's client in a scratch namespace, read back by nft (the oracle).</summary>
    [RootFact("ip", "nft")]
    public async Task The_ipv6_ruleset_with_neighbour_discovery_and_link_local_rules_is_what_keepalived_installs()
    {
        using var lab = new NetnsLab(LabWire.Veth);
        var ns = lab.AddNamespace("nft");
        var table = new AcceptModeTable("keepalived", -1, false);
        using var client = NetworkNamespace.Run(ns, () => NftablesClient.Open());
        var requests = AcceptModeRules.CreateTable(table, NftFamily.Ip6).ToList();
        requests.Add(NftablesMessages.NewSetElements(AcceptModeRules.SetFor(table, IPAddress.Parse("2001:db8::10")), [AcceptModeRules.ElementFor(IPAddress.Parse("2001:db8::10"), 0)]));
        requests.Add(NftablesMessages.NewSetElements(AcceptModeRules.SetFor(table, IPAddress.Parse("fe80::10")), [AcceptModeRules.ElementFor(IPAddress.Parse("fe80::10"), 1)]));
        await client.CommitAsync(requests);

        var listing = lab.Exec(ns, "nft", "list", "table", "ip6", "keepalived");
        foreach (var expected in new[]
        {
            "type filter hook input priority filter - 1; policy accept;",
            "type filter hook output priority filter - 1; policy accept;",
            "icmpv6 type @neighbor-discovery accept",
            "type icmpv6_type\n\t\tflags constant\n\t\telements = { nd-neighbor-solicit,\n\t\t\t     nd-neighbor-advert }",
            "type ipv6_addr . iface_index",
            "ip6 daddr fe80::/10 goto in_link_local",
            "ip6 saddr fe80::/10 goto out_link_local",
            "ip6 daddr @vips drop",
            "ip6 saddr @vips drop",
            "ip6 daddr . iif @vips_link_local drop",
            "ip6 saddr . oif @vips_link_local drop",
            "elements = { 2001:db8::10 }",
            "elements = { fe80::10 . \"lo\" }",
        })
            Assert.True(listing.Contains(expected, StringComparison.Ordinal), $"'{expected}' is not in:\n{listing}");

        // created afresh: a second creation replaces the table (the old elements are gone), and a bad request aborts all
        await client.CommitAsync(AcceptModeRules.CreateTable(table, NftFamily.Ip6));
        Assert.DoesNotContain("2001:db8::10", lab.Exec(ns, "nft", "list", "table", "ip6", "keepalived"), StringComparison.Ordinal);
        var refused = await Assert.ThrowsAsync<NetlinkException>(() => client.CommitAsync(
            [NftablesMessages.NewTable(NftFamily.Ip, "other"), NftablesMessages.DeleteSetElements(AcceptModeRules.SetFor(table, IPAddress.Parse("2001:db8::99")), [AcceptModeRules.ElementFor(IPAddress.Parse("2001:db8::99"), 0)])]));
        Assert.Equal(Errno.ENOENT, refused.Errno);
        Assert.Contains("delete element 2001:db8::99 from nftables set ip6 keepalived vips", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("table ip other", lab.Exec(ns, "nft", "list", "tables"), StringComparison.Ordinal);
        Assert.True(await client.DeleteTableAsync(NftFamily.Ip6, "keepalived"));
        Assert.False(await client.DeleteTableAsync(NftFamily.Ip6, "keepalived"));
        Assert.DoesNotContain("keepalived", lab.Exec(ns, "nft", "list", "tables"), StringComparison.Ordinal);
    }
}
