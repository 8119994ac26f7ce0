using System.Net;
using System.Net.Sockets;
using Lb.Netlink.Namespaces;
using Lb.Netlink.Route;
using Lb.TestSupport;
using Xunit;

namespace Lb.Netlink.Tests.Route;

/// <summary>
/// rtnetlink against the real kernel inside a fresh network namespace (root). Every change made with
/// Lb's client is checked with Lb's own dump and with <c>ip -o</c> as an independent oracle.
/// </summary>
public class RtnetlinkNamespaceTests
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(15);

    [RootFact("ip")]
    public async Task Lists_links_with_the_same_index_name_mac_and_mtu_as_ip()
    {
        using var ns = new NetnsFixture();
        ns.Ip("link", "set", "va", "mtu", "1400");
        using var client = ns.OpenClient();
        var links = await client.GetLinksAsync();
        Assert.Equal(["lo", "va", "vb"], links.Select(l => l.Name).Order());
        foreach (var line in ns.Ip("-o", "link", "show").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "3: va@vb: <BROADCAST,MULTICAST,M-DOWN> mtu 1400 qdisc noop state DOWN ... link/ether 4a:..:.. brd ff:..."
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var index = int.Parse(parts[0].TrimEnd(':'), System.Globalization.CultureInfo.InvariantCulture);
            var name = parts[1].TrimEnd(':').Split('@')[0];
            var link = Assert.Single(links, l => l.Index == index);
            Assert.Equal(name, link.Name);
            Assert.Equal(int.Parse(parts[Array.IndexOf(parts, "mtu") + 1], System.Globalization.CultureInfo.InvariantCulture), link.Mtu);
            var etherAt = Array.IndexOf(parts, "link/ether");
            if (etherAt >= 0)
                Assert.Equal(parts[etherAt + 1].Replace(":", "", StringComparison.Ordinal).ToUpperInvariant(), link.HardwareAddress!.ToString());
        }
        Assert.Equal(1400, links.Single(l => l.Name == "va").Mtu);
        Assert.True((links.Single(l => l.Name == "lo").Flags & LinkFlags.Loopback) != 0);
        Assert.Equal(await client.GetIndexAsync("vb"), links.Single(l => l.Name == "vb").Index);
        var e = await Assert.ThrowsAsync<NetlinkException>(() => client.GetIndexAsync("nosuch0"));
        Assert.Equal("ENODEV", e.ErrnoName);
        Assert.Contains("nosuch0", e.Message);
    }

    [RootFact("ip")]
    public async Task Sets_links_up_and_down_as_ip_sees_them()
    {
        using var ns = new NetnsFixture();
        using var client = ns.OpenClient();
        await client.SetLinkUpAsync("va", true);
        await client.SetLinkUpAsync("vb", true);
        Assert.Contains("<BROADCAST,MULTICAST,UP", ns.Ip("-o", "link", "show", "va"));
        var va = (await client.GetLinkAsync("va"))!;
        Assert.True(va.IsUp);

        await client.SetLinkUpAsync(va.Index, false);
        Assert.DoesNotContain(",UP", ns.Ip("-o", "link", "show", "va"));
        Assert.False((await client.GetLinkAsync("va"))!.IsUp);
        // vb lost its carrier when va went down.
        var vb = (await client.GetLinkAsync("vb"))!;
        Assert.True(vb.IsUp);
        Assert.False((vb.Flags & LinkFlags.LowerUp) != 0);
        Assert.Equal(LinkOperationalState.LowerLayerDown, vb.OperationalState);
    }

    [RootFact("ip")]
    public async Task Adds_and_deletes_ipv4_addresses_with_broadcast_label_scope_and_peer()
    {
        using var ns = new NetnsFixture();
        using var client = ns.OpenClient();
        var va = await client.GetIndexAsync("va");
        var vip = new InterfaceAddress(va, IPAddress.Parse("10.1.2.3"), 24)
        {
            Broadcast = IPAddress.Parse("10.1.2.255"),
            Label = "va:vip",
            Scope = AddressScope.Universe,
        };
        var p2p = new InterfaceAddress(va, IPAddress.Parse("10.9.0.1"), 32) { Peer = IPAddress.Parse("10.9.0.2"), Scope = AddressScope.Link };
        await client.AddAddressAsync(vip);
        await client.AddAddressAsync(p2p);

        var ipView = ns.Ip("-o", "-4", "addr", "show", "dev", "va");
        Assert.Contains("inet 10.1.2.3/24 brd 10.1.2.255 scope global va:vip", ipView);
        Assert.Contains("inet 10.9.0.1 peer 10.9.0.2/32 scope link va", ipView);

        var mine = await client.GetAddressesAsync(va, AddressFamily.InterNetwork);
        var got = Assert.Single(mine, a => a.Address.Equals(vip.Address));
        Assert.Equal((24, "va:vip", AddressScope.Universe), (got.PrefixLength, got.Label, got.Scope));
        Assert.Equal(vip.Broadcast, got.Broadcast);
        Assert.Null(got.Peer);
        var gotPeer = Assert.Single(mine, a => a.Address.Equals(p2p.Address));
        Assert.Equal(p2p.Peer, gotPeer.Peer);
        Assert.Equal(AddressScope.Link, gotPeer.Scope);

        // Adding it again is EEXIST, named; EnsureAddress treats it as a state.
        var e = await Assert.ThrowsAsync<NetlinkException>(() => client.AddAddressAsync(vip));
        Assert.Equal("EEXIST", e.ErrnoName);
        Assert.Contains("10.1.2.3/24", e.Message);
        Assert.False(await client.EnsureAddressAsync(vip));

        await client.DeleteAddressAsync(vip);
        Assert.True(await client.RemoveAddressAsync(p2p));
        Assert.False(await client.RemoveAddressAsync(p2p));
        Assert.DoesNotContain("inet ", ns.Ip("-o", "-4", "addr", "show", "dev", "va"));
        Assert.Empty(await client.GetAddressesAsync(va, AddressFamily.InterNetwork));
    }

    [RootFact("ip")]
    public async Task Adds_ipv6_addresses_with_nodad_so_they_are_never_tentative()
    {
        using var ns = new NetnsFixture();
        using var client = ns.OpenClient();
        await client.SetLinkUpAsync("va", true);
        await client.SetLinkUpAsync("vb", true);
        var va = await client.GetIndexAsync("va");
        var vip = new InterfaceAddress(va, IPAddress.Parse("2001:db8::5"), 64) { Flags = AddressFlags.NoDad };
        await client.AddAddressAsync(vip);

        var ipView = ns.Ip("-o", "-6", "addr", "show", "dev", "va");
        Assert.Contains("inet6 2001:db8::5/64 scope global nodad", ipView);
        Assert.DoesNotContain("tentative", ipView.Split('\n').Single(l => l.Contains("2001:db8::5", StringComparison.Ordinal)));
        var got = Assert.Single(await client.GetAddressesAsync(va, AddressFamily.InterNetworkV6), a => a.Address.Equals(vip.Address));
        Assert.True((got.Flags & AddressFlags.NoDad) != 0);
        Assert.False((got.Flags & AddressFlags.Tentative) != 0);
        Assert.Equal(64, got.PrefixLength);

        await client.DeleteAddressAsync(vip);
        Assert.DoesNotContain("2001:db8::5", ns.Ip("-o", "-6", "addr", "show", "dev", "va"));
    }

    [RootFact("ip")]
    public async Task Link_and_address_events_arrive_as_an_async_stream()
    {
        using var ns = new NetnsFixture();
        using var monitor = ns.OpenMonitor();
        using var client = ns.OpenClient();
        using var cts = new CancellationTokenSource(EventTimeout);
        var events = monitor.ReadEventsAsync(cts.Token).GetAsyncEnumerator(cts.Token);

        async Task<T> Next<T>(Func<T, bool> match) where T : RtnetlinkEvent
        {
            while (await events.MoveNextAsync())
            {
                if (events.Current is T t && match(t))
                    return t;
            }
            throw new TimeoutException($"no {typeof(T).Name} within {EventTimeout}");
        }

        await client.SetLinkUpAsync("va", true);
        var up = await Next<LinkEvent>(e => e.Link.Name == "va" && e.Link.IsUp);
        Assert.False(up.Removed);

        ns.Ip("addr", "add", "10.7.7.7/24", "dev", "va");     // made by someone else: we still see it
        var added = await Next<AddressEvent>(e => e.Address.Address.Equals(IPAddress.Parse("10.7.7.7")));
        Assert.False(added.Removed);
        Assert.Equal(24, added.Address.PrefixLength);

        var va = await client.GetIndexAsync("va");
        await client.AddAddressAsync(new InterfaceAddress(va, IPAddress.Parse("2001:db8::7"), 64) { Flags = AddressFlags.NoDad });
        await Next<AddressEvent>(e => e.Address.Address.Equals(IPAddress.Parse("2001:db8::7")) && !e.Removed);

        await client.DeleteAddressAsync(new InterfaceAddress(va, IPAddress.Parse("10.7.7.7"), 24));
        await Next<AddressEvent>(e => e.Address.Address.Equals(IPAddress.Parse("10.7.7.7")) && e.Removed);

        ns.Ip("link", "set", "va", "down");
        await Next<LinkEvent>(e => e.Link.Name == "va" && !e.Link.IsUp);

        ns.Ip("link", "del", "va");
        await Next<LinkEvent>(e => e.Link.Name == "va" && e.Removed);
        await events.DisposeAsync();
    }

    [RootFact("ip")]
    public async Task Without_cap_net_admin_a_change_fails_with_EPERM_saying_so()
    {
        using var ns = new NetnsFixture();
        using var client = NetworkNamespace.RunWithoutCapabilities(ns.Name, () => RtnetlinkClient.Open());
        // Reading needs no privilege.
        var va = Assert.Single(await client.GetLinksAsync(), l => l.Name == "va");
        var e = await Assert.ThrowsAsync<NetlinkException>(() => client.AddAddressAsync(new InterfaceAddress(va.Index, IPAddress.Parse("10.3.3.3"), 24)));
        Assert.Equal("EPERM", e.ErrnoName);
        Assert.Contains("add address 10.3.3.3/24", e.Message);
        Assert.Contains("needs CAP_NET_ADMIN", e.Message);
        Assert.DoesNotContain("10.3.3.3", ns.Ip("-o", "addr", "show", "dev", "va"));
    }

    [RootFact("ip")]
    public async Task Batched_changes_get_one_ack_each_across_several_datagrams_with_per_request_errors()
    {
        using var ns = new NetnsFixture();
        // Small batches force many datagrams; each request still gets exactly its own ACK.
        using var client = ns.OpenClient(new NetlinkSocketOptions { MaxBatchRequests = 7, MaxBatchBytes = 4096 });
        var va = await client.GetIndexAsync("va");
        var addresses = Enumerable.Range(0, 300).Select(i => new InterfaceAddress(va, IPAddress.Parse($"10.{20 + i / 250}.{i % 250}.1"), 24)).ToList();
        await client.AddAddressAsync(addresses[123]); // already there: that one request fails, the others do not
        var results = await client.AddAddressesAsync(addresses);
        Assert.Equal(300, results.Count);
        for (var i = 0; i < results.Count; i++)
        {
            if (i == 123)
            {
                Assert.Equal("EEXIST", results[i].Error!.ErrnoName);
                Assert.Contains("10.20.123.1/24", results[i].Error!.Message);
            }
            else
            {
                Assert.True(results[i].Succeeded, results[i].Error?.Message);
            }
        }
        var ipView = ns.Ip("-o", "-4", "addr", "show", "dev", "va").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(300, ipView.Length);
        Assert.Equal(300, (await client.GetAddressesAsync(va, AddressFamily.InterNetwork)).Count);

        var deleted = await client.DeleteAddressesAsync(addresses.Take(150).Append(addresses[0]));
        Assert.All(deleted.Take(150), r => Assert.True(r.Succeeded, r.Error?.Message));
        Assert.Equal("EADDRNOTAVAIL", deleted[150].Error!.ErrnoName);
        Assert.Equal(150, ns.Ip("-o", "-4", "addr", "show", "dev", "va").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
