using Lb.Netlink.Route;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Microsoft.Extensions.Logging;
using NlAddress = Lb.Netlink.Route.InterfaceAddress;
using NlScope = Lb.Netlink.Route.AddressScope;
using VrrpAddress = Lb.Vrrp.Host.InterfaceAddress;
using VrrpLink = Lb.Vrrp.Host.LinkInfo;

namespace Lb.Hosting;

/// <summary>
/// The VRRP subsystem's view of the kernel (addresses and links): a view of the process's one link/address cache
/// (<see cref="KernelEvents"/>, <see cref="RtnetlinkCache"/>). Link lookups are cache reads; a VIP removed behind our back
/// and a link going down arrive as the cache's events (after lost notifications, as the differences its re-read found);
/// address changes and ordered address lists go through the cache's command socket.
/// </summary>
public sealed partial class RtnetlinkHost : IAddressTable, ILinkMonitor, IAsyncDisposable
{
    private readonly RtnetlinkCache _cache;
    private readonly ILogger _logger;
    private int _disposed;

    public RtnetlinkHost(RtnetlinkCache cache, ILogger logger)
    {
        _cache = cache;
        _logger = logger;
        _cache.Changed += OnChanged;
    }

    /// <summary>A view of <paramref name="kernel"/>'s cache (started on first use).</summary>
    public static async Task<RtnetlinkHost> StartAsync(KernelEvents kernel, ILogger logger, CancellationToken cancellationToken) =>
        new(await kernel.GetAsync(cancellationToken).ConfigureAwait(false), logger);

    public event EventHandler<AddressChangedEventArgs>? AddressChanged;

    public event EventHandler<VrrpLink>? LinkChanged;

    public VrrpLink? GetLink(string name) => _cache.GetLink(name) is { } l ? ToVrrp(l, exists: true) : null;

    public IReadOnlyList<VrrpLink> GetLinks() => [.. _cache.GetLinks().Select(l => ToVrrp(l, exists: true))];

    public async Task AddAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken)
    {
        var index = await IndexAsync(interfaceName, cancellationToken).ConfigureAwait(false);
        await _cache.Client.EnsureAddressAsync(ToNetlink(index, address), cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken)
    {
        var index = await IndexAsync(interfaceName, cancellationToken).ConfigureAwait(false);
        await _cache.Client.RemoveAddressAsync(ToNetlink(index, address), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Read from the kernel (not the cache): the contract is kernel order, primary first.</summary>
    public async Task<IReadOnlyList<VrrpAddress>> ListAsync(string interfaceName, CancellationToken cancellationToken)
    {
        var index = await IndexAsync(interfaceName, cancellationToken).ConfigureAwait(false);
        var list = await _cache.Client.GetAddressesAsync(index, null, cancellationToken).ConfigureAwait(false);
        return list.Select(a => ToVrrp(a, interfaceName)).ToList();
    }

    private async Task<int> IndexAsync(string name, CancellationToken cancellationToken)
    {
        if (_cache.GetLink(name) is { } l)
            return l.Index;
        // A link created a moment ago whose event is still on its way: ask the kernel.
        return await _cache.Client.GetIndexAsync(name, cancellationToken).ConfigureAwait(false);
    }

    private void OnChanged(object? sender, RtnetlinkEvent e)
    {
        switch (e)
        {
            case LinkEvent le:
                LinkChanged?.Invoke(this, ToVrrp(le.Link, !le.Removed));
                break;
            case AddressEvent ae:
                var name = _cache.GetLink(ae.Address.InterfaceIndex)?.Name ?? ae.Address.InterfaceIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);
                AddressChanged?.Invoke(this, new AddressChangedEventArgs(ToVrrp(ae.Address, name), ae.Removed));
                break;
            default:
                OnRoutingEvent(e);
                break;
        }
    }

    private static VrrpLink ToVrrp(Netlink.Route.LinkInfo l, bool exists) => new(l.Name, l.Index, l.HardwareAddress, l.IsUp && l.HasCarrier, exists);

    private static VrrpAddress ToVrrp(NlAddress a, string name) =>
        new(name, a.InterfaceIndex, a.Address, a.PrefixLength, (a.Flags & AddressFlags.Secondary) != 0);

    public static NlAddress ToNetlink(int index, VirtualAddress v)
    {
        var flags = AddressFlags.None;
        if (v.NoDad)
            flags |= AddressFlags.NoDad;
        return new NlAddress(index, v.Address, v.EffectivePrefixLength)
        {
            Peer = v.Peer,
            Broadcast = v.Broadcast,
            Scope = v.Scope switch
            {
                Vrrp.Options.AddressScope.Site => NlScope.Site,
                Vrrp.Options.AddressScope.Link => NlScope.Link,
                Vrrp.Options.AddressScope.Host => NlScope.Host,
                Vrrp.Options.AddressScope.Nowhere => NlScope.Nowhere,
                _ => NlScope.Universe,
            },
            Label = v.Label,
            Flags = flags,
        };
    }

    /// <summary>Stops forwarding the cache's events; the cache itself belongs to <see cref="KernelEvents"/>.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _cache.Changed -= OnChanged;
        return ValueTask.CompletedTask;
    }
}
