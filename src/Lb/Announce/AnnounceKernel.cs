using System.Net;
using System.Net.Sockets;
using Lb.Netlink.Platform;
using Lb.Netlink.Route;
using static Lb.Netlink.Route.RtnetlinkRouteConstants;

namespace Lb.Announce;

/// <summary>
/// What the <see cref="Announcer"/> needs of the kernel: Lb's announce routes in one table, the VIPs made local, and the
/// IPVS sloppy switches. Failures throw <see cref="Netlink.ErrnoException"/> (a <see cref="Netlink.NetlinkException"/>
/// names the request and the object). The product's implementation is <see cref="NetlinkAnnounceKernel"/>.
/// </summary>
public interface IAnnounceKernel : IDisposable
{
    /// <summary>The destinations of the host routes of protocol <see cref="AnnounceOptions.RouteProtocol"/> in <paramref name="table"/>.</summary>
    Task<IReadOnlyList<IPAddress>> ListRoutesAsync(uint table, CancellationToken cancellationToken);

    /// <summary>Adds <c>VIP/32 dev lo table T proto 249</c> (an existing identical route is success).</summary>
    Task AddRouteAsync(IPAddress vip, uint table, CancellationToken cancellationToken);

    /// <summary>Deletes that route (an absent one is success).</summary>
    Task DeleteRouteAsync(IPAddress vip, uint table, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <paramref name="vip"/> is already local without Lb: an address of any interface, or a local route
    /// (<c>table local type local</c>) of another protocol.
    /// </summary>
    Task<bool> IsLocalAsync(IPAddress vip, CancellationToken cancellationToken);

    /// <summary>The VIPs Lb made local: its local routes (protocol 249) in table local.</summary>
    Task<IReadOnlyList<IPAddress>> ListLocalRoutesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Makes <paramref name="vip"/> local (AnyIP): <c>local VIP/32 dev lo table local proto 249 scope host</c>, so the kernel
    /// delivers its packets to IPVS. Not an address: an address gives FRR's zebra a connected route that beats the imported
    /// announce route, and nothing would be announced.
    /// </summary>
    Task AddLocalRouteAsync(IPAddress vip, CancellationToken cancellationToken);

    /// <summary>Deletes that local route (an absent one is success).</summary>
    Task RemoveLocalRouteAsync(IPAddress vip, CancellationToken cancellationToken);

    /// <summary>The integer value of a /proc/sys parameter (<c>net/ipv4/vs/sloppy_tcp</c>); null when it does not exist.</summary>
    int? ReadSysctl(string key);

    /// <summary>Writes a /proc/sys parameter; the error text, or null when written.</summary>
    string? WriteSysctl(string key, int value);
}

/// <summary>The kernel through rtnetlink (its own socket) and /proc/sys of the process's network namespace.</summary>
public sealed class NetlinkAnnounceKernel(RtnetlinkClient client) : IAnnounceKernel
{
    private int? _lo;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "The returned kernel owns the client and disposes it")]
    public static Task<IAnnounceKernel> OpenAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IAnnounceKernel>(new NetlinkAnnounceKernel(RtnetlinkClient.Open()));
    }

    public async Task<IReadOnlyList<IPAddress>> ListRoutesAsync(uint table, CancellationToken cancellationToken)
    {
        var routes = await client.GetRoutesAsync(null, cancellationToken).ConfigureAwait(false);
        return [.. routes
            .Where(r => r.Table == table && r.Protocol == AnnounceOptions.RouteProtocol && r.Destination is not null
                && r.DestinationLength == (r.Family == AddressFamily.InterNetworkV6 ? 128 : 32))
            .Select(r => r.Destination!)];
    }

    public async Task AddRouteAsync(IPAddress vip, uint table, CancellationToken cancellationToken) =>
        await client.AddRouteAsync(await RouteAsync(vip, table, delete: false, cancellationToken).ConfigureAwait(false), RouteAddMode.Create, Describe(vip, table), cancellationToken).ConfigureAwait(false);

    public async Task DeleteRouteAsync(IPAddress vip, uint table, CancellationToken cancellationToken) =>
        await client.DeleteRouteAsync(await RouteAsync(vip, table, delete: true, cancellationToken).ConfigureAwait(false), Describe(vip, table), cancellationToken).ConfigureAwait(false);

    public async Task<bool> IsLocalAsync(IPAddress vip, CancellationToken cancellationToken)
    {
        var addresses = await client.GetAddressesAsync(null, vip.AddressFamily, cancellationToken).ConfigureAwait(false);
        if (addresses.Any(a => a.Address.Equals(vip)))
            return true;
        var routes = await client.GetRoutesAsync(vip.AddressFamily, cancellationToken).ConfigureAwait(false);
        return routes.Any(r => IsLocalRoute(r, vip) && r.Protocol != AnnounceOptions.RouteProtocol);
    }

    public async Task<IReadOnlyList<IPAddress>> ListLocalRoutesAsync(CancellationToken cancellationToken)
    {
        var routes = await client.GetRoutesAsync(null, cancellationToken).ConfigureAwait(false);
        return [.. routes.Where(r => r.Destination is { } d && IsLocalRoute(r, d) && r.Protocol == AnnounceOptions.RouteProtocol).Select(r => r.Destination!)];
    }

    public async Task AddLocalRouteAsync(IPAddress vip, CancellationToken cancellationToken) =>
        await client.AddRouteAsync(LocalRoute(vip, await LoopbackAsync(cancellationToken).ConfigureAwait(false)), RouteAddMode.Create, DescribeLocal(vip), cancellationToken).ConfigureAwait(false);

    public async Task RemoveLocalRouteAsync(IPAddress vip, CancellationToken cancellationToken) =>
        await client.DeleteRouteAsync(LocalRoute(vip, await LoopbackAsync(cancellationToken).ConfigureAwait(false)), DescribeLocal(vip), cancellationToken).ConfigureAwait(false);

    /// <summary>What <c>ip route add local VIP/32 dev lo table local proto 249</c> sends (scope host, type local).</summary>
    internal static RouteEntry LocalRoute(IPAddress vip, int loopbackIndex) => new()
    {
        Family = vip.AddressFamily,
        Destination = vip,
        DestinationLength = HostLength(vip),
        Table = RT_TABLE_LOCAL,
        Protocol = AnnounceOptions.RouteProtocol,
        Scope = Netlink.Route.RtnetlinkConstants.RT_SCOPE_HOST,
        Type = RTN_LOCAL,
        OutputInterface = loopbackIndex,
    };

    private static bool IsLocalRoute(RouteEntry r, IPAddress vip) =>
        r.Table == RT_TABLE_LOCAL && r.Type == RTN_LOCAL && vip.Equals(r.Destination) && r.DestinationLength == HostLength(vip);

    private static string DescribeLocal(IPAddress vip) => $"local {vip}/{HostLength(vip)} dev lo table local proto {AnnounceOptions.RouteProtocol}";

    public int? ReadSysctl(string key) => Sysctl.TryRead(key);

    public string? WriteSysctl(string key, int value) => Sysctl.TryWrite(key, value);

    /// <summary>What <c>ip route add VIP/32 dev lo table T proto 249</c> sends (scope link for IPv4, as ip does for a route without a gateway).</summary>
    internal static RouteEntry Route(IPAddress vip, uint table, int loopbackIndex, bool delete) => new()
    {
        Family = vip.AddressFamily,
        Destination = vip,
        DestinationLength = HostLength(vip),
        Table = table,
        Protocol = AnnounceOptions.RouteProtocol,
        Scope = delete ? Netlink.Route.RtnetlinkConstants.RT_SCOPE_NOWHERE
            : vip.AddressFamily == AddressFamily.InterNetworkV6 ? Netlink.Route.RtnetlinkConstants.RT_SCOPE_UNIVERSE : Netlink.Route.RtnetlinkConstants.RT_SCOPE_LINK,
        Type = delete ? (byte)0 : RTN_UNICAST,
        OutputInterface = loopbackIndex,
    };

    private async Task<RouteEntry> RouteAsync(IPAddress vip, uint table, bool delete, CancellationToken ct) =>
        Route(vip, table, await LoopbackAsync(ct).ConfigureAwait(false), delete);

    private static string Describe(IPAddress vip, uint table) => $"{vip}/{HostLength(vip)} dev lo table {table} proto {AnnounceOptions.RouteProtocol}";

    private static int HostLength(IPAddress a) => a.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;

    private async Task<int> LoopbackAsync(CancellationToken ct) => _lo ??= await client.GetIndexAsync("lo", ct).ConfigureAwait(false);

    public void Dispose() => client.Dispose();
}
