using Lb.Netlink.Namespaces;
using Lb.Netlink.Route;
using Lb.TestSupport;

namespace Lb.Netlink.Tests.Route;

/// <summary>A fresh network namespace with a veth pair (va, vb) inside; deleted on Dispose.</summary>
internal sealed class NetnsFixture : IDisposable
{
    public NetnsFixture()
    {
        Prerequisites.Require(Prerequisites.IsRoot, "rtnetlink namespace tests need root");
        Name = $"lbtest-{Guid.NewGuid().ToString("N")[..10]}";
        Shell.Check("ip", "netns", "add", Name);
        try
        {
            Ip("link", "add", "va", "type", "veth", "peer", "name", "vb");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }

    /// <summary>Runs <c>ip -n NAME …</c> and returns stdout.</summary>
    public string Ip(params string[] args) => Shell.Check("ip", ["-n", Name, .. args]);

    /// <summary>Opens an rtnetlink client whose socket lives in this namespace.</summary>
    public RtnetlinkClient OpenClient(NetlinkSocketOptions? options = null) => NetworkNamespace.Run(Name, () => RtnetlinkClient.Open(options));

    public RtnetlinkMonitor OpenMonitor(RtnetlinkSubscriptions s = RtnetlinkSubscriptions.All) => NetworkNamespace.Run(Name, () => RtnetlinkMonitor.Open(s));

    public void Dispose() => Shell.Run("ip", "netns", "del", Name);
}
