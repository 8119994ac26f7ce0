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
    public async Task Event_stream_ends_quietly_when_cancelled()
    {
        using var monitor = RtnetlinkMonitor.Open();
        using var cts = new CancellationTokenSource();
        var drain = Task.Run(async () =>
        {
            await foreach (var _ in monitor.ReadEventsAsync(cts.Token))
            {
                // whatever the host does meanwhile is fine
            }
        });
        // Cancelled while (most likely) a receive is pending: the delay only picks the moment, nothing is asserted on it.
        cts.CancelAfter(TimeSpan.FromMilliseconds(300));
        // Ends without an exception. The bound is a liveness bound (a stream that ignores cancellation never ends), not a
        // claim about how fast: a loaded machine may take its time.
        await drain.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(drain.IsCompletedSuccessfully);
    }
}
