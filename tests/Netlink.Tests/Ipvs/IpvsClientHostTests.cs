using Lb.Netlink.Ipvs;
using Lb.TestSupport;
using Xunit;

namespace Lb.Netlink.Tests.Ipvs;

/// <summary>
/// The client against the host's own kernel, whatever it has — so the test runs (and can fail) on
/// every machine. The kernel's own view, <c>/proc/net/ip_vs</c> (read after the client asked: asking
/// may load the module), decides which behaviour is right. Without IPVS (the development machines'
/// kernel) the client and the listing say so clearly; with IPVS (a distribution kernel) they work.
/// The [KernelFact]s check the client against IPVS in depth inside the VM.
/// </summary>
public class IpvsClientHostTests
{
    [Fact]
    public async Task Open_and_the_listing_agree_with_whether_the_kernel_has_ipvs()
    {
        IpvsNotAvailableException? refused = null;
        try
        {
            using var client = await IpvsClient.OpenAsync();
        }
        catch (IpvsNotAvailableException e)
        {
            refused = e;
        }
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await IpvsListing.RunAsync([], stdout, stderr);

        if (!Prerequisites.HasIpvs)
        {
            Assert.NotNull(refused);
            Assert.Equal("IPVS is not available in this kernel (genl family IPVS not found): load the ip_vs module", refused.Message);
            Assert.Equal("ENOENT", refused.ErrnoName);
            Assert.Equal("IPVS", refused.Family);
            Assert.Equal(3, exit);
            Assert.Equal("", stdout.ToString());
            Assert.Equal("lb ipvs list: IPVS is not available in this kernel (genl family IPVS not found): load the ip_vs module\n", stderr.ToString());
            return;
        }
        Assert.True(refused is null, $"the kernel has IPVS (/proc/net/ip_vs) but the client said: {refused?.Message}");
        if (Prerequisites.IsRoot)
        {
            Assert.Equal("", stderr.ToString());
            Assert.Equal(0, exit);
            Assert.StartsWith("IP Virtual Server version ", stdout.ToString(), StringComparison.Ordinal);
        }
        else
        {
            // Every IPVS request needs CAP_NET_ADMIN: the listing must say so, not print an empty table.
            Assert.Equal(1, exit);
            Assert.Equal("", stdout.ToString());
            Assert.Contains("needs CAP_NET_ADMIN", stderr.ToString(), StringComparison.Ordinal);
        }
    }
}
