using Lb.Netlink.Namespaces;
using Lb.Netlink.Route;
using Lb.TestSupport;

namespace Lb.Netlink.Tests.Route;

/// <summary>A fresh namespace of a <see cref="NetnsLab"/> (no switch) with a veth pair (va, vb) inside; deleted on Dispose.</summary>
internal sealed class NetnsFixture : IDisposable
{
    private readonly NetnsLab _lab = new(LabWire.Veth);

    public NetnsFixture()
    {
        try
        {
            Name = _lab.AddNamespace("t");
            Ip("link", "add", "va", "type", "veth", "peer", "name", "vb");
        }
        catch
        {
            _lab.Dispose();
            throw;
        }
    }

    public string Name { get; } = "";

    /// <summary>Runs <c>ip -n NAME …</c> and returns stdout.</summary>
    public string Ip(params string[] args) => ProcessRunner.Check("ip", ["-n", Name, .. args]);

    /// <summary>Opens an rtnetlink client whose socket lives in this namespace.</summary>
    public RtnetlinkClient OpenClient(NetlinkSocketOptions? options = null) => NetworkNamespace.Run(Name, () => RtnetlinkClient.Open(options));

    public RtnetlinkMonitor OpenMonitor(RtnetlinkSubscriptions s = RtnetlinkSubscriptions.All) => NetworkNamespace.Run(Name, () => RtnetlinkMonitor.Open(s));

    public void Dispose() => _lab.Dispose();
}
