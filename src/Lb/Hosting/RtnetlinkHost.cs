using System.Collections.Concurrent;
using System.Net;
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
/// The VRRP subsystem's view of the kernel (addresses and links), backed by Lb's rtnetlink client, with one event
/// monitor feeding both: a VIP removed behind our back and a link going down arrive as events.
/// </summary>
public sealed class RtnetlinkHost : IAddressTable, ILinkMonitor, IAsyncDisposable
{
    private readonly RtnetlinkClient _client;
    private readonly RtnetlinkMonitor _monitor;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<int, Netlink.Route.LinkInfo> _byIndex = new();
    private readonly ConcurrentDictionary<string, Netlink.Route.LinkInfo> _byName = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _cts = new();
    private Task? _pump;

    private RtnetlinkHost(RtnetlinkClient client, RtnetlinkMonitor monitor, ILogger logger)
    {
        _client = client;
        _monitor = monitor;
        _logger = logger;
    }

    public static async Task<RtnetlinkHost> StartAsync(ILogger logger, CancellationToken cancellationToken)
    {
        var monitor = RtnetlinkMonitor.Open(RtnetlinkSubscriptions.All);
        var client = RtnetlinkClient.Open();
        var host = new RtnetlinkHost(client, monitor, logger);
        await host.ResyncLinksAsync(cancellationToken).ConfigureAwait(false);
        host._pump = Task.Run(() => host.PumpAsync(host._cts.Token), CancellationToken.None);
        return host;
    }

    public event EventHandler<AddressChangedEventArgs>? AddressChanged;

    public event EventHandler<VrrpLink>? LinkChanged;

    public VrrpLink? GetLink(string name) => _byName.TryGetValue(name, out var l) ? ToVrrp(l, exists: true) : null;

    public async Task AddAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken)
    {
        var index = await IndexAsync(interfaceName, cancellationToken).ConfigureAwait(false);
        await _client.EnsureAddressAsync(ToNetlink(index, address), cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken)
    {
        var index = await IndexAsync(interfaceName, cancellationToken).ConfigureAwait(false);
        await _client.RemoveAddressAsync(ToNetlink(index, address), cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<VrrpAddress>> ListAsync(string interfaceName, CancellationToken cancellationToken)
    {
        var index = await IndexAsync(interfaceName, cancellationToken).ConfigureAwait(false);
        var list = await _client.GetAddressesAsync(index, null, cancellationToken).ConfigureAwait(false);
        return list.Select(a => ToVrrp(a, interfaceName)).ToList();
    }

    private async Task<int> IndexAsync(string name, CancellationToken cancellationToken)
    {
        if (_byName.TryGetValue(name, out var l))
            return l.Index;
        var index = await _client.GetIndexAsync(name, cancellationToken).ConfigureAwait(false);
        return index;
    }

    private async Task ResyncLinksAsync(CancellationToken cancellationToken)
    {
        var links = await _client.GetLinksAsync(cancellationToken).ConfigureAwait(false);
        foreach (var l in links)
        {
            _byIndex[l.Index] = l;
            _byName[l.Name] = l;
        }
    }

    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in _monitor.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
            {
                switch (e)
                {
                    case LinkEvent le:
                        if (le.Removed)
                        {
                            _byIndex.TryRemove(le.Link.Index, out _);
                            _byName.TryRemove(le.Link.Name, out _);
                        }
                        else
                        {
                            if (_byIndex.TryGetValue(le.Link.Index, out var old) && old.Name != le.Link.Name)
                                _byName.TryRemove(old.Name, out _);
                            _byIndex[le.Link.Index] = le.Link;
                            _byName[le.Link.Name] = le.Link;
                        }
                        Raise(() => LinkChanged?.Invoke(this, ToVrrp(le.Link, !le.Removed)));
                        break;
                    case AddressEvent ae:
                        var name = _byIndex.TryGetValue(ae.Address.InterfaceIndex, out var link) ? link.Name : ae.Address.InterfaceIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);
                        Raise(() => AddressChanged?.Invoke(this, new AddressChangedEventArgs(ToVrrp(ae.Address, name), ae.Removed)));
                        break;
                    case EventsLostEvent:
                        _logger.LogWarning("Netlink: kernel events were lost (receive buffer overrun); re-reading links");
                        await ResyncLinksAsync(cancellationToken).ConfigureAwait(false);
                        foreach (var l in _byIndex.Values)
                            Raise(() => LinkChanged?.Invoke(this, ToVrrp(l, true)));
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Netlink: the rtnetlink event monitor stopped: {Message}", ex.Message);
        }
    }

    private void Raise(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Netlink event handler failed: {Message}", ex.Message);
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

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        _monitor.Dispose();
        if (_pump is not null)
        {
            try
            {
                await _pump.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
        _client.Dispose();
        _cts.Dispose();
    }

}
