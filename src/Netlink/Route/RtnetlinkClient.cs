using System.Net.Sockets;
using Lb.Netlink.Protocol;

namespace Lb.Netlink.Route;

/// <summary>
/// Links and addresses over rtnetlink (what <c>ip link</c> / <c>ip addr</c> do), for VIPs and
/// track_interface. Changes need CAP_NET_ADMIN; reads do not. Thread-safe: requests are serialized.
/// A socket belongs to the network namespace of the thread that opened it.
/// </summary>
public sealed partial class RtnetlinkClient : IDisposable
{
    private readonly NetlinkSocket _socket;

    private RtnetlinkClient(NetlinkSocket socket)
    {
        _socket = socket;
    }

    public static RtnetlinkClient Open(NetlinkSocketOptions? options = null) =>
        new(NetlinkSocket.Open(NetlinkConstants.NETLINK_ROUTE, options));

    public async Task<IReadOnlyList<LinkInfo>> GetLinksAsync(CancellationToken cancellationToken = default) =>
        await _socket.RequestAsync<LinkInfo>(RtnetlinkMessages.GetLinks(), RtnetlinkMessages.TryParseLink, cancellationToken).ConfigureAwait(false);

    public async Task<LinkInfo?> GetLinkAsync(string name, CancellationToken cancellationToken = default) =>
        (await GetLinksAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(l => l.Name == name);

    public async Task<LinkInfo?> GetLinkAsync(int index, CancellationToken cancellationToken = default) =>
        (await GetLinksAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(l => l.Index == index);

    /// <summary>The index of the interface called <paramref name="name"/>; throws <see cref="NetlinkException"/> (ENODEV) when there is none.</summary>
    public async Task<int> GetIndexAsync(string name, CancellationToken cancellationToken = default) =>
        (await GetLinkAsync(name, cancellationToken).ConfigureAwait(false))?.Index
        ?? throw new NetlinkException($"look up interface {name}", Errno.ENODEV);

    /// <summary>Sets IFF_UP on or off (ip link set dev X up|down).</summary>
    public Task SetLinkUpAsync(int index, bool up, CancellationToken cancellationToken = default) =>
        _socket.AcknowledgedAsync(RtnetlinkMessages.SetLinkUp(index, up), cancellationToken);

    public async Task SetLinkUpAsync(string name, bool up, CancellationToken cancellationToken = default)
    {
        var index = await GetIndexAsync(name, cancellationToken).ConfigureAwait(false);
        await _socket.AcknowledgedAsync(RtnetlinkMessages.SetLinkUp(index, up, name), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every address (of one interface and/or family when given).</summary>
    public async Task<IReadOnlyList<InterfaceAddress>> GetAddressesAsync(int? interfaceIndex = null, AddressFamily? family = null, CancellationToken cancellationToken = default)
    {
        var all = await _socket.RequestAsync<InterfaceAddress>(RtnetlinkMessages.GetAddresses(family), RtnetlinkMessages.TryParseAddress, cancellationToken).ConfigureAwait(false);
        return all.Where(a => (interfaceIndex is null || a.InterfaceIndex == interfaceIndex) && (family is null || a.Address.AddressFamily == family)).ToList();
    }

    /// <summary>Adds an address; throws <see cref="NetlinkException"/> with EEXIST when it is already there.</summary>
    public Task AddAddressAsync(InterfaceAddress address, CancellationToken cancellationToken = default) =>
        _socket.AcknowledgedAsync(RtnetlinkMessages.NewAddress(address), cancellationToken);

    /// <summary>Deletes an address; throws <see cref="NetlinkException"/> with EADDRNOTAVAIL when it is not there.</summary>
    public Task DeleteAddressAsync(InterfaceAddress address, CancellationToken cancellationToken = default) =>
        _socket.AcknowledgedAsync(RtnetlinkMessages.DelAddress(address), cancellationToken);

    /// <summary>Adds an address unless it is there; returns whether it was added.</summary>
    public async Task<bool> EnsureAddressAsync(InterfaceAddress address, CancellationToken cancellationToken = default)
    {
        try
        {
            await AddAddressAsync(address, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Errno.EEXIST)
        {
            return false;
        }
    }

    /// <summary>Deletes an address if it is there; returns whether it was deleted.</summary>
    public async Task<bool> RemoveAddressAsync(InterfaceAddress address, CancellationToken cancellationToken = default)
    {
        try
        {
            await DeleteAddressAsync(address, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NetlinkException e) when (e.Errno is Errno.EADDRNOTAVAIL or Errno.ENOENT or Errno.ENODEV)
        {
            return false;
        }
    }

    /// <summary>
    /// Adds many addresses in batched datagrams (one ACK each); returns each address's outcome
    /// (EEXIST for one that is already there) instead of stopping at the first failure.
    /// </summary>
    public Task<IReadOnlyList<NetlinkBatchItemResult>> AddAddressesAsync(IEnumerable<InterfaceAddress> addresses, CancellationToken cancellationToken = default) =>
        _socket.SendBatchAsync(addresses.Select(a => RtnetlinkMessages.NewAddress(a)).ToList(), cancellationToken);

    /// <summary>Deletes many addresses in batched datagrams; returns each address's outcome (EADDRNOTAVAIL when absent).</summary>
    public Task<IReadOnlyList<NetlinkBatchItemResult>> DeleteAddressesAsync(IEnumerable<InterfaceAddress> addresses, CancellationToken cancellationToken = default) =>
        _socket.SendBatchAsync(addresses.Select(a => RtnetlinkMessages.DelAddress(a)).ToList(), cancellationToken);

    public void Dispose() => _socket.Dispose();
}
