using System.Net;
using System.Net.Sockets;
using Lb.Netlink.Platform;
using Lb.Netlink.Route;
using static Lb.Netlink.Route.RtnetlinkRouteConstants;

namespace Lb.Announce;

/// <summary>
/// What the <see cref="Announcer"/> needs of the kernel: Lb's announce routes in one table, the VIPs on <c>lo</c>, and the
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

    /// <summary>Whether <paramref name="vip"/> is an address of <c>lo</c>.</summary>
    Task<bool> HasLoopbackAddressAsync(IPAddress vip, CancellationToken cancellationToken);

    /// <summary>Adds <c>VIP/32</c> (<c>/128</c>) to <c>lo</c>.</summary>
    Task AddLoopbackAddressAsync(IPAddress vip, CancellationToken cancellationToken);

    /// <summary>Removes <c>VIP/32</c> (<c>/128</c>) from <c>lo</c> (an absent one is success).</summary>
    Task RemoveLoopbackAddressAsync(IPAddress vip, CancellationToken cancellationToken);

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

    public async Task<bool> HasLoopbackAddressAsync(IPAddress vip, CancellationToken cancellationToken)
    {
        var lo = await LoopbackAsync(cancellationToken).ConfigureAwait(false);
        var list = await client.GetAddressesAsync(lo, vip.AddressFamily, cancellationToken).ConfigureAwait(false);
        return list.Any(a => a.Address.Equals(vip));
    }

    public async Task AddLoopbackAddressAsync(IPAddress vip, CancellationToken cancellationToken) =>
        await client.EnsureAddressAsync(new InterfaceAddress(await LoopbackAsync(cancellationToken).ConfigureAwait(false), vip, HostLength(vip)), cancellationToken).ConfigureAwait(false);

    public async Task RemoveLoopbackAddressAsync(IPAddress vip, CancellationToken cancellationToken) =>
        await client.RemoveAddressAsync(new InterfaceAddress(await LoopbackAsync(cancellationToken).ConfigureAwait(false), vip, HostLength(vip)), cancellationToken).ConfigureAwait(false);

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
