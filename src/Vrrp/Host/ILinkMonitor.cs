using System.Net.NetworkInformation;

namespace Lb.Vrrp.Host;

/// <summary>A network interface as rtnetlink describes it.</summary>
/// <param name="Name">Interface name.</param>
/// <param name="Index">Interface index (ifindex).</param>
/// <param name="MacAddress">Hardware address (null for interfaces without one).</param>
/// <param name="IsUp">IFF_UP and IFF_RUNNING (operational state up).</param>
/// <param name="Exists">False when the interface was deleted (RTM_DELLINK).</param>
public sealed record LinkInfo(string Name, int Index, PhysicalAddress? MacAddress, bool IsUp, bool Exists = true);

/// <summary>Link state the host provides (src/Lb adapts it to the rtnetlink client): for <c>track_interface</c>, the instance interface, and GARP source MACs.</summary>
public interface ILinkMonitor
{
    /// <summary>The current state of <paramref name="name"/>, or null when there is no such interface.</summary>
    LinkInfo? GetLink(string name);

    /// <summary>Every interface of the namespace (the split-brain probe ignores answers from a MAC of our own); empty when the host cannot list them.</summary>
    IReadOnlyList<LinkInfo> GetLinks() => [];

    /// <summary>Raised (on any thread) when an interface changes (up/down, renamed, created, deleted: <see cref="LinkInfo.Exists"/> false).</summary>
    event EventHandler<LinkInfo>? LinkChanged;
}
