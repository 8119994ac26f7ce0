using System.Diagnostics;
using Lb.Netlink.Route;
using Xunit;

namespace Lb.Netlink.Tests.Route;

/// <summary>Read-only rtnetlink on the host's own namespace (no privileges needed).</summary>
public class RtnetlinkHostTests
{
    [Fact]
    public async Task Lists_the_loopback_link_and_its_addresses()
    {
        using var client = RtnetlinkClient.Open();
        var lo = await client.GetLinkAsync("lo");
        Assert.NotNull(lo);
        Assert.True((lo!.Flags & LinkFlags.Loopback) != 0);
        Assert.Equal(lo.Index, await client.GetIndexAsync("lo"));
        var addresses = await client.GetAddressesAsync(lo.Index);
        Assert.Contains(addresses, a => a.Address.Equals(System.Net.IPAddress.Loopback) && a.PrefixLength == 8 && a.Scope == AddressScope.Host);
    }

    [Fact]
    public async Task Event_stream_ends_quietly_and_promptly_when_cancelled()
    {
        using var monitor = RtnetlinkMonitor.Open();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();
        await foreach (var _ in monitor.ReadEventsAsync(cts.Token))
        {
            // whatever the host does meanwhile is fine
        }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }
}
