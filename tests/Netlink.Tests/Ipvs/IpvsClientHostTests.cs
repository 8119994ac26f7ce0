using Lb.Netlink.Ipvs;
using Lb.TestSupport;
using Xunit;

namespace Lb.Netlink.Tests.Ipvs;

/// <summary>On a kernel without IPVS (the development machines' kernel) the client says so clearly.</summary>
public class IpvsClientHostTests
{
    [Fact]
    public async Task Without_ipvs_open_fails_with_a_clear_message_and_the_listing_exits_non_zero()
    {
        if (Prerequisites.HasIpvs)
            return; // this kernel has IPVS: the kernel tests cover the client; nothing to check here
        var e = await Assert.ThrowsAsync<IpvsNotAvailableException>(() => IpvsClient.OpenAsync());
        Assert.Equal("IPVS is not available in this kernel (genl family IPVS not found): load the ip_vs module", e.Message);
        Assert.Equal("ENOENT", e.ErrnoName);
        Assert.Equal("IPVS", e.Family);

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await IpvsListing.RunAsync([], stdout, stderr);
        Assert.NotEqual(0, exit);
        Assert.Equal("", stdout.ToString());
        Assert.Contains("IPVS is not available in this kernel (genl family IPVS not found): load the ip_vs module", stderr.ToString());
    }
}
